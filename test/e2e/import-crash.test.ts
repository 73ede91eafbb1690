// End to end: `plugsrv import` killed with SIGKILL at random moments, and blobs damaged on disk, never leave anything partial servable.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SampleSpec } from '../../agent/src/demo/samples.js';
import { ensureSamples } from '../../agent/src/demo/samples.js';
import { CLI, cleanEnv, startServer, tempDir, type ServerProcess } from '../helpers/agent-process.js';
import { list, sha256File } from '../helpers/files.js';

const MiB = 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The assertions a helper needs from whichever test it runs in. */
type Asserts = Pick<typeof t, 'equal' | 'ok' | 'same'>;

interface Listed {
  id: string;
  name: string;
  size: number;
}

interface ImportRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
}



/** Every file under DIR/blobs/sha256/xx/, as { prefix, name, path }. */
async function blobFiles(dataDir: string): Promise<Array<{ prefix: string; name: string; path: string }>> {
  const root = join(dataDir, 'blobs', 'sha256');
  const out: Array<{ prefix: string; name: string; path: string }> = [];
  for (const prefix of await list(root)) {
    for (const name of await list(join(root, prefix))) out.push({ prefix, name, path: join(root, prefix, name) });
  }
  return out;
}

function importArgs(dataDir: string, file: string): string[] {
  return ['--data-dir', dataDir, 'import', file, '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1', '--json'];
}

/**
 * Moments of an import, as seen on its --json output: the spawn; `writing`, when it prints import-start
 * right before opening the blob's temp file; `written`, when it reports every byte written, right before
 * the fsync, the rename to the hash's path and the DB rows.
 */
type Phase = 'spawn' | 'writing' | 'written';

/** SIGKILL the import `ms` after it reaches `from`. */
interface KillPlan {
  from: Phase;
  ms: number;
}

/** Runs `plugsrv import` as a child process, optionally killed as planned; `marks` says when it reached each phase. */
function runImport(dataDir: string, file: string, kill?: KillPlan): Promise<ImportRun & { marks: Partial<Record<Phase, number>> }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...importArgs(dataDir, file)], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killer: NodeJS.Timeout | undefined;
    const marks: Partial<Record<Phase, number>> = {};
    const reach = (phase: Phase): void => {
      if (marks[phase] !== undefined) return;
      marks[phase] = performance.now() - started;
      if (kill?.from === phase) killer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
    };
    reach('spawn');
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { event?: string; bytes?: number; size?: number };
        if (entry.event === 'import-start') reach('writing');
        if (entry.event === 'import-progress' && entry.bytes === entry.size) reach('written');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(guard);
      resolvePromise({ code, signal, ms: performance.now() - started, stdout, stderr, marks });
    });
  });
}

/** The `imported` JSON line of a finished import. */
function importedLine(run: ImportRun): { sha256?: string; size?: number; existed?: boolean } | undefined {
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { event?: string; sha256?: string; size?: number; existed?: boolean };
    if (entry.event === 'imported') return entry;
  }
  return undefined;
}

async function sha256OfUrl(url: string): Promise<{ status: number; sha256: string; size: number }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      hash.update(chunk);
      size += chunk.length;
    }
  }
  return { status: res.status, sha256: hash.digest('hex'), size };
}

/**
 * Checks, through a server running on the data dir (it ran start-up recovery), what a crash may leave:
 * the list is empty or holds exactly the package, a listed package downloads to its hash, no temp
 * file is left, and every blob file's content hashes to its name. Returns whether the package is listed.
 */
async function checkStore(t: Asserts, server: ServerProcess, dataDir: string, pkg: { sha256: string; size: number }, label: string): Promise<boolean> {
  const res = await fetch(`${server.url}/v1/packages`);
  t.equal(res.status, 200, `${label}: the package list answers`);
  const packages = ((await res.json()) as { packages: Listed[] }).packages;
  t.ok(packages.length <= 1, `${label}: at most the one imported package is listed (got ${packages.length})`);
  const listed = packages[0];
  if (listed) {
    t.equal(listed.id, pkg.sha256, `${label}: the listed package has the source's sha256`);
    t.equal(listed.size, pkg.size, `${label}: the listed package has the source's size`);
    const got = await sha256OfUrl(`${server.url}/v1/packages/${listed.id}`);
    t.equal(got.status, 200, `${label}: the listed package downloads`);
    t.equal(got.size, pkg.size, `${label}: all of its bytes arrive`);
    t.equal(got.sha256, pkg.sha256, `${label}: the downloaded bytes hash to the id`);
  }
  t.same(await list(join(dataDir, 'tmp')), [], `${label}: no temp file is left after start-up recovery`);
  for (const blob of await blobFiles(dataDir)) {
    t.ok(SHA256_HEX.test(blob.name) && blob.name.startsWith(blob.prefix), `${label}: blob file ${blob.prefix}/${blob.name.slice(0, 16)}… is named by a hash in its prefix folder`);
    t.equal(await sha256File(blob.path), blob.name, `${label}: blob ${blob.name.slice(0, 16)}… holds the content its name claims`);
  }
  return listed !== undefined;
}

