// `plugsrv hw detect|profiles|check|burnin` as real processes: fixture trees for detect and check; the burn-in for
// real on this machine with the Debian tools (shortened with --duration-scale), a forced failing threshold, a real
// iperf3 server on loopback, and Ctrl-C on a running burn-in.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultProfilesDir, detectHardware, type BurninReport } from '../../../hardware/src/index.js';
import { CLI, cleanEnv, runCli, tempDir } from '../../helpers/agent-process.js';
import { fixtureRoot, toolsMissing } from '../../helpers/hardware.js';

const burninTools = await toolsMissing('stress-ng', 'memtester', 'fio');
const noIperf = await toolsMissing('iperf3');
const noStress = await toolsMissing('stress-ng');

async function reportIn(dir: string): Promise<{ report: BurninReport; json: string; html: string }> {
  const names = (await readdir(dir)).sort();
  const json = names.find((n) => n.endsWith('.json'));
  const html = names.find((n) => n.endsWith('.html'));
  if (!json || !html) throw new Error(`no report in ${dir}: ${names.join(', ')}`);
  return { report: JSON.parse(await readFile(join(dir, json), 'utf8')) as BurninReport, json: join(dir, json), html: join(dir, html) };
}

/** A copy of a shipped profile with some text replaced (a forced threshold). */
async function profileWith(t: { teardown(fn: () => unknown): void }, id: string, from: string, to: string): Promise<string> {
  const text = await readFile(join(defaultProfilesDir(), `${id}.yaml`), 'utf8');
  if (!text.includes(from)) throw new Error(`${id}.yaml has no "${from}"`);
  const file = join(await tempDir(t), `${id}-forced.yaml`);
  await writeFile(file, text.replace(from, to));
  return file;
}

t.test('hw detect: JSON inventory of a fixture tree, the readable form names the matching profile', async (t) => {
  const root = fixtureRoot('dell-optiplex-7010-micro');
  const r = await runCli(['hw', 'detect', '--json', '--root', root]);
  t.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout) as Record<string, unknown>;
  const expected = await detectHardware({ root });
  t.same({ ...inv, detectedAt: '' }, { ...expected, detectedAt: '' });
  const text = await runCli(['hw', 'detect', '--root', root]);
  t.match(text.stdout, /Profile:\s+dell-optiplex-7010-micro\n/);
  t.match(text.stdout, /NIC:\s+eno1 e1000e f4:ee:08:a1:b2:c3 1000 Mb\/s/);
  const profiles = await runCli(['hw', 'profiles', '--json']);
  t.same((JSON.parse(profiles.stdout) as Array<{ id: string }>).map((p) => p.id), ['dell-optiplex-3000-micro', 'dell-optiplex-5000-micro', 'dell-optiplex-7010-micro', 'dell-optiplex-7020-micro', 'qemu-virtual']);
});

t.test('hw check: exit 0 on a match, 6 with what to do on a mismatch, 2 on an unknown profile', async (t) => {
  const ok = await runCli(['hw', 'check', '--profile', 'dell-optiplex-7010-micro', '--root', fixtureRoot('dell-optiplex-7010-micro')]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /Verdict: PASS \(16 passed, 0 failed, 0 warnings, 0 to attest\)/);
  const small = await runCli(['hw', 'check', '-p', 'dell-optiplex-7010-micro', '--root', fixtureRoot('dell-optiplex-7010-micro-small-disk')]);
  t.equal(small.code, 6);
  t.match(small.stdout, /FAIL\s+disk\s+expected NVMe, ≥ 500 GB; measured nvme0n1 \(NVMe, 256\.1 GB, KIOXIA KBG50ZNS256G NVMe 256GB\)\n\s+-> The disk is too small/);
  t.match(small.stderr, /^plugsrv: E_HW_MISMATCH: this unit does not match profile dell-optiplex-7010-micro: disk failed/);
  const wrong = await runCli(['hw', 'check', '-p', 'dell-optiplex-7010-micro', '--json', '--root', fixtureRoot('dell-optiplex-3000-micro')]);
  t.equal(wrong.code, 6);
  t.match(JSON.parse(wrong.stdout), { verdict: 'fail', items: [{ id: 'model', status: 'fail', message: /Wrong model/ }] });
  const unknown = await runCli(['hw', 'check', '-p', 'optiplex-9000']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /E_HW_PROFILE: no hardware profile "optiplex-9000"/);
});

