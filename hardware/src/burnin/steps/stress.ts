// The stress-ng steps: CPU (every core, all methods, results verified) with temperatures sampled from hwmon, and
// memory (vm stressors, verified) sized from the memory available at the start.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure } from '../evaluate.js';
import { memoryBytes } from '../levels.js';
import { parseStressNgYaml } from '../parse.js';
import { runTool, tail, type ToolRun } from '../proc.js';
import { readCpuMhz, readTemperatures, readThrottleCount } from '../sensors.js';
import { commandLine, startSampler, toolOrOutcome, type StepDef, type StepOutcome } from '../step.js';
import type { Measure, Series } from '../types.js';

const MiB = 1024 * 1024;

/** stress-ng's exit codes (stress-ng(1) EXIT STATUS). */
function stressExitMeaning(code: number | null): string {
  switch (code) {
    case 0:
      return 'completed without errors';
    case 2:
      return 'a stressor failed: its results did not verify (hardware error)';
    case 3:
      return 'not enough resources to run the stressor';
    case 1:
      return 'error (bad options or stress-ng failure)';
    default:
      return `exit status ${code}`;
  }
}

function exitNote(run: ToolRun): string {
  if (run.aborted) return 'stopped before the end';
  if (run.signal) return `killed by ${run.signal}${run.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`;
  return stressExitMeaning(run.code);
}

