// Runs the state machine: feeds it keys, ticks and service results, paints each frame, carries out its effects
// through injected services. No terminal and no system call here, so a test drives the whole console with fakes.
import type { SelfcheckReport } from '../selfcheck/index.js';
import type { Frame } from './frame.js';
import { update, type ConsoleEvent, type ConsoleState, type Effect } from './state.js';
import type { ApplyOutcome, ApplyStep, EnrollmentStatus, NetworkSettings, NetworkStatus, PasswordCheck, RevertOutcome, RevertWhy } from './types.js';
import { renderFrame } from './view.js';

/** A network change that works and waits for "keep?". */
export interface PendingChange {
  keep(): Promise<void>;
  revert(why: RevertWhy): Promise<RevertOutcome>;
}

export type ApplyStart = { readonly ok: true; readonly gateway: string; readonly pending: PendingChange } | Extract<ApplyOutcome, { ok: false }>;

export interface ApplyProgress {
  readonly step: ApplyStep;
  /** When the link and gateway check gives up (epoch ms). */
  readonly deadline?: number;
  readonly gateway?: string;
}

/** Everything the console asks of the system; the CLI wires the real ones, tests pass fakes. */
export interface ConsoleServices {
  verifyPassword(password: string): Promise<PasswordCheck>;
  changePassword(current: string, next: string): Promise<PasswordCheck>;
  networkStatus(): Promise<NetworkStatus>;
  applyNetwork(settings: NetworkSettings, onProgress: (p: ApplyProgress) => void): Promise<ApplyStart>;
  runSelfcheck(): Promise<SelfcheckReport>;
  enrollment(): Promise<EnrollmentStatus>;
}

export interface ConsoleLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface RuntimeOptions {
  services: ConsoleServices;
  initial: ConsoleState;
  paint(frame: Frame): void;
  now(): number;
  /** Called once the console asked to quit (Ctrl-C), after any pending network change was reverted. */
  onExit(): void;
  log?: ConsoleLog;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class ConsoleRuntime {
  #state: ConsoleState;
  #pending: PendingChange | undefined;
  /** The apply in flight, if any: shutting down waits for it, so it can revert what it did. */
  #applying: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<void>>();
  readonly #options: RuntimeOptions;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#state = options.initial;
  }

  get state(): ConsoleState {
    return this.#state;
  }

  /** Paints the current state (at start, and after a terminal resize). */
  paint(): void {
    this.#options.paint(renderFrame(this.#state));
  }

  dispatch(event: ConsoleEvent): void {
    const step = update(this.#state, event, this.#options.now());
    const changed = step.state !== this.#state;
    this.#state = step.state;
    if (changed) this.paint();
    for (const effect of step.effects) this.#start(effect);
  }

  /** Resolves once no effect is running (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Waits for an apply in flight, then reverts a change still waiting for "keep?": a console that stops must not leave
   * an unconfirmed set-up behind.
   */
  async shutdown(): Promise<void> {
    if (this.#applying) await this.#applying.catch(() => undefined);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) {
      const outcome = await pending.revert('declined').catch((err: unknown) => ({ restored: false, restoreError: message(err) }));
      this.#options.log?.warn('console: unconfirmed network change reverted at exit', { ...outcome });
    }
  }

  #start(effect: Effect): void {
    const run = this.#execute(effect).catch((err: unknown) => this.#options.log?.warn('console: effect failed', { effect: effect.type, error: message(err) }));
    const tracked = run.finally(() => {
      this.#inflight.delete(tracked);
      if (this.#applying === tracked) this.#applying = undefined;
    });
    this.#inflight.add(tracked);
    if (effect.type === 'apply-network') this.#applying = tracked;
  }

  async #execute(effect: Effect): Promise<void> {
    const { services, log } = this.#options;
    switch (effect.type) {
      case 'verify-password': {
        const result = await services.verifyPassword(effect.password).catch((err: unknown): PasswordCheck => ({ ok: false, error: message(err) }));
        if (result.ok) log?.info('console: signed in');
        else log?.warn('console: sign-in refused', { triesLeft: result.triesLeft, lockedUntil: result.lockedUntil, error: result.error });
        this.dispatch({ type: 'login-checked', result });
        return;
      }
      case 'change-password': {
        const result = await services.changePassword(effect.current, effect.next).catch((err: unknown): PasswordCheck => ({ ok: false, error: message(err) }));
        if (result.ok) log?.info('console: password changed');
        else log?.warn('console: password not changed', { triesLeft: result.triesLeft, lockedUntil: result.lockedUntil, error: result.error });
        this.dispatch({ type: 'password-changed', result });
        return;
      }
      case 'load-network':
        try {
          this.dispatch({ type: 'network-loaded', status: await services.networkStatus() });
        } catch (err) {
          this.dispatch({ type: 'network-load-failed', detail: message(err) });
        }
        return;
      case 'apply-network': {
        let start: ApplyStart;
        try {
          start = await services.applyNetwork(effect.settings, (p) => this.dispatch({ type: 'apply-progress', ...p }));
        } catch (err) {
          start = { ok: false, reason: { code: 'applyFailed', detail: message(err) }, changed: true, restored: false, restoreError: message(err) };
        }
        if (start.ok) {
          this.#pending = start.pending;
          log?.info('console: network change works, waiting for confirmation', { settings: effect.settings, gateway: start.gateway });
          this.dispatch({ type: 'apply-done', outcome: { ok: true, gateway: start.gateway } });
        } else {
          log?.warn('console: network change not applied', { settings: effect.settings, reason: start.reason, restored: start.restored, restoreError: start.restoreError });
          this.dispatch({ type: 'apply-done', outcome: start });
        }
        return;
      }
      case 'keep-network': {
        const pending = this.#pending;
        this.#pending = undefined;
        await pending?.keep();
        log?.info('console: network change kept');
        this.dispatch({ type: 'kept' });
        return;
      }
      case 'revert-network': {
        const pending = this.#pending;
        this.#pending = undefined;
        const outcome: RevertOutcome = pending
          ? await pending.revert(effect.why).catch((err: unknown) => ({ restored: false, restoreError: message(err) }))
          : { restored: false, restoreError: 'no change in progress' };
        log?.warn('console: network change reverted', { why: effect.why, ...outcome });
        this.dispatch({ type: 'reverted', why: effect.why, outcome });
        return;
      }
      case 'run-selfcheck':
        try {
          this.dispatch({ type: 'selfcheck-done', report: await services.runSelfcheck() });
        } catch (err) {
          this.dispatch({ type: 'selfcheck-failed', detail: message(err) });
        }
        return;
      case 'load-enrollment': {
        const status = await services.enrollment().catch((err: unknown): EnrollmentStatus => ({ state: 'unreadable', detail: message(err) }));
        this.dispatch({ type: 'enrollment-loaded', status });
        return;
      }
      case 'exit':
        await this.shutdown();
        this.#options.onExit();
        return;
    }
  }
}
