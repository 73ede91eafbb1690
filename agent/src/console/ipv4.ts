// IPv4 arithmetic for the network form: strict dotted-quad parsing, prefixes and masks, network and broadcast addresses.

/** Why a text is not an IPv4 address. */
export type Ipv4Problem =
  | { kind: 'empty' }
  | { kind: 'format' }
  /** A part is over 255. */
  | { kind: 'octet'; part: string }
  /** A part such as `010` (some tools read it as octal). */
  | { kind: 'leadingZero'; part: string };

export type Ipv4Parse = { ok: true; value: number } | { ok: false; problem: Ipv4Problem };

/** Parses `a.b.c.d` (four decimal numbers 0 to 255, no leading zero, no spaces inside) to an unsigned 32-bit number. */
export function parseIpv4(text: string): Ipv4Parse {
  const s = text.trim();
  if (s === '') return { ok: false, problem: { kind: 'empty' } };
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) {
    // A part of four digits or more is still "too big", which says more than "bad format".
    const big = parts.length === 4 && parts.every((p) => /^\d+$/.test(p)) ? parts.find((p) => p.length > 3) : undefined;
    return { ok: false, problem: big ? { kind: 'octet', part: big } : { kind: 'format' } };
  }
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (n > 255) return { ok: false, problem: { kind: 'octet', part } };
    if (part.length > 1 && part.startsWith('0')) return { ok: false, problem: { kind: 'leadingZero', part } };
    value = value * 256 + n;
  }
  return { ok: true, value };
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The netmask of a prefix length, as an unsigned 32-bit number (`/24` -> 255.255.255.0). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(address: number, prefix: number): number {
  return (address & maskOf(prefix)) >>> 0;
}

export function broadcastOf(address: number, prefix: number): number {
  return (networkOf(address, prefix) | (~maskOf(prefix) >>> 0)) >>> 0;
}

export function inSubnet(address: number, network: number, prefix: number): boolean {
  return networkOf(address, prefix) === networkOf(network, prefix);
}

export type PrefixProblem = { kind: 'empty' } | { kind: 'format' } | { kind: 'range'; prefix: number } | { kind: 'mask' };
export type PrefixParse = { ok: true; value: number } | { ok: false; problem: PrefixProblem };

/** Smallest and largest prefix a dealer LAN set-up accepts: /31 and /32 leave no room for a gateway, below /8 is a typo. */
export const MIN_PREFIX = 8;
export const MAX_PREFIX = 30;

/** Parses a prefix length (`24`, `/24`) or a netmask (`255.255.255.0`), accepting /8 to /30. */
export function parsePrefix(text: string): PrefixParse {
  const s = text.trim();
  if (s === '') return { ok: false, problem: { kind: 'empty' } };
  let prefix: number;
  if (/^\/?\d{1,2}$/.test(s)) {
    prefix = Number(s.replace('/', ''));
  } else if (s.includes('.')) {
    const mask = parseIpv4(s);
    if (!mask.ok) return { ok: false, problem: { kind: 'format' } };
    // The leading ones of the mask; a valid mask has nothing but zeros after them.
    const ones = Math.clz32(~mask.value >>> 0);
    if (maskOf(ones) !== mask.value) return { ok: false, problem: { kind: 'mask' } };
    prefix = ones;
  } else {
    return { ok: false, problem: { kind: 'format' } };
  }
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) return { ok: false, problem: { kind: 'range', prefix } };
  return { ok: true, value: prefix };
}

/** What kind of address this is, for refusing the ones that cannot be a LAN host, a gateway or a DNS server. */
export type AddressKind = 'unicast' | 'unspecified' | 'loopback' | 'multicast' | 'reserved' | 'broadcast' | 'linkLocal' | 'thisNetwork';

export function classifyIpv4(value: number): AddressKind {
  const first = value >>> 24;
  if (value === 0) return 'unspecified';
  if (value === 0xffffffff) return 'broadcast';
  if (first === 0) return 'thisNetwork';
  if (first === 127) return 'loopback';
  if (first >= 224 && first <= 239) return 'multicast';
  if (first >= 240) return 'reserved';
  if (first === 169 && ((value >>> 16) & 255) === 254) return 'linkLocal';
  return 'unicast';
}
