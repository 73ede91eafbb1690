// `plugsrv fetch`'s own parts: here the pure helpers (list query, the server's answers, which packages, safe file names, what to print); re-exported below, the signed-catalog check, the output file system and the choice of a discovered box.
import { join } from 'node:path';
import { AgentError, ErrorCode } from '../errors.js';

/** The filters of GET /v1/packages the client passes on as given; the server validates them. */
export interface PackageFilter {
  vin?: string;
  headUnit?: string;
  model?: string;
  kind?: string;
}

/** One ready package as GET /v1/packages lists it (the fields the client uses). */
export interface ServerPackage {
  id: string;
  name: string;
  size: number;
  kind: string;
  headUnit: string;
  models: string[];
  version: string;
}

/** Where the partial downloads live inside the output folder, so an interrupted fetch resumes on the next run. */
export const PARTIAL_DIR = '.plugsrv-partial';

/** The server's base URL, checked: http(s), no query or fragment; a trailing slash is dropped. */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AgentError(ErrorCode.BAD_REQUEST, `--server "${text.slice(0, 200)}" is not a URL; give the plugsrv box's address, e.g. http://192.168.1.20:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AgentError(ErrorCode.BAD_REQUEST, `--server ${url.origin} is not http(s).`);
  if (url.search || url.hash) throw new AgentError(ErrorCode.BAD_REQUEST, '--server must not carry a query or a fragment.');
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** GET /v1/packages with the filters set. */
export function listUrl(server: URL, filter: PackageFilter): URL {
  const url = new URL(`${server.href.replace(/\/+$/, '')}/v1/packages`);
  const params: Array<[string, string | undefined]> = [['vin', filter.vin], ['headUnit', filter.headUnit], ['model', filter.model], ['kind', filter.kind]];
  for (const [key, value] of params) if (value !== undefined) url.searchParams.set(key, value);
  return url;
}

/** GET /v1/packages/{sha256}/{name}: the bytes of one package. */
export function packageUrl(server: URL, pkg: Pick<ServerPackage, 'id' | 'name'>): string {
  return `${server.href.replace(/\/+$/, '')}/v1/packages/${pkg.id}/${encodeURIComponent(pkg.name)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body of GET /v1/packages, checked field by field; throws E_ORIGIN when it is not what a plugsrv server sends. */
export function parsePackageList(body: unknown): ServerPackage[] {
  const bad = (why: string): AgentError => new AgentError(ErrorCode.ORIGIN, `the server's package list is malformed (${why}); is --server a plugsrv box?`);
  if (!isObject(body) || !Array.isArray(body.packages)) throw bad('no "packages" array');
  return (body.packages as unknown[]).map((p, i) => {
    if (!isObject(p)) throw bad(`entry ${i} is not an object`);
    const { id, name, size, kind, headUnit, models, version } = p;
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) throw bad(`entry ${i} has no sha256 id`);
    if (typeof name !== 'string' || name === '') throw bad(`entry ${i} has no name`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`entry ${i} has no size`);
    const list = Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : [];
    return { id, name, size, kind: String(kind ?? ''), headUnit: String(headUnit ?? ''), models: list, version: String(version ?? '') };
  });
}

/**
 * The error for a non-2xx answer of the server, from its JSON `{code, message}` body when there is one:
 * 423 names the lock's reason, 400 passes the server's message on (a bad VIN says what is wrong with it).
 */
export function serverError(status: number, body: unknown, what: string): AgentError {
  const message = isObject(body) && typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  const code = isObject(body) && typeof body.code === 'string' ? body.code : undefined;
  if (status === 423) return new AgentError(ErrorCode.LOCKED, `the plugsrv server is locked and serves no package: ${message}. Contact the after-sales support.`);
  if (status === 400 && code === ErrorCode.BAD_VIN) return new AgentError(ErrorCode.BAD_VIN, `the server refused the VIN: ${message}`);
  if (status === 400) return new AgentError(ErrorCode.BAD_REQUEST, `the server refused the request: ${message}`);
  if (status === 404) return new AgentError(ErrorCode.NOT_FOUND, `${what}: ${message}`);
  return new AgentError(ErrorCode.ORIGIN, `${what} answered HTTP ${status}: ${message}`);
}

/** Device names Windows reserves in every folder, with or without an extension (CON, CON.txt ...). */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?$/i;

/**
 * Why `name` cannot be a file name in the output folder, or undefined when it can. The rules are those of
 * the USB key's file systems (FAT32, exFAT, NTFS) and of Windows, whatever this PC runs.
 */
export function unsafeNameReason(name: string): string | undefined {
  if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
  if (name === '.' || name === '..') return 'it is a directory reference';
  if (name.startsWith('.')) return 'it starts with a dot (hidden, and the partial folder is .plugsrv-partial)';
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) return 'it contains a control character';
  if (/[<>:"|?*]/.test(name)) return 'it contains one of < > : " | ? *, which FAT32, exFAT and Windows refuse';
  if (/[. ]$/.test(name)) return 'it ends with a dot or a space, which Windows drops';
  if (WINDOWS_RESERVED.test(name)) return 'it is a device name Windows reserves (CON, NUL, COM1 ...)';
  if (Buffer.byteLength(name) > 255) return 'it is longer than 255 bytes';
  return undefined;
}

/**
 * The packages to download: those named by `ids` (each must be in the list the filters gave), or all
 * of the list with `all`. Refuses neither-nor, unknown ids, unsafe names and two packages sharing a name.
 */
export function selectPackages(list: ServerPackage[], choice: { ids: string[]; all: boolean }): ServerPackage[] {
  if (choice.ids.length === 0 && !choice.all) {
    throw new AgentError(ErrorCode.BAD_REQUEST, 'say what to fetch: --id SHA256 (repeatable) or --all for every package matching the filters; --list shows them.');
  }
  if (choice.ids.length > 0 && choice.all) throw new AgentError(ErrorCode.BAD_REQUEST, 'give either --id or --all, not both.');
  let chosen = list;
  if (!choice.all) {
    const byId = new Map(list.map((p) => [p.id, p]));
    chosen = [];
    for (const raw of new Set(choice.ids.map((i) => i.toLowerCase()))) {
      const pkg = byId.get(raw);
      if (!pkg) throw new AgentError(ErrorCode.NOT_FOUND, `no ready package with id ${raw.slice(0, 80)} matches the filters on the server; --list shows what is ready.`);
      chosen.push(pkg);
    }
  }
  const names = new Set<string>();
  for (const pkg of chosen) {
    const reason = unsafeNameReason(pkg.name);
    if (reason) throw new AgentError(ErrorCode.BAD_REQUEST, `refusing package ${pkg.id}: its name ${JSON.stringify(pkg.name.slice(0, 200))} cannot be a file name (${reason}).`);
    if (names.has(pkg.name)) throw new AgentError(ErrorCode.BAD_REQUEST, `two chosen packages are both named ${JSON.stringify(pkg.name)}; fetch them by --id into different folders.`);
    names.add(pkg.name);
  }
  return chosen;
}

/** The partial file of a package inside the output folder (named by sha256, so a renamed package still resumes). */
export function partialPathOf(outDir: string, pkg: Pick<ServerPackage, 'id'>): string {
  return join(outDir, PARTIAL_DIR, `${pkg.id}.part`);
}

/** Bytes still to be written on the output disk: what is missing of each package, less the blocks its partial already holds. */
export function bytesNeeded(items: Array<{ size: number; allocatedBytes: number }>): number {
  return items.reduce((n, i) => n + Math.max(0, i.size - i.allocatedBytes), 0);
}

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** The table `fetch --list` prints for a person. */
export function formatPackageTable(list: ServerPackage[]): string {
  if (list.length === 0) return 'no ready package matches these filters';
  const rows = [['NAME', 'VERSION', 'KIND', 'HEAD UNIT', 'SIZE', 'ID'], ...list.map((p) => [p.name, p.version, p.kind, p.headUnit, mib(p.size), p.id])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const total = list.reduce((n, p) => n + p.size, 0);
  return [...rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')), `${list.length} package(s), ${mib(total)}`].join('\n');
}

export { signedRefusal, signedRefusals, targetsOf, type SignedRefusal, type SignedTarget } from './signed.js';
export { checkSignedCatalog, cacheDirOf, cacheKey, defaultCacheDir, fetchTufError, type SignedCatalogOptions, type SignedCheck } from './tuf.js';
export { checkFileSizes, fileSystemOf, FAT_MAX_FILE_BYTES, isFat, linuxFsName, syncDir, tooLargeFor, windowsDrive } from './output-fs.js';
export { chooseBox, formatBoxes, noBoxError } from './discovered.js';
