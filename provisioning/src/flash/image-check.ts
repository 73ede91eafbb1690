// One sequential pass over the image before anything is written: its whole sha256 against the manifest, and every bmap
// range's sha256 against the bmap (a bmap of another image is refused). A cache lets a line pay the pass once per image.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { LineError, ErrorCode } from '../errors.js';
import { noProgress, type ProgressSink } from '../progress.js';
import { describeRange, type Bmap, type BmapRange } from './bmap.js';
import { readPieces, ShortReadError } from './io.js';
import { ProgressMeter } from './progress-meter.js';
import { RangeHasher } from './range-hasher.js';

/** Remembers images already checked; keys say which file (device, inode, size, times) against which manifest and bmap. */
export interface ImageCheckCache {
  get(key: string): Promise<boolean>;
  set(key: string): Promise<void>;
}

export interface ImageCheckOptions {
  readonly image: string;
  /** From the manifest: the image's sha256 and size. */
  readonly expected: { readonly sha256: string; readonly bytes: number };
  readonly bmap?: Bmap;
  /** The bmap's name in messages. */
  readonly bmapName?: string;
  /** sha256 of the bmap file, part of the cache key. */
  readonly bmapSha256?: string;
  readonly cache?: ImageCheckCache;
  readonly progress?: ProgressSink;
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
}

export interface ImageCheckResult {
  readonly sha256: string;
  readonly bytes: number;
  /** True when the cache said this very file was already checked against this manifest and bmap (no pass made). */
  readonly cached: boolean;
  readonly seconds: number;
}

/** The cache key of an opened image: which file this is and in which state, and what it was checked against. */
export async function imageCacheKey(handle: FileHandle, expectedSha256: string, bmapSha256: string | undefined): Promise<string> {
  const st = await handle.stat({ bigint: true });
  return ['flash-image-check/v1', `dev=${st.dev}`, `ino=${st.ino}`, `size=${st.size}`, `mtime=${st.mtimeNs}`, `ctime=${st.ctimeNs}`, `sha256=${expectedSha256}`, `bmap=${bmapSha256 ?? 'none'}`].join(' ');
}

/**
 * Checks the image before any write: E_IMAGE_MISMATCH when its sha256 or size differs from the manifest's, E_BMAP when
 * a bmap range's sha256 differs (the bmap is not this image's). With a cache, a file already checked is not read again.
 */
export async function checkImage(options: ImageCheckOptions): Promise<ImageCheckResult> {
  const started = performance.now();
  const { image, expected, bmap } = options;
  const handle = await open(image, 'r');
  try {
    const key = options.cache ? await imageCacheKey(handle, expected.sha256, options.bmapSha256) : undefined;
    if (key !== undefined && (await options.cache?.get(key))) {
      return { sha256: expected.sha256, bytes: expected.bytes, cached: true, seconds: (performance.now() - started) / 1000 };
    }
    const whole = createHash('sha256');
    const bmapRanges = bmap?.ranges ?? [];
    // Both hashes in this thread: a worker thread for the ranges measured slower (copies, and no spare core on a small line PC).
    const ranges = new RangeHasher(bmapRanges);
    const meter = new ProgressMeter(options.progress ?? noProgress, 'verify-image', expected.bytes);
    try {
      await readPieces(
        handle,
        [{ offset: 0, length: expected.bytes }],
        (data, piece) => {
          whole.update(data);
          ranges.update(data, piece.offset);
          meter.add(data.length);
        },
        { ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      );
    } catch (err) {
      if (err instanceof ShortReadError) {
        throw new LineError(ErrorCode.IMAGE_MISMATCH, `image ${image} ends at byte ${err.position}, before the ${expected.bytes} bytes the manifest gives: it is truncated or still being copied. Copy it again from the build output.`, { cause: err });
      }
      throw err;
    }
    const mismatchIndexes = ranges.mismatches;
    const sha256 = whole.digest('hex');
    if (sha256 !== expected.sha256) {
      throw new LineError(
        ErrorCode.IMAGE_MISMATCH,
        `image ${image} has sha256 ${sha256} but its manifest says ${expected.sha256}: the image is damaged or not the one the manifest describes. Nothing was written. Copy the image again from the build output and check it with \`sha256sum -c SHA256SUMS\`.`,
        { details: { image, sha256, expected: expected.sha256 } },
      );
    }
    if (mismatchIndexes.length > 0) {
      const first = bmapRanges[mismatchIndexes[0] as number] as BmapRange;
      throw new LineError(
        ErrorCode.BMAP,
        `${options.bmapName === undefined ? 'the bmap' : `bmap ${options.bmapName}`}: ${mismatchIndexes.length} of its ${bmap?.ranges.length ?? 0} ranges do not match image ${image} (first: ${describeRange(first)}): it is not the bmap of this image. Nothing was written. Use the .bmap built with this image, or recreate it with \`bmaptool create IMAGE > IMAGE.bmap\`.`,
        { details: { image, mismatchedRanges: mismatchIndexes.length, first: describeRange(first) } },
      );
    }
    // Only remember the pass when the file did not change under it.
    if (key !== undefined && key === (await imageCacheKey(handle, expected.sha256, options.bmapSha256))) await options.cache?.set(key);
    return { sha256, bytes: expected.bytes, cached: false, seconds: (performance.now() - started) / 1000 };
  } finally {
    await handle.close();
  }
}