t.test('hw burnin --profile qemu-virtual --level quick, for real on this machine (shortened), reports written', burninTools ? { skip: burninTools } : {}, async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'reports');
  const started = Date.now();
  const r = await runCli(['hw', 'burnin', '--profile', 'qemu-virtual', '--level', 'quick', '--duration-scale', '0.1', '--out', out, '--scratch-dir', dir, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.comment(`shortened quick burn-in: ${Date.now() - started} ms`);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; id?: string; status?: string });
  t.equal(events[0]?.event, 'burnin-start');
  t.same(events.filter((e) => e.event === 'step-done').map((e) => e.id), ['smart', 'nic', 'rtc', 'tpm', 'cpu', 'memory', 'memtester', 'disk-seq', 'disk-random', 'iperf']);
  t.match(events.at(-1), { event: 'report', summary: { verdict: 'pass', profile: 'qemu-virtual', level: 'quick', scale: 0.1 } });
  const { report, html } = await reportIn(out);
  t.equal(report.verdict, 'pass');
  for (const id of ['cpu', 'memory', 'memtester', 'disk-seq', 'disk-random'] as const) {
    const s = report.steps.find((x) => x.id === id)!;
    t.equal(s.status, 'pass', `${id}: ${s.message}`);
    t.ok(s.measures.length > 0, `${id} has measures`);
  }
  // What this machine lacks is skipped with a reason, never passed in disguise; on a VM that has it, it runs.
  for (const id of ['smart', 'nic', 'rtc', 'tpm'] as const) {
    const s = report.steps.find((x) => x.id === id)!;
    t.ok(s.status === 'pass' || (s.status === 'skipped' && s.message.startsWith('skipped: ')), `${id}: ${s.status}: ${s.message}`);
  }
  t.match(report.steps.find((x) => x.id === 'iperf'), { status: 'skipped', message: /not requested/ });
  const page = await readFile(html, 'utf8');
  t.match(page, /<div class="verdict v-pass"><strong>PASS<\/strong>/);
  t.match(page, /Shortened run: durations and sizes were scaled by 0\.1/);
  t.ok((page.match(/<svg /g) ?? []).length >= 2, 'charts for the disk steps at least');
  t.same(await readdir(dir).then((n) => n.filter((x) => x.endsWith('.fio'))), [], 'no scratch file left');
});

