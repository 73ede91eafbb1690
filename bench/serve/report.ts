// Turns the serve bench's measurements into a printed table and a JSON results file, and judges them against the targets.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DownloadResult } from './download.js';
import type { RangeResult } from './ranges.js';
import type { Usage } from './usage.js';

export const TARGET_RATIO = 0.8;
export const TARGET_RSS_BYTES = 150 * 1e6;
export const OURS = 'plugsrv';
export const BASELINE = 'nginx-1w';

export interface ServerRun<T> {
  server: string;
  result: T;
  usage: Usage;
}

export interface Scenario<T> {
  id: string;
  title: string;
  runs: ServerRun<T>[];
}

export interface Scenarios {
  single: Scenario<DownloadResult>;
  concurrent: Scenario<DownloadResult>;
  ranges: Scenario<RangeResult>;
}

export interface Summary {
  concurrentRatio: number;
  singleRatio: number;
  rangesRatio: number;
  plugsrvPeakRssMb: number;
  targets: { concurrentRatio: boolean; rss: boolean };
  verificationErrors: string[];
}

function run<T>(scenario: Scenario<T>, server: string): ServerRun<T> | undefined {
  return scenario.runs.find((r) => r.server === server);
}

function ratio(ours: number | undefined, theirs: number | undefined): number {
  return ours !== undefined && theirs ? ours / theirs : NaN;
}

const mb = (bytes: number): number => bytes / 1e6;

export function summarize(s: Scenarios): Summary {
  const rate = (r: ServerRun<DownloadResult> | undefined): number | undefined => r?.result.mibPerSecond;
  const ours = run(s.concurrent, OURS);
  const peak = ours ? Math.max(ours.usage.peakRssKernel, ours.usage.peakRssSampled) : NaN;
  const concurrentRatio = ratio(rate(ours), rate(run(s.concurrent, BASELINE)));
  const errors = [s.single, s.concurrent, s.ranges].flatMap((sc: Scenario<DownloadResult | RangeResult>) =>
    sc.runs.flatMap((r) => r.result.errors.map((e) => `${sc.id} ${r.server}: ${e}`)),
  );
  return {
    concurrentRatio,
    singleRatio: ratio(rate(run(s.single, OURS)), rate(run(s.single, BASELINE))),
    rangesRatio: ratio(run(s.ranges, OURS)?.result.requestsPerSecond, run(s.ranges, BASELINE)?.result.requestsPerSecond),
    plugsrvPeakRssMb: mb(peak),
    targets: { concurrentRatio: concurrentRatio >= TARGET_RATIO, rss: peak < TARGET_RSS_BYTES },
    verificationErrors: errors,
  };
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

function line(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

function printRows(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  console.log(line(header, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r, widths));
}

/** One table row: a figure per server, then ours/other for every other server. */
function figureRow<T>(label: string, sc: Scenario<T>, servers: string[], value: (r: ServerRun<T>) => number, digits: number, withRatios = true): string[] {
  const ours = run(sc, OURS);
  const cells = servers.map((name) => {
    const r = run(sc, name);
    return fmt(r ? value(r) : undefined, digits);
  });
  const ratios = servers.filter((n) => n !== OURS).map((name) => {
    const other = run(sc, name);
    return withRatios && ours && other ? fmt(value(ours) / value(other), 2) : '';
  });
  return [label, ...cells, ...ratios];
}

export function printReport(s: Scenarios, servers: string[], summary: Summary): void {
  const others = servers.filter((n) => n !== OURS);
  const header = ['scenario', ...servers, ...others.map((n) => `ours/${n}`)];
  const dl = (r: ServerRun<DownloadResult>): number => r.result.mibPerSecond;
  const cpuPerGiB = (r: ServerRun<DownloadResult>): number => r.usage.serverCpuSeconds / (r.result.bytes / 1073741824);
  const rows = [
    figureRow(`${s.single.title}  MiB/s`, s.single, servers, dl, 0),
    figureRow(`${s.concurrent.title}  MiB/s`, s.concurrent, servers, dl, 0),
    figureRow(`${s.ranges.title}  req/s`, s.ranges, servers, (r) => r.result.requestsPerSecond, 0),
    figureRow(`${s.single.id} server CPU s/GiB`, s.single, servers, cpuPerGiB, 2, false),
    figureRow(`${s.concurrent.id} server CPU s/GiB`, s.concurrent, servers, cpuPerGiB, 2, false),
    figureRow(`${s.ranges.id} server CPU us/req`, s.ranges, servers, (r) => (r.usage.serverCpuSeconds / r.result.requests) * 1e6, 0, false),
    figureRow(`${s.ranges.id} p50 latency ms`, s.ranges, servers, (r) => r.result.latencyMs.p50, 2, false),
    figureRow(`${s.ranges.id} p99 latency ms`, s.ranges, servers, (r) => r.result.latencyMs.p99, 2, false),
  ];
  console.log('');
  printRows(header, rows);

  console.log('\nserver CPU (cores busy) / machine busy % / server peak RSS MB:');
  const usageRows = [s.single, s.concurrent, s.ranges].map((sc: Scenario<DownloadResult | RangeResult>) => [
    sc.id,
    ...servers.map((name) => {
      const u = run(sc, name)?.usage;
      return u ? `${fmt(u.serverCores, 2)} / ${fmt(u.machineBusy * 100)}% / ${fmt(mb(Math.max(u.peakRssKernel, u.peakRssSampled)))}` : '-';
    }),
  ]);
  printRows(['scenario', ...servers], usageRows);

  const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
  console.log(`\nplugsrv peak RSS during ${s.concurrent.id}: ${fmt(summary.plugsrvPeakRssMb, 1)} MB (target < ${mb(TARGET_RSS_BYTES)} MB: ${verdict(summary.targets.rss)})`);
  console.log(`${s.concurrent.id} ours/${BASELINE}: ${fmt(summary.concurrentRatio, 2)} (target >= ${TARGET_RATIO}: ${verdict(summary.targets.concurrentRatio)})`);
  if (summary.verificationErrors.length > 0) {
    console.log(`\nVERIFICATION FAILED (${summary.verificationErrors.length}):`);
    for (const e of summary.verificationErrors.slice(0, 20)) console.log(`  ${e}`);
  }
}

export async function writeResults(path: string, results: object): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}
