// The burn-in step: the unit runs `plugsrv hw burnin` (hardware/'s suite, in the image); the line imports its JSON
// report, checks it is this unit's (serial), and records the verdict. A failed burn-in fails the unit.
import { readFile, stat } from 'node:fs/promises';
import type { BurninReport, BurninSummary } from '../../../hardware/src/index.js';
import { ErrorCode, LineError } from '../errors.js';
import { recordStep, type Unit } from '../units/index.js';
import type { LineContext } from './context.js';

/** Reads a report file, or the newest report in a folder. */
export async function readBurninReport(path: string): Promise<{ summary: BurninSummary; serial: string | null }> {
  const { readLatestBurninSummary, summarizeBurnin } = await import('../../../hardware/src/index.js');
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new LineError(ErrorCode.USAGE, `no burn-in report at ${path}: give the JSON report (or its folder) written by "plugsrv hw burnin" on the unit.`, { cause: err });
  }
  if (st.isDirectory()) {
    const summary = await readLatestBurninSummary(path);
    if (!summary?.reportFile) throw new LineError(ErrorCode.USAGE, `${path} holds no burn-in report of plugsrv: run "plugsrv hw burnin" on the unit first.`);
    return readBurninReport(summary.reportFile);
  }
  let report: BurninReport;
  try {
    report = JSON.parse(await readFile(path, 'utf8')) as BurninReport;
  } catch (err) {
    throw new LineError(ErrorCode.USAGE, `${path} is not a burn-in report (${(err as Error).message}).`, { cause: err });
  }
  if (report?.schema !== 'plugsrv.burnin/1' || !Array.isArray(report.steps)) throw new LineError(ErrorCode.USAGE, `${path} is not a burn-in report of plugsrv (schema plugsrv.burnin/1).`);
  return { summary: summarizeBurnin(report, path), serial: report.unit?.serial ?? null };
}

/** Records the burn-in of the unit from a report, or as skipped with the operator's reason. */
export async function burninStep(ctx: LineContext, unit: Unit, source: { report: string } | { skipReason: string }): Promise<void> {
  if ('skipReason' in source) {
    if (source.skipReason.trim().length < 3) throw new LineError(ErrorCode.USAGE, '--skip-burnin needs the reason, recorded on the unit (e.g. "burn-in done at the supplier, batch 42").');
    await recordStep(ctx.db, unit.id, 'burnin', 'done', { skipped: true, reason: source.skipReason.trim() }, ctx.operator, ctx.now(), { burnin: 'skipped', burninDetail: source.skipReason.trim() });
    return;
  }
  const { summary, serial } = await readBurninReport(source.report);
  if (serial && serial !== unit.serial) {
    throw new LineError(ErrorCode.STATE, `the burn-in report ${source.report} is of the unit with serial ${serial}, not of ${unit.serial}: give this unit's report.`);
  }
  const detail = { verdict: summary.verdict, level: summary.level, report: summary.reportFile, problems: summary.problems, skippedSteps: summary.skipped.map((s) => s.id), serialChecked: serial !== null };
  if (summary.verdict !== 'pass') {
    await recordStep(ctx.db, unit.id, 'burnin', 'failed', { ...detail, code: 'E_BURNIN', message: `burn-in ${summary.verdict}: ${summary.problems.map((p) => `${p.id} ${p.message}`).join('; ')}` }, ctx.operator, ctx.now(), {
      burnin: 'failed',
      burninDetail: JSON.stringify(summary.problems),
    });
    return;
  }
  await recordStep(ctx.db, unit.id, 'burnin', 'done', detail, ctx.operator, ctx.now(), { burnin: 'passed', burninDetail: summary.reportFile });
}
