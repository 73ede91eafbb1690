// Pure: the orders CSV the integrator receives, parsed and validated row by row. Every bad row is reported with its
// line number and what to fix, and a file with any bad row is refused as a whole (nothing is imported).
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { parse } from 'csv-parse/sync';
import { ErrorCode, LineError } from '../errors.js';

export type NetworkSettings =
  | { mode: 'dhcp' }
  | { mode: 'static'; address: string; prefix: number; gateway: string; dns: string[] };

export interface OrderRow {
  ref: string;
  dealerCode: string;
  site: string;
  quantity: number;
  contactEmail: string;
  deliveryAddress: string;
  lang: 'fr' | 'en';
  network: NetworkSettings;
  /** 1-based line of the row in the file (for messages and the record). */
  line: number;
  /** sha256 over the row's normalised fields: re-importing the same row is a no-op, a changed one is refused. */
  rowHash: string;
}

export const REQUIRED_COLUMNS = ['order_ref', 'dealer_code', 'site', 'quantity', 'contact_email', 'delivery_address'] as const;
export const OPTIONAL_COLUMNS = ['lang', 'network', 'address', 'gateway', 'dns'] as const;
const KNOWN = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);
export const MAX_QUANTITY = 5;
const MAX_ROWS = 10_000;

/** An e-mail address as a person types it: one @, a dotted domain, no spaces (deliverability is the mail server's job). */
const EMAIL = /^[^\s@<>()[\],;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Pure: checks static settings; returns the problems (empty when valid). */
export function staticNetworkProblems(address: string, prefix: number, gateway: string, dns: string[]): string[] {
  const problems: string[] = [];
  if (!isIPv4(address)) problems.push(`address ${JSON.stringify(address)} is not an IPv4 address with its prefix such as 192.168.10.20/24`);
  if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30) problems.push(`the prefix /${prefix} must be 8 to 30`);
  if (!isIPv4(gateway)) problems.push(`gateway ${JSON.stringify(gateway)} is not an IPv4 address`);
  for (const d of dns) if (!isIPv4(d)) problems.push(`dns ${JSON.stringify(d)} is not an IPv4 address`);
  if (dns.length === 0) problems.push('a static address needs at least one dns server');
  if (problems.length === 0) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const a = ipv4ToInt(address);
    const g = ipv4ToInt(gateway);
    const host = a & ~mask;
    if (host === 0 || host === (~mask >>> 0)) problems.push(`${address}/${prefix} is the network or broadcast address, not a host`);
    if ((a & mask) >>> 0 !== (g & mask) >>> 0) problems.push(`the gateway ${gateway} is not in ${address}/${prefix}`);
    if (a === g) problems.push('the address and the gateway are the same');
  }
  return problems;
}

function rowHash(fields: Record<string, string>): string {
  const keys = Object.keys(fields).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, fields[k]])))
    .digest('hex');
}

