// Unit records: registration (idempotent on the serial, bounded by the order's quantity), each step's outcome, the
// ready/shipped states, replacement links. A failed step marks the unit failed; only a unit with every step done ships.
import { randomBytes } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { STEPS, unitSteps, units, type LineDb, type Step, type UnitStatus } from '../db/index.js';
import { ErrorCode, LineError } from '../errors.js';
import { getOrder } from '../orders/index.js';

export interface UnitIdentity {
  serial: string;
  macs: string[];
  diskSerial: string | null;
  tpmEkSha256: string | null;
  inventory: unknown;
}

export interface StepRecord {
  step: Step;
  state: 'done' | 'failed';
  attempts: number;
  detail: Record<string, unknown>;
  operator: string;
  at: string;
}

export interface Unit {
  id: string;
  orderId: string;
  serial: string;
  macs: string[];
  diskSerial: string | null;
  tpmEkSha256: string | null;
  imageVersion: string | null;
  imageSha256: string | null;
  target: string | null;
  tokenId: string | null;
  deviceId: string | null;
  burnin: 'passed' | 'failed' | 'skipped' | null;
  status: UnitStatus;
  failReason: string | null;
  operator: string;
  replacesUnitId: string | null;
  replacedByUnitId: string | null;
  createdAt: string;
  updatedAt: string;
  shippedAt: string | null;
  steps: StepRecord[];
}

/** A serial as it appears on DMI and labels: what the fleet accepts too. */
export const SERIAL = /^[A-Za-z0-9._-]{1,64}$/;

type Row = typeof units.$inferSelect;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toUnit(r: Row, steps: (typeof unitSteps.$inferSelect)[]): Unit {
  return {
    id: r.id,
    orderId: r.orderId,
    serial: r.serial,
    macs: JSON.parse(r.macs) as string[],
    diskSerial: r.diskSerial,
    tpmEkSha256: r.tpmEkSha256,
    imageVersion: r.imageVersion,
    imageSha256: r.imageSha256,
    target: r.target,
    tokenId: r.tokenId,
    deviceId: r.deviceId,
    burnin: r.burnin,
    status: r.status,
    failReason: r.failReason,
    operator: r.operator,
    replacesUnitId: r.replacesUnitId,
    replacedByUnitId: r.replacedByUnitId,
    createdAt: iso(r.createdAt) as string,
    updatedAt: iso(r.updatedAt) as string,
    shippedAt: iso(r.shippedAt),
    steps: steps
      .filter((s) => s.unitId === r.id)
      .sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step))
      .map((s) => ({ step: s.step, state: s.state, attempts: s.attempts, detail: JSON.parse(s.detail) as Record<string, unknown>, operator: s.operator, at: iso(s.at) as string })),
  };
}

export async function getUnit(db: LineDb, idOrSerial: string): Promise<Unit> {
  const rows = await db
    .select()
    .from(units)
    .where(idOrSerial.startsWith('unit_') ? eq(units.id, idOrSerial) : eq(units.serial, idOrSerial));
  const row = rows[0];
  if (!row) throw new LineError(ErrorCode.NOT_FOUND, `no unit ${idOrSerial} (a unit id unit_... or a serial): see "plugsrv-line units list".`);
  return toUnit(row, await db.select().from(unitSteps).where(eq(unitSteps.unitId, row.id)));
}

export async function listUnits(db: LineDb, filter: { orderId?: string; status?: UnitStatus } = {}): Promise<Unit[]> {
  const conds = [];
  if (filter.orderId) conds.push(eq(units.orderId, filter.orderId));
  if (filter.status) conds.push(eq(units.status, filter.status));
  const rows = await db
    .select()
    .from(units)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(desc(units.createdAt));
  const steps = await db.select().from(unitSteps);
  return rows.map((r) => toUnit(r, steps));
}

/**
 * Registers the unit with this serial for the order, or returns the one already registered (a rerun resumes it).
 * Refused: a serial already produced for another order, an order whose quantity is reached, a shipped unit.
 */
