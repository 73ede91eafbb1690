// `plugsrv fetch`: the reference client for dealer PCs: finds the box (DNS-SD or --server), lists its ready packages, checks them against the signed catalog, downloads them onto a USB key folder.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rmdir, stat, statfs } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { systemErrorCode } from '../../../lib/errors.js';
import { browseBoxes, type DiscoveredBox } from '../discovery/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import {
  bytesNeeded,
  cacheDirOf,
  checkFileSizes,
  checkSignedCatalog,
  chooseBox,
  fileSystemOf,
  formatBoxes,
  formatPackageTable,
  listUrl,
  mib,
  noBoxError,
  packageUrl,
  parsePackageList,
  parseServerUrl,
  partialPathOf,
  PARTIAL_DIR,
  selectPackages,
  serverError,
  syncDir,
  type PackageFilter,
  type ServerPackage,
} from '../fetch/index.js';
import { DownloadDispatcher, downloadTarget, runSlots, sidecarPath } from '../sync/download/index.js';
import { TokenBucket } from '../sync/policy/index.js';
import { configFrom } from './context.js';

const MiB = 1024 * 1024;
/** Kept free on the output disk beyond the packages: sidecars, directory entries, the file system's own needs. */
const SPACE_MARGIN_BYTES = 4 * MiB;
const LIST_TIMEOUT_MS = 15_000;
/** Once a box answered, how long to wait for others (they answer the same query at once; this spans one repeated query). */
const DISCOVER_SETTLE_MS = 1_500;
/** Packages downloaded at once. */
const PARALLEL_PACKAGES = 2;

