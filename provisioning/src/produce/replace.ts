// Warranty replacement (RMA): a new unit for the same dealer and site (the old unit's order), produced like any
// unit, then the old device is retired at the fleet (wiped and locked out when it next connects) and both records
// are linked. Rerunning resumes: a replacement already registered for this serial is picked up again.
import { ErrorCode, LineError } from '../errors.js';
import { getOrder } from '../orders/index.js';
import { getUnit, linkReplacement, recordStep, type Unit } from '../units/index.js';
import type { LineContext } from './context.js';
import { produce, type ProduceOptions, type ProduceOutcome } from './run.js';

export interface ReplaceOutcome {
  old: Unit;
  replacement: ProduceOutcome;
  retired: { deviceId: string | null; status: string; note?: string } | null;
}

export async function replaceUnit(ctx: LineContext, oldIdOrSerial: string, opts: Omit<ProduceOptions, 'order' | 'replacesUnitId'>): Promise<ReplaceOutcome> {
  const old = await getUnit(ctx.db, oldIdOrSerial);
  if (old.status === 'replaced') {
    throw new LineError(ErrorCode.STATE, `unit ${old.id} (serial ${old.serial}) was already replaced by ${old.replacedByUnitId ?? '?'}; see "plugsrv-line units show ${old.id}".`);
  }
  if (old.status !== 'shipped') {
    throw new LineError(ErrorCode.STATE, `unit ${old.id} (serial ${old.serial}) is ${old.status}, not shipped: only a unit at a dealer is replaced. Finish or scrap it instead.`);
  }
  if (opts.jobs.length !== 1) throw new LineError(ErrorCode.USAGE, 'a replacement is one unit: give one --target.');
  const order = await getOrder(ctx.db, old.orderId);
  const [outcome] = await produce(ctx, { ...opts, order: order.id, replacesUnitId: old.id });
  const replacement = outcome as ProduceOutcome;
  if (replacement.error || replacement.unit.status !== 'ready') return { old, replacement, retired: null };
  // The new unit is ready: retire the old device at the fleet, then link the records.
  const fleet = ctx.fleet();
  let retired: ReplaceOutcome['retired'];
  const device = old.deviceId ? { id: old.deviceId } : await fleet.deviceBySerial(order.dealerCode, old.serial);
  if (device) {
    try {
      const r = await fleet.retire(device.id);
      retired = { deviceId: device.id, status: r.status };
    } catch (err) {
      // A rerun after a crash between the retirement and the link: the device is retired already.
      if ((err as LineError).details?.fleetCode !== 'E_DEVICE_RETIRED') throw err;
      retired = { deviceId: device.id, status: 'retired' };
    }
  } else {
    retired = { deviceId: null, status: 'not-enrolled', note: `the fleet has no device with serial ${old.serial} for dealer ${order.dealerCode} (it never enrolled): nothing to retire` };
  }
  await linkReplacement(ctx.db, old.id, replacement.unit.id, retired.deviceId, ctx.now());
  await recordStep(ctx.db, replacement.unit.id, 'register', 'done', { replaces: old.id, oldSerial: old.serial, retired }, ctx.operator, ctx.now());
  return { old: await getUnit(ctx.db, old.id), replacement: { ...replacement, unit: await getUnit(ctx.db, replacement.unit.id) }, retired };
}
