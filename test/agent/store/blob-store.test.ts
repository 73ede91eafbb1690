// The content-addressed store: verified writes, dedupe, refusal of wrong data, start-up recovery, full disk.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/log/index.js';
import { openStateDb } from '../../../agent/src/db/index.js';
import { BlobStore } from '../../../agent/src/store/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
async function* chunks(b: Buffer, size = 65536): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function openStore(t: { teardown(fn: () => unknown): void }, root?: string) {
  const dir = root ?? (await tempDir(t));
  const state = await openStateDb(join(dir, 'state.db'));
  t.teardown(() => state.close());
  const store = new BlobStore({ root: dir, db: state.db, log: silentLogger() });
  await store.init();
  return { dir, state, store };
}

t.test('put hashes while writing and stores under the hash', async (t) => {
  const { store, dir } = await openStore(t);
  const data = randomBytes(200_000);
  const progress: number[] = [];
  const r = await store.put(chunks(data), {}, (n) => progress.push(n));
  t.same(r, { sha256: sha(data), size: data.length, existed: false });
  t.ok((await readFile(store.blobPath(r.sha256))).equals(data));
  t.equal(progress.at(-1), data.length, 'progress reaches the size');
  t.same(await readdir(join(dir, 'tmp')), [], 'no temp file left');
  t.equal(await store.sizeOf(r.sha256), data.length);
  const again = await store.put(chunks(data));
  t.equal(again.existed, true, 'the same bytes are stored once');
  const known = await store.put(chunks(Buffer.alloc(0)), { sha256: r.sha256, size: data.length });
  t.same(known, { sha256: r.sha256, size: data.length, existed: true }, 'an expected hash already stored is not re-read');
});

t.test('wrong hash or size: refused, nothing stored', async (t) => {
  const { store, dir } = await openStore(t);
  const data = randomBytes(10_000);
  await t.rejects(store.put(chunks(data), { sha256: sha(Buffer.from('other')) }), { code: 'E_HASH_MISMATCH', message: /corrupt or tampered/ });
  await t.rejects(store.put(chunks(data), { size: 9_999 }), { code: 'E_SIZE_MISMATCH' });
  await t.rejects(store.put(chunks(data), { size: 10_001 }), { code: 'E_SIZE_MISMATCH', message: /truncated/ });
  await t.rejects(store.put(chunks(data), { sha256: 'ABC' }), { code: 'E_BAD_REQUEST' });
  t.same(await readdir(join(dir, 'tmp')), []);
  t.same(await readdir(store.blobDir), [], 'no blob written');
  t.throws(() => store.blobPath('../../etc/passwd'), { code: 'E_BAD_REQUEST' }, 'only a hash becomes a path');
});

t.test('a source that fails midway leaves nothing behind', async (t) => {
  const { store, dir } = await openStore(t);
  async function* failing(): AsyncGenerator<Buffer> {
    yield randomBytes(1000);
    throw new Error('connection reset by the origin');
  }
  await t.rejects(store.put(failing()), { message: /connection reset/ });
  t.same(await readdir(join(dir, 'tmp')), []);
});

t.test('recovery: temp files, unrecorded blobs, strays, missing and resized files', async (t) => {
  const { store, dir, state } = await openStore(t);
  const kept = await store.put(chunks(randomBytes(5000)));
  const vanished = await store.put(chunks(randomBytes(5000)));
  const shrunk = await store.put(chunks(randomBytes(5000)));
  // A crash between rename and the DB insert: a good blob the DB does not know.
  const orphanData = randomBytes(3000);
  const orphan = sha(orphanData);
  await mkdir(join(store.blobDir, orphan.slice(0, 2)), { recursive: true });
  await writeFile(join(store.blobDir, orphan.slice(0, 2), orphan), orphanData);
  // A file whose content does not match its name, a file with a bad name, a temp file.
  const liar = sha(Buffer.from('liar'));
  await mkdir(join(store.blobDir, liar.slice(0, 2)), { recursive: true });
  await writeFile(join(store.blobDir, liar.slice(0, 2), liar), 'not liar');
  await writeFile(join(store.blobDir, liar.slice(0, 2), 'stray.txt'), 'x');
  await writeFile(join(dir, 'tmp', 'abc.part'), 'partial');
  const { rm, truncate } = await import('node:fs/promises');
  await rm(store.blobPath(vanished.sha256));
  await truncate(store.blobPath(shrunk.sha256), 100);

  const report = await store.recover();
  // The truncated blob counts twice: its file is discarded (wrong content) and its row forgotten (missing).
  t.same(report, { tempFilesRemoved: 1, adopted: 1, discarded: 3, missing: 2 });
  t.equal(await store.sizeOf(kept.sha256), 5000);
  t.equal(await store.sizeOf(orphan), 3000, 'the verified orphan is adopted');
  t.equal(await store.sizeOf(vanished.sha256), undefined, 'a missing file is forgotten');
  t.equal(await store.sizeOf(shrunk.sha256), undefined, 'a truncated file is re-hashed, found wrong, removed');
  await t.rejects(stat(store.blobPath(shrunk.sha256)));
  t.same(await readdir(join(dir, 'tmp')), []);
  t.same((await readdir(join(store.blobDir, liar.slice(0, 2)))).filter((n) => n === liar || n === 'stray.txt'), []);
  t.same(await store.recover(), { tempFilesRemoved: 0, adopted: 0, discarded: 0, missing: 0 }, 'a second pass finds nothing');
  t.ok(state);
});

t.test('recovery keeps the temp file of a write still running in another process', async (t) => {
  const { store, dir } = await openStore(t);
  const { spawn } = await import('node:child_process');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  t.teardown(() => other.kill('SIGKILL'));
  const live = join(dir, 'tmp', `${other.pid}-abc.part`);
  const dead = join(dir, 'tmp', '999999999-def.part');
  const legacy = join(dir, 'tmp', 'no-pid.part');
  for (const f of [live, dead, legacy]) await writeFile(f, 'x');
  const report = await store.recover();
  t.equal(report.tempFilesRemoved, 2);
  t.same(await readdir(join(dir, 'tmp')), [`${other.pid}-abc.part`], 'only the live writer\'s file stays');
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  await store.recover();
  t.same(await readdir(join(dir, 'tmp')), [], 'and it goes once that process is gone');
});

t.test('not enough room: refused before writing', async (t) => {
  const dir = await tempDir(t);
  const state = await openStateDb(join(dir, 'state.db'));
  t.teardown(() => state.close());
  const store = new BlobStore({ root: dir, db: state.db, log: silentLogger(), reserveBytes: Number.MAX_SAFE_INTEGER / 2 });
  await store.init();
  await t.rejects(store.put(chunks(randomBytes(10))), { code: 'E_DISK_FULL' }, 'already below the reserve: refused even when the size is unknown');
});

const mnt = await smallTmpfs(t, '4m');
t.test('a disk that fills up during the write: E_DISK_FULL, nothing kept, the store still works', typeof mnt === 'string' ? {} : mnt, async (t) => {
  const { store, dir } = await openStore(t, mnt as string);
  await t.rejects(store.put(chunks(randomBytes(8 * 1024 * 1024))), { code: 'E_DISK_FULL', message: /full.*nothing was stored/ });
  t.same(await readdir(join(dir, 'tmp')), [], 'the partial temp file is removed');
  const small = await store.put(chunks(randomBytes(1000)));
  t.equal(small.existed, false, 'the store accepts writes again once space is back');
});
