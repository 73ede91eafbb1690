// downloadTarget against a real local origin: plain, segmented, resumed after abort, and every injected fault.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { downloadTarget, sidecarPath, type DownloadDeps, type Sidecar } from '../../../../agent/src/sync/download/index.js';
import { TokenBucket } from '../../../../agent/src/sync/policy/index.js';
import { FaultyOrigin, type Fault } from '../../../helpers/faulty-origin.js';
import { tempDir } from '../../../helpers/agent-process.js';
import { noDirectIo } from '../../../helpers/files.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function setup(t: Asserts, size = 3 * MiB) {
  const origin = await FaultyOrigin.start();
  t.teardown(() => origin.close());
  const dir = await tempDir(t);
  const file = origin.add('pkg.bin', size);
  const sleeps: number[] = [];
  const deps: DownloadDeps = { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, retry: { baseMs: 100 } };
  const job = { url: file.url, sha256: file.sha256, size, partialPath: join(dir, 'partial', `${file.sha256}.part`) };
  return { origin, dir, file, sleeps, deps, job };
}

/** The assertions the helpers need from whichever test runs them. */
type Asserts = Pick<typeof t, 'equal' | 'ok' | 'same' | 'rejects' | 'teardown'>;

async function expectFile(t: Asserts, path: string, data: Buffer): Promise<void> {
  t.equal(sha(await readFile(path)), sha(data), 'the file has the signed content');
  await t.rejects(stat(sidecarPath(path)), { code: 'ENOENT' }, 'no sidecar left after success');
}

t.test('plain download: one request, hashed while written, progress to the end', async (t) => {
  const { origin, file, deps, job } = await setup(t);
  const progress: number[] = [];
  const r = await downloadTarget(job, { ...deps, onProgress: (done, total) => progress.push(done / total) });
  t.same(r, { path: job.partialPath, sha256: file.sha256, size: job.size });
  await expectFile(t, r.path, file.data);
  t.equal(origin.requests.length, 1);
  t.equal(origin.requests[0]?.range, undefined, 'a fresh single-segment download asks for the whole file');
  t.equal(progress.at(-1), 1);
});

t.test('onTransferred: once every byte is written, before the final fsync and hash check resolve the download', async (t) => {
  const { file, deps, job } = await setup(t);
  let settled = false;
  let written = 0;
  const seen: Array<{ written: number; settled: boolean }> = [];
  const download = downloadTarget(job, {
    ...deps,
    maxConnectionsPerHost: 3,
    segmentBytes: MiB,
    onProgress: (done) => (written = done),
    onTransferred: () => seen.push({ written, settled }),
  });
  const r = await download.finally(() => (settled = true));
  await expectFile(t, r.path, file.data);
  t.same(seen, [{ written: job.size, settled: false }], 'called once, with every byte written, before the download settled');
});

t.test('segmented: ~20 MiB in parallel Range requests, never more than maxConnectionsPerHost at once', async (t) => {
  const size = 20 * MiB + 12345;
  const { origin, file, deps, job } = await setup(t, size);
  origin.pacing = { chunkBytes: 256 * 1024, delayMs: 2 };
  const r = await downloadTarget(job, { ...deps, segmentBytes: 2 * MiB, maxConnectionsPerHost: 3 });
  await expectFile(t, r.path, file.data);
  t.equal(origin.requests.length, 6, 'ceil(size / 2 MiB) bounded by 3 connections, then cut in segments of at most 4 MiB');
  t.ok(origin.requests.every((q) => q.status === 206 && q.range?.startsWith('bytes=')), 'all Range requests answered 206');
  t.equal(origin.maxInFlight, 3, 'the segments ran concurrently, at most 3 at once');
  t.equal(origin.bytesSent(), size, 'every byte fetched once');
});

t.test('a bandwidth cap pauses the responses until it allows more bytes, and the download completes', async (t) => {
  const size = 6 * MiB + 7;
  const { origin, file, deps, job } = await setup(t, size);
  // Paced so that each socket read ends on a chunk's last byte: a paused parser then resumes on an empty buffer.
  origin.pacing = { chunkBytes: 64 * 1024, delayMs: 1 };
  const bucket = new TokenBucket({ rateBytesPerSec: 24 * MiB });
  let waited = 0;
  const rate = {
    tryTake: (bytes: number) => bucket.tryTake(bytes),
    take: (bytes: number, signal?: AbortSignal) => {
      waited++;
      return bucket.take(bytes, signal);
    },
  };
  const r = await downloadTarget(job, { ...deps, rate, segmentBytes: MiB, maxConnectionsPerHost: 3 });
  await expectFile(t, r.path, file.data);
  t.ok(waited > 10, `the cap made the transfer wait (${waited} times), pausing the responses meanwhile`);
  t.equal(origin.bytesSent(), size, 'every byte fetched once: a paused response resumes where it stopped');
});

