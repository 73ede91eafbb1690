// What a burn-in step is, what it gets to run, and the helpers steps share (tool lookup, honest skips, sampling).
import type { Inventory, SysReader } from '../detect/index.js';
import { HwErrorCode } from '../errors.js';
import type { Profile } from '../profile/index.js';
import type { LevelSpec } from './levels.js';
import { findTool, missingToolMessage, sleep } from './proc.js';
import type { Measure, Series, StepId } from './types.js';

export interface StepContext {
  profile: Profile;
  spec: LevelSpec;
  /** sysfs/procfs under the injectable root. */
  reader: SysReader;
  /** Read once at the start of the burn-in. */
  inventory: Inventory;
  /** Where device nodes are (/dev): smartctl and the TPM use them. */
  devDir: string;
  /** A directory on the disk under test, for fio's scratch files. */
  scratchDir: string;
  /** A private temporary directory for tool outputs (YAML, logs). */
  workDir: string;
  iperfServer: { host: string; port: number } | null;
  /** Aborts on Ctrl-C or when the step's time limit passes. */
  signal: AbortSignal;
  /** Give to every runTool call: the signal plus the caller's spawn/exit hooks. */
  toolOptions: { signal: AbortSignal; onSpawn?: (pid: number) => void; onExit?: (pid: number) => void };
  searchPath: readonly string[];
  availableMemoryBytes: number;
  progress(fraction: number, note?: string): void;
  /** Milliseconds, injectable. */
  now(): number;
}

export interface StepOutcome {
  /** Default: fail if a measure failed, else pass. */
  status?: 'pass' | 'fail' | 'skipped';
  message: string;
  measures?: Measure[];
  series?: Series[];
  chart?: 'line' | 'bars' | null;
  commands?: string[];
  logTail?: string;
  errorCode?: string;
}

export interface StepDef {
  id: StepId;
  title: string;
  /** Whether the profile requires the step (a required step never skips: what is missing fails it). */
  required(profile: Profile): boolean;
  expectedSeconds(spec: LevelSpec, ctx: { availableMemoryBytes: number; iperf: boolean }): number;
  run(ctx: StepContext): Promise<StepOutcome>;
}

/**
 * What a step says when the thing it tests is absent: skipped (with the reason) where the profile allows it, else a
 * failure that says what to do.
 */
export function absent(required: boolean, reason: string, todo: string): StepOutcome {
  return required ? { status: 'fail', message: `${reason}. ${todo}` } : { status: 'skipped', message: `skipped: ${reason} (the profile makes this step optional)` };
}

/** The tool's path, or the outcome for a missing tool (fail, or skip where the profile marks the step optional). */
export async function toolOrOutcome(ctx: StepContext, name: string, required: boolean): Promise<string | StepOutcome> {
  const path = await findTool(name, ctx.searchPath);
  if (path) return path;
  const msg = missingToolMessage(name);
  return required ? { status: 'fail', message: msg, errorCode: HwErrorCode.TOOL_MISSING } : { status: 'skipped', message: `skipped: ${msg}`, errorCode: HwErrorCode.TOOL_MISSING };
}

/** Runs `sample` every `everyMs` until stop() is awaited; errors in a sample are ignored (a sensor read failing). */
export function startSampler(everyMs: number, sample: () => Promise<void>, signal: AbortSignal): { stop(): Promise<void> } {
  let stopped = false;
  const stopper = new AbortController();
  const loop = (async () => {
    while (!stopped && !signal.aborted) {
      await sample().catch(() => undefined);
      await sleep(everyMs, AbortSignal.any([signal, stopper.signal]));
    }
  })();
  return {
    async stop() {
      stopped = true;
      stopper.abort();
      await loop;
    },
  };
}

export function commandLine(path: string, args: readonly string[]): string {
  return [path, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
