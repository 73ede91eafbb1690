// End to end: `plugsrv sync now` killed with SIGKILL at random moments resumes where it was durable, never leaves anything partial servable, and refetches little.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { CLI, cleanEnv, startServer, tempDir } from '../helpers/agent-process.js';
import { startTufOrigin } from '../helpers/tuf-origin.js';
import { list, sha256File } from '../helpers/files.js';

const MiB = 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Small segments, so the two big targets download as several ranges at once. */
const SEGMENT_BYTES = 8 * MiB;
/** The agent's bandwidth cap (sync.nightRateBytesPerSec). */
const CAP = 40_000_000;
/**
 * The origin's pace, like the site's link: 50 Mbit/s, a common dealer line, below the agent's cap, so the agent reads
 * bytes as they come and the kernel's socket buffers stay nearly empty. What a kill still loses is what arrived
 * since its last write hint plus what the kernel took in while the killed process died: its sockets close only once
 * it has run its exit, which on a busy machine waits for a CPU. That is a time (~70 ms idle, ~150 ms on a loaded
 * 2-core machine), so the bytes lost per kill scale with the link; the catalog takes about 36 s of downloading, spread
 * over the kills, as a real night's catalog would be long against them.
 */
const LINK = 6_250_000;
/** Kills, in this order of the moments they aim at (each with a random delay in its phase). */
const KILL_PLAN: Phase[] = [
  'spawn', 'download', 'download', 'catalog', 'download', 'verify', 'download', 'spawn', 'download', 'download', 'catalog',
  'download', 'verify', 'download', 'spawn', 'download', 'download', 'download', 'spawn', 'download', 'download', 'download',
];
/** Bytes the origin may send over the whole test, as a multiple of the catalog's size. */
const MAX_FETCH_RATIO = 1.1;

/** The assertions a helper needs from whichever test it runs in. */
type Asserts = Pick<typeof t, 'equal' | 'ok' | 'same'>;

/**
 * Moments of a run, as seen on its --json output: the spawn; `catalog`, once the catalog is verified and
 * the targets to fetch are known; `download`, when the first range request goes out; `verify`, when a target has all
 * its bytes (its hash check, the move into the store and its DB rows follow).
 */
type Phase = 'spawn' | 'catalog' | 'download' | 'verify';

interface KillAt {
  from: Phase;
  ms: number;
}

interface Outcome {
  event: 'outcome';
  result: string;
  ready: number;
  failed: number;
  bytesFetched: number;
  errorCode?: string;
}

interface SyncRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
  marks: Partial<Record<Phase, number>>;
  outcome?: Outcome;
}

interface Target {
  path: string;
  sha256: string;
  bytes: Buffer;
}

interface Listed {
  id: string;
  name: string;
  size: number;
}

interface SidecarSegment {
  start: number;
  end: number;
  durable: number;
}



/** Runs `plugsrv sync now --json` as a child process, SIGKILLed as planned; `marks` says when it reached each phase. */
function runSync(dataDir: string, env: Record<string, string>, kill?: KillAt): Promise<SyncRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'sync', 'now', '--json'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let killer: NodeJS.Timeout | undefined;
    let outcome: Outcome | undefined;
    const marks: Partial<Record<Phase, number>> = {};
    const reach = (phase: Phase): void => {
      if (marks[phase] !== undefined) return;
      marks[phase] = performance.now() - started;
      if (kill?.from === phase) killer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
    };
    reach('spawn');
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { event?: string; msg?: string; done?: number; total?: number };
        if (entry.event === 'catalog') reach('catalog');
        // The first `target` progress line comes a second after the catalog line (the --json output is
        // throttled): the downloader's log line says when the first request goes out.
        if (entry.event === 'target' || entry.msg === 'download: starting' || entry.msg === 'download: resuming') reach('download');
        if (entry.event === 'target' && entry.done === entry.total) reach('verify');
        if (entry.event === 'outcome') outcome = entry as Outcome;
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(guard);
      resolvePromise({ code, signal, ms: performance.now() - started, stdout, stderr, marks, ...(outcome ? { outcome } : {}) });
    });
  });
}

