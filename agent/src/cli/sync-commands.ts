// `plugsrv sync [now|status]`: run the sync by hand and see where it stands.
import type { Command } from 'commander';
import { openAgent } from '../app.js';
import { AgentError, exitCodeOf, type ErrorCode } from '../errors.js';
import { syncOnce, syncSummary } from '../sync/index.js';
import { configFrom, makeLogger } from './context.js';
import { formatSyncSummary, syncProgress } from './progress.js';

/** plugsrv sync now and sync status. */
export function registerSyncCommands(program: Command): void {
  const syncCmd = program.command('sync').description('mirror the signed catalog\'s targets for this site from the origin');
  syncCmd
    .command('now', { isDefault: true })
    .description('run a sync immediately, whatever the night window (bandwidth cap: sync.nightRateBytesPerSec)')
    .option('--json', 'progress and the outcome as JSON lines')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const agent = await openAgent(config, makeLogger(config), { recover: true });
      const controller = new AbortController();
      const onSignal = (): void => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const progress = syncProgress({ json: Boolean(opts.json), tty: process.stdout.isTTY === true });
        const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: config.sync.nightRateBytesPerSec, signal: controller.signal, onProgress: progress.event });
        progress.done(outcome);
        process.exitCode = outcome.result === 'ok' ? 0 : outcome.errorCode ? exitCodeOf(new AgentError(outcome.errorCode as ErrorCode, '')) : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        agent.close();
      }
    });
  syncCmd
    .command('status')
    .description('the last sync run, downloads in progress, failures and the next window')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const agent = await openAgent(config, makeLogger(config));
      try {
        const summary = await syncSummary(agent);
        if (opts.json) console.log(JSON.stringify(summary, null, 2));
        else if (!summary) console.log('sync is not set up (sync.originUrl is empty).');
        else console.log(formatSyncSummary(summary));
      } finally {
        agent.close();
      }
    });
}
