// Threshold evaluation, pure: a measured value against its threshold, a step's status from its measures, the verdict.
import type { Measure, MeasureStatus, StepResult, StepStatus, Threshold, Verdict } from './types.js';

/** Judges one value. null is `unavailable` (or `fail` when the value is required); no threshold is `info`. */
export function judge(value: Measure['value'], threshold: Threshold | undefined, required = false): MeasureStatus {
  if (value === null) return required ? 'fail' : 'unavailable';
  if (!threshold) return 'info';
  if (threshold.equals !== undefined) return value === threshold.equals ? 'pass' : 'fail';
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'fail';
  if (threshold.min !== undefined && value < threshold.min) return 'fail';
  if (threshold.max !== undefined && value > threshold.max) return 'fail';
  if (threshold.maxAbs !== undefined && Math.abs(value) > threshold.maxAbs) return 'fail';
  return 'pass';
}

export interface MeasureInput {
  id: string;
  label: string;
  value: Measure['value'];
  unit?: string;
  threshold?: Threshold;
  /** A missing value fails instead of being `unavailable`. */
  required?: boolean;
  note?: string;
}

export function measure(m: MeasureInput): Measure {
  const out: Measure = { id: m.id, label: m.label, value: m.value, status: judge(m.value, m.threshold, m.required) };
  if (m.unit !== undefined) out.unit = m.unit;
  if (m.threshold !== undefined) out.threshold = m.threshold;
  if (m.note !== undefined) out.note = m.note;
  return out;
}

export function formatValue(value: Measure['value'], unit?: string): string {
  if (value === null) return 'n/a';
  if (typeof value === 'number') {
    const n = Math.abs(value) >= 100 || Number.isInteger(value) ? Math.round(value).toString() : value.toFixed(1);
    return unit ? `${n} ${unit}` : n;
  }
  return String(value);
}

export function formatThreshold(t: Threshold | undefined, unit?: string): string {
  if (!t) return '';
  const u = unit ? ` ${unit}` : '';
  const parts: string[] = [];
  if (t.equals !== undefined) parts.push(`= ${String(t.equals)}`);
  if (t.min !== undefined) parts.push(`≥ ${t.min}${u}`);
  if (t.max !== undefined) parts.push(`≤ ${t.max}${u}`);
  if (t.maxAbs !== undefined) parts.push(`within ±${t.maxAbs}${u}`);
  return parts.join(', ');
}

/** A measure as "label: measured (threshold)" for messages. */
export function describeMeasure(m: Measure): string {
  const t = formatThreshold(m.threshold, m.unit);
  return `${m.label} ${formatValue(m.value, m.unit)}${t ? ` (needs ${t})` : ''}`;
}

/** A step passes when none of its measures failed. */
export function statusFromMeasures(measures: readonly Measure[]): 'pass' | 'fail' {
  return measures.some((m) => m.status === 'fail') ? 'fail' : 'pass';
}

export function countSteps(steps: readonly StepResult[]): Record<StepStatus, number> {
  const counts: Record<StepStatus, number> = { pass: 0, fail: 0, skipped: 0, interrupted: 0, 'not-run': 0 };
  for (const s of steps) counts[s.status]++;
  return counts;
}

/** interrupted if it was stopped; else fail if any step failed; else pass (skipped steps are listed with their reason). */
export function verdictOf(steps: readonly StepResult[], interrupted: boolean): Verdict {
  if (interrupted) return 'interrupted';
  return steps.some((s) => s.status === 'fail') ? 'fail' : 'pass';
}