async function readMetrics(file: string): Promise<ReturnType<typeof parseStressNgYaml>> {
  try {
    return parseStressNgYaml(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
}

export const cpuStep: StepDef = {
  id: 'cpu',
  title: 'CPU stress and temperature',
  required: (p) => p.burnin.cpu.required,
  expectedSeconds: (spec) => spec.cpuSeconds,
  async run(ctx): Promise<StepOutcome> {
    const t = ctx.profile.burnin.cpu;
    const tool = await toolOrOutcome(ctx, 'stress-ng', t.required);
    if (typeof tool !== 'string') return tool;
    const seconds = ctx.spec.cpuSeconds;
    const yaml = join(ctx.workDir, 'cpu.yaml');
    const args = ['--cpu', '0', '--cpu-method', 'all', '--verify', '--timeout', `${seconds}s`, '--metrics-brief', '--yaml', yaml, '--temp-path', ctx.workDir];
    const temps: Array<[number, number]> = [];
    const mhz: Array<[number, number]> = [];
    const start = ctx.now();
    const throttleBefore = await readThrottleCount(ctx.reader);
    const sampler = startSampler(
      1000,
      async () => {
        const s = (ctx.now() - start) / 1000;
        const reading = await readTemperatures(ctx.reader);
        if (reading.cpuC !== null) temps.push([s, reading.cpuC]);
        const f = await readCpuMhz(ctx.reader);
        if (f !== null) mhz.push([s, f]);
        ctx.progress(Math.min(1, s / seconds), reading.cpuC !== null ? `${reading.cpuC.toFixed(0)} °C` : undefined);
      },
      ctx.signal,
    );
    const run = await runTool(tool, args, ctx.toolOptions);
    await sampler.stop();
    const throttleAfter = await readThrottleCount(ctx.reader);
    const metric = (await readMetrics(yaml)).find((m) => m.stressor === 'cpu');
    const maxTemp = temps.length > 0 ? Math.max(...temps.map(([, v]) => v)) : null;
    const throttle = throttleBefore !== null && throttleAfter !== null ? throttleAfter - throttleBefore : null;
    const measures: Measure[] = [
      measure({ id: 'exit', label: 'stress-ng result', value: run.aborted ? null : run.code, threshold: { equals: 0 }, required: !run.aborted, note: exitNote(run) }),
      measure({
        id: 'max-temp',
        label: 'Max CPU temperature',
        unit: '°C',
        value: maxTemp,
        threshold: { max: t.maxTempC },
        required: t.requireTemperature,
        ...(maxTemp === null ? { note: 'no CPU temperature sensor readable (hwmon coretemp/k10temp or a thermal zone); a virtual machine has none' } : {}),
      }),
      measure({ id: 'throughput', label: 'CPU throughput', unit: 'bogo ops/s', value: metric?.bogoOpsPerSecond ?? null, ...(t.minBogoOpsPerSec !== undefined ? { threshold: { min: t.minBogoOpsPerSec } } : {}) }),
      measure({
        id: 'throttle',
        label: 'Thermal throttle events',
        value: throttle,
        ...(t.maxThrottleEvents !== undefined ? { threshold: { max: t.maxThrottleEvents } } : {}),
        ...(throttle === null ? { note: 'no thermal throttle counters (not an Intel CPU, or a virtual machine)' } : {}),
      }),
    ];
    const series: Series[] = [];
    if (temps.length > 0) series.push({ id: 'temp', label: 'CPU temperature', unit: '°C', points: temps, threshold: { value: t.maxTempC, kind: 'max' } });
    if (mhz.length > 0) series.push({ id: 'mhz', label: 'CPU frequency', unit: 'MHz', points: mhz });
    const failed = measures.filter((m) => m.status === 'fail');
    let message = `${ctx.inventory.cpu.threads} CPU threads stressed for ${Math.round(run.durationMs / 1000)} s: ${exitNote(run)}.`;
    if (failed.some((m) => m.id === 'max-temp')) {
      message = maxTemp === null ? 'No CPU temperature can be read: real hardware always has a sensor (load the coretemp module, check BIOS setup).' : `The CPU reached ${maxTemp.toFixed(0)} °C (limit ${t.maxTempC} °C): check the fan spins, the air vents are clear and the heatsink is seated with thermal paste.`;
    } else if (failed.some((m) => m.id === 'exit')) message = `stress-ng: ${exitNote(run)}. A verification error means the CPU or memory computes wrong results: set the unit aside.`;
    else if (failed.length > 0) message = `Below the profile's thresholds: ${failed.map((m) => m.label).join(', ')}.`;
    return { measures, series, chart: series.length > 0 ? 'line' : null, message, commands: [commandLine(tool, args)], ...(run.code !== 0 && !run.aborted ? { logTail: tail(run.stderr + run.stdout) } : {}) };
  },
};

export const memoryStep: StepDef = {
  id: 'memory',
  title: 'Memory stress (stress-ng vm, verified)',
  required: (p) => p.burnin.memory.required,
  expectedSeconds: (spec) => spec.memorySeconds,
  async run(ctx): Promise<StepOutcome> {
    const required = ctx.profile.burnin.memory.required;
    const tool = await toolOrOutcome(ctx, 'stress-ng', required);
    if (typeof tool !== 'string') return tool;
    const seconds = ctx.spec.memorySeconds;
    const total = memoryBytes(ctx.availableMemoryBytes, ctx.spec.memoryShare, ctx.spec.memoryMaxBytes);
    const workers = Math.max(1, Math.min(2, ctx.inventory.cpu.threads || 1));
    const perWorker = Math.max(4 * MiB, Math.floor(total / workers / MiB) * MiB);
    const yaml = join(ctx.workDir, 'memory.yaml');
    const args = ['--vm', String(workers), '--vm-bytes', `${perWorker / MiB}M`, '--vm-method', 'all', '--verify', '--timeout', `${seconds}s`, '--metrics-brief', '--yaml', yaml, '--temp-path', ctx.workDir];
    const start = ctx.now();
    const sampler = startSampler(1000, async () => ctx.progress(Math.min(1, (ctx.now() - start) / 1000 / seconds)), ctx.signal);
    const run = await runTool(tool, args, ctx.toolOptions);
    await sampler.stop();
    const metric = (await readMetrics(yaml)).find((m) => m.stressor === 'vm');
    const measures = [
      measure({ id: 'exit', label: 'stress-ng result', value: run.aborted ? null : run.code, threshold: { equals: 0 }, required: !run.aborted, note: exitNote(run) }),
      measure({ id: 'bytes', label: 'Memory exercised', unit: 'MiB', value: (perWorker * workers) / MiB }),
      measure({ id: 'throughput', label: 'vm throughput', unit: 'bogo ops/s', value: metric?.bogoOpsPerSecond ?? null }),
    ];
    const ok = measures.every((m) => m.status !== 'fail');
    return {
      measures,
      chart: null,
      message: ok
        ? `${(perWorker * workers) / MiB} MiB written and verified by ${workers} worker(s) for ${Math.round(run.durationMs / 1000)} s: no error.`
        : `stress-ng: ${exitNote(run)}. A verification error points at the memory: reseat the SO-DIMMs, try them one at a time, and replace the one that fails.`,
      commands: [commandLine(tool, args)],
      ...(run.code !== 0 && !run.aborted ? { logTail: tail(run.stderr + run.stdout) } : {}),
    };
  },
};
