// The hash worker (a worker thread): sha256 of a partial file's contiguous written prefix, read back from the page cache as it grows.
// Loaded only with `new Worker(new URL('./hash-worker.js', import.meta.url))` (see digest.ts); it imports node built-ins only, to start fast.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Slot, type HashWorkerData, type HashWorkerReport } from './hash-protocol.js';

/** Longest wait between two looks at the control block when nothing was notified (a safety net, not the signal). */
const IDLE_WAIT_MS = 1000;

function post(report: HashWorkerReport): void {
  parentPort?.postMessage(report);
}

/**
 * Hashes [0, PREFIX) as PREFIX grows. The main thread raises PREFIX only over completed writes, so a read never
 * sees bytes still being written; before it rewrites bytes that may be hashed already it sets PREFIX to 0 and
 * bumps EPOCH, and a read that raced with that bump is dropped (EPOCH is checked again after each read).
 * Posts the digest once all `size` bytes are hashed in one epoch.
 */
function run(data: HashWorkerData): void {
  const ctl = new BigInt64Array(data.control);
  const buf = Buffer.allocUnsafe(data.readBytes);
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
      }
      const prefix = Math.min(data.size, Number(Atomics.load(ctl, Slot.PREFIX)));
      if (pos < prefix) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, prefix - pos), pos);
        if (n <= 0) {
          throw Object.assign(new Error(`the partial file ${data.path} ends at byte ${pos}, but ${prefix} bytes of it were written`), { code: 'ESHORT' });
        }
        if (Atomics.load(ctl, Slot.EPOCH) !== epoch) continue; // rewritten meanwhile: these bytes may be stale
        hash.update(n === buf.length ? buf : buf.subarray(0, n));
        pos += n;
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
