// The measured clients: our `plugsrv sync now`, curl --parallel (raw, then + sha256sum, + sync), aria2c; each result is verified.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, CURL } from '../serve/setup.js';
import { GiB, MiB, type Catalog, type PublishedTarget } from './catalog.js';
import type { GroupCleanup } from './cleanup.js';
import type { Origin } from './nginx.js';
import { timed, type TimedRun } from './timed.js';

export const ARIA2C = '/usr/bin/aria2c';
export const OPENSSL = '/usr/bin/openssl';
export const SHA256SUM = '/usr/bin/sha256sum';
const CURL_MAX_SECONDS = 3600;

/** The download parallelism every client gets, from the agent's effective sync settings. */
export interface Parallelism {
  parallelTargets: number;
  maxConnectionsPerHost: number;
  segmentBytes: number;
}

export interface ClientResult {
  name: string;
  /** Bytes the client had to fetch (the catalog's targets). */
  bytes: number;
  wallSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  mibPerSecond: number;
  cpuSecondsPerGiB: number;
  /** nginx CPU seconds during the run. */
  serverCpuSeconds: number;
  errors: string[];
  /** How the client was run, for the results file. */
  command: string;
}

/** Adds up sequential steps (curl, then sha256sum, then sync) into one result: wall and CPU add, peak RSS is the max. */
export function combine(name: string, parts: ClientResult[]): ClientResult {
  const sum = (f: (r: ClientResult) => number): number => parts.reduce((n, r) => n + f(r), 0);
  const bytes = parts[0]?.bytes ?? 0;
  const wallSeconds = sum((r) => r.wallSeconds);
  const cpuSeconds = sum((r) => r.cpuSeconds);
  return {
    name,
    bytes,
    wallSeconds,
    userSeconds: sum((r) => r.userSeconds),
    sysSeconds: sum((r) => r.sysSeconds),
    cpuSeconds,
    peakRssBytes: Math.max(...parts.map((r) => r.peakRssBytes)),
    mibPerSecond: bytes / MiB / wallSeconds,
    cpuSecondsPerGiB: cpuSeconds / (bytes / GiB),
    serverCpuSeconds: sum((r) => r.serverCpuSeconds),
    errors: parts.flatMap((r) => r.errors),
    command: parts.map((r) => r.command).join(' && '),
  };
}

/** The environment for clients: no proxy variables (loopback must never go through one). */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) delete env[name];
  return env;
}

