// Flashes the golden image onto one or more unit disks: every check first (bmap, manifest, one pass over the image,
// every target), then the operator's confirmation, then all targets written and verified in parallel.
import { createHash } from 'node:crypto';
import { readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { LineError, ErrorCode } from '../errors.js';
import { noProgress, type ProgressSink } from '../progress.js';
import { parseBmap, type Bmap } from './bmap.js';
import { checkImage, type ImageCheckCache } from './image-check.js';
import { readImageManifest } from './manifest.js';
import { refusal, targetFacts, type SystemPaths, type TargetFacts, type TargetKind } from './target.js';
import { writeTarget } from './write.js';

export const MAX_DEFAULT_CONCURRENCY = 8;

export interface PlannedTarget {
  readonly path: string;
  readonly kind: TargetKind;
  readonly sizeBytes: number;
  readonly description?: string;
}

/** What the operator confirms. */
export interface FlashPlan {
  readonly image: { readonly path: string; readonly bytes: number; readonly sha256: string };
  readonly bmap?: BmapInfo;
  /** Bytes written to each target (the mapped bytes, or the whole image without a bmap). */
  readonly writeBytes: number;
  readonly targets: readonly PlannedTarget[];
}

export interface BmapInfo {
  readonly path: string;
  /** sha256 of the bmap file. */
  readonly sha256: string;
  readonly blockSize: number;
  readonly ranges: number;
  readonly mappedBytes: number;
}

export interface FlashTargetsOptions {
  readonly image: string;
  /** The image's bmap; without it the whole image is written. */
  readonly bmap?: string;
  /** The image build's manifest.json; by default the one next to the image. */
  readonly manifest?: string;
  readonly targets: readonly string[];
  /** Asked once every check passed; false: nothing is written (E_NOT_CONFIRMED). */
  readonly confirm: (plan: FlashPlan) => Promise<boolean>;
  readonly progress?: ProgressSink;
  /**
   * Targets written at once; by default all of them, at most 8. Each keeps a read and a write (or an fdatasync) in
   * libuv's thread pool, 4 threads by default: a CLI flashing more than 2 targets should start with UV_THREADPOOL_SIZE
   * of at least 2 x targets + 4 (set in the environment, or before the first asynchronous I/O).
   */
  readonly concurrency?: number;
  readonly cache?: ImageCheckCache;
  readonly signal?: AbortSignal;
  readonly systemPaths?: SystemPaths;
  readonly chunkBytes?: number;
  /** Test hook: after a target's write is durable, before its read-back. */
  readonly beforeVerify?: (target: string, handle: FileHandle) => Promise<void>;
}

export interface TargetResult {
  readonly target: string;
  readonly ok: boolean;
  readonly bytesWritten: number;
  readonly writeSeconds: number;
  readonly verifySeconds: number;
  readonly error?: Error;
}

export interface FlashReport {
  readonly image: { readonly path: string; readonly bytes: number; readonly sha256: string; readonly checkSeconds: number; readonly checkCached: boolean };
  readonly bmap?: BmapInfo;
  readonly results: readonly TargetResult[];
}

async function readInput(path: string, what: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = systemErrorCode(err);
    throw new LineError(code === 'ENOENT' ? ErrorCode.NOT_FOUND : ErrorCode.USAGE, `${what} ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}: check ${flag}.`, { cause: err });
  }
}

async function imageBytesOf(image: string): Promise<{ bytes: number; identity: string }> {
  try {
    const st = await stat(image, { bigint: true });
    if (!st.isFile()) throw new LineError(ErrorCode.USAGE, `image ${image} is not a regular file: give the .raw image built by npm run image:build.`);
    return { bytes: Number(st.size), identity: `file ${st.dev}:${st.ino}` };
  } catch (err) {
    if (err instanceof LineError) throw err;
    const code = systemErrorCode(err);
    throw new LineError(code === 'ENOENT' ? ErrorCode.NOT_FOUND : ErrorCode.USAGE, `image ${image} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}: give the .raw image built by npm run image:build.`, { cause: err });
  }
}

/** Every target's refusal (and duplicates, and the image itself given as a target), as one error; nothing written. */
async function checkTargets(targets: readonly string[], imageBytes: number, imageIdentity: string, paths: SystemPaths | undefined): Promise<TargetFacts[]> {
  const facts = await Promise.all(targets.map((t) => targetFacts(t, paths)));
  const refusals: LineError[] = [];
  const seen = new Map<string, string>();
  for (const f of facts) {
    const r = refusal(f, imageBytes);
    if (r) refusals.push(r);
    else if (f.identity === imageIdentity) refusals.push(new LineError(ErrorCode.TARGET_INVALID, `target ${f.path} is the image file itself. Give the unit's disk as the target.`, { details: { target: f.path } }));
    else if (f.identity !== undefined && seen.has(f.identity)) {
      refusals.push(new LineError(ErrorCode.TARGET_INVALID, `target ${f.path} is the same disk or file as ${seen.get(f.identity)}: give each target once.`, { details: { target: f.path } }));
    }
    if (f.identity !== undefined && !seen.has(f.identity)) seen.set(f.identity, f.path);
  }
  const first = refusals[0];
  if (!first) return facts;
  if (refusals.length === 1) throw first;
  throw new LineError(first.code, `${refusals.length} of ${targets.length} targets refused; nothing was written:\n${refusals.map((r) => `  - ${r.message}`).join('\n')}`, {
    details: { refusals: refusals.map((r) => ({ code: r.code, message: r.message, target: r.details['target'] })) },
  });
}

