// DNS-SD for real, between two network namespaces: `plugsrv serve` advertises _plugsrv._tcp, `plugsrv fetch` finds it (one, several, none), goodbye packets on stop.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { CLI, runCli, tempDir } from '../helpers/agent-process.js';
import { sha256File } from '../helpers/files.js';
import { linesOf, namespacePair, spawnIn, stopChild, type Namespace } from '../helpers/netns.js';

const WATCH = resolve(packageRoot(), 'dist', 'test', 'helpers', 'dnssd-watch.js');
const pair = await namespacePair(t);
if ('skip' in pair) {
  t.plan(0, pair.skip);
} else {
  const { a: boxNs, b: pcNs } = pair;

  /** A data dir with one imported package. */
  const boxData = async (name: string, size: number): Promise<{ dataDir: string; sha256: string }> => {
    const dataDir = await tempDir(t);
    const file = join(await tempDir(t), name);
    await writeFile(file, randomBytes(size));
    const r = await runCli(['--data-dir', dataDir, 'import', file, '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1', '--json']);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
    return { dataDir, sha256: await sha256File(file) };
  };

  /** `plugsrv serve` inside the box namespace; resolves once it logged `until` (a log message). */
  const startBox = async (dataDir: string, args: string[], env: Record<string, string>, until: string) => {
    const child = spawnIn(boxNs, [CLI, '--data-dir', dataDir, 'serve', ...args], { PLUGSRV_SERVE_ADVERTISE: 'true', ...env });
    t.teardown(() => stopChild(child));
    const lines = linesOf(child);
    const logged = await lines.waitFor((e) => e.msg === until, 20_000);
    return { child, lines, logged };
  };

  /** `plugsrv fetch ...` inside the PC namespace, to completion. */
  const fetchIn = (ns: Namespace, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> => {
    const started = Date.now();
    const child = spawnIn(ns, [CLI, 'fetch', ...args], { PLUGSRV_FETCH_CACHE_DIR: join(dataRoot, 'tuf-cache') });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr, ms: Date.now() - started })));
  };
  const dataRoot = await tempDir(t);

  const one = await boxData('IVI_SOFT_1.bin', 300_000 + 17);
  // The production line's unit record: the serial and dealer code go into the TXT record.
  const unitFile = join(dataRoot, 'unit.json');
  await writeFile(unitFile, JSON.stringify({ serial: 'SN-DISC-1', dealerCode: '12345678', site: 'Garage' }));
  const box1 = await startBox(one.dataDir, ['--port', '8080'], { PLUGSRV_SERVE_ADVERTISE_NAME: 'plugsrv-test', PLUGSRV_UNIT_FILE: unitFile }, 'dns-sd: advertising');
  t.match(box1.logged, { name: 'plugsrv-test', on: 'all interfaces', port: 8080 });

  await t.test('fetch --discover lists the box; fetch without --server uses it', async (t) => {
    const found = await fetchIn(pcNs, ['--discover', '--json', '--discover-timeout', '2000']);
    t.equal(found.code, 0, found.stderr);
    const boxes = (JSON.parse(found.stdout) as { boxes: Array<Record<string, unknown>> }).boxes;
    t.match(boxes, [{ name: 'plugsrv-test', url: `http://${boxNs.address}:8080`, version: /^\d+\.\d+\.\d+/, tuf: false, serial: 'SN-DISC-1', dealer: '12345678' }]);
    t.equal(boxes.length, 1);

    const listed = await fetchIn(pcNs, ['--list', '--json', '--discover-timeout', '20000']);
    t.equal(listed.code, 0, listed.stderr);
    t.match(listed.stderr, `using the box "plugsrv-test" at http://${boxNs.address}:8080 (found on the LAN)`);
    t.same((JSON.parse(listed.stdout) as { packages: Array<{ id: string }> }).packages.map((p) => p.id), [one.sha256]);
    t.ok(listed.ms < 15_000, `one answer ends the 20 s wait early (${listed.ms} ms)`);

    const out = await tempDir(t);
    const got = await fetchIn(pcNs, ['--all', '--out', out]);
    t.equal(got.code, 0, got.stderr);
    t.same(await readdir(out), ['IVI_SOFT_1.bin']);
    t.equal(await sha256File(join(out, 'IVI_SOFT_1.bin')), one.sha256);
  });

  await t.test('two boxes: a name conflict is renamed, fetch asks for --server, stopping says goodbye', async (t) => {
    const watcher = spawnIn(pcNs, [WATCH]);
    t.teardown(() => stopChild(watcher));
    const watched = linesOf(watcher);
    await watched.waitFor((e) => e.event === 'up' && e.name === 'plugsrv-test', 10_000);

    // Same instance name, bound to the namespace's address only.
    const two = await boxData('IVI_SOFT_2.bin', 1000);
    const box2 = await startBox(two.dataDir, ['--host', boxNs.address, '--port', '8081'], { PLUGSRV_SERVE_ADVERTISE_NAME: 'plugsrv-test' }, 'dns-sd: advertising');
    t.match(box2.logged, { name: 'plugsrv-test (2)', on: boxNs.address, port: 8081 }, 'renamed after the conflict');
    await watched.waitFor((e) => e.event === 'up' && e.name === 'plugsrv-test (2)', 10_000);

    const several = await fetchIn(pcNs, ['--list', '--discover-timeout', '2500']);
    t.equal(several.code, 2, several.stderr);
    t.match(several.stderr, /E_SEVERAL_SERVERS: 2 plugsrv boxes answered on the LAN; say which one with --server URL:/);
    t.match(several.stderr, new RegExp(`plugsrv-test\\s+http://${boxNs.address.replace(/\./g, '\\.')}:8080`));
    t.match(several.stderr, new RegExp(`plugsrv-test \\(2\\)\\s+http://${boxNs.address.replace(/\./g, '\\.')}:8081`));

    const listed = await fetchIn(pcNs, ['--discover', '--discover-timeout', '2500']);
    t.equal(listed.code, 0, listed.stderr);
    t.equal(listed.stdout.trim().split('\n').length, 3, `header + 2 boxes:\n${listed.stdout}`);

    t.equal(await stopChild(box2.child), 0, 'box 2 stops cleanly');
    await watched.waitFor((e) => e.event === 'down' && e.name === 'plugsrv-test (2)', 5_000);
    t.pass('box 2 sent its goodbye (TTL 0) on SIGTERM');
    t.equal(await stopChild(box1.child), 0, 'box 1 stops cleanly');
    await watched.waitFor((e) => e.event === 'down' && e.name === 'plugsrv-test', 5_000);
    t.pass('box 1 sent its goodbye too');
  });

  await t.test('serve.advertise false: the box is not found, and fetch says what to do', async (t) => {
    const three = await boxData('IVI_SOFT_3.bin', 1000);
    const box3 = await startBox(three.dataDir, ['--port', '8082'], { PLUGSRV_SERVE_ADVERTISE: 'false' }, 'serving');
    const none = await fetchIn(pcNs, ['--list', '--discover-timeout', '1500']);
    t.equal(none.code, 5, none.stderr);
    t.match(none.stderr, /E_NO_SERVER: no plugsrv box answered on the LAN within 1\.5 s \(DNS-SD, _plugsrv\._tcp\)\. Give its address with --server/);
    // Node's start-up takes seconds on a loaded machine; what matters is that the search ends, it does not hang.
    t.ok(none.ms < 15_000, `bounded wait (${none.ms} ms for a 1.5 s search)`);
    t.notOk(box3.lines.all().some((l) => l.includes('dns-sd: advertising')), 'no advertising logged');
    const direct = await fetchIn(pcNs, ['--list', '--server', `http://${boxNs.address}:8082`]);
    t.equal(direct.code, 0, `the box itself is reachable: ${direct.stderr}`);
    t.equal(await stopChild(box3.child), 0);
  });
}
