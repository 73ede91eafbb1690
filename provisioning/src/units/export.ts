// Pure: the unit records as CSV (RFC 4180 quoting), one row per unit, for the integrator's ERP.
import type { Unit } from './repository.js';

export const UNIT_CSV_COLUMNS = [
  'unit_id',
  'order_id',
  'serial',
  'status',
  'macs',
  'disk_serial',
  'tpm_ek_sha256',
  'image_version',
  'image_sha256',
  'token_id',
  'burnin',
  'operator',
  'replaces_unit_id',
  'replaced_by_unit_id',
  'created_at',
  'shipped_at',
  'fail_reason',
] as const;

function cell(v: string | null): string {
  const s = v ?? '';
  // A leading = + - @ would be a formula in a spreadsheet: quote it with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function unitsCsv(list: readonly Unit[]): string {
  const lines = [UNIT_CSV_COLUMNS.join(',')];
  for (const u of list) {
    lines.push(
      [
        u.id,
        u.orderId,
        u.serial,
        u.status,
        u.macs.join(' '),
        u.diskSerial,
        u.tpmEkSha256,
        u.imageVersion,
        u.imageSha256,
        u.tokenId,
        u.burnin,
        u.operator,
        u.replacesUnitId,
        u.replacedByUnitId,
        u.createdAt,
        u.shippedAt,
        u.failReason,
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
