// The burn-in orchestrator with real tools on this machine, and with fixture trees standing in for sysfs where the
// test needs hardware this machine lacks (a hot CPU, a 100 Mb/s link, a stopped RTC).
import t from 'tap';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProfile, runBurnin, type BurninEvent, type BurninOptions, type BurninReport, type StepResult } from '../../../hardware/src/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { fixtureRoot, toolsMissing } from '../../helpers/hardware.js';

const noStress = await toolsMissing('stress-ng');
const noFio = await toolsMissing('fio');

async function run(t: { teardown(fn: () => unknown): void }, profileId: string, options: Partial<BurninOptions>): Promise<BurninReport> {
  const scratchDir = await tempDir(t, 'plugsrv-burnin-test-');
  return runBurnin({ profile: await loadProfile(profileId), level: 'quick', scale: 0.25, scratchDir, ...options });
}

function stepOf(r: BurninReport, id: string): StepResult {
  return r.steps.find((s) => s.id === id)!;
}

t.test('a Dell profile on this VM: SMART, NIC, RTC and TPM are required, so their absence fails with what to do', async (t) => {
  const r = await run(t, 'dell-optiplex-7010-micro', { only: ['smart', 'nic', 'rtc', 'tpm'], root: fixtureRoot('firecracker-vm') });
  t.equal(r.verdict, 'fail');
  t.match(stepOf(r, 'smart'), { status: 'fail', required: true, message: /^no SMART-capable disk found \(virtual disk vda \(virtual, virtio_blk\)\)\. Fit the ordered NVMe SSD/ });
  t.match(stepOf(r, 'nic'), { status: 'fail', message: /eth0 \(virtio_net\) reports no link speed \(virtual NIC\)\. A real unit must report its link speed/ });
  t.match(stepOf(r, 'rtc'), { status: 'fail', message: /^no RTC device/ });
  t.match(stepOf(r, 'tpm'), { status: 'fail', message: /^no TPM device \(\/sys\/class\/tpm is empty\)\. Turn "TPM 2\.0 Security On"/ });
  t.equal(stepOf(r, 'cpu').status, 'not-run');
  t.match(stepOf(r, 'cpu').message, /not selected \(--only\)/);
  t.equal(r.unitMatchesProfile, false);
});

