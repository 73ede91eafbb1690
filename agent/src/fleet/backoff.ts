// Reconnection delays: exponential backoff with full jitter (pure; the random source is injected).

export interface BackoffOptions {
  /** Ceiling of the first attempt. */
  readonly baseMs: number;
  /** No delay exceeds this. */
  readonly capMs: number;
  /** A floor, so a fleet that is down is not hammered when the jitter draws ~0. */
  readonly minMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 5 * 60_000, minMs: 250 };

/** The ceiling of attempt `attempt` (0-based): base * 2^attempt, capped. */
export function backoffCeiling(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt), 40));
}

/** "Full jitter": uniform in [minMs, ceiling], so many boxes that lost the fleet at once do not come back in step. */
export function backoffDelay(attempt: number, random: () => number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = backoffCeiling(attempt, opts);
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(Math.min(opts.minMs, ceiling), Math.floor(r * ceiling));
}

/** The attempt counter of a reconnecting client: grows on each failure, resets once a connection stayed up long enough. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly random: () => number,
    private readonly opts: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.attempt++, this.random, this.opts);
  }

  /** At least `attempt` failures counted (a fleet that says "back off" skips the short delays). */
  atLeast(attempt: number): void {
    this.attempt = Math.max(this.attempt, attempt);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