/** Reads `length` bytes of a file at `position`. */
async function readRange(path: string, position: number, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await file.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await file.close();
  }
}

/** The rows of the state DB a killed run left, read from a copy so the next run recovers the original itself. */
async function dbRows(dataDir: string, scratch: string): Promise<{ blobs: Array<{ sha256: string; size: number }>; packages: string[] }> {
  const files = await list(dataDir);
  if (!files.includes('state.db')) return { blobs: [], packages: [] };
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  for (const name of ['state.db', 'state.db-wal']) if (files.includes(name)) await copyFile(join(dataDir, name), join(scratch, name));
  const client = createClient({ url: `file:${join(scratch, 'state.db')}` });
  try {
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => String(r.name));
    if (!tables.includes('blobs') || !tables.includes('packages')) return { blobs: [], packages: [] };
    const blobs = (await client.execute('SELECT sha256, size FROM blobs')).rows.map((r) => ({ sha256: String(r.sha256), size: Number(r.size) }));
    const packages = (await client.execute('SELECT sha256 FROM packages')).rows.map((r) => String(r.sha256));
    return { blobs, packages };
  } finally {
    client.close();
  }
}

/**
 * What a kill may leave, checked without starting anything on the data dir: every blob file hashes to its
 * name; every blob row has its file at the recorded size and is a catalog target; every package row has a
 * blob row; the bytes a partial download's sidecar calls durable (or its write hint calls written) are the
 * target's bytes. Returns the bytes kept so far (complete blobs plus kept partial ranges), to account for what
 * each kill cost.
 */
async function checkDataDir(t: Asserts, dataDir: string, targets: Map<string, Target>, label: string): Promise<number> {
  let durable = 0;
  const root = join(dataDir, 'blobs', 'sha256');
  const blobFiles = new Map<string, number>();
  for (const prefix of await list(root)) {
    for (const name of await list(join(root, prefix))) {
      const path = join(root, prefix, name);
      const target = targets.get(name);
      t.ok(SHA256_HEX.test(name) && name.startsWith(prefix) && target !== undefined, `${label}: blob file ${prefix}/${name.slice(0, 16)}… is named by a catalog target's hash`);
      t.equal(await sha256File(path), name, `${label}: blob ${name.slice(0, 16)}… holds the content its name claims`);
      blobFiles.set(name, target?.bytes.length ?? -1);
      durable += target?.bytes.length ?? 0;
    }
  }
  const rows = await dbRows(dataDir, join(dataDir, '..', 'db-copy'));
  for (const row of rows.blobs) {
    t.equal(blobFiles.get(row.sha256), row.size, `${label}: blob row ${row.sha256.slice(0, 16)}… has its file, of the recorded size`);
  }
  const rowIds = new Set(rows.blobs.map((r) => r.sha256));
  for (const id of rows.packages) t.ok(rowIds.has(id), `${label}: package ${id.slice(0, 16)}… has a blob row`);

  const partialDir = join(dataDir, 'partial');
  for (const name of await list(partialDir)) {
    if (!name.endsWith('.part.json')) continue;
    const sidecar = JSON.parse(await readFile(join(partialDir, name), 'utf8')) as { sha256: string; segments: SidecarSegment[] };
    const target = targets.get(sidecar.sha256);
    t.ok(target, `${label}: sidecar ${name.slice(0, 16)}… is for a catalog target`);
    if (!target) continue;
    const part = join(partialDir, `${sidecar.sha256}.part`);
    // The write hint (not fsynced) may vouch for more: after a kill the kernel still holds those bytes, and
    // the next run resumes after them, so they must be the target's bytes too.
    const hint = await readFile(join(partialDir, `${name}.hint`), 'utf8').then((text) => JSON.parse(text) as { sha256: string; written: number[] }, () => undefined);
    const hinted = hint?.sha256 === sidecar.sha256 && hint.written.length === sidecar.segments.length ? hint.written : [];
    for (const [i, seg] of sidecar.segments.entries()) {
      const kept = Math.max(seg.durable, Math.min(seg.end, hinted[i] ?? 0));
      if (kept === seg.start) continue;
      const got = await readRange(part, seg.start, kept - seg.start);
      const ok = got.equals(target.bytes.subarray(seg.start, kept));
      // Reported only when wrong: one assertion per range and kill would drown the output.
      if (!ok) t.ok(ok, `${label}: ${target.path} bytes ${seg.start}-${kept - 1}, durable per the sidecar or written per the hint, are the target's bytes`);
      if (!blobFiles.has(target.sha256)) durable += kept - seg.start;
    }
  }
  return durable;
}

