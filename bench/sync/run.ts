// Sync benchmark: `plugsrv sync now` against curl and aria2c fetching the same signed catalog from a local nginx; RSS vs target size.
// Settings: BENCH_SYNC_TOTAL_MIB (catalog size, 4096), BENCH_SYNC_CLIENTS (ours,curl,curl-openssl,aria2c), BENCH_SYNC_ROUNDS (times
// the client list runs interleaved, 1; the verdict is the median round-by-round ratio), BENCH_SYNC_RSS_MIB ("1024,8192"
// or off), BENCH_SYNC_WARMUP (an untimed curl run before the rounds, 1; 0 for none), BENCH_SYNC_CPU_PROF (a folder for an extra profiled run of ours), BENCH_SYNC_WORK_PARENT, BENCH_RESULTS_FILE.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../agent/src/config/index.js';
import { packageRoot } from '../../lib/package-root.js';
import { writeResults } from '../serve/report.js';
import { CURL, ensureCurl, ensureNginx, NGINX, toolVersion, warmPageCache } from '../serve/setup.js';
import { waitForQuiet } from '../serve/usage.js';
import { buildCatalog, freeBytes, GiB, MiB, mixedPlan, planBytes, type Catalog, type PlannedTarget, type PublishedTarget } from './catalog.js';
import { GroupCleanup } from './cleanup.js';
import { runBench } from '../serve/cleanup.js';
import { ARIA2C, combine, ensureAria2c, oursEnv, runAria2c, runCurl, runCurlOpenssl, runFsSync, runOurs, runSha256sum, warmUpWithCurl, type ClientResult, type Parallelism } from './clients.js';
import { startOrigin, type Origin } from './nginx.js';
import { clientsOfRound, printReport, summarize, type RssPoint, type RssScenario } from './report.js';
import { ensureTime } from './timed.js';

const OURS = 'plugsrv sync now';
/** Free space wanted on the work filesystem, as a multiple of the bytes a catalog holds (source, origin copy, client copy). */
const DISK_FACTOR = 3;
const MIN_CATALOG_MIB = 64;

interface Settings {
  totalMiB: number;
  /** Single-target sizes for the RSS comparison, small then large; empty = skipped. */
  rssMiB: number[];
  clients: string[];
  /** Times the list of clients runs, interleaved (ours, curl, ours, curl ...); the summary takes medians. */
  rounds: number;
  /** One untimed curl run before the measured ones (see compareClients). */
  warmup: boolean;
  /** Where an extra, profiled run of ours writes its .cpuprofile; undefined = no profile. */
  cpuProfDir: string | undefined;
  resultsFile: string;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return n;
}

/** BENCH_SYNC_RSS_MIB: "SMALL,LARGE" or "LARGE" (small = LARGE/8), or "off". */
function rssSizes(): number[] {
  const raw = process.env.BENCH_SYNC_RSS_MIB ?? '1024,8192';
  if (raw === 'off' || raw === '0') return [];
  const parts = raw.split(',').map(Number);
  if (parts.length > 2 || parts.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`BENCH_SYNC_RSS_MIB must be "SMALL,LARGE", "LARGE" or "off", not "${raw}"`);
  const large = parts.at(-1) as number;
  const small = parts.length === 2 ? (parts[0] as number) : Math.max(1, Math.round(large / 8));
  return [Math.round(small), Math.round(large)];
}

function settingsFromEnv(): Settings {
  return {
    totalMiB: Math.round(envNumber('BENCH_SYNC_TOTAL_MIB', 4096)),
    rssMiB: rssSizes(),
    clients: (process.env.BENCH_SYNC_CLIENTS ?? 'ours,curl,curl-openssl,aria2c').split(',').filter(Boolean),
    rounds: Math.round(envNumber('BENCH_SYNC_ROUNDS', 1)),
    warmup: envNumber('BENCH_SYNC_WARMUP', 1) > 0,
    cpuProfDir: process.env.BENCH_SYNC_CPU_PROF || undefined,
    resultsFile: process.env.BENCH_RESULTS_FILE ?? join(packageRoot(), 'bench', 'results', 'sync-latest.json'),
  };
}

/** The download parallelism our sync uses with this environment (the same config loader as the CLI). */
function parallelismOf(dataDir: string): Parallelism {
  const s = loadConfig({ env: oursEnv('http://127.0.0.1:1', '/dev/null'), flags: { dataDir } }).sync;
  return { parallelTargets: s.parallelTargets, maxConnectionsPerHost: s.maxConnectionsPerHost, segmentBytes: s.segmentBytes };
}

