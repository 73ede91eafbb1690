// Threshold evaluation: each value against its threshold, a step's status, the verdict; levels and their scaling.
import t from 'tap';
import { countSteps, describeMeasure, formatThreshold, judge, LEVEL_SPECS, levelSpec, measure, memoryBytes, parseServer, parseStepList, statusFromMeasures, timeLimitSeconds, verdictOf, type StepResult } from '../../../hardware/src/index.js';

const MiB = 1024 * 1024;

t.test('judge: min, max, equals, maxAbs, missing values', async (t) => {
  t.equal(judge(1200, { min: 1000 }), 'pass');
  t.equal(judge(999.9, { min: 1000 }), 'fail');
  t.equal(judge(1000, { min: 1000 }), 'pass', 'the threshold itself passes');
  t.equal(judge(96, { max: 95 }), 'fail');
  t.equal(judge(50, { min: 10, max: 95 }), 'pass');
  t.equal(judge(-130, { maxAbs: 120 }), 'fail');
  t.equal(judge(-100, { maxAbs: 120 }), 'pass');
  t.equal(judge('PASSED', { equals: 'PASSED' }), 'pass');
  t.equal(judge('FAILED', { equals: 'PASSED' }), 'fail');
  t.equal(judge(2, { equals: 0 }), 'fail');
  t.equal(judge('fast', { min: 1 }), 'fail', 'not a number against a numeric threshold');
  t.equal(judge(Number.NaN, { min: 1 }), 'fail');
  t.equal(judge(null, { max: 95 }), 'unavailable');
  t.equal(judge(null, { max: 95 }, true), 'fail', 'required and missing');
  t.equal(judge(564, undefined), 'info');
});

t.test('measures, step status, verdict', async (t) => {
  const temp = measure({ id: 'max-temp', label: 'Max CPU temperature', unit: '°C', value: 97.5, threshold: { max: 95 } });
  t.same(temp, { id: 'max-temp', label: 'Max CPU temperature', unit: '°C', value: 97.5, threshold: { max: 95 }, status: 'fail' });
  t.equal(describeMeasure(temp), 'Max CPU temperature 97.5 °C (needs ≤ 95 °C)');
  t.equal(formatThreshold({ min: 1000 }, 'MB/s'), '≥ 1000 MB/s');
  t.equal(formatThreshold({ maxAbs: 120 }, 's'), 'within ±120 s');
  t.equal(statusFromMeasures([temp]), 'fail');
  t.equal(statusFromMeasures([measure({ id: 'x', label: 'x', value: null, threshold: { max: 1 } })]), 'pass', 'unavailable is not a failure');
  const step = (status: StepResult['status']): StepResult => ({ id: 'cpu', title: 'x', required: true, status, startedAt: null, durationSeconds: 0, timeLimitSeconds: 0, message: '', measures: [], series: [], chart: null, commands: [] });
  t.equal(verdictOf([step('pass'), step('skipped')], false), 'pass');
  t.equal(verdictOf([step('pass'), step('fail')], false), 'fail');
  t.equal(verdictOf([step('pass'), step('interrupted'), step('not-run')], true), 'interrupted');
  t.same(countSteps([step('pass'), step('skipped'), step('skipped'), step('fail')]), { pass: 1, fail: 1, skipped: 2, interrupted: 0, 'not-run': 0 });
});

t.test('levels: quick stays short; scale shrinks durations and sizes down to floors', async (t) => {
  const q = LEVEL_SPECS.quick;
  const quickSeconds = q.cpuSeconds + q.memorySeconds + 2 * q.fioSeqSeconds + 2 * q.fioRandSeconds + q.rtcSeconds;
  t.ok(quickSeconds <= 30, `quick's timed steps add up to ${quickSeconds} s`);
  t.ok(LEVEL_SPECS.standard.cpuSeconds > q.cpuSeconds && LEVEL_SPECS.extended.cpuSeconds > LEVEL_SPECS.standard.cpuSeconds);
  const s = levelSpec('quick', 0.1);
  t.same([s.cpuSeconds, s.memorySeconds, s.fioSeqSeconds, s.rtcSeconds, s.scale], [1, 1, 1, 2, 0.1]);
  t.equal(s.fioSeqBytes, 16 * MiB, 'floor');
  t.equal(s.memtesterMaxBytes, 4 * MiB, 'floor');
  t.equal(levelSpec('standard').cpuSeconds, 600);
  t.equal(memoryBytes(8 * 1024 * MiB, 0.5, 1024 * MiB), 1024 * MiB, 'capped');
  t.equal(memoryBytes(1000 * MiB, 0.05, 256 * MiB), 50 * MiB, 'share of what is available, in whole MiB');
  t.equal(memoryBytes(10 * MiB, 0.01, 256 * MiB), 4 * MiB, 'at least 4 MiB');
  t.equal(timeLimitSeconds(10), 90);
  t.equal(timeLimitSeconds(0), 60);
  t.equal(timeLimitSeconds(600), 1860);
});

t.test('command-line values: step lists and the iperf3 server', async (t) => {
  t.same(parseStepList('cpu, disk-seq', '--only'), ['cpu', 'disk-seq']);
  t.throws(() => parseStepList('cpu,gpu', '--only'), { code: 'E_HW_INPUT', message: /--only: unknown step "gpu"; steps are smart, nic, rtc, tpm, cpu, memory, memtester, disk-seq, disk-random, iperf\./ });
  t.same(parseServer('10.0.0.5'), { host: '10.0.0.5', port: 5201 });
  t.same(parseServer('iperf.line.lan:5300'), { host: 'iperf.line.lan', port: 5300 });
  t.same(parseServer('[fd00::5]:5300'), { host: 'fd00::5', port: 5300 });
  t.throws(() => parseServer('host:99999'), { code: 'E_HW_INPUT' });
  t.throws(() => parseServer('a:b:c'), { code: 'E_HW_INPUT' });
});
