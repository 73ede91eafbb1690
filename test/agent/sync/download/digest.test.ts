// The hash worker on its own: it hashes only the written prefix, in order, starts over on restart, hashes a resumed prefix at once, fails clearly, leaves no thread.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BufferPool, isSharedAligned } from '../../../../agent/src/sync/download/buffers.js';
import { InlineDigester, WorkerDigester, type Digester } from '../../../../agent/src/sync/download/digest.js';
import { tempDir } from '../../../helpers/agent-process.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** OS threads of this process (Linux): a worker thread is one. */
function threads(): number | undefined {
  if (!existsSync('/proc/self/status')) return undefined;
  const m = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** Open file descriptors of this process (Linux). */
function fds(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

/** A file of `size` bytes of 0xee: whatever was not written yet is garbage, so a read past the written prefix would spoil the hash. */
async function garbageFile(dir: string, size: number): Promise<string> {
  const path = join(dir, 'target.part');
  await writeFile(path, Buffer.alloc(size, 0xee));
  return path;
}

/** A worker digester over a garbage file of `size` bytes in a fresh directory, closed at the test's end. */
async function garbageWorker(t: { teardown(fn: () => unknown): void }, size: number): Promise<{ path: string; d: WorkerDigester }> {
  const path = await garbageFile(await tempDir(t), size);
  const d = new WorkerDigester(path, size, 0);
  t.teardown(() => d.close());
  return { path, d };
}

/** Waits until the worker has hashed `bytes` (the test's own timeout bounds the wait). */
async function hashed(d: WorkerDigester, bytes: number): Promise<void> {
  while (d.hashedBytes < bytes) {
    if (d.failure !== undefined) throw d.failure;
    await delay(2);
  }
}

/** Writes `data`'s span [start, end) into the file and tells the digester, with the contiguous prefix the caller computes. */
async function writeSpan(path: string, data: Buffer, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r+');
  try {
    const chunk = data.subarray(start, end);
    await handle.write(chunk, 0, chunk.length, start);
    return chunk;
  } finally {
    await handle.close();
  }
}

t.test('out-of-order segments: only the contiguous written prefix is read, and the digest is of the final bytes', async (t) => {
  const size = 8 * MiB + 12345;
  const data = randomBytes(size);
  const { path, d } = await garbageWorker(t, size);
  const cut = [0, 2 * MiB + 1, 4 * MiB, 6 * MiB + 7, size];
  const done = new Set<number>();
  const prefix = (): number => {
    let i = 0;
    while (done.has(i)) i++;
    return cut[i] as number;
  };
  for (const i of [2, 3, 0, 1]) {
    const chunk = await writeSpan(path, data, cut[i] as number, cut[i + 1] as number);
    done.add(i);
    const p = prefix();
    d.wrote(cut[i] as number, [chunk], p);
    await hashed(d, p); // the worker is caught up: had it read past p, it would have hashed 0xee bytes
    t.ok(d.hashedBytes <= p, `never past the written prefix (${d.hashedBytes} <= ${p})`);
  }
  t.equal(await d.digest(), sha(data));
});

t.test('resume: the prefix already on disk is hashed from the start, before any new byte is written', async (t) => {
  const dir = await tempDir(t);
  const size = 6 * MiB;
  const data = randomBytes(size);
  const path = await garbageFile(dir, size);
  const onDisk = 4 * MiB + 3;
  await writeSpan(path, data, 0, onDisk);
  const d = new WorkerDigester(path, size, onDisk);
  t.teardown(() => d.close());
  await hashed(d, onDisk);
  t.equal(d.hashedBytes, onDisk, 'hashed up to the resumed prefix and no further');
  const rest = await writeSpan(path, data, onDisk, size);
  d.wrote(onDisk, [rest], size);
  t.equal(await d.digest(), sha(data));
});

t.test('restart: bytes already hashed are rewritten; the hash starts over from byte 0', async (t) => {
  const size = 5 * MiB;
  const right = randomBytes(size);
  const wrong = randomBytes(size);
  const { path, d } = await garbageWorker(t, size);
  const half = await writeSpan(path, wrong, 0, 3 * MiB);
  d.wrote(0, [half], 3 * MiB);
  await hashed(d, 3 * MiB); // the wrong bytes are in the worker's hash
  d.restart();
  const all = await writeSpan(path, right, 0, size);
  d.wrote(0, [all], size);
  t.equal(await d.digest(), sha(right), 'the digest is of the rewritten bytes only');
});

t.test('the digest waits for the whole file and follows the latest restart', async (t) => {
  const dir = await tempDir(t);
  const size = 3 * MiB;
  const data = randomBytes(size);
  const path = await garbageFile(dir, size);
  await writeSpan(path, data, 0, size);
  const d = new WorkerDigester(path, size, size); // everything written: a digest for epoch 0 comes at once
  t.teardown(() => d.close());
  await hashed(d, size);
  d.restart(); // ... and is void now: nothing of epoch 1 is written yet
  let settled = false;
  const pending = d.digest().finally(() => (settled = true));
  await delay(50);
  t.equal(settled, false, 'no digest before the rewritten bytes are all written');
  d.wrote(0, [data], size);
  t.equal(await pending, sha(data));
});

t.test('worker errors are clear store errors', async (t) => {
  const dir = await tempDir(t);
  t.test('the file cannot be opened', async (t) => {
    const path = join(dir, 'missing.part');
    const d = new WorkerDigester(path, MiB, 0);
    t.teardown(() => d.close());
    d.wrote(0, [], MiB);
    await t.rejects(d.digest(), { code: 'E_STORE_IO', message: new RegExp(`cannot read the partial download ${path} back to check its sha256: .*ENOENT`) });
    t.match(d.failure, { code: 'E_STORE_IO' }, 'also seen by the transfer, which stops');
  });
  t.test('the file is shorter than what was written to it (truncated under us)', async (t) => {
    const path = join(dir, 'short.part');
    await writeFile(path, randomBytes(MiB));
    const d = new WorkerDigester(path, 4 * MiB, 0);
    t.teardown(() => d.close());
    d.wrote(0, [], 4 * MiB);
    await t.rejects(d.digest(), { code: 'E_STORE_IO', message: /ends at byte 1048576, but 4194304 bytes of it were written/ });
  });
});

t.test('a worker that cannot start (or crashes) is logged and the file is hashed in the main thread', async (t) => {
  const dir = await tempDir(t);
  const data = randomBytes(MiB + 1);
  const path = join(dir, 'target.part');
  await writeFile(path, data);
  const warnings: string[] = [];
  const d = new WorkerDigester(path, data.length, data.length, { warn: (msg: string) => void warnings.push(msg) }, new URL('./no-such-hash-worker.js', import.meta.url));
  t.teardown(() => d.close());
  t.equal(await d.digest(), sha(data));
  t.equal(d.failure, undefined, 'not a failure of the download');
  t.match(warnings, [/hash worker failed; hashing the file in the main thread/]);
});

t.test('abort and close: digest() gives the reason back, close() ends the thread', async (t) => {
  const dir = await tempDir(t);
  const size = 2 * MiB;
  const path = await garbageFile(dir, size);
  const before = threads();
  const d = new WorkerDigester(path, size, 0);
  await hashed(d, 0);
  const ctl = new AbortController();
  const waiting = d.digest(ctl.signal);
  ctl.abort(new Error('operator stop'));
  await t.rejects(waiting, { message: 'operator stop' });
  await d.close();
  await d.close(); // twice is fine
  if (before === undefined) t.comment('no /proc/self/status: thread count not checked');
  else t.equal(threads(), before, 'the worker thread is gone');
  t.equal(d.failure, undefined, 'closing is not a failure');
});

t.test('close() while the worker is hashing: its thread and its file descriptor are gone', async (t) => {
  const dir = await tempDir(t);
  const size = 64 * MiB;
  const path = await garbageFile(dir, size);
  const before = { threads: threads(), fds: fds() };
  const d = new WorkerDigester(path, size, size);
  await hashed(d, MiB); // busy reading and hashing
  await d.close();
  if (before.threads === undefined || before.fds === undefined) t.comment('no /proc/self: not checked');
  else t.same({ threads: threads(), fds: fds() }, before);
});

t.test('in-thread digester: streams in-order writes, else re-reads the file; restart starts over', async (t) => {
  const dir = await tempDir(t);
  const size = MiB + 5;
  const data = randomBytes(size);
  const path = await garbageFile(dir, size);
  const streamed: Digester = new InlineDigester(join(dir, 'not-read'), size, 0);
  streamed.wrote(0, [data.subarray(0, 1000)], 1000);
  streamed.restart();
  streamed.wrote(0, [data.subarray(0, 7), data.subarray(7, 1000)], 1000);
  streamed.wrote(1000, [data.subarray(1000)], size);
  t.equal(await streamed.digest(), sha(data), 'hashed while written (the file it names does not even exist)');
  await writeSpan(path, data, 0, size);
  const outOfOrder = new InlineDigester(path, size, 0);
  outOfOrder.wrote(1000, [data.subarray(1000)], 0);
  outOfOrder.wrote(0, [data.subarray(0, 1000)], size);
  t.equal(await outOfOrder.digest(), sha(data), 're-read from the file');
});

/** `data` copied into shared, aligned pool buffers of `piece` bytes (what Transfer writes from), with a release counter. */
function sharedPieces(data: Buffer, piece: number): { pieces: Buffer[]; released: () => number; release: () => void } {
  const pool = new BufferPool(piece, 1024);
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) {
    const b = pool.take();
    const n = data.copy(b, 0, at, Math.min(data.length, at + piece));
    pieces.push(b.subarray(0, n));
  }
  let count = 0;
  return { pieces, released: () => count, release: () => void count++ };
}

t.test('held buffers: the worker hashes written bytes from memory, and gives each back once it hashed past it', async (t) => {
  const piece = 256 * 1024;
  const size = 4 * MiB + 1000;
  const data = randomBytes(size);
  // The file keeps its garbage: a digest of `data` can only come from the posted buffers.
  const { d } = await garbageWorker(t, size);
  const { pieces, released, release } = sharedPieces(data, piece);
  t.ok(pieces.every((p) => isSharedAligned(p)), 'the pool hands out aligned shared memory');
  const second = pieces.slice(8); // [2 MiB, size) written first, out of order: nothing to hash yet
  d.wrote(2 * MiB, second, 0, release);
  await delay(30);
  t.equal(released(), 0, 'bytes past the prefix are held, not given back');
  d.wrote(0, pieces.slice(0, 8), size, release);
  t.equal(await d.digest(), sha(data), 'the digest is of the held bytes (the file holds garbage)');
  d.wrote(size, [], size); // any later call gives back what the worker hashed past
  t.equal(released(), 2, 'both writes given back once hashed');
});

t.test('held buffers: past the bound they are given back at once and the worker reads the file', async (t) => {
  const size = 24 * MiB;
  const data = randomBytes(size);
  const { path, d } = await garbageWorker(t, size);
  const { pieces, released, release } = sharedPieces(data, MiB);
  for (let i = 1; i < pieces.length; i++) d.wrote(i * MiB, [pieces[i] as Buffer], 0, release);
  t.equal(released(), 23 - 16, 'the first 16 MiB ahead of the prefix are held, the rest given back at once');
  await writeSpan(path, data, 17 * MiB, size); // what was not held must be on disk for the worker
  await writeSpan(path, data, 0, MiB); // (the hold is full: this one is given back at once too)
  d.wrote(0, [pieces[0] as Buffer], size, release);
  t.equal(released(), 8);
  t.equal(await d.digest(), sha(data), 'held bytes from memory, the rest from the file');
});

t.test('held buffers and restart: the old epoch\'s are given back only once the worker left it', async (t) => {
  const size = 2 * MiB;
  const right = randomBytes(size);
  const wrong = randomBytes(size);
  const { d } = await garbageWorker(t, size);
  const old = sharedPieces(wrong, MiB);
  d.wrote(MiB, [old.pieces[1] as Buffer], 0, old.release); // held, never hashed
  d.restart();
  const now = sharedPieces(right, MiB);
  d.wrote(0, now.pieces, size, now.release);
  t.equal(await d.digest(), sha(right), 'the new epoch\'s bytes, not the held old ones');
  d.wrote(size, [], size);
  t.equal(old.released(), 1, 'the old epoch\'s buffer given back');
  t.equal(now.released(), 1, 'the new one too, once hashed');
});
