// The console password on disk: the hash file written by the production line (and by a change of password), and the
// wrong-password lockout persisted in the data directory so that restarting the console does not reset it.
import { join } from 'node:path';
import {
  afterFailure,
  afterSuccess,
  checkNewPassword,
  DEFAULT_SCRYPT,
  FAILURE_DELAY_MS,
  formatLockout,
  hashPassword,
  isLocked,
  lockRemainingMs,
  messagesFor,
  normaliseLockout,
  parseLockout,
  parsePasswordHash,
  triesLeft,
  verifyPassword,
  type ConsoleLog,
  type LockoutState,
  type PasswordCheck,
  type PasswordHash,
  type ScryptParams,
} from '../console/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { readTextIfExists, writeFileDurable } from './files.js';

export interface PasswordGuardOptions {
  passwordFile: string;
  /** Where the lockout state lives; `lockoutFileIn(dataDir)` on the appliance. */
  lockoutFile: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  failureDelayMs?: number;
  /** Cost of the hash written by a change of password. */
  scrypt?: ScryptParams;
  log?: ConsoleLog;
}

export function lockoutFileIn(dataDir: string): string {
  return join(dataDir, 'console', 'lockout.json');
}

/** Reads and parses the password file; E_CONSOLE_NOT_PERSONALISED when it does not exist. */
export async function readPasswordHash(passwordFile: string): Promise<PasswordHash> {
  let text: string | undefined;
  try {
    text = await readTextIfExists(passwordFile);
  } catch (err) {
    throw new AgentError(ErrorCode.CONSOLE_PASSWORD_FILE, `cannot read the console password file ${passwordFile}: ${(err as Error).message}. The console runs as root on tty1; check the file's owner and mode (0600).`, { cause: err });
  }
  if (text === undefined) {
    throw new AgentError(
      ErrorCode.CONSOLE_NOT_PERSONALISED,
      `this unit was not personalised: ${passwordFile} (console.passwordFile) does not exist, so the console has no password to ask for. Personalise the unit on the production line; on a development machine, create one with \`plugsrv console hash-password > ${passwordFile}\`.`,
    );
  }
  return parsePasswordHash(text);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PasswordGuard {
  readonly #o: PasswordGuardOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Last known lockout state; the file is authoritative when readable. */
  #state: LockoutState;

  private constructor(options: PasswordGuardOptions, state: LockoutState) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#state = state;
  }

  /** Checks the password file is there and well formed before the console shows anything. */
  static async open(options: PasswordGuardOptions): Promise<PasswordGuard> {
    await readPasswordHash(options.passwordFile);
    const guard = new PasswordGuard(options, afterSuccess());
    guard.#state = await guard.#load();
    return guard;
  }

  /** Milliseconds of lockout left now (for the first screen after a restart). */
  lockedForMs(): number {
    return lockRemainingMs(this.#state, this.#now());
  }

  async verify(password: string): Promise<PasswordCheck> {
    const now = this.#now();
    const loaded = await this.#load();
    const state = normaliseLockout(loaded, now);
    // The clock went back: keep the shortened lockout, or it would be shortened anew, and never end, at each try.
    if (state !== loaded) await this.#save(state);
    if (isLocked(state, now)) return { ok: false, lockedUntil: now + lockRemainingMs(state, now) };
    const hash = await readPasswordHash(this.#o.passwordFile);
    if (await verifyPassword(password, hash)) {
      if (state.failures > 0 || state.lockedUntil > 0) await this.#save(afterSuccess());
      return { ok: true };
    }
    return this.#failed(state, now);
  }

  async change(current: string, next: string): Promise<PasswordCheck> {
    const rule = checkNewPassword(current, next, next);
    // The console checked these already; a caller that did not gets the English sentence.
    if (rule) return { ok: false, error: rule(messagesFor('en')) };
    const check = await this.verify(current);
    if (!check.ok) return check;
    const line = await hashPassword(next, this.#o.scrypt ?? DEFAULT_SCRYPT);
    try {
      await writeFileDurable(this.#o.passwordFile, `${line}\n`, 0o600);
    } catch (err) {
      return { ok: false, error: `cannot write ${this.#o.passwordFile}: ${(err as Error).message}` };
    }
    return { ok: true };
  }

  async #failed(state: LockoutState, now: number): Promise<PasswordCheck> {
    const next = afterFailure(state, now);
    // Recorded before the pause: stopping the console during it does not forget the attempt.
    await this.#save(next);
    await this.#sleep(this.#o.failureDelayMs ?? FAILURE_DELAY_MS);
    return next.lockedUntil > 0 ? { ok: false, lockedUntil: next.lockedUntil } : { ok: false, triesLeft: triesLeft(next) };
  }

  async #load(): Promise<LockoutState> {
    try {
      const text = await readTextIfExists(this.#o.lockoutFile);
      if (text !== undefined) this.#state = parseLockout(text);
    } catch (err) {
      this.#o.log?.warn('console: lockout state unreadable, using the last known one', { file: this.#o.lockoutFile, error: (err as Error).message });
    }
    return this.#state;
  }

  async #save(state: LockoutState): Promise<void> {
    this.#state = state;
    try {
      await writeFileDurable(this.#o.lockoutFile, formatLockout(state), 0o600);
    } catch (err) {
      this.#o.log?.warn('console: cannot persist the lockout state; it holds until the console stops', { file: this.#o.lockoutFile, error: (err as Error).message });
    }
  }
}
