// In-flight state of one partial download: segment offsets, positional writes, the written prefix for the hash, progress and checkpoints.
import type { FileHandle } from 'node:fs/promises';
import { DIRECT_ALIGN, isSharedAligned, poolOf, type BufferPool } from './buffers.js';
import type { Digester } from './digest.js';
import { diskError, RestartFromZero } from './faults.js';
import { validatorChanged, type Validator } from './policy.js';
import { HintWriter, removeHint, sidecarPath, writeSidecar, type Sidecar } from './sidecar.js';

/** A segment as it runs: bytes [start, written) are in the file, [start, durable) also fsynced and recorded. */
export interface LiveSegment {
  start: number;
  end: number;
  durable: number;
  written: number;
}

/** The bandwidth cap a transfer honours: take() waits; tryTake(), when offered, lets bytes pass at once or says no. */
export interface RateLimit {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  tryTake?(bytes: number): boolean;
}

export interface TransferHooks {
  checkpointBytes: number;
  /** Bytes between write hints (cheap, not fsynced: they survive a killed process); 0 = no hints. */
  hintBytes?: number;
  /** Shortest time between two write hints. */
  hintMinMs?: number;
  rate?: RateLimit;
  onProgress?(doneBytes: number, totalBytes: number): void;
  /** Bytes gathered per segment before one positional writev (default 512 KiB). */
  writeBytes?: number;
  /** The O_DIRECT handle refused a write (EINVAL): this transfer writes through the page cache from then on. */
  onDirectRefused?(err: unknown): void;
}

/** A segment's received bytes on their way to the file, copied into pooled buffers of writeBytes each. */
interface WriteQueue {
  /** Filled buffers waiting for the write. */
  full: Buffer[];
  /** The buffer being filled, and how far. */
  current: Buffer | undefined;
  fill: number;
  /** Bytes queued: the full buffers and the current one's fill. */
  bytes: number;
  flushing: Promise<void> | undefined;
  error: unknown;
  /** Set while a partial batch waits: it is written after FLUSH_AFTER_MS even if no more bytes come. */
  timer: NodeJS.Timeout | undefined;
}

/** Longest a partial batch waits for more bytes before it is written anyway. */
const FLUSH_AFTER_MS = 10;

/** Batches a segment may hold (queued while one is written) before write() waits: bounds memory per connection. */
const QUEUE_BATCHES = 2;

/** Writes `chunks` at `position`, going on after a short write. */
async function writevAll(handle: FileHandle, chunks: Buffer[], position: number): Promise<void> {
  let bufs = chunks;
  let pos = position;
  for (;;) {
    const want = bufs.reduce((n, b) => n + b.length, 0);
    if (want === 0) return;
    const { bytesWritten } = await handle.writev(bufs, pos);
    if (bytesWritten >= want) return;
    if (bytesWritten <= 0) throw Object.assign(new Error(`writev wrote nothing at byte ${pos}`), { code: 'EIO' });
    pos += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    bufs = rest;
  }
}

/**
 * The leading chunks O_DIRECT can take as they are (aligned shared memory, lengths on the alignment; the first
 * unaligned chunk cut at its last aligned byte), and the rest, for a buffered write (a file's unaligned end).
 */
function splitAligned(chunks: readonly Buffer[]): [Buffer[], Buffer[]] {
  const aligned: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i] as Buffer;
    if (!isSharedAligned(c)) return [aligned, chunks.slice(i)];
    const cut = c.length - (c.length % DIRECT_ALIGN);
    if (cut === c.length) {
      aligned.push(c);
      continue;
    }
    if (cut > 0) aligned.push(c.subarray(0, cut));
    return [aligned, [c.subarray(cut), ...chunks.slice(i + 1)]];
  }
  return [aligned, []];
}

