// Positional I/O in big aligned chunks, reading the next chunk while the current one is hashed or written.
import type { FileHandle } from 'node:fs/promises';

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/** A byte extent: `offset` and `length`. */
export interface Extent {
  readonly offset: number;
  readonly length: number;
}

/** A piece of an extent no larger than a chunk, cut at multiples of `chunkBytes` so that big writes stay aligned. */
export interface Piece extends Extent {
  /** Index of the extent it belongs to. */
  readonly extent: number;
}

/** Pure: cuts extents into pieces at absolute multiples of `chunkBytes`. */
export function* pieces(extents: readonly Extent[], chunkBytes: number): Generator<Piece> {
  for (const [extent, e] of extents.entries()) {
    let offset = e.offset;
    const end = e.offset + e.length;
    while (offset < end) {
      const next = Math.min(end, (Math.floor(offset / chunkBytes) + 1) * chunkBytes);
      yield { offset, length: next - offset, extent };
      offset = next;
    }
  }
}

/** Reads exactly `length` bytes at `position`, or throws a ShortReadError at the end of the file. */
export async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new ShortReadError(position + done);
    done += bytesRead;
  }
  return buffer.subarray(0, length);
}

/** Writes all of `data` at `position`. */
export async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

export class ShortReadError extends Error {
  constructor(readonly position: number) {
    super(`end of file at byte ${position}`);
    this.name = 'ShortReadError';
  }
}

/**
 * Reads every piece of `extents` from `handle` in order and hands it to `consume`, reading the next piece into a second
 * buffer while `consume` works on the current one (the buffer is reused once `consume` has resolved). Checks `signal` between pieces.
 */
export async function readPieces(
  handle: FileHandle,
  extents: readonly Extent[],
  consume: (data: Buffer, piece: Piece) => void | Promise<void>,
  options: { chunkBytes?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)] as const;
  const iterator = pieces(extents, chunkBytes);
  let index = 0;
  const readNext = (): Promise<[Buffer, Piece]> | undefined => {
    const { value: piece, done } = iterator.next();
    if (done) return undefined;
    const buffer = buffers[index++ % 2] as Buffer;
    return readFully(handle, buffer, piece.length, piece.offset).then((data) => [data, piece]);
  };
  let current = readNext();
  while (current) {
    options.signal?.throwIfAborted();
    const [data, piece] = await current;
    const next = readNext();
    // A failed read of the next piece is reported when it is awaited; keep it from counting as unhandled meanwhile.
    next?.catch(() => {});
    await consume(data, piece);
    current = next;
  }
}
