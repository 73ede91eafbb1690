// Parsers of the burn-in tools' output, over outputs captured from the real tools (and smartctl modelled on real disks).
import t from 'tap';
import {
  getTestResultCommand,
  parseFioJson,
  parseFioLog,
  parseGetTestResult,
  parseIperfJson,
  parseMemtester,
  parseSmartctlJson,
  parseStressNgYaml,
  rcName,
  responseCode,
  selfTestCommand,
  smartctlCouldNotRun,
  TPM_RC,
} from '../../../hardware/src/index.js';
import { toolOutput } from '../../helpers/hardware.js';

t.test('stress-ng --yaml metrics', async (t) => {
  t.same(parseStressNgYaml(await toolOutput('stress-ng-cpu.yaml')), [{ stressor: 'cpu', bogoOps: 9195, bogoOpsPerSecond: 3064.649035, wallClockSeconds: 3.000344 }]);
  t.same(parseStressNgYaml('not: [yaml'), []);
  t.same(parseStressNgYaml('---\nsystem-info:\n  cpus: 2\n'), []);
});

t.test('fio JSON and logs', async (t) => {
  const read = parseFioJson(await toolOutput('fio-seq-read.json'));
  t.equal(read?.error, 0);
  t.equal(read?.write, null, 'no write in a read job');
  t.ok(read?.read && read.read.bytesPerSecond > 1e6 && read.read.iops > 0 && read.read.ioBytes > 0);
  const write = parseFioJson(`fio: some warning first\n${await toolOutput('fio-rand-write.json')}`);
  t.ok(write?.write && write.write.iops > 100, 'JSON found after a warning line');
  t.equal(write?.read, null);
  t.equal(parseFioJson('fio: pid=0, err=22/file:filesetup.c:240, func=open, error=Invalid argument'), null);
  t.same(parseFioLog('251, 538517, 1, 0, 0\n527, 690086, 1, 0, 0\n\nbad line\n', 1024 / 1e6), [
    [0.251, (538517 * 1024) / 1e6],
    [0.527, (690086 * 1024) / 1e6],
  ]);
});

t.test('smartctl JSON: a healthy NVMe, a SATA SSD with reallocated sectors, a virtual disk', async (t) => {
  const nvme = parseSmartctlJson(await toolOutput('smartctl-nvme-ok.json'));
  t.match(nvme, { exitStatus: 0, model: 'PC801 NVMe SK hynix 512GB', passed: true, temperatureC: 36, powerOnHours: 31, nvme: { criticalWarning: 0, percentageUsed: 0, mediaErrors: 0, errorLogEntries: 0, unsafeShutdowns: 3 }, ata: null });
  const ata = parseSmartctlJson(await toolOutput('smartctl-ata-reallocated.json'));
  t.match(ata, { exitStatus: 64, model: 'CT500MX500SSD1', passed: true, temperatureC: 38, nvme: null, ata: { reallocated: 8, pending: 2, offlineUncorrectable: 0, crcErrors: 0 } });
  t.notOk(smartctlCouldNotRun(64), 'bit 6 (error log) is a finding, not a failure to run');
  const virtio = parseSmartctlJson(await toolOutput('smartctl-virtio.json'));
  t.match(virtio, { exitStatus: 1, passed: null, messages: ['/dev/vda: Unable to detect device type'] });
  t.ok(smartctlCouldNotRun(1));
  t.ok(smartctlCouldNotRun(2), 'device open failed');
  t.equal(parseSmartctlJson('smartctl: command not found'), null);
});

t.test('iperf3 JSON: a run and a refused connection', async (t) => {
  const up = parseIperfJson(await toolOutput('iperf3-upload.json'));
  t.equal(up?.error, null);
  t.ok(up && up.receivedBitsPerSecond! > 1e6 && up.sentBitsPerSecond! > 1e6);
  t.equal(up?.intervals.length, 2);
  t.ok(up!.intervals[1]![0] > up!.intervals[0]![0]);
  const refused = parseIperfJson(await toolOutput('iperf3-refused.json'));
  t.match(refused, { error: 'unable to connect to server: Connection refused', receivedBitsPerSecond: null, intervals: [] });
});

t.test('memtester: all 18 tests ok; a failed test; an interrupted run', async (t) => {
  const ok = await toolOutput('memtester-ok.stdout');
  t.same(parseMemtester(ok, true), { testedMiB: 1, locked: true, passed: 18, failed: [], incomplete: 0 });
  // What memtester prints when a comparison fails: no "ok" for that test (the FAILURE line goes to stderr).
  const bad = ok.replace(/(Compare XOR\s*: )ok/, '$1');
  t.same(parseMemtester(bad, true).failed, ['Compare XOR']);
  t.equal(parseMemtester(bad, true).passed, 17);
  const cut = ok.slice(0, ok.indexOf('Bit Flip') + 30);
  t.match(parseMemtester(cut, false), { passed: 13, failed: [], incomplete: 1 });
});

t.test('TPM 2.0 commands and responses, byte for byte', async (t) => {
  t.equal(selfTestCommand(true).toString('hex'), '80010000000b0000014301');
  t.equal(getTestResultCommand().toString('hex'), '80010000000a0000017c');
  t.equal(responseCode(Buffer.from('80010000000a00000000', 'hex')), TPM_RC.SUCCESS);
  t.equal(responseCode(Buffer.from('80010000000a00000101', 'hex')), TPM_RC.FAILURE);
  t.equal(responseCode(Buffer.from('80010000000c00000000', 'hex')), null, 'size field does not match');
  // GetTestResult: header, outData (TPM2B, 2 bytes here), testResult.
  t.same(parseGetTestResult(Buffer.from('8001000000120000000000020102' + '00000000', 'hex')), { rc: 0, testResult: 0 });
  t.same(parseGetTestResult(Buffer.from('800100000010000000000000' + '0000090a', 'hex')), { rc: 0, testResult: TPM_RC.TESTING });
  t.same(parseGetTestResult(Buffer.from('80010000000a00000101', 'hex')), { rc: TPM_RC.FAILURE, testResult: null });
  t.equal(rcName(0x90a), '0x90a (TPM_RC_TESTING)');
  t.equal(rcName(0x123), '0x123');
});