export async function registerUnit(
  db: LineDb,
  input: { orderId: string; identity: UnitIdentity; operator: string; replacesUnitId?: string; now?: number },
): Promise<{ unit: Unit; resumed: boolean }> {
  const { identity } = input;
  if (!SERIAL.test(identity.serial)) {
    throw new LineError(ErrorCode.USAGE, `the serial ${JSON.stringify(identity.serial)} is not usable: 1-64 letters, digits, dot, dash or underscore, as on the unit's label (DMI service tag).`);
  }
  const order = await getOrder(db, input.orderId);
  const existing = (await db.select().from(units).where(eq(units.serial, identity.serial)))[0];
  if (existing) {
    if (existing.orderId !== order.id) {
      throw new LineError(ErrorCode.STATE, `serial ${identity.serial} is already unit ${existing.id} of another order (${existing.orderId}); a unit belongs to one order. For a warranty replacement use "plugsrv-line replace --unit OLD".`);
    }
    if (existing.status === 'shipped' || existing.status === 'replaced') {
      throw new LineError(ErrorCode.STATE, `unit ${existing.id} (serial ${identity.serial}) is ${existing.status}; it is not produced again. Use "plugsrv-line replace" for a replacement.`);
    }
    return { unit: await getUnit(db, existing.id), resumed: true };
  }
  if (input.replacesUnitId === undefined && order.unitsActive >= order.quantity) {
    throw new LineError(ErrorCode.STATE, `order ${order.ref} is complete: ${order.unitsActive} of ${order.quantity} units are made. A failed unit frees its place; a warranty replacement goes through "plugsrv-line replace".`);
  }
  const now = input.now ?? Date.now();
  const id = `unit_${randomBytes(6).toString('hex')}`;
  await db.insert(units).values({
    id,
    orderId: order.id,
    serial: identity.serial,
    macs: JSON.stringify(identity.macs),
    diskSerial: identity.diskSerial,
    tpmEkSha256: identity.tpmEkSha256,
    inventory: identity.inventory === null || identity.inventory === undefined ? null : JSON.stringify(identity.inventory),
    status: 'in-progress',
    operator: input.operator,
    replacesUnitId: input.replacesUnitId ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await recordStep(db, id, 'register', 'done', { serial: identity.serial, macs: identity.macs }, input.operator, now);
  return { unit: await getUnit(db, id), resumed: false };
}

/** Records a step's outcome (attempts counted); a failure marks the unit failed with the reason, a success may make it ready. */
export async function recordStep(
  db: LineDb,
  unitId: string,
  step: Step,
  state: 'done' | 'failed',
  detail: Record<string, unknown>,
  operator: string,
  now = Date.now(),
  fields: Partial<Pick<Row, 'imageVersion' | 'imageSha256' | 'target' | 'tokenId' | 'deviceId' | 'burnin' | 'burninDetail'>> = {},
): Promise<void> {
  const detailText = JSON.stringify(detail);
  const reason = state === 'failed' ? `${step}: ${String(detail.message ?? detail.code ?? 'failed')}`.slice(0, 1000) : null;
  await db.batch([
    db
      .insert(unitSteps)
      .values({ unitId, step, state, detail: detailText, operator, at: now })
      .onConflictDoUpdate({ target: [unitSteps.unitId, unitSteps.step], set: { state, detail: detailText, operator, at: now, attempts: sql`${unitSteps.attempts} + 1` } }),
    db
      .update(units)
      .set({ ...fields, updatedAt: now, ...(state === 'failed' ? { status: 'failed' as const, failReason: reason } : {}) })
      .where(eq(units.id, unitId)),
  ]);
  if (state === 'done') await refreshStatus(db, unitId, now);
}

/** Pure: the steps still to do, in order. */
export function pendingSteps(steps: readonly Pick<StepRecord, 'step' | 'state'>[]): Step[] {
  return STEPS.filter((s) => !steps.some((x) => x.step === s && x.state === 'done'));
}

/** A unit whose steps are all done is ready; one with a failed step and no redo stays failed; otherwise in progress. */
async function refreshStatus(db: LineDb, unitId: string, now: number): Promise<void> {
  const unit = await getUnit(db, unitId);
  if (unit.status === 'shipped' || unit.status === 'replaced') return;
  const failed = unit.steps.find((s) => s.state === 'failed');
  const status: UnitStatus = failed ? 'failed' : pendingSteps(unit.steps).length === 0 && unit.burnin !== 'failed' ? 'ready' : 'in-progress';
  await db
    .update(units)
    .set({ status, failReason: failed ? unit.failReason : null, updatedAt: now })
    .where(eq(units.id, unitId));
}

/** Ships a ready unit; anything else is refused with what is missing. */
export async function shipUnit(db: LineDb, idOrSerial: string, operator: string, now = Date.now()): Promise<Unit> {
  const unit = await getUnit(db, idOrSerial);
  if (unit.status !== 'ready') {
    const pending = pendingSteps(unit.steps);
    const why =
      unit.status === 'failed'
        ? `it failed (${unit.failReason ?? 'a step failed'}); rerun "plugsrv-line produce" for it, or scrap it`
        : unit.status === 'in-progress'
          ? `steps still to do: ${pending.join(', ')}`
          : `it is already ${unit.status}`;
    throw new LineError(ErrorCode.STATE, `unit ${unit.id} (serial ${unit.serial}) cannot ship: ${why}.`);
  }
  await db.update(units).set({ status: 'shipped', shippedAt: now, updatedAt: now, operator }).where(eq(units.id, unit.id));
  return getUnit(db, unit.id);
}

/** Links a replacement: the old unit becomes `replaced` (it is retired at the fleet by the caller). */
export async function linkReplacement(db: LineDb, oldId: string, newId: string, deviceId: string | null, now = Date.now()): Promise<void> {
  await db.batch([
    db.update(units).set({ status: 'replaced', replacedByUnitId: newId, updatedAt: now, ...(deviceId ? { deviceId } : {}) }).where(eq(units.id, oldId)),
    db.update(units).set({ replacesUnitId: oldId, updatedAt: now }).where(eq(units.id, newId)),
  ]);
}
