// Runs the self-check at start-up and every N hours in a running agent, one run at a time, recording each in the DB.
import type { Logger } from '../../../lib/log/index.js';
import type { AgentDb } from '../db/index.js';
import { recordRun, type SelfcheckTrigger } from './history.js';
import { runSelfcheck, type SelfcheckEnv, type SelfcheckPlan, type SelfcheckReport } from './run.js';

export class SelfcheckScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SelfcheckReport> | undefined;

  constructor(
    private readonly deps: { db: AgentDb; log: Logger; plan: () => SelfcheckPlan; env: () => Promise<SelfcheckEnv>; historySize: number },
  ) {}

  /** Starts a run unless one is in flight (then returns that one). */
  runNow(trigger: SelfcheckTrigger): Promise<SelfcheckReport> {
    if (this.running) return this.running;
    const run = (async () => {
      const report = await runSelfcheck(this.deps.plan(), await this.deps.env());
      await recordRun(this.deps.db, report, trigger, this.deps.historySize);
      const level = report.status === 'ok' ? 'info' : 'warn';
      this.deps.log[level]('selfcheck finished', { trigger, status: report.status, ...report.counts, failing: report.results.filter((r) => r.status !== 'ok').map((r) => r.id) });
      return report;
    })();
    this.running = run.finally(() => (this.running = undefined));
    return this.running;
  }

  start(options: { atStartup: boolean; intervalHours: number }): void {
    const fire = (trigger: SelfcheckTrigger): void => {
      this.runNow(trigger).catch((err: unknown) => this.deps.log.error('selfcheck failed to run', { error: err }));
    };
    if (options.atStartup) fire('startup');
    if (options.intervalHours > 0) {
      this.timer = setInterval(() => fire('schedule'), options.intervalHours * 3600_000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