function parseRow(rec: Record<string, string>, line: number): { row?: OrderRow; problems: string[] } {
  const p: string[] = [];
  const get = (k: string): string => (rec[k] ?? '').trim();
  const ref = get('order_ref');
  if (!REF.test(ref)) p.push(`order_ref ${JSON.stringify(ref)} must be 1-64 letters, digits, . _ / -`);
  const dealerCode = get('dealer_code');
  if (!/^\d{8}$/.test(dealerCode)) p.push(`dealer_code ${JSON.stringify(dealerCode)} must be the dealer's entity code of exactly 8 digits`);
  const site = get('site').replace(/\s+/g, ' ');
  if (site.length === 0 || site.length > 120) p.push('site must be the site name, 1-120 characters');
  else if (/[\p{Cc}]/u.test(site)) p.push('site holds control characters');
  const qText = get('quantity');
  const quantity = /^\d{1,2}$/.test(qText) ? Number(qText) : NaN;
  if (!(quantity >= 1 && quantity <= MAX_QUANTITY)) p.push(`quantity ${JSON.stringify(qText)} must be a whole number from 1 to ${MAX_QUANTITY}`);
  const contactEmail = get('contact_email');
  if (!EMAIL.test(contactEmail)) p.push(`contact_email ${JSON.stringify(contactEmail)} is not an e-mail address`);
  const deliveryAddress = get('delivery_address');
  if (deliveryAddress.length < 5 || deliveryAddress.length > 500) p.push('delivery_address must be the postal address, 5-500 characters');
  const langText = get('lang').toLowerCase() || 'fr';
  if (langText !== 'fr' && langText !== 'en') p.push(`lang ${JSON.stringify(get('lang'))} must be fr or en (empty = fr)`);
  const mode = get('network').toLowerCase() || 'dhcp';
  let network: NetworkSettings = { mode: 'dhcp' };
  if (mode === 'static') {
    const [address = '', prefixText = ''] = get('address').split('/');
    const prefix = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
    const dns = get('dns')
      .split(/[\s;|]+/)
      .filter((d) => d !== '');
    const problems = staticNetworkProblems(address, prefix, get('gateway'), dns);
    if (get('address') !== '' && !get('address').includes('/')) problems.unshift(`address ${JSON.stringify(get('address'))} needs its prefix, such as 192.168.10.20/24`);
    p.push(...problems.map((x) => `network: ${x}`));
    network = { mode: 'static', address, prefix, gateway: get('gateway'), dns };
  } else if (mode === 'dhcp') {
    for (const k of ['address', 'gateway', 'dns']) if (get(k) !== '') p.push(`${k} is given but network is dhcp: set network to static, or empty ${k}`);
  } else {
    p.push(`network ${JSON.stringify(get('network'))} must be dhcp or static (empty = dhcp)`);
  }
  if (p.length > 0) return { problems: p };
  const fields = { ref, dealerCode, site, quantity: String(quantity), contactEmail, deliveryAddress, lang: langText, network: JSON.stringify(network) };
  return {
    problems: [],
    row: { ref, dealerCode, site, quantity, contactEmail, deliveryAddress, lang: langText as 'fr' | 'en', network, line, rowHash: rowHash(fields) },
  };
}

/** Parses the whole file; throws E_ORDERS_CSV listing every problem as "line N: ..." when any row is bad. */
export function parseOrdersCsv(text: string, fileName = 'the file'): OrderRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  let header: string[] = [];
  try {
    records = parse(text, {
      bom: true,
      columns: (h: string[]) => {
        header = h.map((c) => c.trim().toLowerCase());
        return header;
      },
      skip_empty_lines: true,
      relax_column_count: false,
      info: true,
      delimiter: [',', ';'],
      trim: false,
    }) as { record: Record<string, string>; info: { lines: number } }[];
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new LineError(ErrorCode.ORDERS_CSV, `${fileName} is not a readable CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message}. Save it as CSV (comma or semicolon separated, UTF-8) and import it again.`);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !KNOWN.has(c));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing column(s) ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown column(s) ${unknown.join(', ')}`);
    throw new LineError(
      ErrorCode.ORDERS_CSV,
      `${fileName}, line 1 (header): ${parts.join('; ')}. The header must be: ${REQUIRED_COLUMNS.join(',')} and optionally ${OPTIONAL_COLUMNS.join(',')}.`,
    );
  }
  if (records.length === 0) throw new LineError(ErrorCode.ORDERS_CSV, `${fileName} has a header but no order row.`);
  if (records.length > MAX_ROWS) throw new LineError(ErrorCode.ORDERS_CSV, `${fileName} has ${records.length} rows; split it into files of at most ${MAX_ROWS}.`);
  const problems: string[] = [];
  const rows: OrderRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const line = info.lines;
    const { row, problems: p } = parseRow(record, line);
    for (const x of p) problems.push(`line ${line}: ${x}`);
    if (row) {
      const first = seen.get(row.ref);
      if (first !== undefined) problems.push(`line ${line}: order_ref ${row.ref} is already on line ${first}`);
      else seen.set(row.ref, line);
      rows.push(row);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 50);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    throw new LineError(ErrorCode.ORDERS_CSV, `${fileName} was not imported: fix these rows and import it again (nothing was imported):\n  ${shown.join('\n  ')}${more}`, {
      details: { problems },
    });
  }
  return rows;
}
