// Runs the sync in a serving agent: inside the night window every N minutes (stopping at its end), urgent campaigns by day.
import type { Agent } from '../app.js';
import type { AgentError } from '../errors.js';
import type { SyncOutcome } from './engine.js';
import { bandwidthFor, isInWindow, parseWindow, systemTimeZone, windowEndAfter } from './policy/index.js';
import { syncConfigured, syncOnce } from './service.js';

export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private current: { controller: AbortController; done: Promise<unknown>; outcome: Promise<SyncOutcome> } | undefined;
  private stopped = false;

  constructor(
    private readonly agent: Agent,
    private readonly clock: () => number = Date.now,
    /** `paused`: no scheduled run starts while it says true (the device lock). */
    private readonly options: { paused?: () => boolean } = {},
  ) {}

  start(): void {
    if (!syncConfigured(this.agent)) {
      this.agent.log.info('sync: not set up (sync.originUrl is empty); serving what is in the store');
      return;
    }
    const every = this.agent.config.sync.intervalMinutes * 60_000;
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    this.tick();
  }

  /** Starts a run if the hour allows one and none is in flight. */
  tick(): void {
    if (this.stopped || this.current || this.options.paused?.()) return;
    const s = this.agent.config.sync;
    const now = new Date(this.clock());
    const window = parseWindow(s.window);
    const tz = s.timeZone || systemTimeZone();
    const inWindow = isInWindow(now, window, tz);
    const rate = bandwidthFor(now, s, inWindow, !inWindow);
    // Outside the window only urgent campaigns may download, and only when a day rate is set.
    if (!inWindow && rate === 0) return;
    const controller = new AbortController();
    const end = inWindow ? windowEndAfter(now, window, tz).getTime() - now.getTime() : undefined;
    const stopAtEnd = end !== undefined ? setTimeout(() => controller.abort(new Error('night window ended')), end) : undefined;
    stopAtEnd?.unref();
    const outcome = syncOnce(this.agent, { trigger: 'schedule', rateBytesPerSec: rate, urgentOnly: !inWindow, signal: controller.signal });
    const done = outcome
      .then((o) => this.agent.log.info('sync: run ended', { result: o.result, bytesFetched: o.bytesFetched, ready: o.ready, failed: o.failed }))
      .catch((err: AgentError) => this.agent.log.warn('sync: run not started', { code: err.code, error: err.message }))
      .finally(() => {
        if (stopAtEnd) clearTimeout(stopAtEnd);
        this.current = undefined;
      });
    this.current = { controller, done, outcome };
  }

  /**
   * A run now whatever the window, at the night rate (the fleet's sync-now); joins the run in flight if there is one.
   * Resolves with the run's outcome; rejects when sync is not set up or another process holds the sync.
   */
  runNow(): Promise<SyncOutcome> {
    if (this.current) return this.current.outcome;
    const controller = new AbortController();
    const outcome = syncOnce(this.agent, { trigger: 'command', rateBytesPerSec: this.agent.config.sync.nightRateBytesPerSec, signal: controller.signal });
    const done = outcome
      .then((o) => this.agent.log.info('sync: run ended', { result: o.result, bytesFetched: o.bytesFetched, ready: o.ready, failed: o.failed }))
      .catch((err: AgentError) => this.agent.log.warn('sync: run not started', { code: err.code, error: err.message }))
      .finally(() => (this.current = undefined));
    this.current = { controller, done, outcome };
    return outcome;
  }

  /** Stops the run in flight, if any (the device was locked); its durable bytes are kept for the next run. */
  interrupt(reason: string): void {
    this.current?.controller.abort(new Error(reason));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.current) {
      this.current.controller.abort(new Error('service stopping'));
      await this.current.done;
    }
  }
}