export class Transfer {
  segments: LiveSegment[];
  validator: Validator | undefined;
  private done: number;
  /** Index of the first segment not yet complete: the written prefix [0, prefix) ends in it. */
  private frontier = 0;
  private sinceCheckpoint = 0;
  private chain: Promise<void> = Promise.resolve();
  private sinceHint = 0;
  private lastHintAt = 0;
  private hinting: Promise<void> | undefined;
  /** The checkpoint started by write(), while it runs. */
  private background: Promise<void> | undefined;
  /** A background checkpoint or hint failed: the next write throws it. */
  private failure: unknown;
  /** Per running segment, the chunks received but not yet written, and the write in flight (one at a time). */
  private readonly queues = new Map<LiveSegment, WriteQueue>();
  private readonly hints: HintWriter;
  private readonly writeBytes: number;
  private readonly pool: BufferPool;
  /** True once the transfer restarted from byte 0 (its segments no longer match the ones it opened with). */
  restarted = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly sidecar: Sidecar,
    private readonly partialPath: string,
    private readonly hooks: TransferHooks,
    hinted: number[] | undefined,
    /** Told of every completed write and of restarts; its digest is the file's. */
    private readonly digester: (prefix: number) => Digester,
    /**
     * The same file opened with O_DIRECT, when the filesystem allows it: aligned batches go to disk through it, past
     * the page cache (see docs/PERFORMANCE.md); the rest (a file's unaligned end, a batch cut short) goes through
     * `handle`. Closed by the caller.
     */
    private direct?: FileHandle,
  ) {
    this.segments = sidecar.segments.map((s, i) => ({ ...s, written: Math.max(s.durable, hinted?.[i] ?? 0) }));
    this.validator = sidecar.validator;
    this.done = this.segments.reduce((n, s) => n + s.written - s.start, 0);
    this.writeBytes = Math.max(1, hooks.writeBytes ?? 512 * 1024);
    this.pool = poolOf(this.writeBytes);
    this.hints = new HintWriter(sidecarPath(partialPath));
    this.hasher = digester(this.prefix());
  }

  /** Hashes what this transfer writes (created with the prefix already on disk, so a resume hashes it while the rest downloads). */
  readonly hasher: Digester;

  /**
   * How far the file is written contiguously from byte 0: the written offset of the first incomplete segment
   * (segments complete out of order; a complete one joins the prefix only once all before it are complete).
   */
  prefix(): number {
    let i = this.frontier;
    while (i < this.segments.length && (this.segments[i] as LiveSegment).written >= (this.segments[i] as LiveSegment).end) i++;
    this.frontier = i;
    return i < this.segments.length ? (this.segments[i] as LiveSegment).written : this.size;
  }

  get size(): number {
    return this.sidecar.size;
  }

  get doneBytes(): number {
    return this.done;
  }

  /** Records the response's validator; a different one than recorded means the origin's file changed. */
  onValidator(seen: Validator | undefined): void {
    if (validatorChanged(this.validator, seen)) {
      throw new RestartFromZero(`the file changed on the origin (validator ${JSON.stringify(this.validator)} became ${JSON.stringify(seen)})`);
    }
    if (!this.validator && seen) this.validator = seen;
  }

  /**
   * Queues the next bytes of `seg` once the rate limiter allows them: chunks are written in batches of writeBytes
   * with one positional writev, while the next ones arrive. Returns undefined when the chunk was taken at once (the
   * caller may hand over the next one), or a promise to wait for first (the rate limiter, or too many bytes queued).
   * `seg.written` counts completed writes only; drain(seg) must be awaited before the segment's bytes are
   * requested again (a retry) or the transfer ends. Throws (or the promise rejects with) a disk or hash failure.
   */
  write(seg: LiveSegment, chunk: Buffer, signal: AbortSignal): Promise<void> | undefined {
    this.throwIfFailed();
    const rate = this.hooks.rate;
    if (rate && !(rate.tryTake?.(chunk.length) ?? false)) {
      // `chunk` may be a view of the HTTP client's read buffer, valid only until we return: copied while it waits.
      const kept = Buffer.from(chunk);
      return rate.take(kept.length, signal).then(() => this.enqueue(seg, kept));
    }
    return this.enqueue(seg, chunk);
  }

  /** Copies `chunk` into the segment's pooled buffers (it may be a view the caller reuses once we return). */
  private enqueue(seg: LiveSegment, chunk: Buffer): Promise<void> | undefined {
    const q = this.queueOf(seg);
    if (q.error !== undefined) throw q.error;
    for (let at = 0; at < chunk.length; ) {
      q.current ??= this.pool.take();
      const n = chunk.copy(q.current, q.fill, at);
      at += n;
      q.fill += n;
      if (q.fill === q.current.length) {
        q.full.push(q.current);
        q.current = undefined;
        q.fill = 0;
      }
    }
    q.bytes += chunk.length;
    if (!q.flushing && q.full.length > 0) this.flush(seg, q, 'full');
    else this.armIdle(seg, q);
    if (q.flushing && q.bytes >= this.writeBytes * QUEUE_BATCHES) return this.waitForRoom(q);
    return undefined;
  }

  /** Waits until the segment's queue is below its bound again; throws the write's disk error. */
  private async waitForRoom(q: WriteQueue): Promise<void> {
    while (q.flushing && q.bytes >= this.writeBytes * QUEUE_BATCHES) await q.flushing;
    if (q.error !== undefined) throw q.error;
  }

  /** Waits for the segment's queued bytes to be written (the last, short batch too); throws the write's disk error. */
  async drain(seg: LiveSegment): Promise<void> {
    const q = this.queues.get(seg);
    if (!q) return;
    while (q.error === undefined && (q.flushing || q.bytes > 0)) {
      if (!q.flushing) this.flush(seg, q, 'all');
      await q.flushing;
    }
    if (q.timer) clearTimeout(q.timer);
    this.queues.delete(seg);
    if (q.error !== undefined) throw q.error;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.hasher.failure !== undefined) throw this.hasher.failure;
  }

  private queueOf(seg: LiveSegment): WriteQueue {
    let q = this.queues.get(seg);
    if (!q) this.queues.set(seg, (q = { full: [], current: undefined, fill: 0, bytes: 0, flushing: undefined, error: undefined, timer: undefined }));
    return q;
  }

  /** A partial batch waited FLUSH_AFTER_MS (a slow or stalled link): written now, so progress and checkpoints see it. */
  private flushIdle(seg: LiveSegment, q: WriteQueue): void {
    q.timer = undefined;
    if (q.error !== undefined || q.bytes === 0) return;
    if (!q.flushing) this.flush(seg, q, 'idle');
    else this.armIdle(seg, q);
  }

  /** Bytes are queued: unless a timer runs already, they are written after FLUSH_AFTER_MS even if no more come. */
  private armIdle(seg: LiveSegment, q: WriteQueue): void {
    q.timer ??= setTimeout(() => this.flushIdle(seg, q), FLUSH_AFTER_MS).unref();
  }

  /**
   * Writes what is queued for `seg` at its written offset: the full buffers ('full'), and also the buffer being
   * filled ('all', when the segment's bytes must all be on disk; 'idle', a slow link, up to a multiple of `align`,
   * the rest staying queued). Goes on with what arrived meanwhile once a buffer is full.
   */
  private flush(seg: LiveSegment, q: WriteQueue, mode: 'full' | 'idle' | 'all'): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    const owned = q.full;
    const chunks = [...owned];
    let bytes = owned.length * this.writeBytes;
    if (mode !== 'full' && q.current && q.fill > 0) {
      // With a direct handle, a batch cut short stops at the alignment, so the segment's next writes stay aligned.
      const align = this.direct ? DIRECT_ALIGN : 1;
      const take = mode === 'all' ? q.fill : q.fill - (q.fill % align);
      if (take > 0) {
        const cur = q.current;
        chunks.push(cur.subarray(0, take));
        owned.push(cur);
        bytes += take;
        const rest = q.fill - take;
        q.current = undefined;
        q.fill = 0;
        if (rest > 0) {
          q.current = this.pool.take();
          q.fill = cur.copy(q.current, 0, take, take + rest);
        }
      }
    }
    q.full = [];
    q.bytes -= bytes;
    if (bytes === 0) {
      this.pool.give(owned);
      if (q.bytes > 0) this.armIdle(seg, q);
      return;
    }
    q.flushing = this.writeAt(seg, chunks, bytes, () => this.pool.give(owned)).then(
      () => {
        q.flushing = undefined;
        if (q.full.length > 0) this.flush(seg, q, 'full');
        else if (q.bytes > 0) this.armIdle(seg, q);
      },
      (err: unknown) => {
        q.flushing = undefined;
        q.error = err;
      },
    );
  }

  /**
   * Writes `chunks` at the segment's written offset, through the O_DIRECT handle when offset, lengths and memory
   * are aligned. `release` gives the chunks' buffers back: the hasher calls it once it no longer needs their bytes.
   */
  private async writeAt(seg: LiveSegment, chunks: Buffer[], bytes: number, release: () => void): Promise<void> {
    const offset = seg.written;
    try {
      const [aligned, rest] = this.direct && offset % DIRECT_ALIGN === 0 ? splitAligned(chunks) : [[], chunks];
      if (aligned.length > 0) {
        try {
          await writevAll(this.direct as FileHandle, aligned, offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
          // The filesystem or device wants another alignment than we know: buffered writes from now on.
          this.direct = undefined;
          this.hooks.onDirectRefused?.(err);
          await writevAll(this.handle, aligned, offset);
        }
      }
      await writevAll(this.handle, rest, offset + aligned.reduce((n, c) => n + c.length, 0));
    } catch (err) {
      throw diskError(err, this.partialPath);
    }
    seg.written += bytes;
    this.hasher.wrote(offset, chunks, this.prefix(), release);
    this.done += bytes;
    this.sinceCheckpoint += bytes;
    this.hooks.onProgress?.(this.done, this.size);
    this.sinceHint += bytes;
    // Checkpoints and hints run beside the writes, not in their way: a segment that waited for an fsync
    // would leave the origin's bytes piling up in the socket buffers (lost on a crash) and slow the link.
    // (None once every byte is written: the caller's final checkpoint follows at once.)
    if (this.sinceCheckpoint >= this.hooks.checkpointBytes && !this.background && this.done < this.size) {
      this.sinceCheckpoint = 0;
      this.background = this.checkpoint()
        .catch((err: unknown) => void (this.failure ??= err))
        .finally(() => (this.background = undefined));
    } else if (this.hooks.hintBytes && this.sinceHint >= this.hooks.hintBytes && !this.hinting && Date.now() - this.lastHintAt >= (this.hooks.hintMinMs ?? 0)) {
      this.hint();
    }
  }

  /** Records how far each segment is written (offsets of completed writes only), without fsync. */
  private hint(): void {
    this.sinceHint = 0;
    this.lastHintAt = Date.now();
    const written = this.segments.map((s) => s.written);
    this.hinting = this.hints
      .write(this.sidecar.sha256, written)
      .catch((err: unknown) => void (this.failure ??= diskError(err, this.partialPath)))
      .finally(() => (this.hinting = undefined));
  }

  /**
   * Makes what is written so far durable: note each segment's written offset, fsync the file, then
   * record those offsets in the sidecar (atomic replace). Calls are serialised.
   */
  checkpoint(): Promise<void> {
    return this.makeDurable(true);
  }

  /**
   * The end of a transfer whose every byte is written: fsyncs the file, and does not rewrite the sidecar. The
   * caller verifies the hash and then removes it, so a new record would live a few ms at most; a crash in between
   * resumes from the last checkpoint (or the hint), which only refetches.
   */
  complete(): Promise<void> {
    return this.makeDurable(false);
  }

  private makeDurable(recordSidecar: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      await this.hinting; // never rejects; a hint landing after the final checkpoint would outlive the sidecar
      const snapshot = this.segments.map((s) => s.written);
      try {
        await this.handle.sync();
        this.segments.forEach((s, i) => (s.durable = Math.max(s.durable, snapshot[i] ?? s.durable)));
        if (recordSidecar) await writeSidecar(sidecarPath(this.partialPath), this.record());
      } catch (err) {
        throw diskError(err, this.partialPath);
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /** Waits for a hint in flight and closes the hint file (the partial file's handle belongs to the caller). */
  async closeHints(): Promise<void> {
    await this.hinting;
    await this.hints.close();
  }

  /** Forgets every byte: one segment over the whole file from 0, no validator, the hash started over. */
  async restartFromZero(): Promise<void> {
    await this.chain.catch(() => {});
    await this.closeHints();
    await removeHint(sidecarPath(this.partialPath));
    this.restarted = true;
    this.queues.clear(); // every segment was drained before its runner returned
    this.segments = [{ start: 0, end: this.size, durable: 0, written: 0 }];
    this.frontier = 0;
    this.validator = undefined;
    // Before any new write: the bytes from 0 are rewritten, so whatever was hashed of them is void.
    this.hasher.restart();
    this.done = 0;
    this.sinceCheckpoint = 0;
    this.failure = undefined;
    await this.checkpoint();
  }

  private record(): Sidecar {
    const segments = this.segments.map(({ start, end, durable }) => ({ start, end, durable }));
    return { sha256: this.sidecar.sha256, size: this.sidecar.size, url: this.sidecar.url, segments, ...(this.validator ? { validator: this.validator } : {}) };
  }
}
