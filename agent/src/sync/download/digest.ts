// The sha256 of a partial download: in the main thread for small targets, else in a worker thread that hashes the written prefix as it grows.
import { createHash, type Hash } from 'node:crypto';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from '../../../../lib/log/index.js';
import { describe, hashReadError } from './faults.js';
import { SLOTS, Slot, type HashWorkerData, type HashWorkerReport, type HeldRanges } from './hash-protocol.js';
import { sha256OfFile } from './partial.js';

const MiB = 1024 * 1024;
/**
 * The worker (usually waiting: it hashes faster than bytes arrive) is woken when the prefix grew by this much, or
 * NOTIFY_MS after the last wake-up on a slow link, or at the end: each wake-up is a futex syscall on both sides.
 */
const NOTIFY_BYTES = 8 * MiB;
const NOTIFY_MS = 50;
const WORKER_READ_BYTES = MiB;
/**
 * Written bytes the worker may hash from memory, per target: the buffers of segments written ahead of the prefix
 * wait here for it (with 4 MiB segments on 4 connections, ~12 MiB); beyond this, the worker reads the file.
 * 16 MiB (4 GiB bench mix, alternated): as fast as 32 MiB with 8 MiB segments, 15 MiB less peak RSS.
 */
const HOLD_BYTES = 16 * MiB;

/** Buffers the worker may be reading: given back (release) once it hashed past `end` in `epoch`, or left the epoch. */
interface HeldBuffers {
  epoch: number;
  end: number;
  bytes: number;
  release(): void;
}

/**
 * Hashes the bytes of one partial file at their final positions. Transfer tells it, after each completed write,
 * how far the file is written contiguously from byte 0, and calls restart() before it rewrites bytes from 0.
 */
export interface Digester {
  /**
   * `chunks` were written at `offset` (the write completed); [0, prefix) is now written contiguously. `release`
   * lets the caller reuse the chunks' memory: called at once, or later by a digester that keeps the bytes until it
   * hashed them (bounded); without it, the chunks are reused once this returns.
   */
  wrote(offset: number, chunks: readonly Buffer[], prefix: number, release?: () => void): void;
  /** Bytes already hashed may be rewritten: drop what was hashed and start over from byte 0 (prefix 0). */
  restart(): void;
  /** Set when hashing failed for good (the transfer should stop: its result could not be verified). */
  readonly failure: unknown;
  /** The sha256 of the whole file once [0, size) is written; rejects with the failure or the signal's reason. */
  digest(signal?: AbortSignal): Promise<string>;
  /** Frees the worker, if any; safe to call more than once, and after a failure. */
  close(): Promise<void>;
}

/**
 * In the main thread, as before the worker: hashes the chunks as they are written while they arrive in order
 * from byte 0 (one segment, nothing resumed), else re-reads the whole file at the end.
 */
export class InlineDigester implements Digester {
  private hash: Hash | undefined;
  private pos = 0;
  readonly failure: unknown = undefined;

  constructor(
    private readonly path: string,
    private readonly size: number,
    prefix: number,
  ) {
    this.hash = prefix === 0 ? createHash('sha256') : undefined;
  }

  wrote(offset: number, chunks: readonly Buffer[], prefix: number, release?: () => void): void {
    if (this.hash) {
      if (offset === this.pos) {
        for (const c of chunks) this.hash.update(c);
        this.pos += chunks.reduce((n, c) => n + c.length, 0);
      }
      // Bytes of a later segment joined the prefix: they were not seen in order, so the file is re-read at the end.
      if (prefix !== this.pos) this.hash = undefined;
    }
    release?.();
  }

  restart(): void {
    this.hash = createHash('sha256');
    this.pos = 0;
  }

  async digest(): Promise<string> {
    if (this.hash && this.pos === this.size) return this.hash.digest('hex');
    try {
      return await sha256OfFile(this.path);
    } catch (err) {
      throw hashReadError(err, this.path);
    }
  }

  async close(): Promise<void> {}
}

