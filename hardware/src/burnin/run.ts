// The burn-in orchestrator: runs the selected steps one after the other, each under a time limit, stops cleanly when
// the caller's signal aborts (Ctrl-C), and returns the report (written to disk by report.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { freemem, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPlugsrvError } from '../../../lib/errors.js';
import { matchesProfile } from '../check/index.js';
import { detectInventory, fsReader } from '../detect/index.js';
import { HardwareError, HwErrorCode } from '../errors.js';
import type { LoadedProfile } from '../profile/index.js';
import { countSteps, statusFromMeasures, verdictOf } from './evaluate.js';
import { levelSpec } from './levels.js';
import { defaultSearchPath, sleep } from './proc.js';
import type { StepContext, StepDef, StepOutcome } from './step.js';
import { diskRandomStep, diskSeqStep } from './steps/disk.js';
import { iperfStep } from './steps/iperf.js';
import { memtesterStep } from './steps/memtester.js';
import { nicStep } from './steps/nic.js';
import { rtcStep } from './steps/rtc.js';
import { smartStep } from './steps/smart.js';
import { cpuStep, memoryStep } from './steps/stress.js';
import { tpmStep } from './steps/tpm.js';
import { LEVELS, STEP_IDS, type BurninEvent, type BurninReport, type Level, type StepId, type StepResult } from './types.js';

export const STEPS: readonly StepDef[] = [smartStep, nicStep, rtcStep, tpmStep, cpuStep, memoryStep, memtesterStep, diskSeqStep, diskRandomStep, iperfStep];

/**
 * How long a step may run before it is stopped and failed: generous (a loaded line PC or a shared CI VM runs tools
 * several times slower than alone), since the limit is there to catch a hung tool, not a slow one.
 */
export function timeLimitSeconds(expectedSeconds: number): number {
  return Math.max(60, Math.ceil(expectedSeconds * 3) + 60);
}

/** After a step is told to stop, how long it gets to return before it is abandoned. */
const STOP_GRACE_MS = 15_000;

export interface BurninOptions {
  profile: LoadedProfile;
  level: Level;
  /** Multiplies durations and sizes (0 < scale ≤ 10); 1 = the level as defined. */
  scale?: number;
  /** Root of /sys and /proc (a fixture tree in tests). */
  root?: string;
  devDir?: string;
  /** Directory on the disk under test for fio's scratch files. */
  scratchDir: string;
  /** HOST[:PORT] of the line's iperf3 server; the iperf step is skipped without it. */
  iperfServer?: string;
  /** Run only these steps (the others are reported as not run). */
  only?: readonly StepId[];
  skip?: readonly StepId[];
  /** Ctrl-C: the running step's tools are stopped, the rest is not run, the report says interrupted. */
  signal?: AbortSignal;
  onEvent?: (e: BurninEvent) => void;
  /** Milliseconds clock, injectable. */
  now?: () => number;
  /** Where tools are looked for (default PATH plus the sbin folders). */
  searchPath?: readonly string[];
  /** Memory available for the memory steps (default: what the OS says is free now). */
  availableMemoryBytes?: number;
  /** One time limit for every step instead of the computed ones (tests of the limit itself). */
  timeLimitSeconds?: number;
  /** Each tool's pid (= process group) when it starts and when it is gone: a caller that must exit at once kills them. */
  onToolSpawn?: (pid: number) => void;
  onToolExit?: (pid: number) => void;
}