interface FetchOptions {
  server?: string;
  discover?: boolean;
  discoverTimeout: number;
  discoverInterface?: string;
  trustedRoot?: string;
  outputFs?: string;
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
  connections: number;
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not "${value}"`);
    return n;
  };
}

function ipv4(flag: string) {
  return (value: string): string => {
    if (!isIPv4(value)) throw new Error(`${flag} must be an IPv4 address of this PC (ipconfig / ip addr shows them), not "${value}"`);
    return value;
  };
}

/** plugsrv fetch. */
export function registerFetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('list or download the packages a plugsrv server has ready, e.g. onto a USB update key (the dealer PC client)')
    .option('-s, --server <url>', 'the plugsrv box, e.g. http://192.168.1.20:8080; without it, the box is found on the LAN (DNS-SD)')
    .option('--discover', 'list the plugsrv boxes that answer on the LAN (DNS-SD) and exit')
    .addOption(new Option('--discover-timeout <ms>', 'how long to look for boxes on the LAN').argParser(positiveInt('--discover-timeout')).default(3000))
    .addOption(new Option('--discover-interface <ipv4>', "look for boxes through this PC's interface only (its IPv4 address)").argParser(ipv4('--discover-interface')))
    .option('--vin <vin>', 'only packages for this vehicle (17 characters; the server resolves it to models)')
    .option('--head-unit <name>', 'only packages for this head unit (R-LINK2, EASY-LINK, IVI ...)')
    .option('--model <code>', 'only packages for this vehicle project code (XFK, BJA ...)')
    .addOption(new Option('--kind <kind>', 'only this kind of package').choices(['soft', 'map']))
    .option('--id <sha256...>', 'download these packages (ids from --list); repeatable')
    .option('--all', 'download every package matching the filters')
    .option('--list', 'print the packages ready for the filters (name, version, kind, head unit, size, id) and exit')
    .option('-o, --out <dir>', 'folder to download into (the USB key); partial downloads wait in DIR/.plugsrv-partial and resume on the next run')
    .option('--trusted-root <file>', "the catalog's root.json: check every package against the box's signed catalog (TUF) before downloading (default: fetch.trustedRoot, PLUGSRV_FETCH_TRUSTED_ROOT)")
    .option('--json', 'progress and results as JSON lines')
    .addOption(new Option('--segment-bytes <n>', 'parallel Range segment size').argParser(positiveInt('--segment-bytes')).default(32 * MiB).hideHelp())
    .addOption(new Option('--checkpoint-bytes <n>', 'bytes between durable checkpoints').argParser(positiveInt('--checkpoint-bytes')).default(64 * MiB).hideHelp())
    .addOption(new Option('--connections <n>', 'parallel connections per package').argParser(positiveInt('--connections')).default(4).hideHelp())
    .addOption(new Option('--max-rate <bytesPerSec>', 'bandwidth cap (tests)').argParser(positiveInt('--max-rate')).hideHelp())
    .addOption(new Option('--output-fs <type>', "the output folder's file system instead of detecting it (tests)").hideHelp())
    .addHelpText(
      'after',
      [
        '',
        'Without --server, plugsrv boxes are looked for on the LAN (DNS-SD, _plugsrv._tcp, UDP 5353) for --discover-timeout: one that answers is used; when several do, say which with --server.',
        'Every package is checked against its sha256 from the box\'s list; with --trusted-root also against the box\'s signed catalog (TUF), before any byte is written.',
        'Exit codes: 0 ok, 1 server locked or package unknown, 2 bad input (bad VIN, no --id/--all, several boxes), 3 output disk full, too small a file system (FAT32) or failing, 4 signed catalog refused, 5 server unreachable or none found.',
      ].join('\n'),
    )
    .action(async (opts: FetchOptions, cmd: Command) => {
      const config = configFrom(cmd);
      if (opts.discover) return discoverCommand(opts);
      const server = opts.server ? parseServerUrl(opts.server) : await discoverServer(opts);
      const filter: PackageFilter = { vin: opts.vin, headUnit: opts.headUnit, model: opts.model, kind: opts.kind };
      const list = await fetchList(server, filter);
      if (opts.list) {
        if (opts.json) console.log(JSON.stringify({ packages: list }));
        else console.log(formatPackageTable(list));
        return;
      }
      if (!opts.out) throw new AgentError(ErrorCode.BAD_REQUEST, 'say where to download with --out DIR (the USB key folder), or use --list.');
      const chosen = selectPackages(list, { ids: opts.id ?? [], all: Boolean(opts.all) });
      const trustedRoot = opts.trustedRoot ?? config.fetch.trustedRoot;
      if (trustedRoot) await verifySigned(server, chosen, trustedRoot, cacheDirOf(config.fetch.cacheDir));
      else notice('the signed catalog was not checked, only each sha256 against the box\'s list; give the catalog\'s root.json with --trusted-root FILE (or PLUGSRV_FETCH_TRUSTED_ROOT) to verify packages end to end.');
      await fetchPackages(server, chosen, opts.out, opts);
    });
}

/** One line for the person at the PC, on stderr (stdout carries the results, JSON with --json). */
function notice(text: string): void {
  process.stderr.write(`plugsrv: ${text}\n`);
}

/** plugsrv fetch --discover: the boxes that answered, as a table or JSON; none is an error that says what to do. */
async function discoverCommand(opts: FetchOptions): Promise<void> {
  const boxes = await browseBoxes({ timeoutMs: opts.discoverTimeout, ...(opts.discoverInterface ? { interface: opts.discoverInterface } : {}) });
  if (boxes.length === 0) throw noBoxError(opts.discoverTimeout);
  if (opts.json) console.log(JSON.stringify({ boxes }));
  else console.log(formatBoxes(boxes));
}

/** The box to use when no --server was given: the one that answers DNS-SD on the LAN. */
async function discoverServer(opts: FetchOptions): Promise<URL> {
  const boxes = await browseBoxes({ timeoutMs: opts.discoverTimeout, settleMs: DISCOVER_SETTLE_MS, ...(opts.discoverInterface ? { interface: opts.discoverInterface } : {}) });
  const box: DiscoveredBox = chooseBox(boxes, opts.discoverTimeout);
  notice(`using the box ${JSON.stringify(box.name)} at ${box.url} (found on the LAN)`);
  return parseServerUrl(box.url);
}

/** Checks the chosen packages against the box's signed catalog; refuses them all, before any byte is written, when one does not match. */
async function verifySigned(server: URL, chosen: ServerPackage[], trustedRootFile: string, cacheDir: string): Promise<void> {
  const check = await checkSignedCatalog({ server, trustedRootFile, cacheDir, timeoutMs: LIST_TIMEOUT_MS }, chosen);
  const first = check.refusals[0];
  if (first) {
    const lines = check.refusals.map((r) => `  - ${r.reason} (${r.code})`).join('\n');
    throw new AgentError(
      first.code,
      `refusing the selection: ${check.refusals.length} of ${chosen.length} package(s) do not match the box's signed catalog (targets version ${check.version}):\n${lines}\nNothing was written. The box's list disagrees with what the carmaker signed: tell the after-sales support; packages that match can be fetched with --id.`,
      { details: { refused: check.refusals.map((r) => ({ id: r.pkg.id, name: r.pkg.name, code: r.code })) } },
    );
  }
  notice(`signed catalog verified (targets version ${check.version}): ${chosen.length} package(s) match it`);
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
  if (code === 'EFBIG') {
    return new AgentError(ErrorCode.FILE_TOO_LARGE, `the file system holding ${path} cannot hold a file this large (EFBIG; FAT32 stops at 4 GiB): reformat the USB key as exFAT (or NTFS), or leave this package out (--id).`, { cause: err });
  }
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

/** Which packages are already on the key, and whether the rest fits: file sizes the file system allows, then free space. */
async function plan(chosen: ServerPackage[], outDir: string, outputFs: string | undefined): Promise<Plan[]> {
  const plans: Plan[] = [];
  for (const pkg of chosen) {
    const dest = join(outDir, pkg.name);
    const existing = await sizeOf(dest);
    const present = existing !== undefined && existing.size === pkg.size && (await sha256OfFile(dest)) === pkg.id;
    plans.push({ pkg, dest, partial: partialPathOf(outDir, pkg), present });
  }
  checkFileSizes(outputFs ?? (await fileSystemOf(outDir)), plans.filter((p) => !p.present).map((p) => p.pkg), outDir);
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
    await mkdir(outDir, { recursive: true });
  } catch (err) {
    throw outputError(err, outDir);
  }
  // Every check before the partial folder is made: a refused selection leaves the output folder as it was.
  const plans = await plan(chosen, outDir, opts.outputFs);
  try {
    await mkdir(join(outDir, PARTIAL_DIR), { recursive: true });
  } catch (err) {
    throw outputError(err, outDir);
  }
  const todo = plans.filter((p) => !p.present);
  const progress = fetchProgress({ json: Boolean(opts.json), tty: process.stdout.isTTY === true }, todo.reduce((n, p) => n + p.pkg.size, 0));
  for (const p of plans) if (p.present) progress.skipped(p.pkg);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new AgentError(ErrorCode.DOWNLOAD, 'interrupted; the bytes so far are kept: run the same command again to resume.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rate = opts.maxRate ? new TokenBucket({ rateBytesPerSec: opts.maxRate }) : undefined;
  // One keep-alive pool for every package: PARALLEL_PACKAGES downloads of `connections` Range requests each.
  const dispatcher = new DownloadDispatcher(opts.connections * PARALLEL_PACKAGES);
  let fetched = 0;
  let failure: { err: unknown } | undefined;
  const fetchOne = async (p: Plan, onTransferred: () => void): Promise<void> => {
    progress.start(p.pkg, await resumedBytes(p.partial));
    try {
      await downloadTarget(
        { url: packageUrl(server, p.pkg), sha256: p.pkg.id, size: p.pkg.size, partialPath: p.partial },
        {
          dispatcher,
          segmentBytes: opts.segmentBytes,
          checkpointBytes: opts.checkpointBytes,
          maxConnectionsPerHost: opts.connections,
          signal: abort.signal,
          onProgress: (done) => progress.advance(p.pkg, done),
          onTransferred,
          ...(rate ? { rate } : {}),
        },
      );
      await rename(p.partial, p.dest);
      // r+: Windows flushes only a handle open for writing.
      const handle = await open(p.dest, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await syncDir(outDir);
    } catch (err) {
      progress.failed(p.pkg);
      throw outputError(err, p.dest);
    }
    fetched++;
    progress.done(p.pkg, p.dest);
  };
  // Two packages at a time: one's fsyncs and set-up overlap the other's transfer (small packages are mostly that),
  // and each slot moves on once its package's bytes are written.
  const fetchOrFail = (p: Plan, onTransferred: () => void): Promise<void> =>
    fetchOne(p, onTransferred).catch((err: unknown) => {
      // The first failure is the one reported; the other downloads stop with their bytes kept for a resume.
      failure ??= { err };
      abort.abort(err);
    });
  try {
    await runSlots(Math.min(PARALLEL_PACKAGES, todo.length), () => todo.shift(), fetchOrFail, () => failure !== undefined);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
    await dispatcher.destroy().catch(() => {});
  }
  if (failure) throw failure.err;
  await rmdir(join(outDir, PARTIAL_DIR)).catch(() => {});
  await syncDir(outDir).catch(() => {});
  progress.summary({ fetched, skipped: plans.length - fetched, outDir });
}

/**
 * Progress of `plugsrv fetch`: on a TTY a bar per package in flight and one for the whole selection (speed
 * and ETA each), JSON lines with --json, plain lines otherwise.
 */
function fetchProgress(mode: { json: boolean; tty: boolean }, totalBytes: number, out: NodeJS.WritableStream = process.stdout) {
  const line = (o: Record<string, unknown>): void => void out.write(`${JSON.stringify(o)}\n`);
  const format = ' {name} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta_formatted}';
  const multi = mode.tty && !mode.json ? new cliProgress.MultiBar({ format, stream: out as NodeJS.WriteStream, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic) : undefined;
  const started = Date.now();
  const overall = multi?.create(Math.max(1, totalBytes), 0, { name: 'all', done: mib(0), all: mib(totalBytes), speed: '' });
  let overallDone = 0;
  const live = new Map<string, { pkg: ServerPackage; from: number; done: number; started: number; lastJson: number; bar?: cliProgress.SingleBar }>();
  const speed = (bytes: number, since: number): string => {
    const s = (Date.now() - since) / 1000;
    return s > 0 ? `${mib(bytes / s)}/s` : '';
  };
  const say = (text: string): void => {
    if (multi) multi.log(`${text}\n`);
    else out.write(`${text}\n`);
  };
  const drop = (pkg: ServerPackage): void => {
    const cur = live.get(pkg.id);
    if (cur?.bar) multi?.remove(cur.bar);
    live.delete(pkg.id);
  };
  return {
    start(pkg: ServerPackage, resumed: number): void {
      const cur = { pkg, from: resumed, done: resumed, started: Date.now(), lastJson: 0, ...(multi ? { bar: multi.create(Math.max(1, pkg.size), resumed, { name: pkg.name, done: mib(resumed), all: mib(pkg.size), speed: '' }) } : {}) };
      live.set(pkg.id, cur);
      overallDone += resumed;
      if (mode.json) line({ event: 'fetch-start', id: pkg.id, name: pkg.name, size: pkg.size, resumedBytes: resumed });
      else if (!multi) out.write(`${resumed > 0 ? 'resuming' : 'fetching'} ${pkg.name}  ${mib(pkg.size)}${resumed > 0 ? ` from ${mib(resumed)}` : ''}\n`);
    },
    advance(pkg: ServerPackage, done: number): void {
      const cur = live.get(pkg.id);
      if (!cur) return;
      overallDone += done - cur.done;
      cur.done = done;
      const now = Date.now();
      if (cur.bar) {
        cur.bar.update(done, { done: mib(done), speed: speed(done - cur.from, cur.started) });
        overall?.update(overallDone, { done: mib(overallDone), speed: speed(overallDone, started) });
      } else if (mode.json && (now - cur.lastJson >= 250 || done === pkg.size)) {
        cur.lastJson = now;
        line({ event: 'fetch-progress', id: pkg.id, name: pkg.name, bytes: done, size: pkg.size });
      }
    },
    done(pkg: ServerPackage, path: string): void {
      drop(pkg);
      if (mode.json) line({ event: 'fetched', id: pkg.id, name: pkg.name, size: pkg.size, path });
      else say(`fetched ${pkg.name}  sha256 ${pkg.id}  ${mib(pkg.size)}`);
    },
    failed(pkg: ServerPackage): void {
      drop(pkg);
      if (mode.json) line({ event: 'fetch-failed', id: pkg.id, name: pkg.name });
    },
    skipped(pkg: ServerPackage): void {
      if (mode.json) line({ event: 'skipped', id: pkg.id, name: pkg.name, reason: 'already in the output folder with the right sha256' });
      else say(`skipped ${pkg.name}: already there with the right sha256`);
    },
    /** Takes the bars off the terminal (before an error message or the summary). */
    stop(): void {
      multi?.stop();
    },
    summary(s: { fetched: number; skipped: number; outDir: string }): void {
      if (mode.json) line({ event: 'summary', ...s });
      else out.write(`${s.fetched} fetched, ${s.skipped} already there, in ${s.outDir}\n`);
    },
  };
}
