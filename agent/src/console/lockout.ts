// Wrong-password lockout: after 5 failures in a row, 60 s during which no password is even checked. Pure; persisted by system/.

export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 60_000;
/** Pause before saying a password is wrong, so guessing by hand is slow even before the lockout. */
export const FAILURE_DELAY_MS = 1500;

export interface LockoutState {
  /** Wrong passwords since the last success or lockout. */
  readonly failures: number;
  /** Epoch ms until which the console refuses passwords; 0 = not locked. */
  readonly lockedUntil: number;
}

export const UNLOCKED: LockoutState = { failures: 0, lockedUntil: 0 };

/**
 * Milliseconds of lockout left. Never more than LOCKOUT_MS, so a clock set back (first boot, before NTP) cannot
 * stretch a lockout into hours.
 */
export function lockRemainingMs(state: LockoutState, now: number): number {
  return Math.min(LOCKOUT_MS, Math.max(0, state.lockedUntil - now));
}

/** A lockout end further than LOCKOUT_MS away means the clock went back: bring it to LOCKOUT_MS from now. */
export function normaliseLockout(state: LockoutState, now: number): LockoutState {
  return state.lockedUntil - now > LOCKOUT_MS ? { ...state, lockedUntil: now + LOCKOUT_MS } : state;
}

export function isLocked(state: LockoutState, now: number): boolean {
  return lockRemainingMs(state, now) > 0;
}

/** One more wrong password: the fifth starts the lockout and the count starts again after it. */
export function afterFailure(state: LockoutState, now: number): LockoutState {
  const failures = (isLocked(state, now) ? 0 : state.failures) + 1;
  return failures >= MAX_FAILURES ? { failures: 0, lockedUntil: now + LOCKOUT_MS } : { failures, lockedUntil: 0 };
}

export function afterSuccess(): LockoutState {
  return UNLOCKED;
}

export function triesLeft(state: LockoutState): number {
  return MAX_FAILURES - state.failures;
}

/** Reads the persisted state; anything unreadable counts as a fresh state rather than a permanent lock. */
export function parseLockout(text: string): LockoutState {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null) return UNLOCKED;
    const { failures, lockedUntil } = v as Record<string, unknown>;
    return {
      failures: typeof failures === 'number' && Number.isInteger(failures) && failures >= 0 && failures < MAX_FAILURES ? failures : 0,
      lockedUntil: typeof lockedUntil === 'number' && Number.isFinite(lockedUntil) && lockedUntil >= 0 ? lockedUntil : 0,
    };
  } catch {
    return UNLOCKED;
  }
}

export function formatLockout(state: LockoutState): string {
  return `${JSON.stringify({ failures: state.failures, lockedUntil: state.lockedUntil })}\n`;
}