export function parseServer(value: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(value);
  const port = m?.[2] === undefined ? 5201 : Number(m[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new HardwareError(HwErrorCode.INPUT, `--iperf-server must be HOST, HOST:PORT or [IPv6]:PORT, not "${value}".`);
  return { host: m[1]!, port };
}

export function parseStepList(value: string, flag: string): StepId[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(STEP_IDS as readonly string[]).includes(id)) throw new HardwareError(HwErrorCode.INPUT, `${flag}: unknown step "${id}"; steps are ${STEP_IDS.join(', ')}.`);
  }
  return ids as StepId[];
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

function notRun(def: StepDef, required: boolean, message: string): StepResult {
  return { id: def.id, title: def.title, required, status: 'not-run', startedAt: null, durationSeconds: 0, timeLimitSeconds: 0, message, measures: [], series: [], chart: null, commands: [] };
}

export async function runBurnin(opts: BurninOptions): Promise<BurninReport> {
  if (!(LEVELS as readonly string[]).includes(opts.level)) throw new HardwareError(HwErrorCode.INPUT, `unknown level "${opts.level}": use ${LEVELS.join(', ')}.`);
  const scale = opts.scale ?? 1;
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) throw new HardwareError(HwErrorCode.INPUT, `the scale must be a number above 0 and at most 10, not ${scale}.`);
  const now = opts.now ?? Date.now;
  const signal = opts.signal ?? new AbortController().signal;
  const emit = opts.onEvent ?? (() => undefined);
  const iperfServer = opts.iperfServer ? parseServer(opts.iperfServer) : null;
  const profile = opts.profile.profile;
  const spec = levelSpec(opts.level, scale);
  const reader = fsReader(opts.root ?? '/');
  const startedMs = now();
  const inventory = await detectInventory(reader, () => new Date(now()));
  const available = opts.availableMemoryBytes ?? freemem();
  const selected = STEPS.filter((s) => (!opts.only || opts.only.includes(s.id)) && !opts.skip?.includes(s.id));
  const expected = (s: StepDef): number => s.expectedSeconds(spec, { availableMemoryBytes: available, iperf: iperfServer !== null });
  emit({ event: 'burnin-start', level: opts.level, profile: profile.id, steps: selected.map((s) => ({ id: s.id, title: s.title, expectedSeconds: expected(s) })), expectedSeconds: selected.reduce((n, s) => n + expected(s), 0) });

  const workDir = await mkdtemp(join(tmpdir(), 'plugsrv-burnin-'));
  const results: StepResult[] = [];
  try {
    let index = 0;
    for (const def of STEPS) {
      const required = def.required(profile);
      if (!selected.includes(def)) {
        results.push(notRun(def, required, `not run: not selected (${opts.only ? '--only' : '--skip'}).`));
        continue;
      }
      index++;
      if (signal.aborted) {
        results.push(notRun(def, required, 'not run: the burn-in was interrupted before this step.'));
        continue;
      }
      const exp = expected(def);
      const limit = opts.timeLimitSeconds ?? timeLimitSeconds(exp);
      emit({ event: 'step-start', id: def.id, title: def.title, index, count: selected.length, expectedSeconds: exp, timeLimitSeconds: limit });
      const limitCtl = new AbortController();
      const timer = setTimeout(() => limitCtl.abort(), limit * 1000);
      const stepSignal = AbortSignal.any([signal, limitCtl.signal]);
      let lastProgress = 0;
      const ctx: StepContext = {
        profile,
        spec,
        reader,
        inventory,
        devDir: opts.devDir ?? '/dev',
        scratchDir: opts.scratchDir,
        workDir,
        iperfServer,
        signal: stepSignal,
        toolOptions: { signal: stepSignal, ...(opts.onToolSpawn ? { onSpawn: opts.onToolSpawn } : {}), ...(opts.onToolExit ? { onExit: opts.onToolExit } : {}) },
        searchPath: opts.searchPath ?? defaultSearchPath(),
        availableMemoryBytes: available,
        now,
        progress(fraction, note) {
          if (now() - lastProgress < 250 && fraction < 1) return;
          lastProgress = now();
          emit({ event: 'step-progress', id: def.id, fraction, ...(note !== undefined ? { note } : {}) });
        },
      };
      const stepStart = now();
      const running: Promise<StepOutcome> = def.run(ctx).catch((err: unknown) => ({
        status: 'fail' as const,
        message: `${def.title} failed: ${err instanceof Error ? err.message : String(err)}`,
        ...(isPlugsrvError(err) ? { errorCode: err.code } : {}),
      }));
      // A step that ignores its signal (a device read that never returns) is abandoned after a grace period.
      const graceCtl = new AbortController();
      const onStop = (resolve: (v: undefined) => void) => (): void => void sleep(STOP_GRACE_MS, graceCtl.signal).then(() => resolve(undefined));
      let listener: (() => void) | undefined;
      const abandoned = new Promise<undefined>((resolve) => {
        listener = onStop(resolve);
        if (stepSignal.aborted) listener();
        else stepSignal.addEventListener('abort', listener, { once: true });
      });
      const outcome = (await Promise.race([running, abandoned])) ?? { status: 'fail' as const, message: `${def.title} did not stop within ${STOP_GRACE_MS / 1000} s of being told to; it was abandoned.` };
      graceCtl.abort();
      if (listener) stepSignal.removeEventListener('abort', listener);
      clearTimeout(timer);
      const durationSeconds = Math.round((now() - stepStart) / 100) / 10;
      const measures = outcome.measures ?? [];
      let status: StepResult['status'];
      let message = outcome.message;
      if (signal.aborted) {
        status = 'interrupted';
        message = `interrupted after ${durationSeconds} s (Ctrl-C); values measured so far are shown.`;
      } else if (limitCtl.signal.aborted) {
        status = 'fail';
        message = `exceeded its time limit of ${limit} s and was stopped. ${message}`;
      } else status = outcome.status ?? statusFromMeasures(measures);
      const result: StepResult = {
        id: def.id,
        title: def.title,
        required,
        status,
        startedAt: new Date(stepStart).toISOString(),
        durationSeconds,
        timeLimitSeconds: limit,
        message,
        measures,
        series: outcome.series ?? [],
        chart: outcome.chart ?? null,
        commands: outcome.commands ?? [],
        ...(outcome.logTail ? { logTail: outcome.logTail } : {}),
        ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
      };
      results.push(result);
      emit({ event: 'step-done', id: def.id, status, durationSeconds, message });
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const finishedMs = now();
  const interrupted = signal.aborted;
  const verdict = verdictOf(results, interrupted);
  const durationSeconds = Math.round((finishedMs - startedMs) / 100) / 10;
  emit({ event: 'burnin-done', verdict, durationSeconds });
  return {
    schema: 'plugsrv.burnin/1',
    id: `${stamp(startedMs)}-${profile.id}-${opts.level}`,
    level: opts.level,
    scale,
    profile: { id: profile.id, name: profile.name, file: opts.profile.file, verified: profile.verified },
    unit: {
      vendor: inventory.dmi.sysVendor,
      product: inventory.dmi.productName,
      serial: inventory.dmi.productSerial,
      hostname: hostname(),
      cpu: inventory.cpu.model,
      memoryBytes: inventory.memory.totalBytes,
    },
    unitMatchesProfile: matchesProfile(inventory, profile),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationSeconds,
    verdict,
    interrupted,
    counts: countSteps(results),
    steps: results,
    options: { scratchDir: opts.scratchDir, iperfServer: opts.iperfServer ?? null, root: opts.root ?? '/', only: opts.only ? [...opts.only] : null },
  };
}