/** Flushes dirty pages left by the previous client, warms the origin's files, waits for a quiet machine. */
async function prepare(catalog: Catalog): Promise<number> {
  spawnSync('sync');
  for (const t of catalog.targets) await warmPageCache(t.file);
  return waitForQuiet();
}

function describe(r: ClientResult, background: number): string {
  const busy = background >= 0.1 ? `  WARNING: machine ${(background * 100).toFixed(0)}% busy before the run` : '';
  const errors = r.errors.length > 0 ? `  ERRORS: ${r.errors.length}` : '';
  return `  ${r.name.padEnd(34)} ${r.mibPerSecond.toFixed(0).padStart(5)} MiB/s in ${r.wallSeconds.toFixed(2)} s, CPU ${r.cpuSecondsPerGiB.toFixed(2)} s/GiB, peak RSS ${(r.peakRssBytes / MiB).toFixed(1)} MiB${errors}${busy}`;
}

/** Disk needed for `bytes` of catalog, or a smaller size that fits, or undefined when nothing sensible fits. */
async function fitToDisk(dir: string, mib: number, what: string, notes: string[]): Promise<number | undefined> {
  const free = await freeBytes(dir);
  if (free >= DISK_FACTOR * mib * MiB) return mib;
  const fits = Math.floor(free / DISK_FACTOR / MiB);
  const reason = `${what}: ${(free / GiB).toFixed(1)} GiB free on ${dir}, less than ${DISK_FACTOR} x ${mib} MiB`;
  if (fits < MIN_CATALOG_MIB) {
    notes.push(`${reason}; skipped`);
    return undefined;
  }
  notes.push(`${reason}; shrunk to ${fits} MiB`);
  return fits;
}

