// fio on a scratch file on the disk under test: sequential MB/s (1 MiB blocks) and random 4 KiB IOPS, write then read,
// direct I/O so the page cache does not flatter the disk. Throughput over time goes to the chart (an SSD whose cache
// runs out shows a cliff). The scratch file is removed whatever happens.
import { readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { HwErrorCode } from '../../errors.js';
import { measure } from '../evaluate.js';
import { parseFioJson, parseFioLog } from '../parse.js';
import { runTool, tail } from '../proc.js';
import { readTemperatures } from '../sensors.js';
import { commandLine, startSampler, toolOrOutcome, type StepContext, type StepDef, type StepOutcome } from '../step.js';
import type { Measure, Series } from '../types.js';

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
/** Rough layout speed to estimate how long fio takes to create the file. */
const LAYOUT_BYTES_PER_SECOND = 200e6;

/** Why the scratch directory cannot hold the test file, or undefined when it can. */
async function scratchProblem(dir: string, bytes: number): Promise<string | undefined> {
  let fs;
  try {
    fs = await statfs(dir);
  } catch (err) {
    return `the scratch directory ${dir} is unusable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give --scratch-dir on the disk under test`;
  }
  if (fs.type === TMPFS_MAGIC || fs.type === RAMFS_MAGIC) return `the scratch directory ${dir} is in RAM (tmpfs), not on the disk: give --scratch-dir on the disk under test (e.g. /var/lib/plugsrv)`;
  const free = fs.bavail * fs.bsize;
  if (free < bytes + 64 * MiB) return `the scratch directory ${dir} has ${Math.floor(free / MiB)} MiB free; the test file needs ${Math.ceil(bytes / MiB) + 64} MiB: free space or give another --scratch-dir`;
  return undefined;
}

interface Pass {
  name: string;
  rw: string;
  dir: 'read' | 'write';
}

async function runFio(ctx: StepContext, kind: 'seq' | 'random'): Promise<StepOutcome> {
  const t = ctx.profile.burnin.disk;
  const tool = await toolOrOutcome(ctx, 'fio', t.required);
  if (typeof tool !== 'string') return tool;
  const seq = kind === 'seq';
  const bytes = seq ? ctx.spec.fioSeqBytes : ctx.spec.fioRandBytes;
  const seconds = seq ? ctx.spec.fioSeqSeconds : ctx.spec.fioRandSeconds;
  const problem = await scratchProblem(ctx.scratchDir, bytes);
  if (problem) return { status: 'fail', message: `${problem}.`, errorCode: HwErrorCode.SCRATCH };
  const file = join(ctx.scratchDir, `plugsrv-burnin-${process.pid}-${kind}.fio`);
  const passes: Pass[] = seq
    ? [
        { name: 'seq-write', rw: 'write', dir: 'write' },
        { name: 'seq-read', rw: 'read', dir: 'read' },
      ]
    : [
        { name: 'rand-write', rw: 'randwrite', dir: 'write' },
        { name: 'rand-read', rw: 'randread', dir: 'read' },
      ];
  const commands: string[] = [];
  const measures: Measure[] = [];
  const series: Series[] = [];
  const nvmeTemps: Array<[number, number]> = [];
  const start = ctx.now();
  const total = passes.length * seconds + bytes / LAYOUT_BYTES_PER_SECOND;
  const sampler = startSampler(
    1000,
    async () => {
      const s = (ctx.now() - start) / 1000;
      ctx.progress(Math.min(1, s / total));
      const r = await readTemperatures(ctx.reader);
      if (r.nvmeC !== null) nvmeTemps.push([s, r.nvmeC]);
    },
    ctx.signal,
  );
  let logTail: string | undefined;
  try {
    for (const pass of passes) {
      if (ctx.signal.aborted) break;
      const log = join(ctx.workDir, pass.name);
      const args = [
        `--name=${pass.name}`,
        `--filename=${file}`,
        `--rw=${pass.rw}`,
        `--bs=${seq ? '1M' : '4k'}`,
        `--size=${Math.floor(bytes / MiB)}M`,
        `--iodepth=${seq ? 8 : 32}`,
        '--direct=1',
        '--ioengine=libaio',
        '--time_based',
        `--runtime=${seconds}`,
        '--output-format=json',
        '--log_avg_msec=500',
        '--per_job_logs=0',
        seq ? `--write_bw_log=${log}` : `--write_iops_log=${log}`,
        ...(pass.dir === 'write' ? ['--end_fsync=1'] : []),
        ...(seq ? [] : ['--norandommap', '--randrepeat=0']),
      ];
      const passStart = (ctx.now() - start) / 1000;
      const run = await runTool(tool, args, ctx.toolOptions);
      // The wall time of each run, for the record: a loaded machine or a slow file system shows here.
      commands.push(`${commandLine(tool, args)}  # exit ${run.code ?? run.signal}, ${(run.durationMs / 1000).toFixed(1)} s`);
      if (run.aborted) break;
      const result = parseFioJson(run.stdout);
      const figures = result?.[pass.dir] ?? null;
      if (run.code !== 0 || !result || result.error !== 0 || !figures) logTail = tail(`${run.stderr}\n${run.stdout}`);
      const label = `${seq ? 'Sequential' : 'Random 4 KiB'} ${pass.dir}`;
      if (seq) {
        const min = pass.dir === 'read' ? t.minSeqReadMBps : t.minSeqWriteMBps;
        measures.push(measure({ id: pass.name, label, unit: 'MB/s', value: figures ? figures.bytesPerSecond / 1e6 : null, threshold: { min }, required: true }));
        const points = parseFioLog(await readFile(`${log}_bw.log`, 'utf8').catch(() => ''), 1024 / 1e6).map(([s, v]): [number, number] => [passStart + s, v]);
        if (points.length > 0) series.push({ id: pass.name, label, unit: 'MB/s', points, threshold: { value: min, kind: 'min' } });
      } else {
        const min = pass.dir === 'read' ? t.minRandReadIops : t.minRandWriteIops;
        measures.push(measure({ id: pass.name, label, unit: 'IOPS', value: figures ? figures.iops : null, threshold: { min }, required: true }));
        const points = parseFioLog(await readFile(`${log}_iops.log`, 'utf8').catch(() => '')).map(([s, v]): [number, number] => [passStart + s, v]);
        if (points.length > 0) series.push({ id: pass.name, label, unit: 'IOPS', points, threshold: { value: min, kind: 'min' } });
      }
    }
  } finally {
    await sampler.stop();
    await rm(file, { force: true });
  }
  if (nvmeTemps.length > 0) measures.push(measure({ id: 'nvme-temp', label: 'Max NVMe temperature', unit: '°C', value: Math.max(...nvmeTemps.map(([, v]) => v)) }));
  const failed = measures.filter((m) => m.status === 'fail');
  const what = seq ? 'sequential' : 'random';
  const figures = measures.filter((m) => m.unit !== '°C').map((m) => `${m.id.replace(/^(seq|rand)-/, '')} ${m.value === null ? 'n/a' : Math.round(m.value as number)} ${m.unit}`);
  let message = `${what} ${seq ? '1 MiB' : '4 KiB'} I/O on a ${Math.floor(bytes / MiB)} MiB file in ${ctx.scratchDir}: ${figures.join(', ')}.`;
  if (failed.length > 0) {
    message = logTail
      ? `fio failed (${logTail.split('\n').pop() ?? ''}): check the scratch directory is on a local disk that supports direct I/O.`
      : `The disk is slower than the profile allows (${failed.map((m) => `${m.label} ${Math.round(m.value as number)} ${m.unit}, needs ≥ ${m.threshold?.min}`).join('; ')}). Check the SSD is the ordered model, seated in the M.2 slot, and not running hot; run the burn-in again on a cool unit before replacing it.`;
  }
  return {
    measures,
    series,
    chart: series.length > 0 ? 'line' : 'bars',
    message,
    commands,
    ...(logTail ? { logTail } : {}),
  };
}

export const diskSeqStep: StepDef = {
  id: 'disk-seq',
  title: 'Disk sequential throughput (fio)',
  required: (p) => p.burnin.disk.required,
  expectedSeconds: (spec) => Math.ceil(2 * spec.fioSeqSeconds + spec.fioSeqBytes / LAYOUT_BYTES_PER_SECOND),
  run: (ctx) => runFio(ctx, 'seq'),
};

export const diskRandomStep: StepDef = {
  id: 'disk-random',
  title: 'Disk random IOPS (fio)',
  required: (p) => p.burnin.disk.required,
  expectedSeconds: (spec) => Math.ceil(2 * spec.fioRandSeconds + spec.fioRandBytes / LAYOUT_BYTES_PER_SECOND),
  run: (ctx) => runFio(ctx, 'random'),
};
