// The hash worker (a worker thread): sha256 of a partial file's contiguous written prefix as it grows, from the written buffers when held, else read back.
// Loaded only with `new Worker(new URL('./hash-worker.js', import.meta.url))` (see digest.ts); it imports node built-ins only, to start fast.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Slot, type HashWorkerData, type HashWorkerReport, type HeldRanges } from './hash-protocol.js';

/** Longest wait between two looks at the control block when nothing was notified (a safety net, not the signal). */
const IDLE_WAIT_MS = 1000;

function post(report: HashWorkerReport): void {
  parentPort?.postMessage(report);
}

/** The held ranges posted so far, by file offset, for one epoch at a time (a newer epoch's wait their turn). */
class Held {
  private readonly byOffset = new Map<number, { epoch: number; buf: Buffer }>();

  constructor(private readonly port: HashWorkerData['port']) {}

  /** Takes every message posted so far (those of PREFIX's bytes were posted before PREFIX was raised over them). */
  drain(): void {
    if (!this.port) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const { epoch, ranges } = m.message as HeldRanges;
      for (const [at, sab, off, len] of ranges) this.byOffset.set(at, { epoch, buf: Buffer.from(sab, off, len) });
    }
  }

  /** Takes the held bytes starting exactly at `pos` in `epoch`, if any, when they are all within `prefix`. */
  take(pos: number, epoch: number, prefix: number): Buffer | undefined {
    const h = this.byOffset.get(pos);
    if (!h || h.epoch !== epoch || pos + h.buf.length > prefix) return undefined;
    this.byOffset.delete(pos);
    return h.buf;
  }

  /**
   * Where the first held range of `epoch` after `pos` starts (a file read stops there); forgets those of older
   * epochs and those at or before `pos` (the file is read there instead).
   */
  nextAfter(pos: number, epoch: number): number {
    let next = Infinity;
    for (const [at, h] of this.byOffset) {
      if (h.epoch < epoch || at <= pos) this.byOffset.delete(at);
      else if (h.epoch === epoch && at < next) next = at;
    }
    return next;
  }
}

/**
 * Hashes [0, PREFIX) as PREFIX grows, from the held buffers where the main thread posted them, else from the file.
 * The main thread raises PREFIX only over completed writes, so a read never sees bytes still being written; before
 * it rewrites bytes that may be hashed already it sets PREFIX to 0 and bumps EPOCH, and bytes read or taken from
 * memory across that bump are dropped (EPOCH is checked again before they are hashed).
 * Posts the digest once all `size` bytes are hashed in one epoch.
 */
function run(data: HashWorkerData): void {
  const ctl = new BigInt64Array(data.control);
  const buf = Buffer.allocUnsafe(data.readBytes);
  const held = new Held(data.port);
  const fd = openSync(data.path, 'r');
  try {
    let epoch = -1n;
    let hash: Hash = createHash('sha256');
    let pos = 0;
    let reported = false;
    for (;;) {
      const seq = Atomics.load(ctl, Slot.SEQ);
      if (Atomics.load(ctl, Slot.STOP) !== 0n) return;
      const e = Atomics.load(ctl, Slot.EPOCH);
      if (e !== epoch) {
        epoch = e;
        hash = createHash('sha256');
        pos = 0;
        reported = false;
        Atomics.store(ctl, Slot.HASHED, 0n);
        Atomics.store(ctl, Slot.ACK, epoch); // from here on no buffer of an older epoch is touched
      }
      const prefix = Math.min(data.size, Number(Atomics.load(ctl, Slot.PREFIX)));
      if (pos < prefix) {
        held.drain();
        let bytes = held.take(pos, Number(epoch), prefix);
        if (!bytes) {
          const until = Math.min(prefix, held.nextAfter(pos, Number(epoch)));
          const n = readSync(fd, buf, 0, Math.min(buf.length, until - pos), pos);
          if (n <= 0) {
            throw Object.assign(new Error(`the partial file ${data.path} ends at byte ${pos}, but ${prefix} bytes of it were written`), { code: 'ESHORT' });
          }
          bytes = n === buf.length ? buf : buf.subarray(0, n);
        }
        if (Atomics.load(ctl, Slot.EPOCH) !== epoch) continue; // rewritten meanwhile: these bytes may be stale
        hash.update(bytes);
        pos += bytes.length;
        Atomics.store(ctl, Slot.HASHED, BigInt(pos));
        continue;
      }
      if (pos === data.size && !reported) {
        reported = true;
        post({ kind: 'digest', epoch: Number(epoch), digest: hash.digest('hex') });
      }
      Atomics.wait(ctl, Slot.SEQ, seq, IDLE_WAIT_MS);
    }
  } finally {
    closeSync(fd);
  }
}

try {
  run(workerData as HashWorkerData);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  post({ kind: 'error', message: e instanceof Error ? e.message : String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}) });
}
