// Progress of one phase on one target, with speed and ETA, sent to a ProgressSink at most every `intervalMs` (and always at 0 and at the end).
import type { ProgressEvent, ProgressSink } from '../progress.js';

/** A ProgressEvent with the speed since the phase began and the time left at that speed. */
export interface FlashProgressEvent extends ProgressEvent {
  /** Bytes a second since the phase began (0 until the first bytes). */
  readonly bytesPerSecond: number;
  /** Seconds left at that speed; undefined until there is a speed. */
  readonly etaSeconds: number | undefined;
}

export function isFlashProgressEvent(e: ProgressEvent): e is FlashProgressEvent {
  return 'bytesPerSecond' in e;
}

export class ProgressMeter {
  private readonly started: number;
  private lastSent = -Infinity;
  private done = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly phase: string,
    private readonly totalBytes: number,
    private readonly target?: string,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 200,
  ) {
    this.started = now();
    this.send(this.started);
  }

  /** Counts `bytes` more done; reports when the interval has passed or the phase is complete. */
  add(bytes: number): void {
    this.done += bytes;
    const t = this.now();
    if (this.done >= this.totalBytes || t - this.lastSent >= this.intervalMs) this.send(t);
  }

  get doneBytes(): number {
    return this.done;
  }

  private send(t: number): void {
    this.lastSent = t;
    const seconds = (t - this.started) / 1000;
    const bytesPerSecond = seconds > 0 && this.done > 0 ? this.done / seconds : 0;
    const event: FlashProgressEvent = {
      phase: this.phase,
      ...(this.target === undefined ? {} : { target: this.target }),
      doneBytes: this.done,
      totalBytes: this.totalBytes,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? Math.max(0, this.totalBytes - this.done) / bytesPerSecond : undefined,
    };
    this.sink(event);
  }
}