async function publishCatalog(dir: string, plan: PlannedTarget[]): Promise<Catalog> {
  const started = performance.now();
  process.stdout.write(`bench: generating and publishing ${plan.length} targets, ${(planBytes(plan) / MiB).toFixed(0)} MiB, into ${dir} ...`);
  const catalog = await buildCatalog(dir, plan);
  console.log(` ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return catalog;
}

async function compareClients(work: string, catalog: Catalog, origin: Origin, p: Parallelism, s: Settings, cleanup: GroupCleanup): Promise<ClientResult[]> {
  const results: ClientResult[] = [];
  const record = (r: ClientResult, background: number): void => {
    console.log(describe(r, background));
    results.push(r);
  };
  const curlParallel = p.maxConnectionsPerHost;
  if (s.warmup) {
    await prepare(catalog);
    console.log(`${describe(await warmUpWithCurl(join(work, 'warmup-out'), catalog, origin, curlParallel, cleanup), 0)}  (warm-up, not counted)`);
  }
  for (const client of Array.from({ length: s.rounds }, (_, round) => clientsOfRound(s.clients, round)).flat()) {
    const background = await prepare(catalog);
    if (client === 'ours') {
      const dataDir = join(work, 'ours-data');
      record(await runOurs(OURS, catalog, origin, { dataDir, nodeFlags: [] }, cleanup), background);
      await rm(dataDir, { recursive: true, force: true });
    } else if (client === 'curl') {
      const dir = join(work, 'curl-out');
      const raw = await runCurl(dir, catalog, origin, curlParallel, cleanup);
      record(raw, background);
      const hashed = combine(`${raw.name} + sha256sum`, [raw, await runSha256sum(dir, catalog, origin, cleanup)]);
      record(hashed, background);
      record(combine(`${raw.name} + sha256sum + sync -f`, [hashed, await runFsSync(dir, catalog, origin, cleanup)]), background);
      await rm(dir, { recursive: true, force: true });
    } else if (client === 'curl-openssl') {
      const dir = join(work, 'curl-openssl-out');
      record(await runCurlOpenssl(dir, catalog, origin, curlParallel, cleanup), background);
      await rm(dir, { recursive: true, force: true });
    } else if (client === 'aria2c') {
      const dir = join(work, 'aria2c-out');
      record(await runAria2c(dir, catalog, origin, p, cleanup), background);
      await rm(dir, { recursive: true, force: true });
    } else throw new Error(`unknown client "${client}" in BENCH_SYNC_CLIENTS; use ours, curl, curl-openssl, aria2c`);
  }
  return results;
}

/** An extra run of ours under --cpu-prof (not counted: the profiler costs time). */
async function profileOurs(work: string, catalog: Catalog, origin: Origin, dir: string, cleanup: GroupCleanup): Promise<void> {
  await prepare(catalog);
  const dataDir = join(work, 'ours-prof-data');
  const r = await runOurs(`${OURS} (--cpu-prof)`, catalog, origin, { dataDir, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir] }, cleanup);
  console.log(`${describe(r, 0)}\n  CPU profile written to ${dir}`);
  await rm(dataDir, { recursive: true, force: true });
}

/** Peak RSS of our sync for one target of each size, each in its own catalog, origin and data dir. */
async function rssScenario(work: string, sizesMiB: number[], cleanup: GroupCleanup): Promise<RssScenario> {
  const notes: string[] = [];
  const points: RssPoint[] = [];
  for (const wanted of sizesMiB) {
    const mib = await fitToDisk(work, wanted, `RSS run with one ${wanted} MiB target`, notes);
    if (mib === undefined) continue;
    if (points.some((pt) => pt.targetBytes >= mib * MiB)) {
      notes.push(`RSS run with one ${wanted} MiB target: shrunk to ${mib} MiB, no larger than the previous size; skipped`);
      continue;
    }
    const dir = join(work, `rss-${mib}`);
    const catalog = await publishCatalog(join(dir, 'origin'), [{ name: `SINGLE_${mib}M.bin`, size: mib * MiB }]);
    const origin = await startOrigin(dir, catalog.repository, catalog.targets[0] as PublishedTarget, cleanup);
    try {
      await prepare(catalog);
      const r = await runOurs(`${OURS} (1 x ${mib} MiB)`, catalog, origin, { dataDir: join(dir, 'data'), nodeFlags: [] }, cleanup);
      console.log(describe(r, 0));
      points.push({ targetBytes: mib * MiB, peakRssBytes: r.peakRssBytes, mibPerSecond: r.mibPerSecond, cpuSecondsPerGiB: r.cpuSecondsPerGiB, errors: r.errors });
    } finally {
      await origin.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { points, notes };
}

function environment(): Record<string, unknown> {
  return {
    node: process.version,
    nginx: toolVersion(NGINX, ['-v']),
    curl: toolVersion(CURL, ['--version']),
    aria2c: toolVersion(ARIA2C, ['--version']),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    kernel: release(),
    plugsrvEnv: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PLUGSRV_'))),
  };
}

async function main(cleanup: GroupCleanup): Promise<number> {
  const s = settingsFromEnv();
  ensureNginx();
  ensureCurl();
  ensureTime();
  ensureAria2c();
  const work = await mkdtemp(join(process.env.BENCH_SYNC_WORK_PARENT ?? tmpdir(), 'plugsrv-sync-bench-'));
  cleanup.removeDir(work);
  const notes: string[] = [];
  const totalMiB = await fitToDisk(work, s.totalMiB, `the ${s.totalMiB} MiB catalog`, notes);
  for (const n of notes) console.log(`bench: ${n}`);
  if (totalMiB === undefined) throw new Error('not enough free disk for the comparison');
  const p = parallelismOf(join(work, 'ours-data'));
  const catalog = await publishCatalog(join(work, 'origin'), mixedPlan(totalMiB));
  const origin = await startOrigin(work, catalog.repository, catalog.targets[0] as PublishedTarget, cleanup);
  console.log(`bench: origin ${origin.url}; our sync: ${p.parallelTargets} targets at once, ${p.maxConnectionsPerHost} connections to the origin in all, ${p.segmentBytes / MiB} MiB segments; curl: --parallel-max ${p.maxConnectionsPerHost}`);
  const results = await compareClients(work, catalog, origin, p, s, cleanup);
  if (s.cpuProfDir) await profileOurs(work, catalog, origin, s.cpuProfDir, cleanup);
  await origin.stop();
  await rm(catalog.dir, { recursive: true, force: true });

  const rss = s.rssMiB.length > 0 ? await rssScenario(work, s.rssMiB, cleanup) : undefined;
  const summary = summarize(results, OURS, rss);
  printReport(results, OURS, catalog.totalBytes, catalog.targets.length, rss, summary);
  await writeResults(s.resultsFile, {
    date: new Date().toISOString(),
    environment: environment(),
    settings: { ...s, totalMiB, notes },
    parallelism: { ...p, curlParallelMax: p.maxConnectionsPerHost },
    catalog: { totalBytes: catalog.totalBytes, targets: catalog.targets.map((t) => ({ name: t.name, size: t.size, sha256: t.sha256 })) },
    results,
    rss,
    summary,
  });
  console.log(`\nresults written to ${s.resultsFile}`);
  return summary.verificationErrors.length > 0 ? 1 : 0;
}

runBench(new GroupCleanup(), main, 'clients and nginx, removing temp files');
