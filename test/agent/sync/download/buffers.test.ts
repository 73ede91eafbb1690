// The write buffer pool: aligned shared memory for sizes O_DIRECT can take, plain buffers otherwise, reused.
import t from 'tap';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool, DIRECT_ALIGN, isSharedAligned, poolOf } from '../../../../agent/src/sync/download/buffers.js';
import { tempDir } from '../../../helpers/agent-process.js';
import { noDirectIo } from '../../../helpers/files.js';

t.test('sizes that are multiples of the alignment come from shared, aligned memory; others are plain buffers', async (t) => {
  const aligned = new BufferPool(64 * 1024, 8).take();
  t.equal(aligned.length, 64 * 1024);
  t.ok(aligned.buffer instanceof SharedArrayBuffer, 'shared memory (the hash worker can read it)');
  t.ok(isSharedAligned(aligned));
  const odd = new BufferPool(1000, 8).take();
  t.equal(odd.length, 1000);
  t.notOk(odd.buffer instanceof SharedArrayBuffer, 'plain memory for a size O_DIRECT could not write');
  t.notOk(isSharedAligned(odd));
});

t.test('buffers given back are reused: plain ones up to the kept count, shared ones all', async (t) => {
  const plain = new BufferPool(1000, 2);
  const [a, b, c] = [plain.take(), plain.take(), plain.take()];
  plain.give([a, b, c]);
  const again = [plain.take(), plain.take(), plain.take()];
  t.ok(again.includes(a) && again.includes(b), 'the kept plain buffers come back');
  t.notOk(again.includes(c), 'the one past the kept count was dropped');
  const shared = new BufferPool(DIRECT_ALIGN, 2);
  const taken = Array.from({ length: 2000 }, () => shared.take()); // several regions
  shared.give(taken);
  const back = new Set(Array.from({ length: 2000 }, () => shared.take()));
  t.ok(taken.every((x) => back.has(x)), 'every shared buffer comes back: no half-used region is left behind');
  t.equal(poolOf(8192), poolOf(8192), 'one pool per size in the process');
});

t.test('O_DIRECT takes the pool\'s buffers and refuses misaligned memory (what the alignment is for)', async (t) => {
  const dir = await tempDir(t);
  const why = await noDirectIo(dir);
  if (why) return t.plan(0, why);
  const h = await open(join(dir, 'direct'), constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT);
  try {
    const buf = new BufferPool(2 * DIRECT_ALIGN, 2).take().fill(7);
    const { bytesWritten } = await h.write(buf, 0, buf.length, 0);
    t.equal(bytesWritten, buf.length, 'an aligned pool buffer is written directly');
    await t.rejects(h.write(buf.subarray(1, 1 + DIRECT_ALIGN), 0, DIRECT_ALIGN, 0), { code: 'EINVAL' }, 'memory off by one byte is refused');
  } finally {
    await h.close();
  }
});