/** Checks through a server on the data dir (after its start-up recovery) that exactly the catalog is listed and downloads to its hashes. */
async function checkServed(t: Asserts, dataDir: string, targets: Map<string, Target>): Promise<void> {
  const server = await startServer(dataDir);
  try {
    const res = await fetch(`${server.url}/v1/packages`);
    t.equal(res.status, 200, 'the package list answers');
    const listed = ((await res.json()) as { packages: Listed[] }).packages;
    t.same(listed.map((p) => p.id).sort(), [...targets.keys()].sort(), 'exactly the catalog targets are listed');
    for (const p of listed) {
      const target = targets.get(p.id);
      t.equal(p.size, target?.bytes.length, `${p.name}: listed with its signed size`);
      const got = await fetch(`${server.url}/v1/packages/${p.id}`);
      const body = Buffer.from(await got.arrayBuffer());
      t.equal(got.status, 200, `${p.name}: downloads`);
      t.equal(createHash('sha256').update(body).digest('hex'), p.id, `${p.name}: its bytes hash to its id`);
    }
  } finally {
    await server.stop();
  }
}

/** A uniform random number in [lo, hi). */
const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

t.test('SIGKILL at random moments of `sync now`: resumes, never serves anything partial, refetches little', async (t) => {
  t.setTimeout(480_000); // ~2 min idle, twice that beside other tests on 2 cores
  const origin = await startTufOrigin(t, { rateBytesPerSec: LINK });
  const specs = [
    { name: 'EU_MAP.bin', size: 64 * MiB + 4321, custom: { kind: 'map' as const, headUnit: 'R-LINK2', models: ['BJA'], version: '2026.4' }, path: 'maps/eu/EU_MAP.bin' },
    { name: 'FR_MAP.bin', size: 48 * MiB + 17, custom: { kind: 'map' as const, headUnit: 'R-LINK2', models: ['BJA'], version: '2026.4' }, path: 'maps/fr/FR_MAP.bin' },
    { name: 'RLINK2_SOFT.bin', size: 40 * MiB + 77, custom: { kind: 'soft' as const, headUnit: 'R-LINK2', models: ['BJA'], version: '10.8' } },
    { name: 'IVI_SOFT.bin', size: 32 * MiB + 1, custom: { kind: 'soft' as const, headUnit: 'IVI', models: ['XBA'], version: '3.1' } },
    { name: 'IVI_MAP.bin', size: 24 * MiB + 3, custom: { kind: 'map' as const, headUnit: 'IVI', models: ['XBA'], version: '2026.4' } },
    { name: 'IVI_PATCH.bin', size: 8 * MiB + 999, custom: { kind: 'soft' as const, headUnit: 'IVI', models: ['XBA'], version: '3.1.1' } },
  ];
  const targets = new Map<string, Target>();
  for (const s of specs) {
    const added = await origin.add(s.name, s.size, s.custom, s.path);
    targets.set(added.sha256, added);
  }
  await origin.publish();
  const catalogBytes = specs.reduce((n, s) => n + s.size, 0);
  t.comment(`catalog: ${specs.length} targets, ${(catalogBytes / MiB).toFixed(1)} MiB; segments of ${SEGMENT_BYTES / MiB} MiB; origin link ${(LINK / 1e6).toFixed(0)} MB/s, agent cap ${(CAP / 1e6).toFixed(0)} MB/s`);

  const work = await tempDir(t, 'plugsrv-e2e-sync-crash-');
  const dataDir = join(work, 'data');
  const env = {
    PLUGSRV_SYNC_ORIGIN_URL: origin.url,
    PLUGSRV_SYNC_TRUSTED_ROOT: origin.trustedRoot,
    PLUGSRV_SYNC_NIGHT_RATE_BYTES_PER_SEC: String(CAP),
    PLUGSRV_SYNC_SEGMENT_BYTES: String(SEGMENT_BYTES),
    PLUGSRV_STORE_RESERVE_BYTES: '0',
  };

  let killed = 0;
  let killedMidDownload = 0;
  let durable = 0;
  let startupMs = 500;
  const costs: string[] = [];
  const downloadKills = KILL_PLAN.filter((p) => p === 'download').length;
  for (const [i, from] of KILL_PLAN.entries()) {
    // A kill aimed at mid-download falls, on average, after its even share of the bytes still to fetch.
    const left = catalogBytes - durable;
    const share = left / (downloadKills - KILL_PLAN.slice(0, i).filter((p) => p === 'download').length + 1);
    const ms = Math.round(
      from === 'spawn' ? between(50, startupMs) : from === 'catalog' ? between(0, 30) : from === 'verify' ? between(0, 40) : between(0.3, 1.7) * (share / LINK) * 1000,
    );
    const sentBefore = origin.targetBytesSent();
    const run = await runSync(dataDir, env, { from, ms });
    const when = `${ms} ms after ${from === 'spawn' ? 'the spawn' : from === 'catalog' ? 'the catalog line' : from === 'download' ? 'the first bytes' : 'a target was complete'}`;
    if (run.marks.catalog !== undefined) startupMs = Math.max(100, run.marks.catalog);
    if (run.signal === 'SIGKILL') {
      killed++;
      if (run.marks.download !== undefined) killedMidDownload++;
    } else {
      t.equal(run.code, 0, `run ${i}: a run that ended before its kill succeeded (stderr: ${run.stderr.trim().slice(-2000)})`);
    }
    const label = `run ${i} (kill ${when})`;
    const before = durable;
    durable = await checkDataDir(t, dataDir, targets, label);
    const sent = origin.targetBytesSent() - sentBefore;
    costs.push(`${i}:${from}:${((sent - (durable - before)) / MiB).toFixed(2)}`);
    t.comment(
      `${label} -> ${run.signal === 'SIGKILL' ? 'killed' : `exited ${run.code}`} after ${run.ms.toFixed(0)} ms; fetched ${(sent / MiB).toFixed(2)} MiB, durable ${(before / MiB).toFixed(2)} -> ${(durable / MiB).toFixed(2)} MiB`,
    );
  }
  t.ok(killed >= 20, `at least 20 runs were killed (${killed} of ${KILL_PLAN.length})`);
  t.ok(killedMidDownload >= 10, `at least 10 kills landed after downloading began (${killedMidDownload})`);

  const sentBeforeLast = origin.targetBytesSent();
  const last = await runSync(dataDir, env);
  t.equal(last.code, 0, `the final run exits 0 (stderr: ${last.stderr.trim().slice(-2000)})`);
  t.match(last.outcome, { result: 'ok', ready: specs.length, failed: 0 }, 'the final run reports every target ready');
  t.equal(origin.targetBytesSent() - sentBeforeLast, catalogBytes - durable, 'the final run fetches exactly the bytes that were not durable: every resume starts at its durable offsets');
  await checkDataDir(t, dataDir, targets, 'after the final run');
  t.same(await list(join(dataDir, 'partial')), [], 'no partial download is left');
  await checkServed(t, dataDir, targets);

  const sent = origin.targetBytesSent();
  const ratio = sent / catalogBytes;
  t.comment(`lost per run (MiB, fetched minus newly durable): ${costs.join(' ')}`);
  t.comment(`origin sent ${(sent / MiB).toFixed(1)} MiB of targets for a ${(catalogBytes / MiB).toFixed(1)} MiB catalog: ratio ${ratio.toFixed(3)} over ${killed} kills (${killedMidDownload} after downloading began)`);
  // A kill loses what was received since the last write hint (every 128 KiB, at most every 10 ms) plus what was
  // on the wire while the process died (the sockets close only once its memory is freed).
  t.ok(ratio <= MAX_FETCH_RATIO, `the origin sent at most ${MAX_FETCH_RATIO}x the catalog (ratio ${ratio.toFixed(3)})`);
});
