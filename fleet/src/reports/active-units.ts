// The monthly licence report (pure parts): month keys, the range asked for, rows to CSV.
import { ErrorCode, FleetError } from '../errors.js';

/** YYYY-MM of an instant, in UTC (the licence month does not depend on the fleet's time zone). */
export function monthOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Checks `from` and `to` (YYYY-MM, inclusive, from <= to, at most 10 years); defaults: this month. */
export function parseMonthRange(from: string | null, to: string | null, now: number): { from: string; to: string } {
  const f = from ?? monthOf(now);
  const t = to ?? f;
  for (const [name, v] of [['from', f], ['to', t]] as const) {
    if (!MONTH.test(v)) throw new FleetError(ErrorCode.BAD_REQUEST, `${name} must be a month such as 2025-01 (YYYY-MM), not ${JSON.stringify(v.slice(0, 20))}.`);
  }
  if (f > t) throw new FleetError(ErrorCode.BAD_REQUEST, `from (${f}) is after to (${t}); give the earlier month first.`);
  const span = (Number(t.slice(0, 4)) - Number(f.slice(0, 4))) * 12 + Number(t.slice(5)) - Number(f.slice(5));
  if (span >= 120) throw new FleetError(ErrorCode.BAD_REQUEST, 'a report covers at most 120 months; ask for a shorter range.');
  return { from: f, to: t };
}

export interface ActiveUnitsRow {
  month: string;
  dealerCode: string;
  activeUnits: number;
}

/** RFC 4180 CSV with a header; dealer codes are digits and months fixed, so nothing needs quoting, but quote defensively. */
export function activeUnitsCsv(rows: ActiveUnitsRow[]): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = ['month,dealer_code,active_units', ...rows.map((r) => [r.month, r.dealerCode, r.activeUnits].map(cell).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