t.test('resume after abort: Range requests start at the durable offsets; little is fetched twice', async (t) => {
  const size = 20 * MiB;
  const { origin, file, deps, job } = await setup(t, size);
  // Each segment's first response stalls after 2.5 MiB, so what the origin sent is what the client read.
  origin.inject({ kind: 'stall', bytes: 2.5 * MiB, ms: 30_000 }, { times: 4 });
  const ctl = new AbortController();
  const opts = { ...deps, segmentBytes: 2 * MiB, maxConnectionsPerHost: 4, checkpointBytes: MiB };
  const first = downloadTarget(job, { ...opts, signal: ctl.signal, onProgress: (done) => done >= size / 2 && ctl.abort(new Error('operator stop')) });
  await t.rejects(first, { message: 'operator stop' }, 'the abort reason comes back');
  const sidecar = JSON.parse(await readFile(sidecarPath(job.partialPath), 'utf8')) as Sidecar;
  const durable = sidecar.segments.map((s) => s.durable);
  t.ok(durable.reduce((n, d, i) => n + d - (sidecar.segments[i]?.start ?? 0), 0) >= size / 2, 'the progress made is durable');
  const before = origin.requests.length;
  const r = await downloadTarget(job, opts);
  await expectFile(t, r.path, file.data);
  const resumed = origin.requests.slice(before);
  const starts = resumed.map((q) => q.from).sort((a, b) => a - b);
  t.same(starts, sidecar.segments.filter((s) => s.durable < s.end).map((s) => s.durable).sort((a, b) => a - b), 'each resume starts at its durable offset');
  t.ok(resumed.every((q) => q.ifRange === file.etag), 'resumes carry If-Range with the ETag');
  t.ok(origin.bytesSent() <= 1.1 * size, `fetched ${origin.bytesSent()} bytes for ${size}`);
});

t.test('resume with a stale sidecar for another target starts over', async (t) => {
  const { origin, file, deps, job } = await setup(t);
  await mkdir(join(job.partialPath, '..'), { recursive: true });
  await writeFile(job.partialPath, Buffer.alloc(job.size, 7));
  const stale: Sidecar = { sha256: 'f'.repeat(64), size: job.size, url: job.url, segments: [{ start: 0, end: job.size, durable: job.size - 1 }] };
  await writeFile(sidecarPath(job.partialPath), JSON.stringify(stale));
  const r = await downloadTarget(job, deps);
  await expectFile(t, r.path, file.data);
  t.same(origin.requests.map((q) => q.range), [undefined], 'fetched from byte 0');
});

interface FaultCase {
  name: string;
  fault: Fault;
  times?: number;
  /** Asserts after a successful download. */
  check?: (t: Asserts, ctx: Awaited<ReturnType<typeof setup>>) => void;
  deps?: DownloadDeps;
}

const recovered: FaultCase[] = [
  { name: 'connection reset mid-body', fault: { kind: 'reset', afterBytes: MiB }, check: (t, c) => t.ok((c.origin.requests[1]?.from ?? 0) > 0 && (c.origin.requests[1]?.from ?? 0) <= MiB, 'resumed where the reset cut it (an RST may drop unread bytes)') },
  {
    name: '503 with Retry-After: 1',
    fault: { kind: 'status', status: 503, retryAfter: '1' },
    check: (t, c) => t.same(c.sleeps, [1000], 'waited exactly what Retry-After asked'),
  },
  {
    name: '503 with an HTTP-date Retry-After',
    fault: { kind: 'status', status: 503, retryAfter: new Date(Date.now() + 3_600_000).toUTCString() },
    deps: { retry: { retryAfterCapMs: 60_000 } },
    check: (t, c) => t.same(c.sleeps, [60_000], 'a far date is capped'),
  },
  { name: '500 then OK', fault: { kind: 'status', status: 500 }, times: 2, check: (t, c) => t.same(c.sleeps, [50, 100], 'exponential backoff with jitter') },
  { name: '429', fault: { kind: 'status', status: 429 } },
  {
    name: 'trickle: the body idle timeout fires and the retry resumes',
    fault: { kind: 'stall', bytes: 512 * 1024, ms: 2000 },
    deps: { bodyTimeoutMs: 300 },
    check: (t, c) => t.ok((c.origin.requests[1]?.from ?? 0) > 0, 'resumed after the stall'),
  },
  { name: 'truncated body under a full Content-Length', fault: { kind: 'truncate', afterBytes: MiB + 7 } },
  { name: 'Content-Length larger than the range', fault: { kind: 'wrong-length', delta: 10 } },
  { name: 'Content-Length smaller than the range', fault: { kind: 'wrong-length', delta: -10 } },
  { name: 'wrong bytes once: one full re-download', fault: { kind: 'wrong-bytes' } },
];

