// Per-address token buckets for enrollment: a burst, then a steady rate; the clock is injected so tests need not wait.

export interface RateLimitOptions {
  /** Attempts allowed at once. */
  burst: number;
  /** Attempts regained per minute. */
  perMinute: number;
  /** Milliseconds, monotonic or wall: only differences are used. */
  clock?: () => number;
  /** Buckets kept before full ones are forgotten (a full bucket is the same as no bucket). */
  maxKeys?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: () => number;
  private readonly perMs: number;
  private readonly maxKeys: number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.burst >= 1) || !(opts.perMinute > 0)) throw new RangeError('a rate limit needs burst >= 1 and perMinute > 0');
    this.clock = opts.clock ?? (() => performance.now());
    this.perMs = opts.perMinute / 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Takes one attempt for `key`, or says how long until one is available. */
  take(key: string): RateDecision {
    const now = this.clock();
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      this.prune(now);
      return { ok: true };
    }
    this.buckets.set(key, bucket);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }

  /** Buckets tracked (for tests and stats). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.opts.burst, at: now };
    return { tokens: Math.min(this.opts.burst, b.tokens + Math.max(0, now - b.at) * this.perMs), at: now };
  }

  private prune(now: number): void {
    if (this.buckets.size <= this.maxKeys) return;
    for (const [key, b] of this.buckets) {
      if (b.tokens + Math.max(0, now - b.at) * this.perMs >= this.opts.burst) this.buckets.delete(key);
    }
  }
}
