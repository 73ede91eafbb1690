// Flash benchmark: our flash engine against `bmaptool copy` and a whole-image `dd`, onto file targets on the same file
// system, in the same run; each tool timed as a process under GNU time, the page cache dropped before each run when root.
// Env: BENCH_FLASH_IMAGE_MIB (1024), BENCH_FLASH_MAPPED (0.45), BENCH_FLASH_IMAGE=built (image/out's image, bmap and
// manifest) or a directory holding them, BENCH_FLASH_ROUNDS (3), BENCH_FLASH_CLIENTS, BENCH_FLASH_WORK_PARENT, BENCH_RESULTS_FILE.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { runBench } from '../serve/cleanup.js';
import { writeResults } from '../serve/report.js';
import { toolVersion } from '../serve/setup.js';
import { freeBytes } from '../sync/catalog.js';
import { GroupCleanup } from '../sync/cleanup.js';
import { ensureTime, timed, type TimedRun } from '../sync/timed.js';
import { builtImage, generateImage, MiB, sha256Of, type BenchImage } from './image.js';
import { dropCaches, type OursMode, type OursOutput } from './ours.js';

const OURS_JS = resolve(packageRoot(), 'dist', 'bench', 'flash', 'ours.js');
const MB = 1e6;

interface Settings {
  /** 'generated' (default) or 'built' (image/out/plugsrv-*.raw with its bmap and manifest), or a path to a directory holding them. */
  image: string;
  imageMiB: number;
  mappedFraction: number;
  clients: string[];
  /** Each tool runs this many times, interleaved; the median run (by wall time) is reported. */
  rounds: number;
  resultsFile: string;
}

function settingsFromEnv(): Settings {
  const imageMiB = Number(process.env.BENCH_FLASH_IMAGE_MIB ?? 1024);
  const mappedFraction = Number(process.env.BENCH_FLASH_MAPPED ?? 0.45);
  if (!Number.isFinite(imageMiB) || imageMiB < 64) throw new Error(`BENCH_FLASH_IMAGE_MIB must be a number >= 64, not "${process.env.BENCH_FLASH_IMAGE_MIB}"`);
  if (!(mappedFraction > 0 && mappedFraction < 0.95)) throw new Error(`BENCH_FLASH_MAPPED must be in (0, 0.95), not "${process.env.BENCH_FLASH_MAPPED}"`);
  return {
    image: process.env.BENCH_FLASH_IMAGE ?? 'generated',
    imageMiB: Math.round(imageMiB),
    mappedFraction,
    clients: (process.env.BENCH_FLASH_CLIENTS ?? 'check,write,write-verify,flash,flash-cached,bmaptool,dd').split(',').filter(Boolean),
    rounds: Math.max(1, Math.round(Number(process.env.BENCH_FLASH_ROUNDS ?? 3)) || 1),
    resultsFile: process.env.BENCH_RESULTS_FILE ?? join(packageRoot(), 'bench', 'results', 'flash-latest.json'),
  };
}

interface Result {
  name: string;
  /** Bytes the tool wrote to the target. */
  bytesWritten: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** The image's size over the wall time: how fast a disk gets the image. */
  imageMBps: number;
  writtenMBps: number;
  ours?: OursOutput;
  errors: string[];
  command: string;
}

const LABEL: Record<string, string> = {
  check: 'ours: image pass only (sha256 + ranges)',
  write: 'ours: write only',
  'write-verify': 'ours: write + read-back verify',
  flash: 'ours: flash (image pass + write + verify)',
  'flash-cached': 'ours: flash, image pass cached (line usual)',
  bmaptool: 'bmaptool copy (checks image ranges)',
  dd: 'dd bs=4M conv=fsync (whole image)',
};

function toResult(name: string, run: TimedRun, image: BenchImage, bytesWritten: number, command: string): Result {
  const errors = run.exitCode === 0 ? [] : [`${name}: exit ${run.exitCode}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`];
  return {
    name,
    bytesWritten,
    wallSeconds: run.wallSeconds,
    cpuSeconds: run.userSeconds + run.sysSeconds,
    peakRssBytes: run.maxRssBytes,
    imageMBps: image.bytes / MB / run.wallSeconds,
    writtenMBps: bytesWritten / MB / run.wallSeconds,
    errors,
    command,
  };
}

async function runClient(client: string, image: BenchImage, target: string, drop: boolean, cleanup: GroupCleanup): Promise<Result> {
  const name = LABEL[client];
  if (!name) throw new Error(`unknown client "${client}" in BENCH_FLASH_CLIENTS; use ${Object.keys(LABEL).join(', ')}`);
  if (client === 'bmaptool') {
    const args = ['-q', 'copy', '--bmap', image.bmapPath, image.image, target];
    return toResult(name, await timed('bmaptool', args, process.env, cleanup), image, image.bmap.mappedBytes, `bmaptool ${args.join(' ')}`);
  }
  if (client === 'dd') {
    const args = [`if=${image.image}`, `of=${target}`, 'bs=4M', 'conv=fsync', 'status=none'];
    return toResult(name, await timed('dd', args, process.env, cleanup), image, image.bytes, `dd ${args.join(' ')}`);
  }
  const mode = client as OursMode;
  const args = [OURS_JS, mode, image.image, image.bmapPath, image.manifest, target, drop ? 'drop-caches' : ''];
  const run = await timed(process.execPath, args, process.env, cleanup);
  const r = toResult(name, run, image, mode === 'check' ? 0 : image.bmap.mappedBytes, `node dist/bench/flash/ours.js ${mode} ...`);
  const line = run.stdout.trim().split('\n').at(-1);
  if (run.exitCode === 0 && line) r.ours = JSON.parse(line) as OursOutput;
  return r;
}

