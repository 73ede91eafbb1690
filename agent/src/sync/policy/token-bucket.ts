// Download bandwidth: a token bucket shared by every transfer, its stream adapter, and the rate the hour allows.
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

export interface TokenBucketOptions {
  /** Bytes per second; 0 or Infinity means unlimited. */
  rateBytesPerSec: number;
  /** Most bytes that pass at once after an idle spell; by default 64 KiB or 50 ms at the rate, whichever is larger. */
  burstBytes?: number;
  /** Monotonic milliseconds; performance.now by default. */
  clock?: () => number;
  /** Resolves after ms, rejects once the signal aborts; timers/promises by default. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Bytes still owed below this count as paid: float rounding must not cause a sleep of 1e-12 ms. */
const EPSILON_BYTES = 1e-6;
const MIN_DEFAULT_BURST = 64 * 1024;
const DEFAULT_BURST_MS = 50;

interface Waiter {
  /** The bucket's `reserved` once this waiter's bytes were added: it may go when `granted` reaches it. */
  mark: number;
  readonly bytes: number;
}

function checkRate(rate: number): void {
  if (!(rate >= 0)) throw new RangeError(`a rate must be 0 (unlimited), a positive number of bytes per second or Infinity, not ${rate}`);
}

function isUnlimited(rate: number): boolean {
  return rate === 0 || rate === Infinity;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(Math.max(1, Math.ceil(ms)), undefined, signal ? { signal } : undefined);
}

/**
 * First come, first served: each take() reserves its bytes at once, so later callers queue behind
 * it; a caller that aborts gives its reservation back. setRate() applies to those already waiting.
 */
export class TokenBucket {
  private rate: number;
  private burst: number;
  private readonly fixedBurst: number | undefined;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Bytes the bucket has let in since it was made (capped at reserved + burst), and bytes handed out. */
  private granted: number;
  private reserved = 0;
  private last: number;
  private readonly waiters: Waiter[] = [];
  /** Aborted by setRate() and refunds so sleepers recompute their wait. */
  private wake = new AbortController();

  constructor(opts: TokenBucketOptions) {
    checkRate(opts.rateBytesPerSec);
    if (opts.burstBytes !== undefined && !(opts.burstBytes >= 1 && Number.isFinite(opts.burstBytes))) {
      throw new RangeError(`burstBytes must be a finite number of bytes, at least 1, not ${opts.burstBytes}`);
    }
    this.rate = opts.rateBytesPerSec;
    this.fixedBurst = opts.burstBytes;
    this.burst = this.burstFor(this.rate);
    this.clock = opts.clock ?? (() => performance.now());
    this.sleep = opts.sleep ?? defaultSleep;
    this.last = this.clock();
    this.granted = this.burst;
  }

  /** Bytes per second now; Infinity when unlimited. */
  get rateBytesPerSec(): number {
    return isUnlimited(this.rate) ? Infinity : this.rate;
  }

  get burstBytes(): number {
    return this.burst;
  }

  /** Wait until `bytes` may pass. Chunks larger than the burst go through in burst-sized pieces. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!(bytes >= 0 && Number.isFinite(bytes))) throw new RangeError(`take() needs a finite number of bytes, not ${bytes}`);
    signal?.throwIfAborted();
    let left = bytes;
    while (left > 0) {
      if (isUnlimited(this.rate)) return;
      const piece = Math.min(left, this.burst);
      await this.takePiece(piece, signal);
      left -= piece;
    }
  }

  /**
   * Lets `bytes` pass now, without waiting, when the bucket allows it (unlimited, or enough tokens and nobody
   * queued); false means nothing was taken and the caller goes through take(). Spares a promise per chunk.
   */
  tryTake(bytes: number): boolean {
    if (isUnlimited(this.rate) || bytes === 0) return true;
    if (this.waiters.length > 0 || !(bytes >= 0 && bytes <= this.burst)) return false;
    this.refill();
    if (this.reserved + bytes - this.granted > EPSILON_BYTES) return false;
    this.reserved += bytes;
    return true;
  }

