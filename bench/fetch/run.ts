// Fetch benchmark: `plugsrv fetch` against curl downloading the same packages from the same `plugsrv serve` on loopback, in the same run.
// Settings: BENCH_FETCH_TOTAL_MIB (4096), BENCH_FETCH_CLIENTS (ours,curl,curl-openssl), BENCH_FETCH_ROUNDS (1; interleaved, median
// round-by-round ratio), BENCH_FETCH_WARMUP (an untimed curl run before the rounds, 1; 0 for none), BENCH_FETCH_WORK_PARENT, BENCH_RESULTS_FILE.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { writeResults } from '../serve/report.js';
import { CLI, CURL, ensureCurl, toolVersion, warmPageCache } from '../serve/setup.js';
import { waitForQuiet } from '../serve/usage.js';
import { runBench } from '../serve/cleanup.js';
import { freeBytes, GiB, MiB, mixedPlan, type Catalog } from '../sync/catalog.js';
import { GroupCleanup } from '../sync/cleanup.js';
import { combine, runCurl, runCurlOpenssl, runFsSync, runSha256sum, SHA256SUM, warmUpWithCurl, type ClientResult } from '../sync/clients.js';
import { clientsOfRound, isCurlOpenssl, isRawCurl, median, oursOfRound, pairwiseRatios } from '../sync/report.js';
import type { Origin } from '../sync/nginx.js';
import { ensureTime, timed } from '../sync/timed.js';
import { boxEnv, buildBox, serveBox } from './box.js';

const OURS = 'plugsrv fetch';
export const TARGET_RATIO = 0.9;
/** Free space wanted: the box's store, one client's output folder, and the sources while they are imported. */
const DISK_FACTOR = 3;
const MIN_TOTAL_MIB = 64;

interface Settings {
  totalMiB: number;
  /** Connections per package for ours, and files at once for curl. */
  parallel: number;
  clients: string[];
  /** Times the client list runs, interleaved; the verdict is the median round-by-round ratio. */
  rounds: number;
  /** One untimed curl run before the measured ones. */
  warmup: boolean;
  resultsFile: string;
}

function settingsFromEnv(): Settings {
  const total = Number(process.env.BENCH_FETCH_TOTAL_MIB ?? 4096);
  if (!Number.isFinite(total) || total <= 0) throw new Error(`BENCH_FETCH_TOTAL_MIB must be a positive number, not "${process.env.BENCH_FETCH_TOTAL_MIB}"`);
  return {
    totalMiB: Math.round(total),
    parallel: 4,
    clients: (process.env.BENCH_FETCH_CLIENTS ?? 'ours,curl,curl-openssl').split(',').filter(Boolean),
    rounds: Math.max(1, Math.round(Number(process.env.BENCH_FETCH_ROUNDS ?? 1)) || 1),
    warmup: Number(process.env.BENCH_FETCH_WARMUP ?? 1) > 0,
    resultsFile: process.env.BENCH_RESULTS_FILE ?? join(packageRoot(), 'bench', 'results', 'fetch-latest.json'),
  };
}

/** Flushes what the previous client left dirty, warms the store's files (the server reads from the page cache for both), waits for a quiet machine. */
async function prepare(catalog: Catalog): Promise<number> {
  spawnSync('sync');
  for (const t of catalog.targets) await warmPageCache(t.file);
  return waitForQuiet();
}

/** sha256 of every output file, checked against the package ids (not timed: the check of the bench, not of the client). */
function verifyHashes(name: string, dir: string, catalog: Catalog): string[] {
  const r = spawnSync(SHA256SUM, ['-b', ...catalog.targets.map((t) => join(dir, t.name))], { encoding: 'utf8', maxBuffer: 16 * MiB });
  const sums = new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => /^([0-9a-f]{64}) \*(.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[2] as string, m[1] as string]),
  );
  return catalog.targets.filter((t) => sums.get(join(dir, t.name)) !== t.sha256).map((t) => `${name}: ${t.name} does not hash to its sha256`);
}

