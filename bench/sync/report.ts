// The sync bench's rounds and verdict (also used by the fetch bench): which client runs when in each round, which runs pair up,
// the tables (throughput, CPU, RSS; RSS against target size), and ours judged against the 0.9 x curl target.
import { GiB, MiB } from './catalog.js';
import type { ClientResult } from './clients.js';

export const TARGET_RATIO_TO_CURL = 0.9;

export interface RssPoint {
  targetBytes: number;
  peakRssBytes: number;
  mibPerSecond: number;
  cpuSecondsPerGiB: number;
  errors: string[];
}

export interface RssScenario {
  points: RssPoint[];
  /** Why a size was shrunk or the scenario skipped, if it was. */
  notes: string[];
}

export interface Summary {
  /** Medians over the rounds. */
  oursMibPerSecond: number;
  ratioToCurl: number;
  /** Round by round (see pairwiseRatios). */
  ratiosToCurl: number[];
  ratioToCurlWithHash: number;
  ratioToAria2c: number;
  /** Against curl | tee | openssl sha256: the same duty but for the fsync, in C. */
  ratioToCurlOpenssl: number;
  /** undefined when curl was not run. */
  targetMet: boolean | undefined;
  verificationErrors: string[];
}

const fmt = (n: number | undefined, digits = 0): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function printRows(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/**
 * Ours against another client, round by round: the i-th run of ours against the i-th run of the other, which ran
 * next to it in time (this VM's speed drifts between runs far more than within a round).
 */
export function pairwiseRatios(results: readonly ClientResult[], oursName: string, other: (r: ClientResult) => boolean): number[] {
  const ours = results.filter((r) => r.name === oursName);
  const others = results.filter(other);
  return ours.slice(0, others.length).map((r, i) => r.mibPerSecond / (others[i] as ClientResult).mibPerSecond);
}

/** curl alone (`curl x4`), not a row that adds a step to it or pipes it. */
export function isRawCurl(r: ClientResult): boolean {
  return /^curl x\d+$/.test(r.name);
}

/** The curl | tee | openssl sha256 row (runCurlOpenssl). */
export function isCurlOpenssl(r: ClientResult): boolean {
  return r.name.endsWith(' | openssl sha256');
}

/**
 * The clients of round `round` (0-based): the list rotated by one more each round, so that no client always runs
 * right after the same other one. On this VM a run is slower after certain others (ours after curl: about 1.4
 * times the kernel CPU), and a fixed order would charge that to one client in every round.
 */
export function clientsOfRound<T>(clients: readonly T[], round: number): T[] {
  if (clients.length === 0) return [];
  const k = round % clients.length;
  return [...clients.slice(k), ...clients.slice(0, k)];
}

/** For each row, our run of the same round: the n-th row of a client goes with the n-th run of ours. */
export function oursOfRound(results: readonly ClientResult[], oursName: string): (r: ClientResult) => ClientResult | undefined {
  const ours = results.filter((r) => r.name === oursName);
  return (r) => ours[results.filter((x) => x.name === r.name).indexOf(r)];
}

export function summarize(results: readonly ClientResult[], oursName: string, rss: RssScenario | undefined): Summary {
  const ratiosToCurl = pairwiseRatios(results, oursName, isRawCurl);
  const ratioToCurl = median(ratiosToCurl);
  return {
    oursMibPerSecond: median(results.filter((r) => r.name === oursName).map((r) => r.mibPerSecond)),
    ratioToCurl,
    ratiosToCurl,
    ratioToCurlWithHash: median(pairwiseRatios(results, oursName, (r) => r.name.startsWith('curl') && r.name.endsWith('+ sha256sum'))),
    ratioToAria2c: median(pairwiseRatios(results, oursName, (r) => r.name.startsWith('aria2c'))),
    ratioToCurlOpenssl: median(pairwiseRatios(results, oursName, isCurlOpenssl)),
    targetMet: Number.isFinite(ratioToCurl) ? ratioToCurl >= TARGET_RATIO_TO_CURL : undefined,
    verificationErrors: [...results.flatMap((r) => r.errors), ...(rss?.points.flatMap((p) => p.errors) ?? [])],
  };
}

export function printReport(results: readonly ClientResult[], oursName: string, totalBytes: number, targets: number, rss: RssScenario | undefined, s: Summary): void {
  const ourRunFor = oursOfRound(results, oursName);
  console.log(`\n${targets} targets, ${fmt(totalBytes / MiB)} MiB (${fmt(totalBytes / GiB, 2)} GiB), nginx on 127.0.0.1 (sendfile on):`);
  printRows(
    ['client', 'MiB/s', 'wall s', 'ours/this', 'CPU s/GiB', 'user s', 'sys s', 'peak RSS MiB', 'nginx CPU s/GiB'],
    results.map((r) => [
      r.name,
      fmt(r.mibPerSecond),
      fmt(r.wallSeconds, 2),
      r.name === oursName ? '' : fmt((ourRunFor(r)?.mibPerSecond ?? NaN) / r.mibPerSecond, 2),
      fmt(r.cpuSecondsPerGiB, 2),
      fmt(r.userSeconds, 2),
      fmt(r.sysSeconds, 2),
      fmt(r.peakRssBytes / MiB, 1),
      fmt(r.serverCpuSeconds / (r.bytes / GiB), 2),
    ]),
  );
  if (rss) {
    console.log('\npeak RSS of our sync against the size of a single target:');
    if (rss.points.length > 0) {
      printRows(
        ['target size', 'peak RSS MiB', 'MiB/s', 'CPU s/GiB'],
        rss.points.map((p) => [`${fmt(p.targetBytes / MiB)} MiB`, fmt(p.peakRssBytes / MiB, 1), fmt(p.mibPerSecond), fmt(p.cpuSecondsPerGiB, 2)]),
      );
    }
    for (const note of rss.notes) console.log(`  note: ${note}`);
  }
  const rounds = s.ratiosToCurl.length > 1 ? ` (median of ${s.ratiosToCurl.length} rounds: ${s.ratiosToCurl.map((r) => fmt(r, 2)).join(', ')})` : '';
  console.log(`\nours/curl ${fmt(s.ratioToCurl, 2)}${rounds} (target >= ${TARGET_RATIO_TO_CURL}: ${s.targetMet === undefined ? 'not measured' : s.targetMet ? 'MET' : 'MISSED'}); ours/(curl | tee | openssl sha256) ${fmt(s.ratioToCurlOpenssl, 2)}; ours/(curl + sha256sum) ${fmt(s.ratioToCurlWithHash, 2)}; ours/aria2c ${fmt(s.ratioToAria2c, 2)}`);
  if (s.verificationErrors.length > 0) {
    console.log(`\nVERIFICATION FAILED (${s.verificationErrors.length}):`);
    for (const e of s.verificationErrors.slice(0, 20)) console.log(`  ${e}`);
  }
}
