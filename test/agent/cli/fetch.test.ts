// `plugsrv fetch` against a real `plugsrv serve` on 127.0.0.1: list, segmented download with sha256 checks, skip, resume after kill -9, small tmpfs, free-space refusal, lock, errors.
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, cleanEnv, runCli, startServer, tempDir, type ServerProcess } from '../../helpers/agent-process.js';
import { sha256File } from '../../helpers/files.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';

const MiB = 1024 * 1024;
const SEGMENT = String(2 * MiB);
const dataDir = await tempDir(t);
const src = await tempDir(t);

interface Pkg {
  name: string;
  size: number;
  headUnit: string;
  models: string;
  kind: string;
  sha256?: string;
}
const pkgs: Pkg[] = [
  { name: 'IVI_SOFT_2.1.bin', size: 300_000, headUnit: 'IVI', models: 'XBA', kind: 'soft' },
  { name: 'IVI_MAP_2026.bin', size: 7 * MiB + 12_345, headUnit: 'IVI', models: 'XBA', kind: 'map' },
  { name: 'R-LINK2_SOFT_10.8.bin', size: 200_000, headUnit: 'R-LINK2', models: 'BJA', kind: 'soft' },
  { name: 'IVC_MAP_BIG.bin', size: 40 * MiB, headUnit: 'IVC', models: 'HHN', kind: 'map' },
];
let server: ServerProcess;
t.before(async () => {
  for (const p of pkgs) {
    const file = join(src, p.name);
    await writeFile(file, randomBytes(p.size));
    p.sha256 = await sha256File(file);
    const r = await runCli(['--data-dir', dataDir, 'import', file, '--kind', p.kind, '--head-unit', p.headUnit, '--models', p.models, '--package-version', '1', '--json']);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  }
  server = await startServer(dataDir, [], { PLUGSRV_SERVE_LOCK_POLL_MS: '100' });
});
t.teardown(() => server?.kill());
const fetchCli = (args: string[]) => runCli(['fetch', '--server', server.url, '--segment-bytes', SEGMENT, ...args]);
const jsonLines = (stdout: string): Array<Record<string, unknown>> => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('--list by VIN and by head unit', async (t) => {
  const byVin = await fetchCli(['--list', '--vin', 'VF1RJA00012345678', '--json']);
  t.equal(byVin.code, 0, byVin.stderr);
  const listed = (JSON.parse(byVin.stdout) as { packages: Array<{ name: string; id: string }> }).packages;
  t.same(listed.map((p) => p.name), ['R-LINK2_SOFT_10.8.bin'], 'VF1RJA resolves to BJA');
  t.equal(listed[0]?.id, pkgs[2]!.sha256);

  const table = await fetchCli(['--list', '--head-unit', 'IVI']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /IVI_MAP_2026\.bin\s+1\s+map\s+IVI\s+7\.0 MiB/);
  t.match(table.stdout, /2 package\(s\)/);
  t.notMatch(table.stdout, /R-LINK2/);
});

t.test('a bad VIN shows the server\'s reason', async (t) => {
  const r = await fetchCli(['--list', '--vin', 'VF1RJA0001234']);
  t.equal(r.code, 2);
  t.match(r.stderr, /E_BAD_VIN: the server refused the VIN: .*17/);
});

