// `plugsrv fetch`: the reference client for dealer PCs: lists a server's ready packages and downloads them onto a USB key folder.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rmdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir } from '../../../lib/fs-durable.js';
import { AgentError, ErrorCode } from '../errors.js';
import {
  bytesNeeded,
  formatPackageTable,
  listUrl,
  mib,
  packageUrl,
  parsePackageList,
  parseServerUrl,
  partialPathOf,
  PARTIAL_DIR,
  selectPackages,
  serverError,
  type PackageFilter,
  type ServerPackage,
} from '../fetch/index.js';
import { downloadTarget, sidecarPath } from '../sync/download/index.js';
import { TokenBucket } from '../sync/policy/index.js';

const MiB = 1024 * 1024;
/** Kept free on the output disk beyond the packages: sidecars, directory entries, the file system's own needs. */
const SPACE_MARGIN_BYTES = 4 * MiB;
const LIST_TIMEOUT_MS = 15_000;

interface FetchOptions {
  server: string;
  vin?: string;
  headUnit?: string;
  model?: string;
  kind?: string;
  id?: string[];
  all?: boolean;
  list?: boolean;
  out?: string;
  json?: boolean;
  segmentBytes?: number;
  checkpointBytes?: number;
  maxRate?: number;
  connections?: number;
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not "${value}"`);
    return n;
  };
}

/** plugsrv fetch. */
export function registerFetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('list or download the packages a plugsrv server has ready, e.g. onto a USB update key (the dealer PC client)')
    .requiredOption('-s, --server <url>', 'the plugsrv box, e.g. http://192.168.1.20:8080 (required: no DNS-SD discovery yet)')
    .option('--vin <vin>', 'only packages for this vehicle (17 characters; the server resolves it to models)')
    .option('--head-unit <name>', 'only packages for this head unit (R-LINK2, EASY-LINK, IVI ...)')
    .option('--model <code>', 'only packages for this vehicle project code (XFK, BJA ...)')
    .addOption(new Option('--kind <kind>', 'only this kind of package').choices(['soft', 'map']))
    .option('--id <sha256...>', 'download these packages (ids from --list); repeatable')
    .option('--all', 'download every package matching the filters')
    .option('--list', 'print the packages ready for the filters (name, version, kind, head unit, size, id) and exit')
    .option('-o, --out <dir>', 'folder to download into (the USB key); partial downloads wait in DIR/.plugsrv-partial and resume on the next run')
    .option('--json', 'progress and results as JSON lines')
    .addOption(new Option('--segment-bytes <n>', 'parallel Range segment size').argParser(positiveInt('--segment-bytes')).default(32 * MiB).hideHelp())
    .addOption(new Option('--checkpoint-bytes <n>', 'bytes between durable checkpoints').argParser(positiveInt('--checkpoint-bytes')).default(8 * MiB).hideHelp())
    .addOption(new Option('--connections <n>', 'parallel connections per package').argParser(positiveInt('--connections')).default(4).hideHelp())
    .addOption(new Option('--max-rate <bytesPerSec>', 'bandwidth cap (tests)').argParser(positiveInt('--max-rate')).hideHelp())
    .addHelpText('after', '\nThe server must be given with --server: discovering plugsrv boxes on the LAN (DNS-SD) is not available yet.\nExit codes: 0 ok, 1 server locked or package unknown, 2 bad input (bad VIN, no --id/--all), 3 output disk full or failing, 5 server unreachable or failing.')
    .action(async (opts: FetchOptions) => {
      const server = parseServerUrl(opts.server);
      const filter: PackageFilter = { vin: opts.vin, headUnit: opts.headUnit, model: opts.model, kind: opts.kind };
      const list = await fetchList(server, filter);
      if (opts.list) {
        if (opts.json) console.log(JSON.stringify({ packages: list }));
        else console.log(formatPackageTable(list));
        return;
      }
      if (!opts.out) throw new AgentError(ErrorCode.BAD_REQUEST, 'say where to download with --out DIR (the USB key folder), or use --list.');
      const chosen = selectPackages(list, { ids: opts.id ?? [], all: Boolean(opts.all) });
      await fetchPackages(server, chosen, opts.out, opts);
    });
}

/** GET /v1/packages with the filters; every failure becomes an AgentError that says what to do. */
async function fetchList(server: URL, filter: PackageFilter): Promise<ServerPackage[]> {
  const url = listUrl(server, filter);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(LIST_TIMEOUT_MS) });
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    const why = systemErrorCode(cause) ?? systemErrorCode(err) ?? (cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err));
    throw new AgentError(ErrorCode.ORIGIN, `cannot reach the plugsrv server at ${server.origin} (${why}). Check the address, that this PC is on the dealer LAN and that the box is on.`, { cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) throw serverError(res.status, body, `the server at ${server.origin}`);
  if (body === undefined) throw new AgentError(ErrorCode.ORIGIN, `the server at ${server.origin} did not answer JSON to GET /v1/packages; is it a plugsrv box?`);
  return parsePackageList(body);
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<{ size: number; allocated: number } | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size, allocated: s.blocks * 512 } : undefined;
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined;
    throw outputError(err, path);
  }
}

/** Bytes a previous run made durable in the partial file, from its sidecar (for the start message only). */
async function resumedBytes(partialPath: string): Promise<number> {
  try {
    const side = JSON.parse(await readFile(sidecarPath(partialPath), 'utf8')) as { segments?: Array<{ start?: unknown; durable?: unknown }> };
    return (side.segments ?? []).reduce((n, s) => n + (typeof s.durable === 'number' && typeof s.start === 'number' ? s.durable - s.start : 0), 0);
  } catch {
    return 0;
  }
}

function outputError(err: unknown, path: string): unknown {
  if (err instanceof AgentError) return err;
  const code = systemErrorCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new AgentError(ErrorCode.DISK_FULL, `the disk holding ${path} is full.`, { cause: err });
  if (code !== undefined) return new AgentError(ErrorCode.STORE_IO, `cannot use ${path} (${code}): check the USB key is plugged in and writable.`, { cause: err });
  return err;
}

interface Plan {
  pkg: ServerPackage;
  dest: string;
  partial: string;
  /** Already in the output folder with the right sha256. */
  present: boolean;
}

/** Which packages are already on the key, and whether the rest fits. */
async function plan(chosen: ServerPackage[], outDir: string): Promise<Plan[]> {
  const plans: Plan[] = [];
  for (const pkg of chosen) {
    const dest = join(outDir, pkg.name);
    const existing = await sizeOf(dest);
    const present = existing !== undefined && existing.size === pkg.size && (await sha256OfFile(dest)) === pkg.id;
    plans.push({ pkg, dest, partial: partialPathOf(outDir, pkg), present });
  }
  const todo = await Promise.all(
    plans.filter((p) => !p.present).map(async (p) => {
      const partial = await sizeOf(p.partial);
      return { size: p.pkg.size, allocatedBytes: partial?.size === p.pkg.size ? partial.allocated : 0 };
    }),
  );
  const need = bytesNeeded(todo);
  if (need > 0) {
    const fs = await statfs(outDir).catch((err: unknown) => {
      throw outputError(err, outDir);
    });
    const free = fs.bavail * fs.bsize;
    if (need + SPACE_MARGIN_BYTES > free) {
      throw new AgentError(ErrorCode.DISK_FULL, `not enough free space in ${outDir}: ${mib(need)} to download, ${mib(free)} free. Use a larger USB key, free some space or fetch fewer packages (--id).`, {
        details: { needBytes: need, freeBytes: free },
      });
    }
  }
  return plans;
}

async function fetchPackages(server: URL, chosen: ServerPackage[], outDir: string, opts: FetchOptions): Promise<void> {
  try {
    await mkdir(join(outDir, PARTIAL_DIR), { recursive: true });
  } catch (err) {
    throw outputError(err, outDir);
  }
  const plans = await plan(chosen, outDir);
  const progress = fetchProgress({ json: Boolean(opts.json), tty: process.stdout.isTTY === true });
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new AgentError(ErrorCode.DOWNLOAD, 'interrupted; the bytes so far are kept: run the same command again to resume.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rate = opts.maxRate ? new TokenBucket({ rateBytesPerSec: opts.maxRate }) : undefined;
  let fetched = 0;
  let skipped = 0;
  try {
    for (const p of plans) {
      if (p.present) {
        skipped++;
        progress.skipped(p.pkg);
        continue;
      }
      progress.start(p.pkg, await resumedBytes(p.partial));
      try {
        await downloadTarget(
          { url: packageUrl(server, p.pkg), sha256: p.pkg.id, size: p.pkg.size, partialPath: p.partial },
          {
            segmentBytes: opts.segmentBytes,
            checkpointBytes: opts.checkpointBytes,
            maxConnectionsPerHost: opts.connections,
            signal: abort.signal,
            onProgress: (done) => progress.advance(done),
            ...(rate ? { rate } : {}),
          },
        );
        await rename(p.partial, p.dest);
        const handle = await open(p.dest, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fsyncDir(outDir);
      } catch (err) {
        progress.failed(p.pkg);
        throw outputError(err, p.dest);
      }
      fetched++;
      progress.done(p.pkg, p.dest);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await rmdir(join(outDir, PARTIAL_DIR)).catch(() => {});
  await fsyncDir(outDir).catch(() => {});
  progress.summary({ fetched, skipped, outDir });
}

/** Progress of `plugsrv fetch`: a bar per package on a TTY, JSON lines with --json, plain lines otherwise. */
function fetchProgress(mode: { json: boolean; tty: boolean }, out: NodeJS.WritableStream = process.stdout) {
  const line = (o: Record<string, unknown>): void => void out.write(`${JSON.stringify(o)}\n`);
  let bar: cliProgress.SingleBar | undefined;
  let current: { pkg: ServerPackage; from: number; started: number; lastJson: number } | undefined;
  return {
    start(pkg: ServerPackage, resumed: number): void {
      current = { pkg, from: resumed, started: Date.now(), lastJson: 0 };
      if (mode.json) line({ event: 'fetch-start', id: pkg.id, name: pkg.name, size: pkg.size, resumedBytes: resumed });
      else if (mode.tty) {
        bar = new cliProgress.SingleBar(
          { format: ' {name} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta_formatted}', stream: out as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(pkg.size, resumed, { name: pkg.name, done: mib(resumed), all: mib(pkg.size), speed: '' });
      } else out.write(`${resumed > 0 ? 'resuming' : 'fetching'} ${pkg.name}  ${mib(pkg.size)}${resumed > 0 ? ` from ${mib(resumed)}` : ''}\n`);
    },
    advance(done: number): void {
      if (!current) return;
      const now = Date.now();
      if (bar) {
        const s = (now - current.started) / 1000;
        bar.update(done, { done: mib(done), speed: s > 0 ? `${mib((done - current.from) / s)}/s` : '' });
      } else if (mode.json && (now - current.lastJson >= 250 || done === current.pkg.size)) {
        current.lastJson = now;
        line({ event: 'fetch-progress', id: current.pkg.id, name: current.pkg.name, bytes: done, size: current.pkg.size });
      }
    },
    done(pkg: ServerPackage, path: string): void {
      bar?.stop();
      bar = undefined;
      if (mode.json) line({ event: 'fetched', id: pkg.id, name: pkg.name, size: pkg.size, path });
      else out.write(`fetched ${pkg.name}  sha256 ${pkg.id}  ${mib(pkg.size)}\n`);
    },
    failed(pkg: ServerPackage): void {
      bar?.stop();
      bar = undefined;
      if (mode.json) line({ event: 'fetch-failed', id: pkg.id, name: pkg.name });
    },
    skipped(pkg: ServerPackage): void {
      if (mode.json) line({ event: 'skipped', id: pkg.id, name: pkg.name, reason: 'already in the output folder with the right sha256' });
      else out.write(`skipped ${pkg.name}: already there with the right sha256\n`);
    },
    summary(s: { fetched: number; skipped: number; outDir: string }): void {
      if (mode.json) line({ event: 'summary', ...s });
      else out.write(`${s.fetched} fetched, ${s.skipped} already there, in ${s.outDir}\n`);
    },
  };
}
