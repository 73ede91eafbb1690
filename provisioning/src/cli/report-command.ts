// `plugsrv-line report licences`: units active per dealer per month, from the fleet, as CSV (billed monthly).
import type { Command } from 'commander';
import { writeFileDurable } from '../../../lib/fs-durable.js';
import { ErrorCode, LineError } from '../errors.js';
import { withContext } from './context.js';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The previous calendar month (UTC), the usual billing period. */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function registerReportCommand(program: Command): void {
  const report = program.command('report').description('reports');
  report
    .command('licences')
    .alias('licenses')
    .option('--from <month>', 'first month, YYYY-MM (default: last month)')
    .option('--to <month>', 'last month, YYYY-MM (default: --from)')
    .option('--out <file>', 'write the CSV here (default: standard output)')
    .description('monthly licence report: units active per dealer per month, from the fleet, as CSV')
    .action(async (opts: { from?: string; to?: string; out?: string }, cmd: Command) => {
      const from = opts.from ?? previousMonth(new Date());
      const to = opts.to ?? from;
      for (const [k, v] of [['--from', from], ['--to', to]] as const) if (!MONTH.test(v)) throw new LineError(ErrorCode.USAGE, `${k} must be a month such as 2026-10 (YYYY-MM), not ${JSON.stringify(v)}.`);
      const csv = await withContext(cmd, (ctx) => ctx.fleet().activeUnitsCsv(from, to));
      if (!opts.out) process.stdout.write(csv);
      else {
        await writeFileDurable(opts.out, csv, 0o644);
        process.stderr.write(`licence report ${from}..${to} written to ${opts.out} (${csv.trim().split('\n').length - 1} row(s))\n`);
      }
    });
}