/** Flips one byte in place: same size, different content. */
async function flipByte(path: string, offset: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const buf = Buffer.alloc(1);
    await file.read(buf, 0, 1, offset);
    buf[0] = (buf[0] as number) ^ 0xff;
    await file.write(buf, 0, 1, offset);
  } finally {
    await file.close();
  }
}

// --- fixture: one big package (for the kills) and one small one (for the on-disk damage) ------------

const work = await tempDir(t, 'plugsrv-e2e-crash-');
const BIG: SampleSpec = { size: 64 * MiB + 777, meta: { name: 'IVI_SOFT_CRASH.bin', kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' } };
const SMALL: SampleSpec = { size: 8 * MiB + 3, meta: { name: 'IVI_SOFT_DAMAGE.bin', kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' } };
const [bigItem, smallItem] = await ensureSamples(join(work, 'src'), [BIG, SMALL]);
if (!bigItem || !smallItem) throw new Error('ensureSamples returned fewer items than specs');
const big = { path: bigItem.path, size: BIG.size, sha256: await sha256File(bigItem.path) };
const small = { path: smallItem.path, size: SMALL.size, sha256: await sha256File(smallItem.path) };

t.test('SIGKILL at random moments during import leaves nothing partial servable, and a re-import succeeds', async (t) => {
  // One full import first: its phases set the spread of the kill delays. Loading the CLI and opening the
  // DB take a variable share of the time (most of it on a loaded machine), so kills are timed from the
  // start of each phase: a few during start-up, most while the blob is written, one in the short window
  // of fsync, rename and DB inserts.
  const baseline = await runImport(join(work, 'baseline'), big.path);
  t.equal(baseline.code, 0, `a full import succeeds (stderr: ${baseline.stderr.trim()})`);
  t.equal(importedLine(baseline)?.sha256, big.sha256, 'the full import reports the source sha256');
  const writingAt = baseline.marks.writing ?? 0;
  const writtenAt = baseline.marks.written ?? baseline.ms;
  const span: Record<Phase, number> = {
    spawn: Math.max(100, writingAt),
    writing: Math.max(100, writtenAt - writingAt),
    written: Math.max(20, baseline.ms - writtenAt),
  };
  t.comment(`a full import of ${(big.size / MiB).toFixed(0)} MiB: start-up ${span.spawn.toFixed(0)} ms, writing ${span.writing.toFixed(0)} ms, fsync+rename+DB+exit ${span.written.toFixed(0)} ms`);

  const phases: Phase[] = ['spawn', 'spawn', 'writing', 'writing', 'writing', 'writing', 'writing', 'written'];
  let killedMidWrite = 0;
  for (const [i, from] of phases.entries()) {
    // Stratified: the runs of a phase each get a random delay in their own equal slice of the phase.
    const slot = phases.slice(0, i).filter((p) => p === from).length;
    const slots = phases.filter((p) => p === from).length;
    // Kills timed from the spawn start at 50 ms: earlier, the process has not even loaded its modules.
    const floor = from === 'spawn' ? 50 : 0;
    const plan: KillPlan = { from, ms: Math.round(floor + ((slot + Math.random()) / slots) * (span[from] - floor)) };
    const when = `${plan.ms} ms after ${from === 'spawn' ? 'the spawn' : from === 'writing' ? 'it began writing' : 'all bytes were written'}`;
    const dataDir = join(work, `run-${i}`);
    const killed = await runImport(dataDir, big.path, plan);
    const tempLeft = (await list(join(dataDir, 'tmp'))).length;
    const blobsLeft = (await blobFiles(dataDir)).length;
    if (killed.signal === 'SIGKILL' && tempLeft > 0) killedMidWrite++;
    const outcome = killed.signal === 'SIGKILL' ? 'killed' : `exited ${killed.code}`;
    t.comment(`run ${i}: SIGKILL ${when} -> ${outcome}; left ${tempLeft} temp file(s), ${blobsLeft} blob file(s)`);
    if (killed.signal !== 'SIGKILL') t.equal(killed.code, 0, `run ${i}: an import that finished before the kill succeeded (stderr: ${killed.stderr.trim()})`);

    const label = `run ${i} (kill ${when})`;
    // Starting the server runs the start-up recovery; it keeps serving while the import is re-run
    // (the state DB is in WAL mode for exactly this), which saves a process start per run.
    const server = await startServer(dataDir);
    try {
      await checkStore(t, server, dataDir, big, label);
      const again = await runImport(dataDir, big.path);
      t.equal(again.code, 0, `${label}: re-running the import succeeds (stderr: ${again.stderr.trim()})`);
      t.equal(importedLine(again)?.sha256, big.sha256, `${label}: the re-import reports the source sha256`);
      t.ok(await checkStore(t, server, dataDir, big, `${label}, re-imported`), `${label}: after the re-import the package is listed`);
    } finally {
      await server.stop();
    }
  }
  // Without this the loop could pass while never hitting the interesting window (the blob being written).
  t.ok(killedMidWrite >= 1, `at least one kill landed while the blob was being written (${killedMidWrite} of ${phases.length})`);
});

t.test('damage to the blob directory between runs', async (t) => {
  const dataDir = join(work, 'damage');
  const first = await runImport(dataDir, small.path);
  t.equal(first.code, 0, `the import succeeds (stderr: ${first.stderr.trim()})`);
  const blobPath = join(dataDir, 'blobs', 'sha256', small.sha256.slice(0, 2), small.sha256);
  t.equal((await stat(blobPath)).size, small.size, 'the blob is stored under its hash');

  // Unaccounted files (no DB row): one named by a hash its content does not have, one not named by a hash
  // at all, and one genuine blob whose content matches its name (what a kill between rename and DB insert leaves).
  const wrongContent = randomBytes(64 * 1024);
  const wrongName = createHash('sha256').update('some other content').digest('hex');
  const wrongPath = join(dataDir, 'blobs', 'sha256', wrongName.slice(0, 2), wrongName);
  const junkPath = join(dataDir, 'blobs', 'sha256', small.sha256.slice(0, 2), 'leftover.part');
  const genuine = randomBytes(32 * 1024);
  const genuineName = createHash('sha256').update(genuine).digest('hex');
  const genuinePath = join(dataDir, 'blobs', 'sha256', genuineName.slice(0, 2), genuineName);
  for (const [path, content] of [[wrongPath, wrongContent], [junkPath, Buffer.from('junk')], [genuinePath, genuine]] as const) {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }

  // The accounted blob gets one byte flipped: same size, wrong content.
  await flipByte(blobPath, Math.floor(small.size / 2));

  const server = await startServer(dataDir);
  try {
    const names = new Set((await blobFiles(dataDir)).map((b) => b.name));
    t.notOk(names.has(wrongName), 'an unaccounted file whose content does not match its hash name is removed');
    t.notOk(names.has('leftover.part'), 'an unaccounted file not named by a hash is removed');
    t.ok(names.has(genuineName), 'an unaccounted file whose content matches its name is adopted (kept)');
    const packages = ((await (await fetch(`${server.url}/v1/packages`)).json()) as { packages: Listed[] }).packages;
    t.same(
      packages.map((p) => p.id),
      [small.sha256],
      'an adopted blob without package metadata is not listed; the imported package still is',
    );

    // KNOWN GAP, by design of BlobStore.recover(): an accounted blob (one with a DB row) is only
    // size-checked at start-up, because re-hashing a full store at every start would take minutes.
    // So a same-size bit flip is not detected: the package stays listed and the server sends the
    // damaged bytes under an ETag that claims the original hash: only a client that checks the sha256
    // against the id notices. These assertions pin today's behaviour (reported to the lead as a gap):
    // when verification on serve or a background scrub is added, flip them.
    const got = await sha256OfUrl(`${server.url}/v1/packages/${small.sha256}`);
    t.equal(got.status, 200, 'GAP: the blob with a flipped byte is still served');
    t.equal(got.size, small.size, 'GAP: with its full size');
    t.not(got.sha256, small.sha256, 'GAP: its bytes no longer hash to the id');
  } finally {
    await server.stop();
  }

  // Re-importing the good file repairs the damaged blob: the fresh verified copy replaces the file.
  const reimport = await runImport(dataDir, small.path);
  t.equal(reimport.code, 0, 're-importing the good file succeeds');
  t.equal(importedLine(reimport)?.existed, true, 'the re-import reports the blob as already recorded');
  t.equal(await sha256File(blobPath), small.sha256, 'and the bytes on disk are good again');

  // A damaged accounted blob of the wrong size is re-hashed at start-up, found wrong and dropped.
  await truncate(blobPath, small.size - 1000);
  const after = await startServer(dataDir);
  try {
    const packages = ((await (await fetch(`${after.url}/v1/packages`)).json()) as { packages: Listed[] }).packages;
    t.same(packages, [], 'a truncated accounted blob is no longer listed');
    const res = await fetch(`${after.url}/v1/packages/${small.sha256}`);
    await res.arrayBuffer();
    t.equal(res.status, 404, 'nor downloadable');
    t.notOk((await blobFiles(dataDir)).some((b) => b.name === small.sha256), 'and its file is removed');
  } finally {
    await after.stop();
  }

  // Then a re-import stores the good bytes again.
  const repaired = await runImport(dataDir, small.path);
  t.equal(repaired.code, 0, 're-importing after the drop succeeds');
  t.equal(importedLine(repaired)?.existed, false, 'the blob is written anew');
  const repairedServer = await startServer(dataDir);
  try {
    t.ok(await checkStore(t, repairedServer, dataDir, small, 'after the repair'), 'the package is listed and downloads to its hash');
  } finally {
    await repairedServer.stop();
  }
});
