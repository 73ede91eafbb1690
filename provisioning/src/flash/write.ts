// Flashes one target: positional writes of the bmap's ranges only (or the whole image without a bmap) in big aligned
// chunks, fdatasync, block-device buffers dropped, then every range read back and its sha256 compared.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemErrorCode } from '../../../lib/errors.js';
import { LineError, ErrorCode } from '../errors.js';
import { noProgress, type ProgressSink } from '../progress.js';
import { describeRange, type Bmap } from './bmap.js';
import { readPieces, ShortReadError, writeFully, type Extent } from './io.js';
import { ProgressMeter } from './progress-meter.js';
import { devNumberOf } from './target.js';
import { formatBytes } from './units.js';

const execFileP = promisify(execFile);

export interface WriteTargetOptions {
  readonly image: string;
  readonly imageBytes: number;
  readonly target: string;
  /** Write and verify only its ranges; without it, the whole image is written and verified against `imageSha256`. */
  readonly bmap?: Bmap;
  /** The whole image's sha256 (required without a bmap). */
  readonly imageSha256?: string;
  readonly progress?: ProgressSink;
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
  /** Read back and compare after writing; true by default (false only for benchmarks). */
  readonly verify?: boolean;
  /** Test hook, after the write is durable and before the read-back. */
  readonly beforeVerify?: (target: FileHandle) => Promise<void>;
  /** Drops a block device's buffers so the read-back comes from the disk; by default `blockdev --flushbufs`. */
  readonly flushBuffers?: (device: string) => Promise<void>;
  /** sysfs root for the block device's size; '/sys' by default. */
  readonly sys?: string;
  /**
   * The target is fdatasync-ed every this many bytes (bmaptool does so for block devices), so that the progress shows
   * what reached the disk rather than the page cache and the final sync stays short; 128 MiB by default. (Measured on a
   * file target: no slower from a cold image, faster from a cached one, which otherwise piles up dirty pages.)
   */
  readonly syncEveryBytes?: number;
}

export const DEFAULT_SYNC_EVERY_BYTES = 128 * 1024 * 1024;

export interface WriteTargetResult {
  readonly target: string;
  readonly bytesWritten: number;
  readonly writeSeconds: number;
  readonly verifySeconds: number;
}

async function blockdevFlushbufs(device: string): Promise<void> {
  try {
    await execFileP('blockdev', ['--flushbufs', device]);
  } catch (err) {
    const code = systemErrorCode(err);
    throw new LineError(
      ErrorCode.TOOL,
      code === 'ENOENT' ? 'blockdev (util-linux) is needed to read back a flashed disk: install util-linux.' : `blockdev --flushbufs ${device} failed: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`,
      { cause: err },
    );
  }
}

/** Opens the target for reading and writing, never creating or truncating it; a block device exclusively (EBUSY: in use). */
async function openTarget(target: string): Promise<{ handle: FileHandle; block: boolean; rdev: bigint }> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(target, constants.O_RDWR);
    const st = await handle.stat({ bigint: true });
    if (st.isFile()) return { handle, block: false, rdev: 0n };
    if (!st.isBlockDevice()) throw new LineError(ErrorCode.TARGET_INVALID, `target ${target} is neither a block device nor a regular file.`);
    await handle.close();
    handle = undefined;
    handle = await open(target, constants.O_RDWR | constants.O_EXCL);
    return { handle, block: true, rdev: st.rdev };
  } catch (err) {
    await handle?.close();
    if (err instanceof LineError) throw err;
    const code = systemErrorCode(err);
    if (code === 'EBUSY') throw new LineError(ErrorCode.TARGET_MOUNTED, `target ${target} is in use (mounted, swap, LVM/RAID, or held by another program): nothing was written. Unmount it and flash again.`, { cause: err });
    if (code === 'ENOENT') throw new LineError(ErrorCode.TARGET_INVALID, `target ${target} disappeared before the write (unplugged?): nothing was written. Plug it in and flash again.`, { cause: err });
    if (code === 'EACCES' || code === 'EPERM') throw new LineError(ErrorCode.TARGET_INVALID, `target ${target} cannot be opened for writing (${code}): run plugsrv-line as root.`, { cause: err });
    if (code === 'EROFS') throw new LineError(ErrorCode.TARGET_INVALID, `target ${target} is read-only: make it writable or use another disk.`, { cause: err });
    throw new LineError(ErrorCode.TARGET_INVALID, `target ${target} cannot be opened for writing (${code ?? String(err)}).`, { cause: err });
  }
}

async function blockDeviceBytes(sys: string, rdev: bigint): Promise<number> {
  return Number((await readFile(join(sys, 'dev', 'block', devNumberOf(rdev), 'size'), 'utf8')).trim()) * 512;
}

function writeError(target: string, err: unknown, position: number): LineError {
  if (err instanceof LineError) return err;
  const code = systemErrorCode(err);
  if (code === 'ENOSPC') {
    return new LineError(ErrorCode.DISK_FULL, `target ${target}: no space left at byte ${position} (a file target on a full file system). The target is partly written: free space and flash it again.`, { cause: err });
  }
  return new LineError(ErrorCode.TARGET_INVALID, `target ${target}: writing at byte ${position} failed (${code ?? String(err)}): the disk is faulty or was unplugged. It is partly written and must not be shipped: flash it again or replace the disk.`, { cause: err });
}

