// Orders in the line DB: an all-or-nothing import, listing with the units made so far, lookup by id or reference.
import { randomBytes } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { orders, units, type LineDb } from '../db/index.js';
import { ErrorCode, LineError } from '../errors.js';
import type { NetworkSettings, OrderRow } from './csv.js';

/** An imported order: the CSV row's fields, with its id and where it came from. */
export interface Order extends Omit<OrderRow, 'line' | 'rowHash'> {
  id: string;
  importedAt: string;
  sourceFile: string;
  sourceLine: number;
}

export interface OrderWithProgress extends Order {
  /** Units of the order that count against its quantity (not failed, not replaced-by-RMA). */
  unitsActive: number;
  unitsReady: number;
  unitsShipped: number;
  unitsFailed: number;
}

export interface ImportOutcome {
  imported: Order[];
  unchanged: string[];
}

function toOrder(r: typeof orders.$inferSelect): Order {
  return {
    id: r.id,
    ref: r.ref,
    dealerCode: r.dealerCode,
    site: r.site,
    quantity: r.quantity,
    contactEmail: r.contactEmail,
    deliveryAddress: r.deliveryAddress,
    lang: r.lang,
    network: JSON.parse(r.network) as NetworkSettings,
    importedAt: new Date(r.importedAt).toISOString(),
    sourceFile: r.sourceFile,
    sourceLine: r.sourceLine,
  };
}

/** Imports validated rows in one transaction: a row already imported unchanged is skipped; a changed one refuses the file. */
export async function importOrders(db: LineDb, rows: OrderRow[], sourceFile: string, now = Date.now()): Promise<ImportOutcome> {
  const existing = rows.length === 0 ? [] : await db.select().from(orders).where(inArray(orders.ref, rows.map((r) => r.ref)));
  const byRef = new Map(existing.map((r) => [r.ref, r]));
  const changed = rows.filter((r) => byRef.has(r.ref) && byRef.get(r.ref)?.rowHash !== r.rowHash);
  if (changed.length > 0) {
    throw new LineError(
      ErrorCode.ORDERS_CSV,
      `${sourceFile} changes orders already imported (${changed.map((r) => `line ${r.line}: ${r.ref}`).join(', ')}); nothing was imported. An imported order is not edited by a new file: give the changed order a new order_ref, or fix it with the integrator's order desk.`,
    );
  }
  const fresh = rows.filter((r) => !byRef.has(r.ref));
  const values = fresh.map((r) => ({
    id: `ord_${randomBytes(6).toString('hex')}`,
    ref: r.ref,
    dealerCode: r.dealerCode,
    site: r.site,
    quantity: r.quantity,
    contactEmail: r.contactEmail,
    deliveryAddress: r.deliveryAddress,
    lang: r.lang,
    network: JSON.stringify(r.network),
    rowHash: r.rowHash,
    sourceFile,
    sourceLine: r.line,
    importedAt: now,
  }));
  if (values.length > 0) await db.insert(orders).values(values);
  return { imported: values.map(toOrder), unchanged: rows.filter((r) => byRef.has(r.ref)).map((r) => r.ref) };
}

/** By id (ord_...) or by the order's reference. */
export async function getOrder(db: LineDb, idOrRef: string): Promise<OrderWithProgress> {
  const rows = await db
    .select()
    .from(orders)
    .where(idOrRef.startsWith('ord_') ? eq(orders.id, idOrRef) : eq(orders.ref, idOrRef));
  const row = rows[0];
  if (!row) throw new LineError(ErrorCode.NOT_FOUND, `no order ${idOrRef}: see "plugsrv-line orders list", or import the order's CSV first.`);
  const [withProgress] = await attachProgress(db, [toOrder(row)]);
  return withProgress as OrderWithProgress;
}

export async function listOrders(db: LineDb, opts: { open?: boolean } = {}): Promise<OrderWithProgress[]> {
  const rows = (await db.select().from(orders).orderBy(orders.importedAt, orders.sourceLine)).map(toOrder);
  const all = await attachProgress(db, rows);
  return opts.open ? all.filter((o) => o.unitsActive < o.quantity || o.unitsReady > 0) : all;
}

async function attachProgress(db: LineDb, list: Order[]): Promise<OrderWithProgress[]> {
  if (list.length === 0) return [];
  const counts = await db
    .select({ orderId: units.orderId, status: units.status, n: sql<number>`count(*)` })
    .from(units)
    .where(inArray(units.orderId, list.map((o) => o.id)))
    .groupBy(units.orderId, units.status);
  return list.map((o) => {
    const c = (s: string): number => counts.filter((x) => x.orderId === o.id && x.status === s).reduce((a, x) => a + Number(x.n), 0);
    return { ...o, unitsActive: c('in-progress') + c('ready') + c('shipped'), unitsReady: c('ready'), unitsShipped: c('shipped'), unitsFailed: c('failed') };
  });
}
