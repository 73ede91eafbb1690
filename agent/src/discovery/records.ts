// Pure parts of DNS-SD for plugsrv: the service type, the TXT record, instance names, which interface to advertise on, and a box from an answer.
import { isIPv4 } from 'node:net';

/** `_plugsrv._tcp`: bonjour-service adds the underscores. */
export const SERVICE_TYPE = 'plugsrv';
export const SERVICE_PROTOCOL = 'tcp';
/** Where the package API lives on an advertised box. */
export const API_PATH = '/v1/';
/** DNS labels are at most 63 bytes. */
const MAX_LABEL_BYTES = 63;

/** What a box says about itself in its TXT record. */
export interface BoxFacts {
  version: string;
  /** The box serves its verified signed metadata under /tuf/. */
  tuf: boolean;
  /** The device serial, once the box knows it (personalisation / enrollment). */
  serial?: string | undefined;
  /** The dealer's entity code, once known. */
  dealer?: string | undefined;
}

/** The TXT record (RFC 6763 key=value strings; `txtvers` first). */
export function txtRecord(f: BoxFacts): Record<string, string> {
  const txt: Record<string, string> = { txtvers: '1', version: f.version, path: API_PATH };
  if (f.tuf) txt.tuf = '/tuf/';
  if (f.serial) txt.serial = f.serial;
  if (f.dealer) txt.dealer = f.dealer;
  return txt;
}

function cutToBytes(text: string, max: number): string {
  let out = '';
  for (const c of text) {
    if (Buffer.byteLength(out + c) > max) break;
    out += c;
  }
  return out;
}

/**
 * The DNS-SD instance name: the configured one, or `plugsrv-<hostname>` (first label). Dots become dashes
 * (a dot would split the DNS label) and control characters go; at most 63 bytes.
 */
export function instanceName(configured: string, hostname: string): string {
  const base = configured.trim() || `plugsrv-${hostname.split('.')[0] || 'box'}`;
  const clean = [...base].filter((c) => c.charCodeAt(0) >= 0x20 && c !== '\u007f').join('').replace(/\./g, '-');
  return cutToBytes(clean, MAX_LABEL_BYTES) || 'plugsrv';
}

/** The name to try after `tries` conflicts with another device on the LAN (RFC 6762 9: "name (2)", "name (3)" ...). */
export function conflictName(base: string, tries: number): string {
  const suffix = ` (${tries + 1})`;
  return cutToBytes(base, MAX_LABEL_BYTES - Buffer.byteLength(suffix)) + suffix;
}

/** The bonjour host name (SRV target, A records): `<hostname>.local`, one DNS label. */
export function mdnsHostName(hostname: string): string {
  const label = cutToBytes((hostname.split('.')[0] ?? '').replace(/[^A-Za-z0-9-]/g, '-'), MAX_LABEL_BYTES) || 'plugsrv';
  return `${label}.local`;
}

/** One interface's address as os.networkInterfaces() gives it. */
export interface InterfaceAddress {
  address: string;
  family: string | number;
  internal: boolean;
}

export type AdvertiseScope =
  | { kind: 'all' }
  | { kind: 'address'; address: string }
  | { kind: 'off'; reason: string };

const isLoopback = (host: string): boolean => /^127\./.test(host) || host === '::1' || host.toLowerCase() === 'localhost';
const isV4 = (a: InterfaceAddress): boolean => a.family === 'IPv4' || a.family === 4;

/**
 * Where to advertise: the configured interface (an IPv4 address or an interface name), else the address the
 * server listens on when that is one address; every interface for 0.0.0.0 / ::. A server bound to loopback
 * is not advertised: nobody on the LAN could reach it.
 */
export function advertiseScope(configured: string, serveHost: string, interfaces: Record<string, InterfaceAddress[] | undefined>): AdvertiseScope {
  const wanted = configured.trim();
  if (wanted) {
    if (isIPv4(wanted)) return { kind: 'address', address: wanted };
    const v4 = (interfaces[wanted] ?? []).find(isV4);
    if (v4) return { kind: 'address', address: v4.address };
    const names = Object.keys(interfaces).join(', ');
    return { kind: 'off', reason: `serve.advertiseInterface "${wanted}" is neither an IPv4 address nor an interface with one (interfaces: ${names}); fix it or leave it empty` };
  }
  if (isLoopback(serveHost)) return { kind: 'off', reason: `the server listens on ${serveHost} only (loopback): nobody on the LAN could reach it` };
  if (serveHost === '0.0.0.0' || serveHost === '::' || serveHost === '') return { kind: 'all' };
  if (isIPv4(serveHost)) return { kind: 'address', address: serveHost };
  return { kind: 'off', reason: `serve.host "${serveHost}" is not an IPv4 address; set serve.advertiseInterface to the LAN interface or its IPv4 address` };
}

/** A DNS-SD answer as bonjour-service's browser gives it (the fields used). */
export interface SeenService {
  name?: unknown;
  fqdn?: unknown;
  host?: unknown;
  port?: unknown;
  addresses?: unknown;
  referer?: { address?: unknown } | undefined;
  txt?: unknown;
}

/** A plugsrv box found on the LAN. */
export interface DiscoveredBox {
  name: string;
  /** Base URL of the box, e.g. http://192.168.1.20:8080 */
  url: string;
  address: string;
  port: number;
  version?: string;
  serial?: string;
  dealer?: string;
  tuf: boolean;
}

const linkLocalV6 = (a: string): boolean => /^fe80:/i.test(a);

/**
 * A box from a DNS-SD answer, or undefined when it is unusable (no port, no address). The address is the one
 * the answer came from when it is IPv4 (it is reachable from here), else the first advertised IPv4 address.
 */
export function boxFromService(s: SeenService): DiscoveredBox | undefined {
  const port = typeof s.port === 'number' && Number.isInteger(s.port) && s.port > 0 && s.port < 65536 ? s.port : undefined;
  if (port === undefined) return undefined;
  const advertised = Array.isArray(s.addresses) ? s.addresses.filter((a): a is string => typeof a === 'string') : [];
  const referer = typeof s.referer?.address === 'string' ? s.referer.address : undefined;
  const address = (referer && isIPv4(referer) ? referer : undefined) ?? advertised.find((a) => isIPv4(a)) ?? advertised.find((a) => !linkLocalV6(a) && a.includes(':'));
  if (!address) return undefined;
  const txt = typeof s.txt === 'object' && s.txt !== null ? (s.txt as Record<string, unknown>) : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, 200) : undefined);
  const name = str(s.name) ?? `${address}:${port}`;
  const box: DiscoveredBox = { name, url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`, address, port, tuf: str(txt.tuf) !== undefined };
  const version = str(txt.version);
  const serial = str(txt.serial);
  const dealer = str(txt.dealer);
  if (version) box.version = version;
  if (serial) box.serial = serial;
  if (dealer) box.dealer = dealer;
  return box;
}

/** One entry per box URL (a box seen twice, on two interfaces of this PC or under two names, counts once), sorted by name. */
export function uniqueBoxes(boxes: DiscoveredBox[]): DiscoveredBox[] {
  const byUrl = new Map<string, DiscoveredBox>();
  for (const b of boxes) if (!byUrl.has(b.url)) byUrl.set(b.url, b);
  return [...byUrl.values()].sort((a, b) => a.name.localeCompare(b.name) || a.url.localeCompare(b.url));
}
