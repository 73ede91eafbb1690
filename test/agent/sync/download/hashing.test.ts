// downloadTarget hashing in a worker thread: out-of-order segments, resumed prefixes, restarts from zero, rewinds of hinted bytes, aborts.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageRoot } from '../../../../lib/package-root.js';
import { downloadTarget, sidecarPath, type DownloadDeps, type Sidecar } from '../../../../agent/src/sync/download/index.js';
import { FaultyOrigin } from '../../../helpers/faulty-origin.js';
import { tempDir } from '../../../helpers/agent-process.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Every test here hashes in the worker, whatever the size. */
const WORKER: DownloadDeps = { hashWorkerMinBytes: 0, sleep: async () => {}, random: () => 0.5 };

async function setup(t: Test, size: number) {
  const origin = await FaultyOrigin.start();
  t.teardown(() => origin.close());
  const dir = await tempDir(t);
  const file = origin.add('pkg.bin', size);
  const job = { url: file.url, sha256: file.sha256, size, partialPath: join(dir, 'partial', `${file.sha256}.part`) };
  return { origin, dir, file, job };
}

function threads(): number | undefined {
  if (!existsSync('/proc/self/status')) return undefined;
  const m = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : undefined;
}

t.test('out-of-order segments: the first one stalls, the later ones finish first; the digest is right', async (t) => {
  const { origin, file, job } = await setup(t, 12 * MiB + 99);
  origin.inject({ kind: 'stall', bytes: 512 * 1024, ms: 400 }, { when: (r) => r.from === 0 });
  const before = threads();
  const r = await downloadTarget(job, { ...WORKER, segmentBytes: 2 * MiB, maxConnectionsPerHost: 4 });
  t.equal(sha(await readFile(r.path)), file.sha256);
  t.equal(origin.requests.length, 4);
  if (before !== undefined) t.equal(threads(), before, 'no hash worker thread left');
});

t.test('wrong bytes in one segment: the worker\'s digest catches them (E_HASH_MISMATCH after two full downloads)', async (t) => {
  const { origin, job } = await setup(t, 6 * MiB);
  origin.inject({ kind: 'wrong-bytes' }, { when: (r) => r.from > 0, always: true });
  await t.rejects(downloadTarget(job, { ...WORKER, segmentBytes: MiB, maxConnectionsPerHost: 2 }), { code: 'E_HASH_MISMATCH' });
});

t.test('resume: the prefix on disk is part of the digest (a byte spoiled in it fails the hash, then a full download)', async (t) => {
  const size = 16 * MiB;
  const { origin, file, job } = await setup(t, size);
  origin.pacing = { chunkBytes: 256 * 1024, delayMs: 5 };
  const ctl = new AbortController();
  const opts = { ...WORKER, segmentBytes: 2 * MiB, maxConnectionsPerHost: 4, checkpointBytes: MiB, hintBytes: 0 };
  await t.rejects(downloadTarget(job, { ...opts, signal: ctl.signal, onProgress: (done) => done >= size / 2 && ctl.abort(new Error('stop')) }), { message: 'stop' });
  const left = JSON.parse(await readFile(sidecarPath(job.partialPath), 'utf8')) as Sidecar;
  const first = left.segments[0] as Sidecar['segments'][number];
  t.ok(first.durable > 1000, 'the first segment has durable bytes');
  // Spoil one durable byte: only a digest over the resumed prefix (not just the new bytes) can notice.
  const handle = await open(job.partialPath, 'r+');
  await handle.write(Buffer.from([(file.data[1000] as number) ^ 0xff]), 0, 1, 1000);
  await handle.close();
  const before = origin.requests.length;
  origin.pacing = undefined;
  const r = await downloadTarget(job, opts);
  t.equal(sha(await readFile(r.path)), file.sha256);
  const after = origin.requests.slice(before);
  t.ok(after.some((q) => q.range !== undefined), 'the resume fetched only the missing bytes first');
  t.ok(after.some((q) => q.from === 0), 'the wrong digest deleted the partial and a full download from byte 0 followed');
});