  /** Change the rate; callers already waiting follow the new rate (0 or Infinity releases them). */
  setRate(rate: number): void {
    checkRate(rate);
    const wasUnlimited = isUnlimited(this.rate);
    if (!wasUnlimited) this.refill();
    this.rate = rate;
    this.burst = this.burstFor(rate);
    if (wasUnlimited && !isUnlimited(rate)) {
      // Nothing was metered while unlimited: start again with a full bucket.
      this.last = this.clock();
      this.granted = this.reserved + this.burst;
    }
    this.wakeWaiters();
  }

  /** Make sleeping takers recompute their wait. */
  private wakeWaiters(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  private burstFor(rate: number): number {
    if (this.fixedBurst !== undefined) return this.fixedBurst;
    if (isUnlimited(rate)) return Infinity;
    return Math.max(MIN_DEFAULT_BURST, Math.ceil((rate * DEFAULT_BURST_MS) / 1000));
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.granted = Math.min(this.granted + (elapsed * this.rate) / 1000, this.reserved + this.burst);
  }

  private async takePiece(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    this.refill();
    this.reserved += bytes;
    const waiter: Waiter = { mark: this.reserved, bytes };
    this.waiters.push(waiter);
    let done = false;
    try {
      for (;;) {
        if (isUnlimited(this.rate)) break;
        this.refill();
        const owed = waiter.mark - this.granted;
        if (owed <= EPSILON_BYTES) break;
        const wake = this.wake.signal;
        try {
          await this.sleepUnless((owed * 1000) / this.rate, wake, signal);
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          if (!wake.aborted) throw err;
        }
      }
      done = true;
    } finally {
      this.release(waiter, !done);
    }
  }

  /** Sleep until ms pass, the bucket wakes its waiters or the caller aborts (AbortSignal.any would do, but leaks on some Node 20 releases). */
  private async sleepUnless(ms: number, wake: AbortSignal, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms, wake);
    const both = new AbortController();
    const stop = (): void => both.abort();
    wake.addEventListener('abort', stop, { once: true });
    signal.addEventListener('abort', stop, { once: true });
    try {
      if (wake.aborted || signal.aborted) stop();
      await this.sleep(ms, both.signal);
    } finally {
      wake.removeEventListener('abort', stop);
      signal.removeEventListener('abort', stop);
    }
  }

  /** Forget a waiter; one that gave up hands its bytes back to those queued behind it. */
  private release(waiter: Waiter, refund: boolean): void {
    const i = this.waiters.indexOf(waiter);
    if (i === -1) return;
    this.waiters.splice(i, 1);
    if (!refund || isUnlimited(this.rate)) return;
    this.reserved -= waiter.bytes;
    const later = this.waiters.slice(i);
    for (const w of later) w.mark -= waiter.bytes;
    if (later.length > 0) this.wakeWaiters();
  }
}

/** A pass-through stream that lets each chunk go once the bucket allows its bytes. */
export function throttle(bucket: TokenBucket, signal?: AbortSignal): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      bucket.take(chunk.length, signal).then(
        () => callback(null, chunk),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}

/** How much bandwidth a download may use, in bytes per second: 0 means "not now", Infinity means unlimited. */
export interface BandwidthPolicy {
  /** Inside the night window; 0 means unlimited. */
  nightRateBytesPerSec: number;
  /** Outside the window, for urgent campaigns only; 0 means no downloads by day. */
  dayRateBytesPerSec: number;
}

/**
 * The rate for a download now. Note the two meanings of 0: a night rate of 0 is unlimited (Infinity
 * here), a day rate of 0 forbids day downloads (0 here); check for 0 before TokenBucket.setRate().
 */
export function bandwidthFor(_now: Date, policy: BandwidthPolicy, inWindow: boolean, urgent: boolean): number {
  checkRate(policy.nightRateBytesPerSec);
  checkRate(policy.dayRateBytesPerSec);
  if (inWindow) return isUnlimited(policy.nightRateBytesPerSec) ? Infinity : policy.nightRateBytesPerSec;
  if (!urgent) return 0;
  return policy.dayRateBytesPerSec;
}