for (const c of recovered) {
  t.test(`fault recovered: ${c.name}`, async (t) => {
    const ctx = await setup(t);
    ctx.origin.inject(c.fault, { times: c.times ?? 1 });
    const r = await downloadTarget(ctx.job, { ...ctx.deps, ...c.deps, retry: { ...ctx.deps.retry, ...c.deps?.retry } });
    await expectFile(t, r.path, ctx.file.data);
    c.check?.(t, ctx);
  });
}

t.test('ignore Range on a resume: 200 restarts the file from 0 and still verifies', async (t) => {
  const ctx = await setup(t);
  ctx.origin.inject({ kind: 'reset', afterBytes: MiB });
  ctx.origin.inject({ kind: 'ignore-range' }, { when: (r) => r.hasRange });
  const r = await downloadTarget(ctx.job, ctx.deps);
  await expectFile(t, r.path, ctx.file.data);
  const seen = ctx.origin.requests.map((q) => [q.from > 0, q.status, q.ifRange !== undefined]);
  t.same(seen, [[false, 200, false], [true, 200, true], [false, 200, false]], 'reset, ignored resume (with If-Range), full restart');
});

t.test('a segmented download against an origin that never honours Range collapses to one stream', async (t) => {
  const ctx = await setup(t, 6 * MiB);
  ctx.origin.inject({ kind: 'ignore-range' }, { always: true });
  const r = await downloadTarget(ctx.job, { ...ctx.deps, segmentBytes: MiB });
  await expectFile(t, r.path, ctx.file.data);
});

t.test('final errors: clear, not retried forever, never a wrong file', async (t) => {
  t.test('404: no retry, names the URL and status', async (t) => {
    const ctx = await setup(t);
    await t.rejects(downloadTarget({ ...ctx.job, url: `${ctx.origin.base}/missing.bin?token=secret` }, ctx.deps), {
      code: 'E_DOWNLOAD',
      details: { status: 404 },
      message: new RegExp(`GET ${ctx.origin.base}/missing.bin answered HTTP 404: the package is not`),
    });
    t.equal(ctx.origin.requests.length, 1);
    t.same(ctx.sleeps, []);
  });
  t.test('persistent 503: gives up after the configured attempts, keeps what it has', async (t) => {
    const ctx = await setup(t);
    ctx.origin.inject({ kind: 'status', status: 503 }, { always: true });
    await t.rejects(downloadTarget(ctx.job, { ...ctx.deps, retry: { attempts: 4 } }), { code: 'E_DOWNLOAD', message: /failed 4 times in a row at byte 0 .*HTTP 503.*resumes/ });
    t.equal(ctx.origin.requests.length, 4);
    t.equal(ctx.sleeps.length, 3);
  });
  t.test('more bytes than signed: cut at once with E_SIZE_MISMATCH, the file never grows past the size', async (t) => {
    const ctx = await setup(t);
    ctx.origin.inject({ kind: 'overflow', extra: 64 * MiB }, { always: true });
    await t.rejects(downloadTarget(ctx.job, ctx.deps), { code: 'E_SIZE_MISMATCH', message: /sent more than/ });
    t.equal(ctx.origin.requests.length, 1, 'not retried');
    t.ok(ctx.origin.bytesSent() < ctx.job.size + 16 * MiB, `the origin could send only ${ctx.origin.bytesSent()} bytes`);
    t.equal((await stat(ctx.job.partialPath)).size, ctx.job.size);
  });
  t.test('wrong bytes every time: E_HASH_MISMATCH after two full downloads, partial and sidecar deleted', async (t) => {
    const ctx = await setup(t);
    ctx.origin.inject({ kind: 'wrong-bytes' }, { always: true });
    await t.rejects(downloadTarget(ctx.job, ctx.deps), { code: 'E_HASH_MISMATCH', message: /in 2 full downloads.*deleted/ });
    t.equal(ctx.origin.requests.length, 2);
    t.same(await readdir(join(ctx.dir, 'partial')), [], 'nothing left');
  });
  t.test('wrong bytes in one segment of a resumed download: caught by the re-read', async (t) => {
    const ctx = await setup(t, 6 * MiB);
    ctx.origin.inject({ kind: 'wrong-bytes' }, { when: (r) => r.from > 0, always: true });
    await t.rejects(downloadTarget(ctx.job, { ...ctx.deps, segmentBytes: MiB, maxConnectionsPerHost: 2 }), { code: 'E_HASH_MISMATCH' });
  });
  t.test('bad job: refused before any request', async (t) => {
    const ctx = await setup(t);
    await t.rejects(downloadTarget({ ...ctx.job, sha256: 'XYZ' }, ctx.deps), { code: 'E_BAD_REQUEST' });
    await t.rejects(downloadTarget({ ...ctx.job, url: 'file:///etc/passwd' }, ctx.deps), { code: 'E_BAD_REQUEST' });
    t.equal(ctx.origin.requests.length, 0);
  });
});