async function measure(name: string, bytes: number, origin: Origin, command: string, args: string[], env: NodeJS.ProcessEnv, cleanup: GroupCleanup): Promise<{ run: TimedRun; result: ClientResult }> {
  const serverBefore = origin.cpuSeconds();
  const run = await timed(command, args, env, cleanup);
  const cpuSeconds = run.userSeconds + run.sysSeconds;
  const result: ClientResult = {
    name,
    bytes,
    wallSeconds: run.wallSeconds,
    userSeconds: run.userSeconds,
    sysSeconds: run.sysSeconds,
    cpuSeconds,
    peakRssBytes: run.maxRssBytes,
    mibPerSecond: bytes / MiB / run.wallSeconds,
    cpuSecondsPerGiB: cpuSeconds / (bytes / GiB),
    serverCpuSeconds: origin.cpuSeconds() - serverBefore,
    errors: [],
    command: [command, ...args].join(' ').slice(0, 300),
  };
  if (run.exitCode !== 0) result.errors.push(`${name}: exit ${run.exitCode}: ${(run.stderr || run.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return { run, result };
}

/** Every file has the target's size (a short or missing file is an error). */
function checkSizes(name: string, dir: string, targets: readonly PublishedTarget[], fileOf: (t: PublishedTarget) => string): string[] {
  const errors: string[] = [];
  for (const t of targets) {
    const path = join(dir, fileOf(t));
    const size = existsSync(path) ? statSync(path).size : -1;
    if (size !== t.size) errors.push(`${name}: ${t.name} is ${size < 0 ? 'missing' : `${size} bytes`}, not ${t.size}`);
  }
  return errors;
}

// ---- ours ---------------------------------------------------------------------------------------------------------

export interface SyncOutcomeLine {
  result?: unknown;
  ready?: unknown;
  failed?: unknown;
  bytesFetched?: unknown;
  errorCode?: unknown;
  message?: unknown;
}

/** The `{"event":"outcome",...}` line that `sync now --json` prints last. */
export function outcomeOf(stdout: string): SyncOutcomeLine | undefined {
  let outcome: SyncOutcomeLine | undefined;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { event?: unknown } & SyncOutcomeLine;
      if (parsed.event === 'outcome') outcome = parsed;
    } catch {
      // a log line cut by the output cap; not ours to judge
    }
  }
  return outcome;
}

export interface OursOptions {
  dataDir: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags: string[];
}

/** The environment of `plugsrv sync now`: the bench's PLUGSRV_* settings go through, origin and trust are the bench's. */
export function oursEnv(originUrl: string, trustedRoot: string): NodeJS.ProcessEnv {
  return clientEnv({
    PLUGSRV_SELFCHECK_AT_STARTUP: 'false',
    PLUGSRV_STORE_RESERVE_BYTES: '0',
    PLUGSRV_SYNC_ORIGIN_URL: originUrl,
    PLUGSRV_SYNC_TRUSTED_ROOT: trustedRoot,
  });
}

export async function runOurs(name: string, catalog: Catalog, origin: Origin, o: OursOptions, cleanup: GroupCleanup): Promise<ClientResult> {
  await rm(o.dataDir, { recursive: true, force: true });
  const args = [...o.nodeFlags, CLI, '--data-dir', o.dataDir, 'sync', 'now', '--json'];
  const { run, result } = await measure(name, catalog.totalBytes, origin, process.execPath, args, oursEnv(origin.url, catalog.trustedRoot), cleanup);
  const outcome = outcomeOf(run.stdout);
  const n = catalog.targets.length;
  if (!outcome) result.errors.push(`${name}: no outcome line in the output`);
  else {
    if (outcome.result !== 'ok') result.errors.push(`${name}: result ${String(outcome.result)} (${String(outcome.errorCode ?? '')} ${String(outcome.message ?? '')})`);
    if (outcome.ready !== n || outcome.failed !== 0) result.errors.push(`${name}: ${String(outcome.ready)} ready and ${String(outcome.failed)} failed of ${n}`);
    if (outcome.bytesFetched !== catalog.totalBytes) result.errors.push(`${name}: fetched ${String(outcome.bytesFetched)} bytes, not ${catalog.totalBytes}`);
  }
  // The store's layout: <data-dir>/blobs/sha256/<first two hex digits>/<sha256>.
  result.errors.push(...checkSizes(name, join(o.dataDir, 'blobs', 'sha256'), catalog.targets, (t) => join(t.sha256.slice(0, 2), t.sha256)));
  return result;
}

// ---- curl ---------------------------------------------------------------------------------------------------------

function outName(t: PublishedTarget): string {
  return t.name;
}

export async function runCurl(dir: string, catalog: Catalog, origin: Origin, parallel: number, cleanup: GroupCleanup): Promise<ClientResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const args = ['-s', '--noproxy', '*', '--max-time', String(CURL_MAX_SECONDS), '--parallel', '--parallel-max', String(parallel), '-w', '%{http_code} %{size_download} %{filename_effective}\\n'];
  for (const t of catalog.targets) args.push('-o', join(dir, outName(t)), `${origin.url}/${t.urlPath}`);
  const { run, result } = await measure(`curl x${parallel}`, catalog.totalBytes, origin, CURL, args, clientEnv(), cleanup);
  result.command = `curl -s --parallel --parallel-max ${parallel} -o FILE URL (x${catalog.targets.length})`;
  const lines = run.stdout.trim().split('\n').filter(Boolean);
  const bad = lines.filter((l) => !l.startsWith('200 '));
  if (lines.length !== catalog.targets.length) result.errors.push(`curl: ${lines.length} transfers reported, not ${catalog.targets.length}`);
  for (const l of bad.slice(0, 5)) result.errors.push(`curl: ${l}`);
  result.errors.push(...checkSizes('curl', dir, catalog.targets, outName));
  return result;
}

/**
 * An untimed curl run before the measured rounds, its files removed after. Right after a bench generated its
 * catalog, the first client to write 4 GiB paid up to 2.5 times the kernel CPU of the next ones on the test VM
 * (free pages handed back to the host come back slowly), whichever client it was.
 */
export async function warmUpWithCurl(dir: string, catalog: Catalog, origin: Origin, parallel: number, cleanup: GroupCleanup): Promise<ClientResult> {
  const result = await runCurl(dir, catalog, origin, parallel, cleanup);
  await rm(dir, { recursive: true, force: true });
  return result;
}

/**
 * The same duty as ours but for the fsync, done by C tools in one pass: curl x`parallel` files at once, each body
 * written by tee and hashed as it streams by openssl (which uses the CPU's SHA instructions, as Node does; coreutils'
 * sha256sum does not). A fairer reference for a verifying client than curl alone, which only copies bytes.
 */
export async function runCurlOpenssl(dir: string, catalog: Catalog, origin: Origin, parallel: number, cleanup: GroupCleanup): Promise<ClientResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const list = join(dir, '..', 'curl-openssl-list.txt');
  await writeFile(list, catalog.targets.map((t) => `${t.urlPath} ${outName(t)}\n`).join(''));
  // xargs passes each line's two words after the base URL: $0 = base, $1 = URL path, $2 = file name.
  const each = `${CURL} -s --noproxy '*' --max-time ${CURL_MAX_SECONDS} "$0/$1" | tee "$OUT/$2" | ${OPENSSL} dgst -sha256 -r > "$OUT/$2.sha256"`;
  const script = `OUT="$1" xargs -P ${parallel} -L 1 sh -c '${each.replace(/'/g, `'\\''`)}' "$2" < "$3"`;
  const name = `curl x${parallel} | tee | openssl sha256`;
  const { result } = await measure(name, catalog.totalBytes, origin, 'sh', ['-c', script, 'sh', dir, origin.url, list], clientEnv(), cleanup);
  result.command = `xargs -P ${parallel}: curl -s URL | tee FILE | openssl dgst -sha256 (x${catalog.targets.length})`;
  result.errors.push(...checkSizes(name, dir, catalog.targets, outName));
  for (const t of catalog.targets) {
    const sum = (await readFile(join(dir, `${outName(t)}.sha256`), 'utf8').catch(() => '')).slice(0, 64);
    if (sum !== t.sha256) result.errors.push(`${name}: ${t.name} hashed to "${sum}", not the signed sha256`);
  }
  await rm(list, { force: true });
  return result;
}

