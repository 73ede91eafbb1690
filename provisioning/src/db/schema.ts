// The production line's own SQLite DB (drizzle + libsql): orders, units, each unit's steps, verified images.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** A dealer order: up to 5 units for one dealer site. `ref` is the order's reference in the CSV (import is idempotent on it). */
export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    ref: text('ref').notNull(),
    dealerCode: text('dealer_code').notNull(),
    site: text('site').notNull(),
    quantity: integer('quantity').notNull(),
    contactEmail: text('contact_email').notNull(),
    deliveryAddress: text('delivery_address').notNull(),
    lang: text('lang', { enum: ['fr', 'en'] }).notNull(),
    /** JSON of the unit's network: {"mode":"dhcp"} or {"mode":"static","address":..,"prefix":..,"gateway":..,"dns":[..]}. */
    network: text('network').notNull(),
    /** sha256 of the CSV row's fields: a re-import of the same row is a no-op, a changed row is refused. */
    rowHash: text('row_hash').notNull(),
    sourceFile: text('source_file').notNull(),
    sourceLine: integer('source_line').notNull(),
    importedAt: integer('imported_at').notNull(),
  },
  (t) => [uniqueIndex('orders_ref').on(t.ref)],
);

export const UNIT_STATUSES = ['in-progress', 'failed', 'ready', 'shipped', 'replaced'] as const;
export type UnitStatus = (typeof UNIT_STATUSES)[number];

/** One produced (or being produced) appliance. */
export const units = sqliteTable(
  'units',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    serial: text('serial').notNull(),
    /** JSON array of MAC addresses. */
    macs: text('macs').notNull().default('[]'),
    diskSerial: text('disk_serial'),
    tpmEkSha256: text('tpm_ek_sha256'),
    /** JSON hardware inventory when detected on the unit. */
    inventory: text('inventory'),
    imageVersion: text('image_version'),
    imageSha256: text('image_sha256'),
    target: text('target'),
    tokenId: text('token_id'),
    /** The fleet device id, once known (replacement, licence report). */
    deviceId: text('device_id'),
    burnin: text('burnin', { enum: ['passed', 'failed', 'skipped'] }),
    burninDetail: text('burnin_detail'),
    status: text('status', { enum: UNIT_STATUSES }).notNull(),
    failReason: text('fail_reason'),
    operator: text('operator').notNull(),
    replacesUnitId: text('replaces_unit_id'),
    replacedByUnitId: text('replaced_by_unit_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    shippedAt: integer('shipped_at'),
  },
  (t) => [uniqueIndex('units_serial').on(t.serial), index('units_order').on(t.orderId)],
);

export const STEPS = ['register', 'flash', 'personalise', 'burnin', 'label', 'letter'] as const;
export type Step = (typeof STEPS)[number];

/** What happened to each step of a unit: a rerun skips the done ones. */
export const unitSteps = sqliteTable(
  'unit_steps',
  {
    unitId: text('unit_id')
      .notNull()
      .references(() => units.id),
    step: text('step', { enum: STEPS }).notNull(),
    state: text('state', { enum: ['done', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(1),
    /** JSON: figures and file paths of the step, or the error code and message. */
    detail: text('detail').notNull().default('{}'),
    operator: text('operator').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.unitId, t.step] })],
);

/** Images whose whole sha256 and bmap ranges were checked (key: file identity + manifest + bmap digests). */
export const imageChecks = sqliteTable('image_checks', {
  key: text('key').primaryKey(),
  checkedAt: integer('checked_at').notNull().default(sql`(unixepoch() * 1000)`),
});
