// Serving leases on a real folder: one file per blob and process, counted streams, visible across processes, stale ones ignored and cleared.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingLeases } from '../../../agent/src/store/serving.js';

/** What any process reading the folder sees. */
const servedIn = (dir: string): Promise<Set<string>> => new ServingLeases(dir).servedNow();
import { tempDir } from '../../helpers/agent-process.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

t.test('a lease file exists while at least one stream of the blob runs in this process', async (t) => {
  const dir = join(await tempDir(t), 'serving');
  const leases = new ServingLeases(dir);
  t.same([...(await servedIn(dir))], [], 'no folder yet: nothing served');
  const one = await leases.hold(A);
  const two = await leases.hold(A);
  t.same(await readdir(dir), [`${A}.${process.pid}`], 'two streams of one blob: one file');
  t.same([...(await servedIn(dir))], [A]);
  await one();
  await one(); // a second call is a no-op, not a second release
  t.same([...(await servedIn(dir))], [A], 'still served by the other stream');
  await two();
  t.same(await readdir(dir), [], 'the last stream removed the file');
  const again = await leases.hold(A);
  t.same([...(await servedIn(dir))], [A], 'a new stream takes it again');
  await again();
});

t.test('another live process\'s lease counts, a dead one\'s does not and is cleared', async (t) => {
  const dir = join(await tempDir(t), 'serving');
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const pid = child.pid as number;
  await writeFile(join(dir, `${A}.${pid}`), '');
  // A pid far above any the kernel hands out here (pid_max is at most 4194304).
  await writeFile(join(dir, `${B}.4194305`), '');
  await writeFile(join(dir, 'not-a-lease.txt'), '');
  t.same([...(await servedIn(dir))], [A], 'the live child\'s blob is served; the dead pid\'s is not');
  t.equal(await new ServingLeases(dir).clearStale(), 1, 'one stale lease removed');
  t.same((await readdir(dir)).sort(), [`${A}.${pid}`, 'not-a-lease.txt'].sort());
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.same([...(await servedIn(dir))], [], 'once the child is gone its lease counts for nothing');
});

t.test('a lease that cannot be written fails that hold only; the next one tries again', async (t) => {
  const root = await tempDir(t);
  const blocker = join(root, 'serving');
  await writeFile(blocker, 'a file where the folder should be');
  const leases = new ServingLeases(join(blocker, 'sub'));
  await t.rejects(leases.hold(A), 'the folder cannot be made');
  await t.rejects(leases.hold(A), 'tried again, still failing, nothing left half-held');
  await rm(blocker);
  const after = await leases.hold(A);
  t.same([...(await servedIn(join(blocker, 'sub')))], [A], 'once the disk is fixed, the next stream holds its lease');
  await after();
  const ok = new ServingLeases(join(root, 'ok'));
  const release = await ok.hold(A);
  t.same([...(await servedIn(join(root, 'ok')))], [A]);
  await release();
});