/**
 * A worker thread hashing the partial file's written prefix from the page cache while the transfer goes on
 * (no bytes are copied between threads: only the prefix offset, through a SharedArrayBuffer). The worker is
 * unref'd except while digest() waits, so a forgotten one never keeps the process alive; close() terminates it.
 * A read error of the worker (EIO, a vanished or truncated file) fails the download with E_STORE_IO; a worker that
 * crashed otherwise (it could not start, a bug) is logged and the file is hashed in the main thread instead.
 */
export class WorkerDigester implements Digester {
  private readonly ctl: BigInt64Array;
  private readonly worker: Worker;
  /** Where written buffers are posted for the worker to hash from memory. */
  private readonly port: MessagePort;
  /** Buffers posted to the worker and not given back yet, in write order. */
  private held: HeldBuffers[] = [];
  private heldBytes = 0;
  private epoch = 0;
  private published = 0;
  private notified = 0;
  private notifiedAt = 0;
  private latest: { epoch: number; digest: string } | undefined;
  private waiter: { resolve(): void } | undefined;
  private failed: unknown;
  /** Why the worker stopped when it was not a read error: digest() falls back to hashing in this thread. */
  private crashed: unknown;
  private exited = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly size: number,
    prefix: number,
    private readonly log: Pick<Logger, 'warn'> = { warn() {} },
    workerUrl: URL = new URL('./hash-worker.js', import.meta.url),
  ) {
    const control = new SharedArrayBuffer(SLOTS * BigInt64Array.BYTES_PER_ELEMENT);
    this.ctl = new BigInt64Array(control);
    this.publish(prefix);
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.unref();
    const data: HashWorkerData = { path, size, control, readBytes: WORKER_READ_BYTES, port: channel.port2 };
    // No inherited execArgv: the worker needs no loader or flag of the parent (tap's hooks, --cpu-prof ...).
    // trackUnmanagedFds: the file it opens is closed when it is terminated mid-read (fds belong to the process).
    this.worker = new Worker(workerUrl, { workerData: data, transferList: [channel.port2], execArgv: [], stdout: false, stderr: false, trackUnmanagedFds: true });
    this.worker.unref();
    this.worker.on('message', (m: HashWorkerReport) => this.onReport(m));
    this.worker.on('error', (err) => this.crash(err));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.crash(new Error(`the hash worker stopped (exit code ${code})`));
    });
  }

  get failure(): unknown {
    return this.failed;
  }

  wrote(offset: number, chunks: readonly Buffer[], prefix: number, release?: () => void): void {
    this.reclaim();
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    if (release && !this.exited && bytes > 0 && this.heldBytes + bytes <= HOLD_BYTES && chunks.every((c) => c.buffer instanceof SharedArrayBuffer)) {
      // Posted before PREFIX covers them: the worker hashes these bytes from memory instead of reading them back.
      let at = offset;
      const ranges: HeldRanges['ranges'] = chunks.map((c) => {
        const r: HeldRanges['ranges'][number] = [at, c.buffer as SharedArrayBuffer, c.byteOffset, c.length];
        at += c.length;
        return r;
      });
      this.port.postMessage({ epoch: this.epoch, ranges } satisfies HeldRanges);
      this.held.push({ epoch: this.epoch, end: offset + bytes, bytes, release });
      this.heldBytes += bytes;
    } else release?.();
    if (prefix > this.published) this.publish(prefix);
  }

  /**
   * Gives back the held buffers the worker is done with: those of this epoch it hashed past, and those of an older
   * epoch once it works in a newer one. `all`: every one (the worker is gone).
   */
  private reclaim(all = false): void {
    if (this.held.length === 0) return;
    const ack = Number(Atomics.load(this.ctl, Slot.ACK));
    const hashed = Number(Atomics.load(this.ctl, Slot.HASHED));
    const keep: HeldBuffers[] = [];
    for (const h of this.held) {
      if (all || h.epoch < ack || (h.epoch === ack && ack === this.epoch && hashed >= h.end)) {
        this.heldBytes -= h.bytes;
        h.release();
      } else keep.push(h);
    }
    this.held = keep;
  }

  restart(): void {
    // PREFIX before EPOCH: a worker that sees the new epoch also sees a prefix of that epoch.
    Atomics.store(this.ctl, Slot.PREFIX, 0n);
    this.published = 0;
    this.notified = 0;
    this.epoch++;
    Atomics.store(this.ctl, Slot.EPOCH, BigInt(this.epoch));
    this.notify();
  }

  /** Bytes the worker has hashed in the current epoch (for tests and logs). */
  get hashedBytes(): number {
    return Number(Atomics.load(this.ctl, Slot.HASHED));
  }

  async digest(signal?: AbortSignal): Promise<string> {
    this.worker.ref();
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (this.failed !== undefined) throw this.failed;
        if (this.latest?.epoch === this.epoch) return this.latest.digest;
        if (this.crashed !== undefined) break;
        await new Promise<void>((resolve) => {
          const onAbort = (): void => resolve();
          signal?.addEventListener('abort', onAbort, { once: true });
          this.waiter = {
            resolve: () => {
              signal?.removeEventListener('abort', onAbort);
              resolve();
            },
          };
        });
      }
    } finally {
      this.waiter = undefined;
      if (!this.exited) this.worker.unref();
    }
    this.log.warn('download: the hash worker failed; hashing the file in the main thread', { path: this.path, error: describe(this.crashed) });
    try {
      return await sha256OfFile(this.path);
    } catch (err) {
      throw hashReadError(err, this.path);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      Atomics.store(this.ctl, Slot.STOP, 1n);
      this.notify();
      if (!this.exited) await this.worker.terminate();
      this.port.close();
      this.reclaim(true);
    })();
    return this.closing;
  }

  private publish(prefix: number): void {
    Atomics.store(this.ctl, Slot.PREFIX, BigInt(prefix));
    this.published = prefix;
    if (prefix - this.notified >= NOTIFY_BYTES || prefix >= this.size || performance.now() - this.notifiedAt >= NOTIFY_MS) {
      this.notified = prefix;
      this.notify();
    }
  }

  private notify(): void {
    this.notifiedAt = performance.now();
    Atomics.add(this.ctl, Slot.SEQ, 1n);
    Atomics.notify(this.ctl, Slot.SEQ);
  }

  private onReport(m: HashWorkerReport): void {
    if (m.kind === 'digest') this.latest = { epoch: m.epoch, digest: m.digest };
    else if (m.code !== undefined && m.code.startsWith('E')) this.fail(Object.assign(new Error(m.message), { code: m.code }, m.syscall ? { syscall: m.syscall } : {}));
    else this.crash(new Error(m.message));
    this.wake();
  }

  /** A read error: the file cannot be verified, the download fails (the transfer stops at its next write). */
  private fail(err: unknown): void {
    if (this.closing !== undefined) return;
    this.failed ??= hashReadError(err, this.path);
    this.wake();
  }

  /** The worker is gone for another reason than a read error (it reported that first, or close() stopped it). */
  private crash(err: unknown): void {
    if (this.closing === undefined && this.failed === undefined) this.crashed ??= err;
    this.wake();
  }

  private wake(): void {
    this.waiter?.resolve();
  }
}

/**
 * Which digester a download uses: a worker from `workerMinBytes` on (its start-up costs more than hashing less
 * in-thread), else, or when no worker thread can be started, the main thread.
 */
export function startDigester(path: string, size: number, prefix: number, workerMinBytes: number, log: Pick<Logger, 'warn'>): Digester {
  if (size < workerMinBytes) return new InlineDigester(path, size, prefix);
  try {
    return new WorkerDigester(path, size, prefix, log);
  } catch (err) {
    log.warn('download: cannot start a hash worker; hashing in the main thread', { path, error: describe(err) });
    return new InlineDigester(path, size, prefix);
  }
}