async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Flashes `image` onto every target. Before anything is written: the bmap (format, own checksum, ImageSize), the
 * manifest (image size, sha256, bmap sha256 when listed), one pass over the image (sha256 and every range's sha256),
 * and every target (exists, not the system disk, not in use, not a partition, writable, large enough) - any failure
 * throws and nothing is written. Then `confirm(plan)`; then all targets in parallel, each written, synced and read
 * back. A failed target does not stop the others: its result has ok false and the error.
 */
export async function flashTargets(o: FlashTargetsOptions): Promise<FlashReport> {
  if (o.targets.length === 0) throw new LineError(ErrorCode.USAGE, 'no target given: name the unit disk(s) to flash (e.g. /dev/sdb).');
  const progress = o.progress ?? noProgress;
  const { bytes: imageBytes, identity: imageIdentity } = await imageBytesOf(o.image);
  const expectation = await readImageManifest(o.manifest ?? join(dirname(o.image), 'manifest.json'), o.image, imageBytes, o.bmap);

  let bmap: Bmap | undefined;
  let bmapInfo: BmapInfo | undefined;
  if (o.bmap !== undefined) {
    const raw = await readInput(o.bmap, 'bmap', '--bmap');
    bmap = parseBmap(raw, { name: o.bmap, imageBytes });
    const sha256 = createHash('sha256').update(raw).digest('hex');
    if (expectation.bmap && expectation.bmap.sha256 !== sha256) {
      throw new LineError(ErrorCode.BMAP, `bmap ${o.bmap} has sha256 ${sha256} but manifest ${expectation.manifest} lists ${expectation.bmap.file} with ${expectation.bmap.sha256}: it is not the bmap built with this image. Nothing was written. Use the .bmap from the same build output.`);
    }
    bmapInfo = { path: o.bmap, sha256, blockSize: bmap.blockSize, ranges: bmap.ranges.length, mappedBytes: bmap.mappedBytes };
  }

  await checkTargets(o.targets, imageBytes, imageIdentity, o.systemPaths);
  const check = await checkImage({
    image: o.image,
    expected: { sha256: expectation.sha256, bytes: expectation.bytes },
    ...(bmap ? { bmap, bmapName: o.bmap } : {}),
    ...(bmapInfo ? { bmapSha256: bmapInfo.sha256 } : {}),
    ...(o.cache ? { cache: o.cache } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.chunkBytes ? { chunkBytes: o.chunkBytes } : {}),
    progress,
  });

  // Facts again: the operator may have plugged, unplugged or mounted something during the image pass.
  const facts = await checkTargets(o.targets, imageBytes, imageIdentity, o.systemPaths);
  const plan: FlashPlan = {
    image: { path: o.image, bytes: imageBytes, sha256: check.sha256 },
    ...(bmapInfo ? { bmap: bmapInfo } : {}),
    writeBytes: bmap ? bmap.mappedBytes : imageBytes,
    targets: facts.map((f) => ({ path: f.path, kind: f.kind, sizeBytes: f.sizeBytes ?? 0, ...(f.description ? { description: f.description } : {}) })),
  };
  if (!(await o.confirm(plan))) {
    throw new LineError(ErrorCode.NOT_CONFIRMED, `flashing ${o.targets.join(', ')} was not confirmed: nothing was written. Answer yes, or pass --yes when the targets are certain.`);
  }
  // And once more after the answer, which may have taken a while (a desktop may have auto-mounted a disk).
  await checkTargets(o.targets, imageBytes, imageIdentity, o.systemPaths);
  o.signal?.throwIfAborted();

  const limit = Math.max(1, Math.floor(o.concurrency ?? Math.min(o.targets.length, MAX_DEFAULT_CONCURRENCY)));
  const results = await inPool(o.targets, limit, async (target): Promise<TargetResult> => {
    try {
      const r = await writeTarget({
        image: o.image,
        imageBytes,
        target,
        ...(bmap ? { bmap } : { imageSha256: check.sha256 }),
        progress,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.chunkBytes ? { chunkBytes: o.chunkBytes } : {}),
        ...(o.beforeVerify ? { beforeVerify: (h: FileHandle) => (o.beforeVerify as NonNullable<typeof o.beforeVerify>)(target, h) } : {}),
        ...(o.systemPaths?.sys ? { sys: o.systemPaths.sys } : {}),
      });
      return { ...r, ok: true };
    } catch (err) {
      return { target, ok: false, bytesWritten: 0, writeSeconds: 0, verifySeconds: 0, error: err instanceof Error ? err : new Error(String(err)) };
    }
  });
  return {
    image: { path: o.image, bytes: imageBytes, sha256: check.sha256, checkSeconds: check.seconds, checkCached: check.cached },
    ...(bmapInfo ? { bmap: bmapInfo } : {}),
    results,
  };
}