t.test('--all --head-unit downloads in segments, verifies, then skips what is there', async (t) => {
  const out = await tempDir(t);
  const r = await fetchCli(['--all', '--head-unit', 'IVI', '--out', out, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.same((await readdir(out)).sort(), ['IVI_MAP_2026.bin', 'IVI_SOFT_2.1.bin'], 'only the files, the partial folder removed');
  for (const p of pkgs.slice(0, 2)) t.equal(await sha256File(join(out, p.name)), p.sha256, `${p.name} sha256`);
  t.match(jsonLines(r.stdout).at(-1), { event: 'summary', fetched: 2, skipped: 0 });

  const again = await fetchCli(['--all', '--head-unit', 'IVI', '--out', out, '--json']);
  t.equal(again.code, 0, again.stderr);
  t.same(jsonLines(again.stdout).filter((e) => e.event === 'skipped').map((e) => e.name).sort(), ['IVI_MAP_2026.bin', 'IVI_SOFT_2.1.bin']);
  t.match(jsonLines(again.stdout).at(-1), { event: 'summary', fetched: 0, skipped: 2 });

  const byId = await fetchCli(['--id', pkgs[2]!.sha256!, '--out', out]);
  t.equal(byId.code, 0, byId.stderr);
  t.equal(await sha256File(join(out, 'R-LINK2_SOFT_10.8.bin')), pkgs[2]!.sha256);
});

t.test('refuses without --id or --all, and an id that is not listed', async (t) => {
  const out = await tempDir(t);
  const none = await fetchCli(['--head-unit', 'IVI', '--out', out]);
  t.equal(none.code, 2);
  t.match(none.stderr, /--id SHA256.*--all/);
  const unknown = await fetchCli(['--head-unit', 'IVI', '--id', pkgs[2]!.sha256!, '--out', out]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /E_NOT_FOUND/);
});

t.test('a fetch killed with -9 mid-way resumes on the next run', async (t) => {
  const out = await tempDir(t);
  const big = pkgs[3]!;
  const child = spawn(process.execPath, [CLI, 'fetch', '--server', server.url, '--head-unit', 'IVC', '--all', '--out', out, '--json', '--segment-bytes', String(8 * MiB), '--checkpoint-bytes', String(MiB), '--max-rate', String(16 * MiB)], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  let killedAt = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const e = JSON.parse(line) as { event: string; bytes?: number };
    if (e.event === 'fetch-progress' && (e.bytes ?? 0) >= 6 * MiB) {
      killedAt = e.bytes ?? 0;
      child.kill('SIGKILL');
      break;
    }
  }
  t.equal(await exited, 'SIGKILL', 'killed mid-way');
  t.ok(killedAt > 0 && killedAt < big.size, `killed at ${killedAt} bytes`);
  await t.rejects(stat(join(out, big.name)), 'no final file yet');
  t.ok((await readdir(join(out, '.plugsrv-partial'))).length > 0, 'the partial is kept');

  const r = await runCli(['fetch', '--server', server.url, '--head-unit', 'IVC', '--all', '--out', out, '--json', '--segment-bytes', String(8 * MiB)]);
  t.equal(r.code, 0, r.stderr);
  const start = jsonLines(r.stdout).find((e) => e.event === 'fetch-start') as { resumedBytes: number };
  t.ok(start.resumedBytes > 0, `resumed from ${start.resumedBytes} bytes`);
  t.equal(await sha256File(join(out, big.name)), big.sha256);
});

t.test('an unreachable server is a clear error; --help says how the box is found', async (t) => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const r = await runCli(['fetch', '--server', `http://127.0.0.1:${port}`, '--list']);
  t.equal(r.code, 5);
  t.match(r.stderr, /E_ORIGIN: cannot reach the plugsrv server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  const help = await runCli(['fetch', '--help']);
  t.match(help.stdout, /--server <url>\s+the plugsrv box, .*without it, the box is found on\s+the LAN \(DNS-SD\)/s);
  t.match(help.stdout, /--discover\s/);
  t.match(help.stdout, /--trusted-root <file>/);
  t.notMatch(help.stdout, /--segment-bytes|--output-fs/, 'test knobs are hidden');
});

t.test('not enough free space on the output disk is refused before any byte', async (t) => {
  const out = await smallTmpfs(t, '8m');
  if (typeof out !== 'string') {
    t.plan(0, out.skip);
    return;
  }
  const r = await runCli(['fetch', '--server', server.url, '--all', '--head-unit', 'IVC', '--out', out]);
  t.equal(r.code, 3);
  t.match(r.stderr, /E_DISK_FULL: not enough free space in .*: 40\.0 MiB to download, [\d.]+ MiB free/);
  t.same(await readdir(out), [], 'nothing written, not even the partial folder');
});

t.test('fetch into a small tmpfs: every file matches its sha256, and the unchecked signatures are said once', async (t) => {
  const out = await smallTmpfs(t, '64m');
  if (typeof out !== 'string') {
    t.plan(0, out.skip);
    return;
  }
  const r = await fetchCli(['--all', '--out', out, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.same((await readdir(out)).sort(), pkgs.map((p) => p.name).sort(), 'every package, no partial folder left');
  for (const p of pkgs) t.equal(await sha256File(join(out, p.name)), p.sha256, `${p.name} sha256`);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
  t.match(r.stderr, /^plugsrv: the signed catalog was not checked, only each sha256 against the box's list; give the catalog's root\.json with --trusted-root FILE/);
});

t.test('a locked server: non-zero exit with the reason', async (t) => {
  const lock = await runCli(['--data-dir', dataDir, 'lock', '--reason', 'unit reported stolen by dealer 4242']);
  t.equal(lock.code, 0, lock.stderr);
  await new Promise((r) => setTimeout(r, 400));
  const out = await tempDir(t);
  const r = await fetchCli(['--all', '--out', out]);
  t.not(r.code, 0);
  t.match(r.stderr, /E_LOCKED: .*locked.*unit reported stolen by dealer 4242/);
  t.same(await readdir(out), [], 'nothing written');
});
