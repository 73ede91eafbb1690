// One production run for one or several units of an order: register, flash (all targets at once), personalise with
// its dealer letter, burn-in record, label. Every step is recorded; a rerun does only what is not done (a re-flash,
// or a different target, redoes the personalisation, since the partition was rewritten).
import { ErrorCode, LineError } from '../errors.js';
import type { FlashPlan } from '../flash/index.js';
import { getOrder } from '../orders/index.js';
import { getUnit, pendingSteps, type Unit } from '../units/index.js';
import { burninStep } from './burnin.js';
import type { LineContext } from './context.js';
import { flashStep, type ImageInput } from './flash.js';
import { labelStep } from './label.js';
import { personaliseStep } from './personalise.js';
import { registerStep, type IdentitySource } from './register.js';

export interface UnitJob {
  target: string;
  identity: IdentitySource;
}

export interface ProduceOptions {
  order: string;
  jobs: readonly UnitJob[];
  image: ImageInput;
  confirm: (plan: FlashPlan) => Promise<boolean>;
  burnin?: { report: string } | { skipReason: string };
  /** Flash again even when the unit's flash step is done. */
  reflash?: boolean;
  /** Stop after the flash (the `flash` command); personalisation and the rest follow with `produce`. */
  flashOnly?: boolean;
  /** The unit a replacement replaces (RMA). */
  replacesUnitId?: string;
  signal?: AbortSignal;
  /** Called as each unit's steps progress ("flash done", ...), for the CLI's log lines. */
  say?: (unit: Unit, message: string) => void;
}

export interface ProduceOutcome {
  unit: Unit;
  resumed: boolean;
  done: string[];
  error?: { code: string; message: string };
  notes: string[];
}

function errInfo(err: unknown): { code: string; message: string } {
  const e = err as Error & { code?: string };
  return { code: typeof e.code === 'string' ? e.code : 'E_INTERNAL', message: e.message ?? String(err) };
}

export async function produce(ctx: LineContext, opts: ProduceOptions): Promise<ProduceOutcome[]> {
  const order = await getOrder(ctx.db, opts.order);
  if (opts.jobs.length === 0) throw new LineError(ErrorCode.USAGE, 'give at least one --target with its unit (--serial, or --detect).');
  const say = opts.say ?? (() => undefined);
  const outcomes: ProduceOutcome[] = [];
  for (const job of opts.jobs) {
    const r = await registerStep(ctx, order.id, { ...job.identity, target: job.target }, opts.replacesUnitId);
    outcomes.push({ unit: r.unit, resumed: r.resumed, done: r.resumed ? [] : ['register'], notes: r.notes });
    say(r.unit, r.resumed ? `resumed (to do: ${pendingSteps(r.unit.steps).join(', ') || 'nothing'})` : `registered for order ${order.ref}`);
  }
  // Flash every unit that needs it, in one parallel pass (all targets are checked before anything is written).
  const flashJobs = outcomes
    .map((o, i) => ({ o, target: (opts.jobs[i] as UnitJob).target }))
    .filter(({ o, target }) => opts.reflash || pendingSteps(o.unit.steps).includes('flash') || o.unit.target !== target);
  const flashed = new Set<string>();
  if (flashJobs.length > 0) {
    const report = await flashStep(
      ctx,
      flashJobs.map(({ o, target }) => ({ unit: o.unit, target })),
      opts.image,
      opts.confirm,
      opts.signal,
    );
    for (const { o, target } of flashJobs) {
      const res = report.results.find((x) => x.target === target);
      if (res?.ok) {
        flashed.add(o.unit.id);
        o.done.push('flash');
        say(o.unit, `flashed ${target}: ${(res.bytesWritten / 1048576).toFixed(0)} MiB in ${res.writeSeconds.toFixed(1)} s, verified in ${res.verifySeconds.toFixed(1)} s`);
      } else {
        o.error = errInfo(res?.error);
        say(o.unit, `flash FAILED: ${o.error.message}`);
      }
    }
  }
  if (opts.flashOnly) {
    for (const o of outcomes) o.unit = await getUnit(ctx.db, o.unit.id);
    return outcomes;
  }
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i] as ProduceOutcome;
    const target = (opts.jobs[i] as UnitJob).target;
    if (o.error) {
      o.unit = await getUnit(ctx.db, o.unit.id);
      continue;
    }
    try {
      let unit = await getUnit(ctx.db, o.unit.id);
      let pending = pendingSteps(unit.steps);
      if (flashed.has(unit.id) || pending.includes('personalise') || pending.includes('letter')) {
        const { letter } = await personaliseStep(ctx, unit, target);
        o.done.push('personalise', 'letter');
        say(unit, `personalised; dealer letter ${letter.join(', ')}`);
      }
      unit = await getUnit(ctx.db, unit.id);
      pending = pendingSteps(unit.steps);
      if (pending.includes('burnin') && opts.burnin) {
        await burninStep(ctx, unit, opts.burnin);
        unit = await getUnit(ctx.db, unit.id);
        if (unit.burnin === 'failed') throw new LineError(ErrorCode.STATE, `burn-in failed: ${unit.failReason ?? ''}; the unit is marked failed and will not ship.`);
        o.done.push('burnin');
        say(unit, `burn-in ${unit.burnin}`);
      }
      if (pending.includes('label') || flashed.has(unit.id)) {
        const path = await labelStep(ctx, unit);
        o.done.push('label');
        say(unit, `label ${path}`);
      }
      o.unit = await getUnit(ctx.db, unit.id);
      const left = pendingSteps(o.unit.steps);
      if (left.length > 0) o.notes.push(`still to do: ${left.join(', ')}${left.includes('burnin') ? ' (give --burnin-report FILE, or --skip-burnin REASON)' : ''}`);
    } catch (err) {
      o.error = errInfo(err);
      o.unit = await getUnit(ctx.db, o.unit.id);
      say(o.unit, `FAILED: ${o.error.message}`);
    }
  }
  return outcomes;
}