t.test('restart from zero: the file changed on the origin mid-way; bytes hashed of the old one do not count', async (t) => {
  const size = 8 * MiB;
  const { origin, job } = await setup(t, size);
  const next = randomBytes(size);
  const signed = { ...job, sha256: sha(next) };
  // Paced, so the client has read (and written, and the worker hashed) most of the 5 MiB before the reset.
  origin.pacing = { chunkBytes: 256 * 1024, delayMs: 5 };
  origin.inject({ kind: 'reset', afterBytes: 5 * MiB });
  const deps: DownloadDeps = {
    ...WORKER,
    // Between the reset and the resume the origin gets the new file; the pause lets the worker hash the old bytes.
    sleep: async () => {
      origin.add('pkg.bin', next);
      await delay(200);
    },
  };
  const r = await downloadTarget(signed, deps);
  t.equal(sha(await readFile(r.path)), signed.sha256);
  t.same(
    origin.requests.map((q) => [q.from > 0, q.status]),
    [
      [false, 200],
      [true, 200],
      [false, 200],
    ],
    'reset, resume refused (If-Range names the old file), one restart from 0 verified at once (no second full download)',
  );
});

t.test('rewind: hinted bytes that did not survive (zeros) fail the digest; exactly they are fetched again', async (t) => {
  const size = 8 * MiB;
  const { origin, file, job } = await setup(t, size);
  // A partial as a power cut leaves it: durable bytes right, bytes past them that the hint vouches for zeroed.
  await mkdir(join(job.partialPath, '..'), { recursive: true });
  const bytes = Buffer.alloc(size);
  file.data.copy(bytes, 0, 0, MiB);
  file.data.copy(bytes, 4 * MiB, 4 * MiB, 5 * MiB);
  await writeFile(job.partialPath, bytes);
  const sidecar: Sidecar = {
    sha256: file.sha256,
    size,
    url: job.url,
    validator: { etag: file.etag },
    segments: [
      { start: 0, end: 4 * MiB, durable: MiB },
      { start: 4 * MiB, end: size, durable: 5 * MiB },
    ],
  };
  await writeFile(sidecarPath(job.partialPath), JSON.stringify(sidecar));
  await writeFile(`${sidecarPath(job.partialPath)}.hint`, JSON.stringify({ sha256: file.sha256, written: [3 * MiB, 7 * MiB] }));
  const r = await downloadTarget(job, { ...WORKER, maxConnectionsPerHost: 2 });
  t.equal(sha(await readFile(r.path)), file.sha256);
  const froms = origin.requests.map((q) => q.from);
  t.same(froms.slice(0, 2).sort((a, b) => a - b), [3 * MiB, 7 * MiB], 'first pass: from the hinted offsets');
  t.same(froms.slice(2).sort((a, b) => a - b), [MiB, 5 * MiB], 'after the rewind: the hinted ranges again, from the durable offsets');
  t.equal(origin.bytesSent(), 2 * MiB + 4 * MiB, 'nothing else fetched');
  await t.rejects(stat(sidecarPath(job.partialPath)), { code: 'ENOENT' });
});

t.test('abort mid-transfer: the reason comes back and no worker thread is left', async (t) => {
  const size = 24 * MiB;
  const { origin, job } = await setup(t, size);
  origin.pacing = { chunkBytes: 256 * 1024, delayMs: 5 };
  const before = threads();
  const ctl = new AbortController();
  await t.rejects(
    downloadTarget(job, { ...WORKER, segmentBytes: 4 * MiB, maxConnectionsPerHost: 3, signal: ctl.signal, onProgress: (done) => done >= size / 3 && ctl.abort(new Error('operator stop')) }),
    { message: 'operator stop' },
  );
  if (before === undefined) t.comment('no /proc/self/status: thread count not checked');
  else t.equal(threads(), before, 'the hash worker thread ended with the download');
});

t.test('a process whose download was aborted exits by itself (nothing keeps it alive)', async (t) => {
  const size = 24 * MiB;
  const { origin, job } = await setup(t, size);
  origin.pacing = { chunkBytes: 256 * 1024, delayMs: 5 };
  const module = resolve(packageRoot(), 'dist', 'agent', 'src', 'sync', 'download', 'index.js');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { downloadTarget } = await import(process.argv[1]);
const ctl = new AbortController();
const job = JSON.parse(process.argv[2]);
await downloadTarget(job, { hashWorkerMinBytes: 0, segmentBytes: 4 * 1024 * 1024, maxConnectionsPerHost: 3, signal: ctl.signal, onProgress: (d) => d >= job.size / 3 && ctl.abort(new Error('stop')) })
  .catch((e) => console.log('rejected:', e.message));`,
      module,
      JSON.stringify(job),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const guard = new AbortController();
  const code = await Promise.race([exited, delay(20_000, 'still running', { signal: guard.signal })]);
  guard.abort();
  if (code === 'still running') child.kill('SIGKILL');
  t.equal(code, 0, 'exited on its own');
  t.match(out, /rejected: stop/);
});