const notShipped = 'It is bad and must not be shipped: flash it again, and replace the disk if it fails again.';

/** Reads back the ranges (or the whole image) and compares their sha256; E_VERIFY_FAILED naming the first bad range. */
async function verifyTarget(handle: FileHandle, o: WriteTargetOptions, extents: Extent[], total: number): Promise<void> {
  const meter = new ProgressMeter(o.progress ?? noProgress, 'verify-target', total, o.target);
  const expected = o.bmap ? o.bmap.ranges.map((r) => r.sha256) : [o.imageSha256 as string];
  const bad: number[] = [];
  let hash = createHash('sha256');
  let current = 0;
  const finish = (index: number): void => {
    if (hash.digest('hex') !== expected[index]) bad.push(index);
    hash = createHash('sha256');
  };
  try {
    await readPieces(
      handle,
      extents,
      (data, piece) => {
        if (piece.extent !== current) {
          finish(current);
          current = piece.extent;
        }
        hash.update(data);
        meter.add(data.length);
      },
      { ...(o.chunkBytes ? { chunkBytes: o.chunkBytes } : {}), ...(o.signal ? { signal: o.signal } : {}) },
    );
  } catch (err) {
    const at = err instanceof ShortReadError ? `ends at byte ${err.position}` : `cannot be read back (${systemErrorCode(err) ?? String(err)})`;
    if (err instanceof ShortReadError || systemErrorCode(err) !== undefined) throw new LineError(ErrorCode.VERIFY_FAILED, `target ${o.target} ${at}. ${notShipped}`, { cause: err, details: { target: o.target } });
    throw err;
  }
  if (extents.length > 0) finish(current);
  if (bad.length === 0) return;
  const first = bad[0] as number;
  const where = o.bmap ? describeRange(o.bmap.ranges[first] as Bmap['ranges'][number]) : `bytes 0-${o.imageBytes - 1} (the whole image)`;
  throw new LineError(
    ErrorCode.VERIFY_FAILED,
    `target ${o.target}: what was read back differs from the image at ${where}${bad.length > 1 ? ` and ${bad.length - 1} more range(s)` : ''}. ${notShipped}`,
    { details: { target: o.target, badRanges: bad.length, first: where } },
  );
}

/**
 * Flashes one target that was already checked (flashTargets does the checks): never created nor truncated; a block
 * device opened exclusively. Throws E_VERIFY_FAILED when the read-back differs, E_TARGET_* / E_DISK_FULL on write errors.
 */
export async function writeTarget(o: WriteTargetOptions): Promise<WriteTargetResult> {
  if (!o.bmap && o.imageSha256 === undefined) throw new LineError(ErrorCode.INTERNAL, 'writeTarget without a bmap needs the image sha256 to verify against');
  const extents: Extent[] = o.bmap ? o.bmap.ranges.map((r) => ({ offset: r.offset, length: r.length })) : [{ offset: 0, length: o.imageBytes }];
  const total = extents.reduce((n, e) => n + e.length, 0);
  const source = await open(o.image, 'r');
  try {
    const { handle, block, rdev } = await openTarget(o.target);
    try {
      const size = block ? await blockDeviceBytes(o.sys ?? '/sys', rdev) : Number((await handle.stat()).size);
      if (size < o.imageBytes) {
        throw new LineError(ErrorCode.TARGET_TOO_SMALL, `target ${o.target} holds ${formatBytes(size)}, less than the image's ${formatBytes(o.imageBytes)}: nothing was written.`);
      }
      const started = performance.now();
      const meter = new ProgressMeter(o.progress ?? noProgress, 'write', total, o.target);
      let position = 0;
      let unsynced = 0;
      const syncEvery = o.syncEveryBytes ?? DEFAULT_SYNC_EVERY_BYTES;
      try {
        await readPieces(
          source,
          extents,
          async (data, piece) => {
            position = piece.offset;
            await writeFully(handle, data, piece.offset);
            unsynced += data.length;
            if (unsynced >= syncEvery) {
              await handle.datasync();
              unsynced = 0;
            }
            meter.add(data.length);
          },
          { ...(o.chunkBytes ? { chunkBytes: o.chunkBytes } : {}), ...(o.signal ? { signal: o.signal } : {}) },
        );
        await handle.datasync();
      } catch (err) {
        if (err instanceof ShortReadError) {
          throw new LineError(ErrorCode.IMAGE_MISMATCH, `image ${o.image} ended at byte ${err.position} while flashing ${o.target} (changed or truncated under the flash). The target is partly written: flash it again.`, { cause: err });
        }
        if (o.signal?.aborted) throw err;
        throw writeError(o.target, err, position);
      }
      if (block) await (o.flushBuffers ?? blockdevFlushbufs)(o.target);
      const writeSeconds = (performance.now() - started) / 1000;
      if (o.verify === false) return { target: o.target, bytesWritten: total, writeSeconds, verifySeconds: 0 };
      const verifyStarted = performance.now();
      await o.beforeVerify?.(handle);
      await verifyTarget(handle, o, extents, total);
      return { target: o.target, bytesWritten: total, writeSeconds, verifySeconds: (performance.now() - verifyStarted) / 1000 };
    } finally {
      await handle.close();
    }
  } finally {
    await source.close();
  }
}
