// `plugsrv selfcheck`: the site checks on demand, as a table or JSON, with an exit code for scripts.
import { Command, Option } from 'commander';
import { openAgent } from '../app.js';
import { exitCodeOfReport, formatReport, parseOnly, planFromConfig, recordRun, runSelfcheck, type Lang } from '../selfcheck/index.js';
import { configFrom, makeLogger, selfcheckEnv } from './context.js';

/** plugsrv selfcheck. */
export function registerSelfcheckCommand(program: Command): void {
  program
      .command('selfcheck')
    .description('check the network flows, TLS interception, time, LAN and disk; exit 0 ok, 1 warnings, 2 failures')
    .option('--json', 'the full report as JSON')
    .option('--only <checks>', 'comma-separated: dns,tcp,tls,proxy,ntp,clock,lan,disk')
    .addOption(new Option('--lang <lang>', 'language of the report').choices(['fr', 'en']).default('en'))
    .action(async (opts: { json?: boolean; only?: string; lang: Lang }, cmd: Command) => {
      const config = configFrom(cmd);
      const only = parseOnly(opts.only);
      const plan = planFromConfig(config, only);
      const agent = await openAgent(config, makeLogger(config));
      try {
        const report = await runSelfcheck(plan, await selfcheckEnv(agent.dataDir));
        await recordRun(agent.state.db, report, 'cli', config.selfcheck.historySize);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, opts.lang, process.stdout.isTTY === true));
        process.exitCode = exitCodeOfReport(report);
      } finally {
        agent.close();
      }
    });
}