t.test('a forced failing threshold: a failing report and exit code 7', burninTools ? { skip: burninTools } : {}, async (t) => {
  const dir = await tempDir(t);
  const profile = await profileWith(t, 'qemu-virtual', 'minSeqReadMBps: 15', 'minSeqReadMBps: 1000000');
  const r = await runCli(['hw', 'burnin', '--profile', profile, '--only', 'disk-seq', '--duration-scale', '0.25', '--out', join(dir, 'out'), '--scratch-dir', dir]);
  t.equal(r.code, 7, r.stderr);
  t.match(r.stderr, /^plugsrv: E_BURNIN_FAILED: burn-in failed: disk-seq\. See .*\.html for what was measured and what to do\./);
  t.match(r.stdout, /FAIL\s+disk-seq .*The disk is slower than the profile allows \(Sequential read \d+ MB\/s, needs ≥ 1000000\)/);
  t.match(r.stdout, /Sequential read\s+\d+ MB\/s\s+needs ≥ 1000000 MB\/s\s+FAIL/);
  const { report, html } = await reportIn(join(dir, 'out'));
  t.equal(report.verdict, 'fail');
  t.match(report.steps.find((s) => s.id === 'disk-seq')?.measures, [{ id: 'seq-write', status: 'pass' }, { id: 'seq-read', threshold: { min: 1000000 }, status: 'fail' }]);
  t.match(await readFile(html, 'utf8'), /<td>Sequential read<\/td><td class="num">\d+ MB\/s<\/td><td>≥ 1000000 MB\/s<\/td><td><span class="badge s-fail">FAIL/);
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port: number, withinMs = 5000): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('iperf3 against a real server on loopback; below the threshold it fails; no server is a failure that says so', noIperf ? { skip: noIperf } : {}, async (t) => {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  t.teardown(() => server.kill('SIGKILL'));
  await listening(port);
  const dir = await tempDir(t);
  const ok = await runCli(['hw', 'burnin', '-p', 'qemu-virtual', '--only', 'iperf', '--iperf-server', `127.0.0.1:${port}`, '--duration-scale', '0.34', '--out', join(dir, 'a'), '--scratch-dir', dir]);
  t.equal(ok.code, 0, ok.stderr + ok.stdout);
  const iperf = (await reportIn(join(dir, 'a'))).report.steps.find((s) => s.id === 'iperf')!;
  t.match(iperf.measures, [{ id: 'upload', unit: 'Mb/s', threshold: { min: 100 }, status: 'pass' }, { id: 'download', status: 'pass' }]);
  t.ok(iperf.series.length === 2 && iperf.series.every((s) => s.points.length >= 1), 'per-second samples both ways');

  const profile = await profileWith(t, 'qemu-virtual', 'minMbps: 100', 'minMbps: 100000000');
  const slow = await runCli(['hw', 'burnin', '-p', profile, '--only', 'iperf', '--iperf-server', `127.0.0.1:${port}`, '--duration-scale', '0.34', '--out', join(dir, 'b'), '--scratch-dir', dir]);
  t.equal(slow.code, 7);
  t.match(slow.stdout, /Throughput below 100000000 Mb\/s/);

  const nobody = await runCli(['hw', 'burnin', '-p', 'qemu-virtual', '--only', 'iperf', '--iperf-server', `127.0.0.1:${await freePort()}`, '--duration-scale', '0.34', '--out', join(dir, 'c'), '--scratch-dir', dir]);
  t.equal(nobody.code, 7);
  t.match(nobody.stdout, /iperf3 failed \(upload: unable to connect to server.*\): check the line's iperf3 server runs/);
});

/** Processes whose command line mentions `needle` (the test's private TMPDIR), as [pid, command line]. */
async function processesMentioning(needle: string): Promise<Array<[number, string]>> {
  const found: Array<[number, string]> = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) found.push([Number(pid), cmd.replace(/\0/g, ' ')]);
  }
  return found;
}

/** Processes in a process group (stress-ng renames its workers, so they are found by group, not by name). */
async function processGroup(pgid: number): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) found.push(Number(pid));
  }
  return found;
}

async function poll<T>(what: () => Promise<T>, ok: (v: T) => boolean, withinMs = 5000): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('Ctrl-C during a step: tools stopped, partial report marked interrupted, exit 130', noStress ? { skip: noStress } : {}, async (t) => {
  const dir = await tempDir(t);
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const child: ChildProcess = spawn(process.execPath, [CLI, 'hw', 'burnin', '-p', 'qemu-virtual', '--only', 'cpu,memory', '--out', join(dir, 'out'), '--scratch-dir', dir, '--json'], {
    env: cleanEnv({ TMPDIR: tmp }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      const e = JSON.parse(line) as { event: string; id?: string };
      if (e.event === 'step-start' && e.id === 'cpu') resolve();
    });
  });
  const stress = await poll(() => processesMentioning(tmp), (list) => list.some(([, cmd]) => cmd.includes('stress-ng')));
  const leader = stress.find(([, cmd]) => cmd.includes('stress-ng'))?.[0];
  t.ok(leader, `stress-ng is running: ${stress.map(([p, c]) => `${p}: ${c}`).join('; ')}`);
  const workers = await poll(() => processGroup(leader!), (g) => g.length > 1);
  t.ok(workers.length > 1, `stress-ng and its workers share process group ${leader}: ${workers.join(', ')}`);
  child.kill('SIGINT');
  const code = await exited;
  t.equal(code, 130, stderr);
  t.match(stderr, /SIGINT: stopping the burn-in and writing a partial report/);
  t.match(stderr, /E_BURNIN_INTERRUPTED: the burn-in was interrupted; partial report in /);
  t.same(await processGroup(leader!), [], 'nothing left of the group: stress-ng and its workers are gone');
  const { report } = await reportIn(join(dir, 'out'));
  t.equal(report.verdict, 'interrupted');
  t.match(report.steps.find((s) => s.id === 'cpu'), { status: 'interrupted', message: /^interrupted after/ });
  t.match(report.steps.find((s) => s.id === 'memory'), { status: 'not-run' });
});
