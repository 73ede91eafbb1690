// Serve benchmark: plugsrv vs nginx on the same 1 GiB file over 127.0.0.1 (full downloads, concurrent downloads, small ranges).
import { existsSync, statSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { Cleanup, runBench } from './cleanup.js';
import { downloadScenario, type DownloadResult } from './download.js';
import { rangeScenario, type RangeResult } from './ranges.js';
import { printReport, summarize, writeResults, type Scenario, type Scenarios, type ServerRun } from './report.js';
import { startNginx, startPlugsrv, waitUntilServing, type BenchServer } from './servers.js';
import { CURL, ensureCurl, ensureNginx, importFile, makeWorkDir, NGINX, toolVersion, warmPageCache, writeRandomFile } from './setup.js';
import { withUsage } from './usage.js';

/** Knobs, from BENCH_* environment variables (defaults are the agreed scenarios). PLUGSRV_* variables reach the server. */
interface Settings {
  fileBytes: number;
  clients: number;
  rangeConnections: number;
  rangeBytes: number;
  rangeSeconds: number;
  /** Which servers to run: plugsrv, nginx-1w (the baseline), nginx-auto. */
  servers: string[];
  resultsFile: string;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return n;
}

function settingsFromEnv(): Settings {
  return {
    fileBytes: Math.round(envNumber('BENCH_FILE_MIB', 1024) * 1048576),
    clients: Math.round(envNumber('BENCH_CLIENTS', 16)),
    rangeConnections: Math.round(envNumber('BENCH_RANGE_CONNECTIONS', 64)),
    rangeBytes: Math.round(envNumber('BENCH_RANGE_KIB', 64) * 1024),
    rangeSeconds: envNumber('BENCH_RANGE_SECONDS', 10),
    servers: (process.env.BENCH_SERVERS ?? 'plugsrv,nginx-1w,nginx-auto').split(',').filter(Boolean),
    resultsFile: process.env.BENCH_RESULTS_FILE ?? join(packageRoot(), 'bench', 'results', 'serve-latest.json'),
  };
}

function plugsrvOverrides(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PLUGSRV_') && e[1] !== undefined));
}

function sizeLabel(bytes: number): string {
  return bytes % 1073741824 === 0 ? `${bytes / 1073741824} GiB` : `${(bytes / 1048576).toFixed(0)} MiB`;
}

/** Where the store keeps a blob: <data-dir>/blobs/sha256/<first two hex digits>/<sha256>. */
function blobPathOf(dataDir: string, sha256: string, size: number): string {
  const path = join(dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  if (!existsSync(path) || statSync(path).size !== size) throw new Error(`the imported blob is not at ${path}; has the store layout changed? Update blobPathOf in bench/serve/run.ts.`);
  return path;
}

async function startServers(work: string, dataDir: string, sha256: string, blobPath: string, size: number, s: Settings, cleanup: Cleanup): Promise<BenchServer[]> {
  const servers: BenchServer[] = [];
  for (const name of s.servers) {
    if (name === 'plugsrv') {
      const server = await startPlugsrv(dataDir, sha256, cleanup);
      await waitUntilServing(server.url, size, async () => 'plugsrv answers, but not with the imported file');
      servers.push(server);
    } else if (name === 'nginx-1w' || name === 'nginx-auto') {
      servers.push(await startNginx(work, name, name === 'nginx-1w' ? '1' : 'auto', blobPath, size, cleanup));
    } else throw new Error(`unknown server "${name}" in BENCH_SERVERS; use plugsrv, nginx-1w, nginx-auto`);
  }
  return servers;
}

/** Runs one scenario against every server in turn, printing a line per server as it finishes. */
async function scenario<T>(
  id: string,
  title: string,
  servers: BenchServer[],
  work: (server: BenchServer) => Promise<T>,
  describe: (r: T) => string,
  warmUp?: (server: BenchServer) => Promise<unknown>,
): Promise<Scenario<T>> {
  const runs: ServerRun<T>[] = [];
  for (const server of servers) {
    await warmUp?.(server);
    const { result, usage } = await withUsage(server, () => work(server));
    const background = usage.backgroundBusy >= 0.1 ? `  WARNING: machine ${(usage.backgroundBusy * 100).toFixed(0)}% busy before the run` : '';
    console.log(`  ${id} ${server.name.padEnd(10)} ${describe(result)}  (server ${usage.serverCores.toFixed(2)} cores, machine ${(usage.machineBusy * 100).toFixed(0)}% busy)${background}`);
    runs.push({ server: server.name, result, usage });
  }
  return { id, title, runs };
}

function describeDownload(r: DownloadResult): string {
  return `${r.mibPerSecond.toFixed(0)} MiB/s in ${r.seconds.toFixed(2)} s${r.errors.length ? `  ERRORS: ${r.errors.length}` : ''}`;
}

function describeRanges(r: RangeResult): string {
  return `${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.bodiesVerified} bodies verified${r.errorCount ? `  ERRORS: ${r.errorCount}` : ''}`;
}

async function runScenarios(servers: BenchServer[], blobPath: string, size: number, s: Settings, cleanup: Cleanup): Promise<Scenarios> {
  const file = sizeLabel(size);
  const single = await scenario('(a)', `(a) 1 client x ${file}`, servers, (sv) => downloadScenario(sv.url, size, 1, cleanup), describeDownload);
  const concurrent = await scenario('(b)', `(b) ${s.clients} clients x ${file}`, servers, (sv) => downloadScenario(sv.url, size, s.clients, cleanup), describeDownload);
  const rangeOptions = (url: string, durationMs: number) => ({
    url,
    filePath: blobPath,
    size,
    connections: s.rangeConnections,
    rangeBytes: s.rangeBytes,
    durationMs,
    maxRequests: 5_000_000,
    verifyEvery: 64,
    seed: 20240601,
  });
  const ranges = await scenario(
    '(c)',
    `(c) ${s.rangeConnections} conns x ${s.rangeBytes / 1024} KiB ranges, ${s.rangeSeconds} s`,
    servers,
    (sv) => rangeScenario(rangeOptions(sv.url, s.rangeSeconds * 1000)),
    describeRanges,
    // One second that is not counted: JIT warm-up on both sides.
    (sv) => rangeScenario(rangeOptions(sv.url, 1000)),
  );
  return { single, concurrent, ranges };
}

function environment(): Record<string, unknown> {
  return {
    node: process.version,
    nginx: toolVersion(NGINX, ['-v']),
    curl: toolVersion(CURL, ['--version']),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    plugsrvEnv: plugsrvOverrides(),
  };
}

async function main(cleanup: Cleanup): Promise<number> {
  const s = settingsFromEnv();
  ensureNginx();
  ensureCurl();
  const work = await makeWorkDir(cleanup);
  console.log(`bench: work dir ${work}; writing a ${sizeLabel(s.fileBytes)} random file and importing it with the plugsrv CLI ...`);
  const source = join(work, 'package.bin');
  await writeRandomFile(source, s.fileBytes);
  const dataDir = join(work, 'data');
  const { sha256, size } = await importFile(dataDir, source, cleanup);
  const blobPath = blobPathOf(dataDir, sha256, size);
  await warmPageCache(blobPath);
  const servers = await startServers(work, dataDir, sha256, blobPath, size, s, cleanup);
  console.log(`bench: serving sha256 ${sha256} from ${servers.map((sv) => `${sv.name} ${sv.url}`).join(', ')}`);
  const scenarios = await runScenarios(servers, blobPath, size, s, cleanup);
  const summary = summarize(scenarios);
  printReport(scenarios, servers.map((sv) => sv.name), summary);
  await writeResults(s.resultsFile, { date: new Date().toISOString(), environment: environment(), settings: s, fileBytes: size, sha256, scenarios, summary });
  console.log(`\nresults written to ${s.resultsFile}`);
  return summary.verificationErrors.length > 0 ? 1 : 0;
}

runBench(new Cleanup(), main, 'servers and removing temp files');