/** `plugsrv fetch --all`: two packages at a time, each in parallel Range segments, sha256 verified, fsynced (file and folder). */
async function runOurs(dir: string, catalog: Catalog, origin: Origin, s: Settings, cleanup: GroupCleanup): Promise<ClientResult> {
  await rm(dir, { recursive: true, force: true });
  const args = [CLI, 'fetch', '--server', origin.url, '--all', '--out', dir, '--json', '--connections', String(s.parallel)];
  const serverBefore = origin.cpuSeconds();
  const run = await timed(process.execPath, args, boxEnv(), cleanup);
  const cpuSeconds = run.userSeconds + run.sysSeconds;
  const result: ClientResult = {
    name: OURS,
    bytes: catalog.totalBytes,
    wallSeconds: run.wallSeconds,
    userSeconds: run.userSeconds,
    sysSeconds: run.sysSeconds,
    cpuSeconds,
    peakRssBytes: run.maxRssBytes,
    mibPerSecond: catalog.totalBytes / MiB / run.wallSeconds,
    cpuSecondsPerGiB: cpuSeconds / (catalog.totalBytes / GiB),
    serverCpuSeconds: origin.cpuSeconds() - serverBefore,
    errors: [],
    command: `plugsrv fetch --server URL --all --out DIR --connections ${s.parallel} (x${catalog.targets.length})`,
  };
  if (run.exitCode !== 0) result.errors.push(`${OURS}: exit ${run.exitCode}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const summary = run.stdout.split('\n').filter((l) => l.startsWith('{"event":"summary"')).at(-1);
  const fetched = summary ? (JSON.parse(summary) as { fetched?: unknown }).fetched : undefined;
  if (fetched !== catalog.targets.length) result.errors.push(`${OURS}: fetched ${String(fetched)} of ${catalog.targets.length}`);
  const present = new Set(await readdir(dir).catch(() => []));
  const missing = catalog.targets.filter((t) => !present.has(t.name));
  if (missing.length > 0) result.errors.push(`${OURS}: ${missing.length} file(s) missing, e.g. ${missing[0]?.name}`);
  else result.errors.push(...verifyHashes(OURS, dir, catalog));
  return result;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function describe(r: ClientResult, background: number): string {
  const busy = background >= 0.1 ? `  (machine ${(background * 100).toFixed(0)}% busy before the run)` : '';
  return `  ${r.name.padEnd(34)} ${fmt(r.mibPerSecond).padStart(5)} MiB/s in ${fmt(r.wallSeconds, 2)} s, CPU ${fmt(r.cpuSeconds, 2)} s, peak RSS ${fmt(r.peakRssBytes / MiB, 1)} MiB${r.errors.length ? `  ERRORS: ${r.errors.length}` : ''}${busy}`;
}

interface Summary {
  /** Medians over the rounds (each ratio pairs the runs of one round). */
  oursMibPerSecond: number;
  /** ratioToCurlSynced round by round. */
  ratiosToCurlSynced: number[];
  /** The headline: ours (sha256 + fsync) against curl + sync -f (fsync, no hash): both leave durable files. */
  ratioToCurlSynced: number;
  /** Same work on both sides: curl + sha256sum + sync -f. */
  ratioToCurlHashedSynced: number;
  /** Against curl alone (nothing durable, nothing verified): for information. */
  ratioToCurlRaw: number;
  /** Against curl | tee | openssl sha256 (hashed with the CPU's SHA instructions, not durable). */
  ratioToCurlOpenssl: number;
  targetMet: boolean | undefined;
  verificationErrors: string[];
}

function summarize(results: ClientResult[]): Summary {
  const curl = results.find(isRawCurl)?.name;
  const named = (name: string) => (r: ClientResult): boolean => r.name === name;
  const ratiosToCurlSynced = pairwiseRatios(results, OURS, named(`${curl} + sync -f`));
  const synced = median(ratiosToCurlSynced);
  return {
    oursMibPerSecond: median(results.filter((r) => r.name === OURS).map((r) => r.mibPerSecond)),
    ratiosToCurlSynced,
    ratioToCurlSynced: synced,
    ratioToCurlHashedSynced: median(pairwiseRatios(results, OURS, named(`${curl} + sha256sum + sync -f`))),
    ratioToCurlRaw: median(pairwiseRatios(results, OURS, isRawCurl)),
    ratioToCurlOpenssl: median(pairwiseRatios(results, OURS, isCurlOpenssl)),
    targetMet: Number.isFinite(synced) ? synced >= TARGET_RATIO : undefined,
    verificationErrors: results.flatMap((r) => r.errors),
  };
}

function printReport(results: ClientResult[], catalog: Catalog, s: Summary): void {
  console.log(`\n${catalog.targets.length} packages, ${fmt(catalog.totalBytes / MiB)} MiB, from plugsrv serve on 127.0.0.1 to a folder on the same disk:`);
  const header = ['client', 'MiB/s', 'wall s', 'ours/this', 'CPU s', 'CPU s/GiB', 'peak RSS MiB', 'server CPU s'];
  const ourRunFor = oursOfRound(results, OURS);
  const rows = results.map((r) => [r.name, fmt(r.mibPerSecond), fmt(r.wallSeconds, 2), r.name === OURS ? '' : fmt((ourRunFor(r)?.mibPerSecond ?? NaN) / r.mibPerSecond, 2), fmt(r.cpuSeconds, 2), fmt(r.cpuSecondsPerGiB, 2), fmt(r.peakRssBytes / MiB, 1), fmt(r.serverCpuSeconds, 2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  const verdict = s.targetMet === undefined ? 'not measured' : s.targetMet ? 'MET' : 'MISSED';
  const rounds = s.ratiosToCurlSynced.length > 1 ? ` (median of ${s.ratiosToCurlSynced.length} rounds: ${s.ratiosToCurlSynced.map((r) => fmt(r, 2)).join(', ')})` : '';
  console.log(`\nours/(curl + sync -f) ${fmt(s.ratioToCurlSynced, 2)}${rounds} (target >= ${TARGET_RATIO}: ${verdict}); ours/(curl + sha256sum + sync -f) ${fmt(s.ratioToCurlHashedSynced, 2)}; ours/(curl | tee | openssl sha256) ${fmt(s.ratioToCurlOpenssl, 2)}; ours/curl alone ${fmt(s.ratioToCurlRaw, 2)}`);
  console.log('fairness: both write to the same kind of folder (a temp dir on the same file system) and both leave durable files: ours fsyncs each file and the folder, curl is followed by `sync -f` on its folder; ours also hashes every byte, which curl does not (the "+ sha256sum" row adds it).');
  if (s.verificationErrors.length > 0) {
    console.log(`\nVERIFICATION FAILED (${s.verificationErrors.length}):`);
    for (const e of s.verificationErrors.slice(0, 20)) console.log(`  ${e}`);
  }
}

async function main(cleanup: GroupCleanup): Promise<number> {
  const s = settingsFromEnv();
  ensureCurl();
  ensureTime();
  const work = await mkdtemp(join(process.env.BENCH_FETCH_WORK_PARENT ?? tmpdir(), 'plugsrv-fetch-bench-'));
  cleanup.removeDir(work);
  const free = await freeBytes(work);
  let totalMiB = s.totalMiB;
  if (free < DISK_FACTOR * totalMiB * MiB) {
    totalMiB = Math.floor(free / DISK_FACTOR / MiB);
    console.log(`bench: ${(free / GiB).toFixed(1)} GiB free on ${work}, less than ${DISK_FACTOR} x ${s.totalMiB} MiB; shrunk to ${totalMiB} MiB`);
    if (totalMiB < MIN_TOTAL_MIB) throw new Error('not enough free disk for the fetch bench');
  }
  const started = performance.now();
  process.stdout.write(`bench: generating and importing ${totalMiB} MiB of packages into a plugsrv store ...`);
  const catalog = await buildBox(join(work, 'box'), mixedPlan(totalMiB), cleanup);
  console.log(` ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const origin = await serveBox(catalog.dataDir, cleanup);
  console.log(`bench: plugsrv serve at ${origin.url}; ours: two packages at a time, ${s.parallel} Range connections each; curl: --parallel-max ${s.parallel} (${s.parallel} files at once)`);

  const results: ClientResult[] = [];
  const record = (r: ClientResult, background: number): void => {
    console.log(describe(r, background));
    results.push(r);
  };
  if (s.warmup) {
    await prepare(catalog);
    console.log(`${describe(await warmUpWithCurl(join(work, 'warmup-out'), catalog, origin, s.parallel, cleanup), 0)}  (warm-up, not counted)`);
  }
  for (const client of Array.from({ length: s.rounds }, (_, round) => clientsOfRound(s.clients, round)).flat()) {
    const background = await prepare(catalog);
    if (client === 'ours') {
      const dir = join(work, 'ours-out');
      record(await runOurs(dir, catalog, origin, s, cleanup), background);
      await rm(dir, { recursive: true, force: true });
    } else if (client === 'curl') {
      const dir = join(work, 'curl-out');
      const raw = await runCurl(dir, catalog, origin, s.parallel, cleanup);
      record(raw, background);
      // Order of the durable steps: sync -f right after curl (its own row), then sha256sum over the now-clean files.
      const synced = combine(`${raw.name} + sync -f`, [raw, await runFsSync(dir, catalog, origin, cleanup)]);
      record(synced, background);
      record(combine(`${raw.name} + sha256sum + sync -f`, [synced, await runSha256sum(dir, catalog, origin, cleanup)]), background);
      await rm(dir, { recursive: true, force: true });
    } else if (client === 'curl-openssl') {
      const dir = join(work, 'curl-openssl-out');
      record(await runCurlOpenssl(dir, catalog, origin, s.parallel, cleanup), background);
      await rm(dir, { recursive: true, force: true });
    } else throw new Error(`unknown client "${client}" in BENCH_FETCH_CLIENTS; use ours, curl, curl-openssl`);
  }
  await origin.stop();

  const summary = summarize(results);
  printReport(results, catalog, summary);
  await writeResults(s.resultsFile, {
    date: new Date().toISOString(),
    environment: { node: process.version, curl: toolVersion(CURL, ['--version']), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), kernel: release() },
    settings: { ...s, totalMiB },
    packages: catalog.targets.map((t) => ({ name: t.name, size: t.size, sha256: t.sha256 })),
    results,
    summary,
  });
  console.log(`\nresults written to ${s.resultsFile}`);
  return summary.verificationErrors.length > 0 ? 1 : 0;
}

runBench(new GroupCleanup(), main, 'plugsrv serve and the clients, removing temp files');
