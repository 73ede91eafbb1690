// Write buffers reused from batch to batch: page-aligned shared memory (for O_DIRECT writes and the hash worker), else plain buffers.

/**
 * The alignment O_DIRECT asks of a write's memory, file offset and length on the filesystems we meet (ext4, xfs,
 * vfat on 512 or 4096-byte sectors). Segment boundaries are planned on multiples of it (see planSegments).
 */
export const DIRECT_ALIGN = 4096;

const WASM_PAGE = 65536;

/** The one WebAssembly API used here (this project's TypeScript libs do not declare WebAssembly). */
interface WasmGlobal {
  WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: unknown } };
}
/** Shared memory is reserved in regions of this many bytes, or of one buffer when larger (buffers are carved from a region). */
const REGION_BYTES = 4 * 1024 * 1024;

/** A buffer is aligned shared memory: its bytes can go to disk with O_DIRECT and be read by the hash worker as they are. */
export function isSharedAligned(buf: Buffer): boolean {
  return buf.buffer instanceof SharedArrayBuffer && buf.byteOffset % DIRECT_ALIGN === 0;
}

/**
 * Carves `size`-byte buffers out of shared WebAssembly memory, whose base is page-aligned (a plain Buffer's
 * memory comes from malloc: 16-byte aligned only, so O_DIRECT refuses it). Undefined when this runtime cannot
 * make shared memory or `size` is no multiple of the alignment.
 */
function sharedRegion(size: number): Buffer[] | undefined {
  if (size % DIRECT_ALIGN !== 0) return undefined;
  const count = Math.max(1, Math.floor(REGION_BYTES / size));
  const pages = Math.ceil((count * size) / WASM_PAGE);
  let sab: unknown;
  try {
    sab = new (globalThis as unknown as WasmGlobal).WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  } catch {
    return undefined;
  }
  if (!(sab instanceof SharedArrayBuffer)) return undefined;
  return Array.from({ length: count }, (_, i) => Buffer.from(sab, i * size, size));
}

/**
 * Buffers of one size, reused: received chunks are copied into them (the HTTP client hands out views of its read
 * buffer, valid only until it returns), so there is no fresh memory per chunk, whose first touch costs kernel time,
 * most of all on a VM whose free memory goes back to the host. Plain buffers stay pooled up to `keep`, beyond that
 * they are dropped. Shared buffers are all kept: a region is only freed once none of its buffers is referenced, so
 * dropping some would keep half-used regions alive and let memory creep up over a long run; kept, the pool stays at
 * the most buffers ever in use at once (bounded by the write queues and the hash worker's hold, see digest.ts).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private shared: boolean;

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {
    this.shared = size % DIRECT_ALIGN === 0;
  }

  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    if (this.shared) {
      const region = sharedRegion(this.size);
      if (region) {
        const first = region.pop() as Buffer;
        for (const r of region) this.give([r]);
        return first;
      }
      this.shared = false; // no shared memory here: plain buffers (buffered writes, the worker reads the file)
    }
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(bufs: readonly Buffer[]): void {
    for (const b of bufs) if (this.free.length < this.keep || b.buffer instanceof SharedArrayBuffer) this.free.push(b);
  }
}

const pools = new Map<number, BufferPool>();

/** At most this much memory stays pooled per buffer size between batches. */
const POOL_KEEP_BYTES = 32 * 1024 * 1024;

/** The process-wide pool of `size`-byte buffers. */
export function poolOf(size: number): BufferPool {
  let pool = pools.get(size);
  if (!pool) pools.set(size, (pool = new BufferPool(size, Math.max(4, Math.floor(POOL_KEEP_BYTES / size)))));
  return pool;
}