t.test('a caller-supplied dispatcher is used and left open', async (t) => {
  const ctx = await setup(t);
  const dispatcher = new Agent({ connections: 1 });
  t.teardown(() => dispatcher.close());
  const r = await downloadTarget(ctx.job, { ...ctx.deps, dispatcher });
  await expectFile(t, r.path, ctx.file.data);
  t.equal(dispatcher.closed, false);
});

/** Bytes of `path` in the page cache (util-linux fincore), or undefined where fincore is missing. */
function residentBytes(path: string): number | undefined {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', path], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

t.test('direct I/O: the bytes go to disk past the page cache, and the hash worker takes them from memory', async (t) => {
  // An unaligned end (written through the page cache); 4 segments on 3 connections: what is written ahead of the
  // prefix (at most 3 segments, ~9 MiB) stays within the worker's hold, so nothing has to be read back.
  const size = 12 * MiB + 4097;
  const { origin, dir, file, deps, job } = await setup(t, size);
  const why = (await noDirectIo(dir)) ?? (residentBytes(join(dir, 'direct-probe')) === undefined ? 'fincore (util-linux) is missing' : undefined);
  if (why) return t.plan(0, why);
  const direct = await downloadTarget(job, { ...deps, segmentBytes: 2 * MiB, maxConnectionsPerHost: 3, hashWorkerMinBytes: 0 });
  const bufferedJob = { ...job, partialPath: join(dir, 'partial', 'buffered.part') };
  const buffered = await downloadTarget(bufferedJob, { ...deps, segmentBytes: 2 * MiB, maxConnectionsPerHost: 3, hashWorkerMinBytes: 0, directIo: false });
  const inCache = residentBytes(direct.path) as number;
  t.ok(inCache <= 8192, `at most the unaligned end is in the page cache (${inCache} bytes): nothing was written or read back through it`);
  t.ok((residentBytes(buffered.path) as number) >= size - MiB, 'with directIo false, the file went through the page cache (the check above can fail)');
  t.ok(origin.requests.length >= 4, 'several 8 MiB segments');
  await expectFile(t, direct.path, file.data);
  await expectFile(t, buffered.path, file.data);
});

t.test('a filesystem without direct I/O (ramfs): the download goes through the page cache, said once in the log', async (t) => {
  if (process.getuid?.() !== 0) return t.plan(0, 'needs root to mount a ramfs (CI runs as root)');
  const mnt = await tempDir(t, 'plugsrv-ramfs-');
  try {
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    return t.plan(0, `cannot mount a ramfs here (${(err as Error).message.split('\n')[0]})`);
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt]));
  t.ok(await noDirectIo(mnt), 'ramfs refuses O_DIRECT');
  const { file, deps, job } = await setup(t, 5 * MiB + 3);
  const infos: string[] = [];
  const log = { info: (msg: string) => void infos.push(msg), warn() {} };
  const r = await downloadTarget({ ...job, partialPath: join(mnt, 'a.part') }, { ...deps, segmentBytes: MiB, hashWorkerMinBytes: 0, log });
  await downloadTarget({ ...job, partialPath: join(mnt, 'b.part') }, { ...deps, log });
  await expectFile(t, r.path, file.data);
  await expectFile(t, join(mnt, 'b.part'), file.data);
  const said = infos.filter((m) => m.includes('no direct I/O'));
  t.equal(said.length, 1, 'said once per process (every other test of this file writes where O_DIRECT works)');
});