t.test('the same steps with qemu-virtual are skipped, each saying why (never a pass)', async (t) => {
  const r = await run(t, 'qemu-virtual', { only: ['smart', 'nic', 'rtc', 'tpm', 'iperf'], root: fixtureRoot('firecracker-vm') });
  t.equal(r.verdict, 'pass');
  t.same(r.counts, { pass: 0, fail: 0, skipped: 5, interrupted: 0, 'not-run': 5 });
  t.match(stepOf(r, 'smart').message, 'skipped: no SMART-capable disk found (virtual disk vda (virtual, virtio_blk)) (the profile makes this step optional)');
  t.match(stepOf(r, 'iperf').message, /^skipped: not requested \(give --iperf-server/);
});

t.test('100 Mb/s link on a 7020 fixture: the NIC step fails with the measured value and the threshold', async (t) => {
  const r = await run(t, 'dell-optiplex-7020-micro', { only: ['nic'], root: fixtureRoot('dell-optiplex-7020-micro-100mb') });
  const nic = stepOf(r, 'nic');
  t.equal(nic.status, 'fail');
  t.match(nic.measures, [{ id: 'speed', value: 100, threshold: { min: 1000 }, status: 'fail' }, { id: 'duplex', value: 'full', status: 'pass' }, { id: 'carrier-changes', value: 2 }]);
  t.match(nic.message, /eno1 links at 100 Mb\/s full duplex; the profile needs 1000 Mb\/s full duplex\. Replace the cable/);
  const good = await run(t, 'dell-optiplex-7010-micro', { only: ['nic'], root: fixtureRoot('dell-optiplex-7010-micro') });
  t.equal(stepOf(good, 'nic').status, 'pass');
});

t.test('RTC on a fixture whose clock is stuck in 2024: drift and ticks fail with the battery/UTC advice', async (t) => {
  const r = await run(t, 'dell-optiplex-7010-micro', { only: ['rtc'], root: fixtureRoot('dell-optiplex-7010-micro'), scale: 0.5, now: () => Date.now() });
  const rtc = stepOf(r, 'rtc');
  t.equal(rtc.status, 'fail');
  t.match(rtc.measures, [{ id: 'year', value: 2024, status: 'pass' }, { id: 'drift', status: 'fail' }, { id: 'ticks', value: 0, status: 'fail' }]);
  t.match(rtc.message, /the RTC is -?\d+ s off the system clock.*; the RTC does not tick at the right rate/);
});

t.test('a hot CPU (a fixture sensor at 99 °C) fails the CPU step while stress-ng runs for real', noStress ? { skip: noStress } : {}, async (t) => {
  const root = await tempDir(t);
  await cp(join(fixtureRoot('firecracker-vm'), 'proc'), join(root, 'proc'), { recursive: true });
  await mkdir(join(root, 'sys/class/hwmon/hwmon3'), { recursive: true });
  await writeFile(join(root, 'sys/class/hwmon/hwmon3/name'), 'coretemp\n');
  await writeFile(join(root, 'sys/class/hwmon/hwmon3/temp1_input'), '99000\n');
  const events: BurninEvent[] = [];
  const r = await run(t, 'dell-optiplex-7010-micro', { only: ['cpu'], root, onEvent: (e) => events.push(e) });
  const cpu = stepOf(r, 'cpu');
  t.equal(cpu.status, 'fail');
  t.match(cpu.measures, [{ id: 'exit', value: 0, status: 'pass' }, { id: 'max-temp', value: 99, threshold: { max: 95 }, status: 'fail' }, { id: 'throughput', status: 'info' }]);
  t.match(cpu.message, /The CPU reached 99 °C \(limit 95 °C\): check the fan spins/);
  t.ok(cpu.series.some((s) => s.id === 'temp' && s.points.length >= 1), 'temperatures sampled during the stress');
  t.match(cpu.commands[0], /stress-ng --cpu 0 --cpu-method all --verify --timeout 2s/);
  t.same(events.map((e) => e.event).filter((e) => e !== 'step-progress'), ['burnin-start', 'step-start', 'step-done', 'burnin-done']);
});

t.test('a missing tool fails a required step naming the Debian package, and skips an optional one', async (t) => {
  const r = await run(t, 'qemu-virtual', { only: ['memtester', 'smart'], root: fixtureRoot('dell-optiplex-7010-micro'), searchPath: ['/nonexistent'] });
  t.match(stepOf(r, 'memtester'), { status: 'fail', errorCode: 'E_HW_TOOL_MISSING', message: 'memtester is not installed: install the Debian package memtester (apt-get install memtester) and run the burn-in again.' });
  t.match(stepOf(r, 'smart'), { status: 'skipped', errorCode: 'E_HW_TOOL_MISSING', message: /^skipped: smartctl is not installed: install the Debian package smartmontools/ });
  t.equal(r.verdict, 'fail');
});

t.test('a scratch directory in RAM is refused: fio would measure memory, not the disk', { skip: process.platform !== 'linux' }, async (t) => {
  const shm = '/dev/shm';
  const r = await runBurnin({ profile: await loadProfile('qemu-virtual'), level: 'quick', scale: 0.25, scratchDir: shm, only: ['disk-seq'] });
  t.match(stepOf(r, 'disk-seq'), { status: 'fail', errorCode: 'E_HW_SCRATCH', message: /the scratch directory \/dev\/shm is in RAM \(tmpfs\), not on the disk: give --scratch-dir on the disk under test/ });
});

t.test('a step over its time limit is stopped and failed', noStress ? { skip: noStress } : {}, async (t) => {
  const started = Date.now();
  const r = await run(t, 'qemu-virtual', { only: ['cpu'], scale: 1, timeLimitSeconds: 1 });
  t.ok(Date.now() - started < 8000, `stopped early (${Date.now() - started} ms; the stress alone lasts 8 s)`);
  t.match(stepOf(r, 'cpu'), { status: 'fail', message: /^exceeded its time limit of 1 s and was stopped\./ });
});

t.test('an abort mid-step: the step is interrupted, the rest not run, the verdict says interrupted', noStress ? { skip: noStress } : {}, async (t) => {
  const controller = new AbortController();
  const r = await run(t, 'qemu-virtual', {
    only: ['memory', 'memtester'],
    scale: 1,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.event === 'step-start') setTimeout(() => controller.abort(), 500);
    },
  });
  t.equal(r.verdict, 'interrupted');
  t.equal(r.interrupted, true);
  t.match(stepOf(r, 'memory'), { status: 'interrupted', message: /^interrupted after [\d.]+ s \(Ctrl-C\)/ });
  t.match(stepOf(r, 'memtester'), { status: 'not-run', message: 'not run: the burn-in was interrupted before this step.' });
  t.ok(stepOf(r, 'memory').durationSeconds < 4);
});

t.test('disk steps on a real scratch file, with the profile thresholds side by side; the file is removed', noFio ? { skip: noFio } : {}, async (t) => {
  const scratchDir = await tempDir(t, 'plugsrv-burnin-test-');
  const r = await runBurnin({ profile: await loadProfile('qemu-virtual'), level: 'quick', scale: 0.25, scratchDir, only: ['disk-seq', 'disk-random'] });
  const seq = stepOf(r, 'disk-seq');
  t.equal(seq.status, 'pass', seq.message);
  t.match(seq.measures, [{ id: 'seq-write', unit: 'MB/s', threshold: { min: 8 }, status: 'pass' }, { id: 'seq-read', unit: 'MB/s', threshold: { min: 15 }, status: 'pass' }]);
  t.ok(seq.series.length === 2 && seq.series.every((s) => s.points.length > 0), 'throughput over time from fio logs');
  const rand = stepOf(r, 'disk-random');
  t.match(rand.measures, [{ id: 'rand-write', unit: 'IOPS', threshold: { min: 150 } }, { id: 'rand-read', unit: 'IOPS', threshold: { min: 300 } }]);
  t.same(await readdir(scratchDir), [], 'scratch files removed');
});
