// What a burn-in produces: per-step results with every measured value next to its threshold, and the whole report.

export const LEVELS = ['quick', 'standard', 'extended'] as const;
export type Level = (typeof LEVELS)[number];

/** In the order they run: the quick, non-invasive reads first, then the stress. */
export const STEP_IDS = ['smart', 'nic', 'rtc', 'tpm', 'cpu', 'memory', 'memtester', 'disk-seq', 'disk-random', 'iperf'] as const;
export type StepId = (typeof STEP_IDS)[number];

/**
 * pass / fail; skipped = not applicable on this unit and the profile allows it (the reason says why: never a pass in
 * disguise); interrupted = stopped by Ctrl-C while running; not-run = never started (interrupted earlier).
 */
export type StepStatus = 'pass' | 'fail' | 'skipped' | 'interrupted' | 'not-run';

/** info = reported without a threshold; unavailable = could not be measured here (the note says why). */
export type MeasureStatus = 'pass' | 'fail' | 'info' | 'unavailable';

export interface Threshold {
  min?: number;
  max?: number;
  /** Exact expected value (health "PASSED", exit code 0 ...). */
  equals?: string | number | boolean;
  /** |value| must not exceed this (clock drift). */
  maxAbs?: number;
}

export interface Measure {
  id: string;
  label: string;
  unit?: string;
  value: number | string | boolean | null;
  threshold?: Threshold;
  status: MeasureStatus;
  note?: string;
}

/** A time series for a chart: seconds since the step started, value. */
export interface Series {
  id: string;
  label: string;
  unit: string;
  points: Array<[number, number]>;
  /** A threshold line on the chart. */
  threshold?: { value: number; kind: 'min' | 'max' };
}

export interface StepResult {
  id: StepId;
  title: string;
  required: boolean;
  status: StepStatus;
  startedAt: string | null;
  durationSeconds: number;
  timeLimitSeconds: number;
  /** What happened and, when it did not pass, what to do. */
  message: string;
  measures: Measure[];
  series: Series[];
  /** How the HTML report draws the step: a line chart of the series, bars of measured vs threshold, or nothing. */
  chart: 'line' | 'bars' | null;
  /** The command lines run, for the record. */
  commands: string[];
  /** The last lines of the tool's output when it failed. */
  logTail?: string;
  /** Stable error code when the step failed for a reason other than a threshold (E_HW_TOOL_MISSING ...). */
  errorCode?: string;
}

export type Verdict = 'pass' | 'fail' | 'interrupted';

export interface BurninReport {
  schema: 'plugsrv.burnin/1';
  id: string;
  level: Level;
  /** Durations and sizes were multiplied by this (1 = the level as defined). */
  scale: number;
  profile: { id: string; name: string; file: string; verified: boolean };
  unit: { vendor: string | null; product: string | null; serial: string | null; hostname: string; cpu: string | null; memoryBytes: number | null };
  /** Whether the unit's DMI identity is one of the profile's models (the burn-in runs either way). */
  unitMatchesProfile: boolean;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  verdict: Verdict;
  interrupted: boolean;
  counts: Record<StepStatus, number>;
  steps: StepResult[];
  options: { scratchDir: string; iperfServer: string | null; root: string; only: StepId[] | null };
}

export type BurninEvent =
  | { event: 'burnin-start'; level: Level; profile: string; steps: Array<{ id: StepId; title: string; expectedSeconds: number }>; expectedSeconds: number }
  | { event: 'step-start'; id: StepId; title: string; index: number; count: number; expectedSeconds: number; timeLimitSeconds: number }
  | { event: 'step-progress'; id: StepId; fraction: number; note?: string }
  | { event: 'step-done'; id: StepId; status: StepStatus; durationSeconds: number; message: string }
  | { event: 'burnin-done'; verdict: Verdict; durationSeconds: number };
