// downloadTarget: a verified, resumable, segmented download of one signed target into a partial file the store then adopts.
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { DownloadDispatcher, type BodyDispatcher } from './dispatcher.js';
import type { Logger } from '../../../../lib/log/index.js';
import { AgentError, ErrorCode } from '../../errors.js';
import { DIRECT_ALIGN } from './buffers.js';
import { startDigester } from './digest.js';
import { describe, downloadFailed, isTransient, RestartFromZero } from './faults.js';
import { fetchRange, type RequestOptions } from './fetch-range.js';
import { discardPartial, openPartial } from './partial.js';
import { displayUrl, planSegments, retryDelayMs } from './policy.js';
import { removeHint, removeSidecar, sidecarPath, writeSidecar, type Sidecar } from './sidecar.js';
import { Transfer, type LiveSegment, type RateLimit } from './transfer.js';

const MiB = 1024 * 1024;
/** Full downloads whose hash came out wrong before giving up: a second try rules out a one-off corruption. */
const HASH_PASSES = 2;
/**
 * Segments of a target cut in segments are no longer than this: a 2 GiB target in 4 parallel segments of 512 MiB
 * would leave the hash of 1.5 GiB for after the transfer (the written prefix ends in the first segment until it is
 * complete); in 4 MiB segments fetched in order it trails by a few segments (at 4 connections, ~12 MiB), whose
 * buffers the hash worker takes from memory (digest.ts) instead of reading them back from the disk.
 */
const MAX_SEGMENT_BYTES = 4 * MiB;
/**
 * Default size from which a target is hashed in a worker thread (see DownloadDeps.hashWorkerMinBytes). Below it, a
 * target is mostly one stream from byte 0, hashed as it arrives for less than a worker's start-up costs (~80 ms of
 * CPU on a 2-core box: twelve 64 MiB targets downloaded ~15% slower with workers); above it, in segments, the worker
 * saves the serial re-read at the end (512 MiB targets ~35% faster).
 */
const HASH_WORKER_MIN_BYTES = 128 * MiB;

export interface DownloadJob {
  url: string;
  /** The signed sha256, 64 lowercase hex digits. */
  sha256: string;
  /** The signed size in bytes. */
  size: number;
  /** Where the bytes go while downloading, on the store's filesystem; `<partialPath>.json` records progress. */
  partialPath: string;
}

export interface RetryPolicy {
  /** Tries per segment without progress before giving up (a try that moved bytes resets the count). */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** The longest Retry-After honoured. */
  retryAfterCapMs?: number;
}

export interface DownloadDeps {
  /** Connection pools shared with other downloads (kept open); by default each call has its own. */
  dispatcher?: BodyDispatcher;
  maxConnectionsPerHost?: number;
  segmentBytes?: number;
  /** Bytes between fsync + sidecar checkpoints. */
  checkpointBytes?: number;
  /** Bytes between write hints (not fsynced; they let a resume after a killed process skip what was written); 0 = none. */
  hintBytes?: number;
  /**
   * Targets from this size on are hashed by a worker thread while they download (smaller ones in the main thread:
   * a worker's start-up costs more than hashing them). 0 = always a worker, Infinity = never.
   */
  hashWorkerMinBytes?: number;
  /**
   * Write with O_DIRECT where the filesystem allows it (default true): the bytes go from our buffers to the disk,
   * not through the page cache, whose new pages are the largest CPU cost of a download on a VM (docs/PERFORMANCE.md)
   * and which a night's downloads would otherwise fill at the expense of the packages being served.
   */
  directIo?: boolean;
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyTimeoutMs?: number;
  retry?: RetryPolicy;
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
  random?(): number;
  clock?(): number;
  rate?: RateLimit;
  onProgress?(doneBytes: number, totalBytes: number): void;
  /**
   * Called when every byte has been received and written, before the final fsync and hash check: the caller may
   * start its next download while this one finishes (again after a second pass, if the first failed its hash).
   */
  onTransferred?(): void;
  signal?: AbortSignal;
  log?: Pick<Logger, 'info' | 'warn'>;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
}

