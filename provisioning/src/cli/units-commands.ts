// `plugsrv-line units list|show|export|ship`.
import type { Command } from 'commander';
import { writeFileDurable } from '../../../lib/fs-durable.js';
import { renderTable } from '../../../lib/cli/table.js';
import { UNIT_STATUSES, type UnitStatus } from '../db/index.js';
import { ErrorCode, LineError } from '../errors.js';
import { getOrder } from '../orders/index.js';
import { getUnit, listUnits, pendingSteps, shipUnit, unitsCsv, type Unit } from '../units/index.js';
import { printJson, withContext } from './context.js';

function status(value: string | undefined): UnitStatus | undefined {
  if (value === undefined) return undefined;
  if (!(UNIT_STATUSES as readonly string[]).includes(value)) throw new LineError(ErrorCode.USAGE, `--status must be one of ${UNIT_STATUSES.join(', ')}, not ${JSON.stringify(value)}.`);
  return value as UnitStatus;
}

function showUnit(u: Unit): string {
  const rows: [string, string][] = [
    ['unit', u.id],
    ['serial', u.serial],
    ['status', u.status + (u.failReason ? ` (${u.failReason})` : '')],
    ['order', u.orderId],
    ['MACs', u.macs.join(' ') || '-'],
    ['disk serial', u.diskSerial ?? '-'],
    ['TPM EK sha256', u.tpmEkSha256 ?? '-'],
    ['image', u.imageVersion ? `${u.imageVersion} sha256 ${u.imageSha256 ?? '?'}` : '-'],
    ['token id', u.tokenId ?? '-'],
    ['burn-in', u.burnin ?? '-'],
    ['operator', u.operator],
    ['replaces', u.replacesUnitId ?? '-'],
    ['replaced by', u.replacedByUnitId ?? '-'],
    ['created', u.createdAt],
    ['shipped', u.shippedAt ?? '-'],
    ['steps to do', pendingSteps(u.steps).join(', ') || 'none'],
  ];
  const steps = renderTable(
    ['STEP', 'STATE', 'TRIES', 'AT', 'BY'],
    u.steps.map((s) => [s.step, s.state, String(s.attempts), s.at, s.operator]),
  );
  return `${rows.map(([k, v]) => `${k.padEnd(15)}${v}`).join('\n')}\n\n${steps}\n`;
}

export function registerUnitsCommands(program: Command): void {
  const units = program.command('units').description('unit records: list, show, export, ship');
  units
    .command('list')
    .option('--order <order>', 'only this order (id or reference)')
    .option('--status <status>', `only this status (${UNIT_STATUSES.join(', ')})`)
    .option('--json', 'machine-readable output')
    .action(async (opts: { order?: string; status?: string; json?: boolean }, cmd: Command) => {
      const list = await withContext(cmd, async (ctx) => listUnits(ctx.db, { orderId: opts.order ? (await getOrder(ctx.db, opts.order)).id : undefined, status: status(opts.status) }));
      if (opts.json) return printJson(list);
      process.stdout.write(
        `${renderTable(
          ['UNIT', 'SERIAL', 'ORDER', 'STATUS', 'BURN-IN', 'IMAGE', 'UPDATED'],
          list.map((u) => [u.id, u.serial, u.orderId, u.status, u.burnin ?? '-', u.imageVersion ?? '-', u.updatedAt]),
        )}\n`,
      );
    });
  units
    .command('show')
    .argument('<unit>', 'unit id (unit_...) or serial')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const u = await withContext(cmd, (ctx) => getUnit(ctx.db, id));
      if (opts.json) return printJson(u);
      process.stdout.write(showUnit(u));
    });
  units
    .command('export')
    .requiredOption('--csv <file>', 'write the records as CSV here ("-" = standard output)')
    .option('--order <order>', 'only this order')
    .description('every unit record as CSV (for the ERP)')
    .action(async (opts: { csv: string; order?: string }, cmd: Command) => {
      const list = await withContext(cmd, async (ctx) => listUnits(ctx.db, { orderId: opts.order ? (await getOrder(ctx.db, opts.order)).id : undefined }));
      const csv = unitsCsv(list);
      if (opts.csv === '-') process.stdout.write(csv);
      else {
        await writeFileDurable(opts.csv, csv, 0o644);
        process.stderr.write(`${list.length} unit(s) written to ${opts.csv}\n`);
      }
    });
  units
    .command('ship')
    .argument('<unit>', 'unit id or serial')
    .description('marks a ready unit shipped; a failed or unfinished unit is refused with what is missing')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const u = await withContext(cmd, (ctx) => shipUnit(ctx.db, id, ctx.operator, ctx.now()));
      process.stdout.write(`unit ${u.id} (serial ${u.serial}) shipped.\n`);
    });
}
