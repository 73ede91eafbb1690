// `plugsrv-line orders import|list|show`.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { renderTable } from '../../../lib/cli/table.js';
import { ErrorCode, LineError } from '../errors.js';
import { getOrder, importOrders, listOrders, parseOrdersCsv, type OrderWithProgress } from '../orders/index.js';
import { listUnits } from '../units/index.js';
import { printJson, withContext } from './context.js';

function network(o: OrderWithProgress): string {
  return o.network.mode === 'dhcp' ? 'dhcp' : `${o.network.address}/${o.network.prefix} gw ${o.network.gateway}`;
}

export function registerOrdersCommands(program: Command): void {
  const orders = program.command('orders').description('dealer orders: import the CSV, list, show');
  orders
    .command('import')
    .argument('<file>', 'orders CSV: order_ref,dealer_code,site,quantity,contact_email,delivery_address[,lang,network,address,gateway,dns]')
    .option('--json', 'machine-readable output')
    .description('validate and import an orders CSV; a file with any bad row is refused whole, every problem named with its line')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new LineError(ErrorCode.USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { cause: err });
      }
      const rows = parseOrdersCsv(text, basename(file));
      const outcome = await withContext(cmd, (ctx) => importOrders(ctx.db, rows, basename(file), ctx.now()));
      if (opts.json) return printJson(outcome);
      for (const o of outcome.imported) process.stdout.write(`imported ${o.id}  ${o.ref}  dealer ${o.dealerCode}  ${o.site}  x${o.quantity}\n`);
      if (outcome.unchanged.length > 0) process.stdout.write(`already imported, unchanged: ${outcome.unchanged.join(', ')}\n`);
      process.stdout.write(`${outcome.imported.length} order(s) imported, ${outcome.unchanged.length} unchanged.\n`);
    });
  orders
    .command('list')
    .option('--open', 'only orders with units still to make or ship')
    .option('--json', 'machine-readable output')
    .description('orders with their progress')
    .action(async (opts: { open?: boolean; json?: boolean }, cmd: Command) => {
      const list = await withContext(cmd, (ctx) => listOrders(ctx.db, { open: opts.open }));
      if (opts.json) return printJson(list);
      process.stdout.write(
        `${renderTable(
          ['ORDER', 'REF', 'DEALER', 'SITE', 'QTY', 'MADE', 'READY', 'SHIPPED', 'FAILED', 'NETWORK'],
          list.map((o) => [o.id, o.ref, o.dealerCode, o.site, String(o.quantity), String(o.unitsActive), String(o.unitsReady), String(o.unitsShipped), String(o.unitsFailed), network(o)]),
        )}\n`,
      );
    });
  orders
    .command('show')
    .argument('<order>', 'order id (ord_...) or reference')
    .option('--json', 'machine-readable output')
    .description('one order with its units')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { order, units } = await withContext(cmd, async (ctx) => {
        const order = await getOrder(ctx.db, id);
        return { order, units: await listUnits(ctx.db, { orderId: order.id }) };
      });
      if (opts.json) return printJson({ ...order, units });
      const rows: [string, string][] = [
        ['order', order.id],
        ['reference', order.ref],
        ['dealer code', order.dealerCode],
        ['site', order.site],
        ['quantity', `${order.quantity} (made ${order.unitsActive}, ready ${order.unitsReady}, shipped ${order.unitsShipped}, failed ${order.unitsFailed})`],
        ['contact', order.contactEmail],
        ['delivery address', order.deliveryAddress],
        ['letter language', order.lang],
        ['network', network(order)],
        ['imported', `${order.importedAt} from ${order.sourceFile} line ${order.sourceLine}`],
      ];
      process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(18)}${v}`).join('\n')}\n`);
      if (units.length > 0) process.stdout.write(`\n${renderTable(['UNIT', 'SERIAL', 'STATUS', 'UPDATED'], units.map((u) => [u.id, u.serial, u.status, u.updatedAt]))}\n`);
    });
}