interface Settings {
  url: URL;
  maxConnections: number;
  segmentBytes: number;
  checkpointBytes: number;
  hintBytes: number;
  hashWorkerMinBytes: number;
  directIo: boolean;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  attempts: number;
  baseMs: number;
  maxMs: number;
  retryAfterCapMs: number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
  clock(): number;
  log: Pick<Logger, 'info' | 'warn'>;
}

const quiet: Pick<Logger, 'info' | 'warn'> = { info() {}, warn() {} };

function checkJob(job: DownloadJob): URL {
  if (!/^[0-9a-f]{64}$/.test(job.sha256)) throw new AgentError(ErrorCode.BAD_REQUEST, `download target sha256 "${job.sha256.slice(0, 80)}" is not 64 lowercase hex digits.`);
  if (!Number.isSafeInteger(job.size) || job.size < 0) throw new AgentError(ErrorCode.BAD_REQUEST, `download target size ${job.size} is not a byte count.`);
  let url: URL;
  try {
    url = new URL(job.url);
  } catch {
    throw new AgentError(ErrorCode.BAD_REQUEST, `download URL "${job.url.slice(0, 200)}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AgentError(ErrorCode.BAD_REQUEST, `download URL ${displayUrl(url)} is not http(s).`);
  return url;
}

function settingsOf(url: URL, deps: DownloadDeps): Settings {
  return {
    url,
    maxConnections: Math.max(1, deps.maxConnectionsPerHost ?? 4),
    segmentBytes: deps.segmentBytes ?? 64 * MiB,
    checkpointBytes: deps.checkpointBytes ?? 64 * MiB,
    hintBytes: deps.hintBytes ?? 128 * 1024,
    hashWorkerMinBytes: deps.hashWorkerMinBytes ?? HASH_WORKER_MIN_BYTES,
    directIo: deps.directIo ?? true,
    headersTimeoutMs: deps.headersTimeoutMs ?? 30_000,
    bodyTimeoutMs: deps.bodyTimeoutMs ?? 60_000,
    attempts: Math.max(1, deps.retry?.attempts ?? 6),
    baseMs: deps.retry?.baseMs ?? 500,
    maxMs: deps.retry?.maxMs ?? 30_000,
    retryAfterCapMs: deps.retry?.retryAfterCapMs ?? 10 * 60_000,
    sleep: deps.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    random: deps.random ?? Math.random,
    clock: deps.clock ?? Date.now,
    log: deps.log ?? quiet,
  };
}

/**
 * Downloads `job.url` into `job.partialPath`, resuming whatever a previous call (or a killed process) left
 * durable, and verifies size and sha256. Returns the path of the complete, fsynced, verified file for
 * `store.adopt(path, { sha256, size }, { hashedByCaller: true })`. Throws AgentError (or the signal's reason).
 */
export async function downloadTarget(job: DownloadJob, deps: DownloadDeps = {}): Promise<DownloadResult> {
  const s = settingsOf(checkJob(job), deps);
  const own = deps.dispatcher ? undefined : new DownloadDispatcher(s.maxConnections);
  const dispatcher = deps.dispatcher ?? (own as DownloadDispatcher);
  try {
    for (let pass = 1; ; pass++) {
      const actual = await downloadAndVerify(job, s, dispatcher, deps);
      if (actual === job.sha256) return { path: job.partialPath, sha256: job.sha256, size: job.size };
      if (actual === REWOUND) {
        pass--; // not the origin's fault: the bytes the write hint vouched for did not survive
        continue;
      }
      s.log.warn('download: the complete file has the wrong sha256; deleted', { url: displayUrl(s.url), expected: job.sha256, actual, pass });
      if (pass >= HASH_PASSES) {
        throw new AgentError(
          ErrorCode.HASH_MISMATCH,
          `${displayUrl(s.url)} delivered ${job.size} bytes hashing to sha256 ${actual}, not the signed ${job.sha256}, in ${pass} full downloads; the partial file was deleted. The origin serves a different file than was signed: report it to the publisher.`,
          { details: { url: displayUrl(s.url), expected: job.sha256, actual } },
        );
      }
    }
  } finally {
    await own?.destroy();
  }
}

let bufferedNoted = false;

/** Says once per process that downloads go through the page cache (no O_DIRECT here): slower, and it fills memory. */
function noteBufferedOnce(log: Pick<Logger, 'info'>, path: string): void {
  if (bufferedNoted) return;
  bufferedNoted = true;
  log.info('download: this platform or filesystem has no direct I/O; downloads are written through the page cache (more CPU per byte)', { path });
}

/** What downloadAndVerify returns when it rewound hinted bytes that turned out wrong (see rewindHinted). */
const REWOUND = 'rewound';

/**
 * One full pass: open or resume the partial, fetch the missing bytes, verify. Returns the file's sha256
 * (deleted when wrong), or REWOUND when the bytes resumed on the strength of the write hint were wrong.
 */
async function downloadAndVerify(job: DownloadJob, s: Settings, dispatcher: BodyDispatcher, deps: DownloadDeps): Promise<string> {
  const opened = await openPartial(job, planSegments(job.size, s.segmentBytes, s.maxConnections, MAX_SEGMENT_BYTES, DIRECT_ALIGN), s.directIo);
  if (s.directIo && !opened.direct) noteBufferedOnce(s.log, job.partialPath);
  const onDirectRefused = (err: unknown): void =>
    s.log.warn('download: the disk refused a direct write; this download goes on through the page cache', { path: job.partialPath, error: describe(err) });
  const hooks = { checkpointBytes: s.checkpointBytes, hintBytes: s.hintBytes, hintMinMs: 10, rate: deps.rate, onProgress: deps.onProgress, onDirectRefused };
  let t: Transfer;
  try {
    // The hash starts with the transfer: over the prefix already on disk when resuming, then over each write.
    t = new Transfer(opened.handle, opened.sidecar, job.partialPath, hooks, opened.hinted, (prefix) => startDigester(job.partialPath, job.size, prefix, s.hashWorkerMinBytes, s.log), opened.direct);
  } catch (err) {
    await opened.direct?.close();
    await opened.handle.close();
    throw err;
  }
  const trusted = t.doneBytes - opened.sidecar.segments.reduce((n, seg) => n + seg.durable - seg.start, 0);
  s.log.info(opened.resumed ? 'download: resuming' : 'download: starting', { url: displayUrl(s.url), size: job.size, done: t.doneBytes, segments: t.segments.length, ...(trusted > 0 ? { hintedBytes: trusted } : {}) });
  let actual: string;
  try {
    try {
      await runWithRestarts(t, s, dispatcher, deps.signal);
      deps.onTransferred?.();
      await t.complete();
    } catch (err) {
      await t.checkpoint().catch(() => {});
      throw deps.signal?.aborted ? deps.signal.reason : err;
    } finally {
      await t.closeHints();
      await opened.direct?.close();
      await opened.handle.close();
    }
    const size = (await stat(job.partialPath)).size;
    if (size !== job.size) throw new AgentError(ErrorCode.SIZE_MISMATCH, `the partial file ${job.partialPath} is ${size} bytes, not the signed ${job.size}; it was left for inspection.`);
    actual = await t.hasher.digest(deps.signal);
  } finally {
    await t.hasher.close();
  }
  if (actual === job.sha256) {
    await removeSidecar(sidecarPath(job.partialPath));
  } else if (trusted > 0 && !t.restarted && opened.hinted) {
    s.log.warn('download: bytes written before a crash did not survive it (power cut?); refetching them', { url: displayUrl(s.url), bytes: trusted });
    await rewindHinted(job, opened.sidecar, opened.hinted);
    return REWOUND;
  } else {
    await discardPartial(job.partialPath);
  }
  return actual;
}

/**
 * The file is complete but wrong after a resume that trusted the write hint: only the hinted ranges
 * [durable, hinted) are suspect (the rest was fsynced). Splits each such segment so that exactly those
 * bytes are fetched again and everything after them is kept.
 */
async function rewindHinted(job: DownloadJob, opened: Sidecar, hinted: number[]): Promise<void> {
  const segments = opened.segments.flatMap((seg, i) => {
    const h = hinted[i] ?? seg.durable;
    if (h <= seg.durable) return [{ start: seg.start, end: seg.end, durable: seg.end }];
    return [{ start: seg.start, end: h, durable: seg.durable }, ...(h < seg.end ? [{ start: h, end: seg.end, durable: seg.end }] : [])];
  });
  const side = sidecarPath(job.partialPath);
  await removeHint(side);
  await writeSidecar(side, { ...opened, segments });
}

/** Runs the segments; when the origin forces a restart from byte 0, starts over as one segment (bounded). */
async function runWithRestarts(t: Transfer, s: Settings, dispatcher: BodyDispatcher, signal: AbortSignal | undefined): Promise<void> {
  for (let restarts = 0; ; restarts++) {
    try {
      await runSegments(t, s, dispatcher, signal);
      return;
    } catch (err) {
      if (!(err instanceof RestartFromZero) || signal?.aborted) throw err;
      if (restarts >= s.attempts) {
        throw downloadFailed(`${displayUrl(s.url)} forced ${restarts + 1} restarts from byte 0 (${err.message}); the origin keeps changing the file or ignoring resumes. Try again later.`, { url: displayUrl(s.url) });
      }
      s.log.warn('download: restarting from byte 0', { url: displayUrl(s.url), reason: err.message });
      await t.restartFromZero();
    }
  }
}

/** Runs every unfinished segment, at most maxConnections at once; the first final error stops the others. */
async function runSegments(t: Transfer, s: Settings, dispatcher: BodyDispatcher, outer: AbortSignal | undefined): Promise<void> {
  const inner = new AbortController();
  const signal = outer ? AbortSignal.any([outer, inner.signal]) : inner.signal;
  const pending = t.segments.filter((seg) => seg.written < seg.end);
  let first: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let seg = pending.shift(); seg && !first; seg = pending.shift()) {
      try {
        await runSegment(t, seg, s, { dispatcher, signal, headersTimeoutMs: s.headersTimeoutMs, bodyTimeoutMs: s.bodyTimeoutMs, clock: s.clock });
      } catch (err) {
        first ??= { err };
        inner.abort(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.maxConnections, pending.length) }, worker));
  if (first) throw first.err;
}

/** Fetches one segment to its end, retrying transient faults with backoff (or the server's Retry-After). */
async function runSegment(t: Transfer, seg: LiveSegment, s: Settings, req: RequestOptions): Promise<void> {
  let failures = 0;
  while (seg.written < seg.end) {
    const before = seg.written;
    try {
      const span = { start: seg.written, end: seg.end };
      try {
        await fetchRange({ url: s.url, size: t.size, span, validator: t.validator }, req, { onValidator: (v) => t.onValidator(v), write: (chunk) => t.write(seg, chunk, req.signal) });
      } finally {
        // The bytes received are written before anything else happens to the segment (a retry from seg.written,
        // a restart, the end); a disk error of theirs replaces the transfer's.
        await t.drain(seg);
      }
    } catch (err) {
      if (req.signal.aborted || !isTransient(err)) throw err;
      failures = seg.written > before ? 1 : failures + 1;
      if (failures >= s.attempts) throw exhausted(s, seg, failures, err);
      const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
      const wait = retryDelayMs({ failures, retryAfterMs, baseMs: s.baseMs, maxMs: s.maxMs, retryAfterCapMs: s.retryAfterCapMs, random: s.random });
      s.log.warn('download: transient fault, retrying', { url: displayUrl(s.url), from: seg.written, failures, waitMs: wait, error: describe(err) });
      await s.sleep(wait, req.signal);
    }
  }
}

function exhausted(s: Settings, seg: LiveSegment, failures: number, err: unknown): AgentError {
  return downloadFailed(
    `downloading ${displayUrl(s.url)} failed ${failures} times in a row at byte ${seg.written} (last: ${describe(err)}); the origin or the network is failing. The bytes so far are kept: the next run resumes.`,
    { url: displayUrl(s.url), offset: seg.written, failures },
    err,
  );
}