/** sha256sum over curl's files (what we do while downloading), checked against the signed hashes. */
export async function runSha256sum(dir: string, catalog: Catalog, origin: Origin, cleanup: GroupCleanup): Promise<ClientResult> {
  const files = catalog.targets.map((t) => join(dir, outName(t)));
  const { run, result } = await measure('sha256sum', catalog.totalBytes, origin, SHA256SUM, ['-b', ...files], clientEnv(), cleanup);
  result.command = `sha256sum -b FILE... (x${files.length})`;
  const sums = new Map(
    run.stdout
      .trim()
      .split('\n')
      .map((l) => /^([0-9a-f]{64}) \*(.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[2] as string, m[1] as string]),
  );
  for (const t of catalog.targets) if (sums.get(join(dir, outName(t))) !== t.sha256) result.errors.push(`sha256sum: ${t.name} does not hash to the signed sha256`);
  return result;
}

/** sync -f on curl's directory: makes its files durable as our sync's fsyncs do. */
export async function runFsSync(dir: string, catalog: Catalog, origin: Origin, cleanup: GroupCleanup): Promise<ClientResult> {
  const { result } = await measure('sync -f', catalog.totalBytes, origin, 'sync', ['-f', dir], clientEnv(), cleanup);
  return result;
}

// ---- aria2c -------------------------------------------------------------------------------------------------------

export function ensureAria2c(): void {
  if (existsSync(ARIA2C)) return;
  console.log(`bench: ${ARIA2C} not found; installing aria2 with apt-get ...`);
  const r = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y aria2'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0 || !existsSync(ARIA2C)) throw new Error(`aria2c is required and could not be installed (apt-get exit ${r.status ?? r.signal}); install aria2 as root and run the bench again.`);
}

export async function runAria2c(dir: string, catalog: Catalog, origin: Origin, p: Parallelism, cleanup: GroupCleanup): Promise<ClientResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const input = join(dir, '..', 'aria2c-input.txt');
  await writeFile(input, catalog.targets.map((t) => `${origin.url}/${t.urlPath}\n  out=${outName(t)}\n`).join(''));
  const c = String(p.maxConnectionsPerHost);
  const splitMiB = Math.min(1024, Math.max(1, Math.round(p.segmentBytes / MiB)));
  const args = ['--no-conf', '-d', dir, '-i', input, '-j', String(p.parallelTargets), '-x', c, '-s', c, '-k', `${splitMiB}M`, '--file-allocation=falloc', '--max-tries=1', '--console-log-level=warn', '--summary-interval=0', '--download-result=hide', '--auto-file-renaming=false', '--allow-overwrite=true'];
  const { result } = await measure(`aria2c -x${c} -s${c}`, catalog.totalBytes, origin, ARIA2C, args, clientEnv(), cleanup);
  result.command = `aria2c -i INPUT -j ${p.parallelTargets} -x ${c} -s ${c} -k ${splitMiB}M --file-allocation=falloc`;
  result.errors.push(...checkSizes('aria2c', dir, catalog.targets, outName));
  const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.aria2'));
  if (leftovers.length > 0) result.errors.push(`aria2c: unfinished control files ${leftovers.slice(0, 3).join(', ')}`);
  return result;
}