const fmt = (n: number | undefined, digits = 0): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');

function printTable(results: Result[]): void {
  const header = ['run', 'image MB/s', 'written MB/s', 'wall s', 'write s', 'verify s', 'CPU s', 'peak RSS MiB'];
  const rows = results.map((r) => [r.name, fmt(r.imageMBps), fmt(r.writtenMBps), fmt(r.wallSeconds, 2), fmt(r.ours?.writeSeconds || undefined, 2), fmt(r.ours?.verifySeconds || undefined, 2), fmt(r.cpuSeconds, 2), fmt(r.peakRssBytes / MiB, 1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

interface Summary {
  /** Rate ratios (image bytes over wall time): > 1 means ours is faster. */
  writeOnlyToBmaptool: number;
  writeVerifyToBmaptool: number;
  flashToBmaptool: number;
  writeOnlyToDd: number;
  writeVerifyToDd: number;
  flashToDd: number;
  flashCachedToBmaptool: number;
  flashCachedToDd: number;
  /** Read-back verify seconds over write seconds (ours, write + verify run). */
  verifyCost: number;
  /** The image pass (what the cache saves) in seconds, and over ours write + verify wall time. */
  imagePassSeconds: number;
  imagePassToWriteVerify: number;
  verificationErrors: string[];
}

function summarize(results: Result[]): Summary {
  const by = (client: string): Result | undefined => results.find((r) => r.name === LABEL[client]);
  const ratio = (a: string, b: string): number => (by(a)?.imageMBps ?? NaN) / (by(b)?.imageMBps ?? NaN);
  const wv = by('write-verify')?.ours;
  const check = by('check');
  return {
    writeOnlyToBmaptool: ratio('write', 'bmaptool'),
    writeVerifyToBmaptool: ratio('write-verify', 'bmaptool'),
    flashToBmaptool: ratio('flash', 'bmaptool'),
    writeOnlyToDd: ratio('write', 'dd'),
    writeVerifyToDd: ratio('write-verify', 'dd'),
    flashToDd: ratio('flash', 'dd'),
    flashCachedToBmaptool: ratio('flash-cached', 'bmaptool'),
    flashCachedToDd: ratio('flash-cached', 'dd'),
    verifyCost: wv ? wv.verifySeconds / wv.writeSeconds : NaN,
    imagePassSeconds: check?.ours?.checkSeconds ?? NaN,
    imagePassToWriteVerify: (check?.wallSeconds ?? NaN) / (by('write-verify')?.wallSeconds ?? NaN),
    verificationErrors: results.flatMap((r) => r.errors),
  };
}

async function main(cleanup: GroupCleanup): Promise<number> {
  const s = settingsFromEnv();
  ensureTime();
  for (const tool of ['bmaptool', 'sgdisk', 'dd']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) throw new Error(`${tool} is required by the flash bench; install it with: apt-get install -y ${tool === 'bmaptool' ? 'bmap-tools' : tool === 'sgdisk' ? 'gdisk' : 'coreutils'}`);
  }
  const work = await mkdtemp(join(process.env.BENCH_FLASH_WORK_PARENT ?? tmpdir(), 'plugsrv-flash-bench-'));
  cleanup.removeDir(work);

  let image: BenchImage;
  const started = performance.now();
  if (s.image === 'generated') {
    const bytes = s.imageMiB * MiB;
    const free = await freeBytes(work);
    if (free < bytes * (s.mappedFraction + 1.3)) throw new Error(`${(free / 2 ** 30).toFixed(1)} GiB free on ${work}: the flash bench needs about ${((bytes * (s.mappedFraction + 1.3)) / 2 ** 30).toFixed(1)} GiB (image + one whole target); set BENCH_FLASH_IMAGE_MIB lower or BENCH_FLASH_WORK_PARENT`);
    process.stdout.write(`bench: generating a ${s.imageMiB} MiB sparse GPT image with about ${Math.round(s.mappedFraction * 100)} % random data, and its bmap ...`);
    image = await generateImage(work, bytes, s.mappedFraction);
  } else {
    const dir = s.image === 'built' ? join(packageRoot(), 'image', 'out') : s.image;
    const found = await builtImage(dir);
    if (!found) throw new Error(`no image with .bmap and manifest.json in ${dir}: build it (npm run image:build) or leave BENCH_FLASH_IMAGE unset`);
    image = found;
    process.stdout.write(`bench: using ${image.image} ...`);
  }
  console.log(` ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`bench: image ${(image.bytes / MiB).toFixed(0)} MiB, ${(image.bmap.mappedBytes / MiB).toFixed(0)} MiB mapped (${((image.bmap.mappedBytes / image.bytes) * 100).toFixed(1)} %) in ${image.bmap.ranges.length} ranges; targets: sparse files on the same file system (${work})`);

  const drop = await dropCaches();
  console.log(
    drop
      ? 'bench: running as root: page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each run, and before our read-back, so that it reads the disk'
      : 'bench: not root: page cache NOT dropped between runs (figures include cached reads; run as root for cold figures)',
  );

  const target = join(work, 'target.img');
  const runs = new Map<string, Result[]>(s.clients.map((c) => [c, []]));
  for (let round = 1; round <= s.rounds; round++) {
    if (s.rounds > 1) console.log(`round ${round} of ${s.rounds}:`);
    for (const client of s.clients) {
      await rm(target, { force: true });
      if (client !== 'dd' && client !== 'bmaptool') {
        await writeFile(target, '');
        await truncate(target, image.bytes);
      }
      await dropCaches();
      const r = await runClient(client, image, target, drop, cleanup);
      if (client !== 'check' && r.errors.length === 0) {
        // The bench's own check, not timed: the target started empty (zeros), so the whole target must equal the image.
        const got = await sha256Of(target);
        if (got !== image.sha256) r.errors.push(`${r.name}: the target does not hash to the image's sha256`);
      }
      console.log(`  ${r.name.padEnd(44)} ${fmt(r.imageMBps).padStart(5)} MB/s of image in ${fmt(r.wallSeconds, 2)} s${r.errors.length ? `  ERRORS: ${r.errors.join('; ')}` : ''}`);
      runs.get(client)?.push(r);
      await rm(target, { force: true });
    }
  }
  // Each tool's median run by wall time (errors of every run kept).
  const results = [...runs.values()].map((list) => {
    const sorted = [...list].sort((a, b) => a.wallSeconds - b.wallSeconds);
    const median = sorted[Math.floor((sorted.length - 1) / 2)] as Result;
    return { ...median, errors: list.flatMap((r) => r.errors), rounds: list.length };
  });

  const summary = summarize(results);
  console.log(s.rounds > 1 ? `\nmedian of ${s.rounds} rounds per run:` : '');
  printTable(results);
  console.log(`\nrate ratios (image bytes / wall time; > 1: ours faster):`);
  console.log(`  ours write only / bmaptool copy       ${fmt(summary.writeOnlyToBmaptool, 2)}     ours write only / dd       ${fmt(summary.writeOnlyToDd, 2)}`);
  console.log(`  ours write + verify / bmaptool copy   ${fmt(summary.writeVerifyToBmaptool, 2)}     ours write + verify / dd   ${fmt(summary.writeVerifyToDd, 2)}`);
  console.log(`  ours flash (all checks) / bmaptool    ${fmt(summary.flashToBmaptool, 2)}     ours flash / dd            ${fmt(summary.flashToDd, 2)}`);
  console.log(`  ours flash, cached pass / bmaptool    ${fmt(summary.flashCachedToBmaptool, 2)}     ours flash cached / dd     ${fmt(summary.flashCachedToDd, 2)}`);
  console.log(`verification cost: read-back verify ${fmt(summary.verifyCost, 2)} x the write time; image pass ${fmt(summary.imagePassSeconds, 2)} s (${fmt(summary.imagePassToWriteVerify, 2)} x a write + verify; paid once per image with the cache)`);
  console.log(
    'fairness: every tool runs as a process under GNU time and writes a fresh sparse file of the image size on the same file system, after sync and a cache drop (root); ' +
      'bmaptool and ours write the mapped ranges only and fsync, dd writes every byte and fsyncs; bmaptool checks the image ranges while copying but never reads the target back; ' +
      "ours 'write + verify' reads every written range back from the disk (cache dropped first) and compares its sha256; ours 'flash' adds the manifest, bmap and target checks and the image pass (whole sha256 + ranges); 'flash, image pass cached' is flash when the line's cache already knows the image (every unit after the first).",
  );
  if (summary.verificationErrors.length > 0) {
    console.log(`\nVERIFICATION FAILED (${summary.verificationErrors.length}):`);
    for (const e of summary.verificationErrors) console.log(`  ${e}`);
  }
  await writeResults(s.resultsFile, {
    date: new Date().toISOString(),
    environment: { node: process.version, bmaptool: toolVersion('bmaptool', ['--version']), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), kernel: release(), cacheDropped: drop },
    settings: s,
    image: { source: image.source, bytes: image.bytes, mappedBytes: image.bmap.mappedBytes, ranges: image.bmap.ranges.length },
    results,
    summary,
  });
  console.log(`\nresults written to ${s.resultsFile}`);
  return summary.verificationErrors.length > 0 ? 1 : 0;
}

runBench(new GroupCleanup(), main, 'the flash runs, removing temp files');
