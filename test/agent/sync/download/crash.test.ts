// A download killed with SIGKILL mid-way resumes in-process from its durable checkpoints and ends verified.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageRoot } from '../../../../lib/package-root.js';
import { downloadTarget, sidecarPath, type Sidecar } from '../../../../agent/src/sync/download/index.js';
import { FaultyOrigin } from '../../../helpers/faulty-origin.js';
import { tempDir } from '../../../helpers/agent-process.js';

const MiB = 1024 * 1024;
const MODULE = resolve(packageRoot(), 'dist', 'agent', 'src', 'sync', 'download', 'index.js');
/** The child: imports the compiled downloader and runs one job given as JSON in argv. */
const CHILD = `
const { downloadTarget } = await import(process.argv[1]);
const job = JSON.parse(process.argv[2]);
await downloadTarget(job, { segmentBytes: 2 * 1024 * 1024, maxConnectionsPerHost: 4, checkpointBytes: 1024 * 1024 });
console.log('done');
`;

async function durableBytes(path: string): Promise<number> {
  const text = await readFile(sidecarPath(path), 'utf8').catch(() => '');
  if (!text) return 0;
  try {
    return (JSON.parse(text) as Sidecar).segments.reduce((n, s) => n + s.durable - s.start, 0);
  } catch {
    return 0;
  }
}

t.test('SIGKILL mid-download, then resume: Range requests from the durable offsets, final hash ok', async (t) => {
  const origin = await FaultyOrigin.start();
  t.teardown(() => origin.close());
  const size = 16 * MiB;
  const file = origin.add('big.bin', size);
  origin.pacing = { chunkBytes: 64 * 1024, delayMs: 10 };
  const dir = await tempDir(t);
  const job = { url: file.url, sha256: file.sha256, size, partialPath: join(dir, 'partial', `${file.sha256}.part`) };

  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, MODULE, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
  while ((await durableBytes(job.partialPath)) < size / 3) await delay(20);
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL', 'the child died mid-download');

  const left = JSON.parse(await readFile(sidecarPath(job.partialPath), 'utf8')) as Sidecar;
  const before = origin.requests.length;
  origin.pacing = undefined;
  const r = await downloadTarget(job, { segmentBytes: 2 * MiB, maxConnectionsPerHost: 4 });
  t.equal(createHash('sha256').update(await readFile(r.path)).digest('hex'), file.sha256, 'the resumed file verifies');
  const starts = origin.requests.slice(before).map((q) => q.from).sort((a, b) => a - b);
  const expected = left.segments.filter((s) => s.durable < s.end).map((s) => s.durable).sort((a, b) => a - b);
  t.same(starts, expected, 'each segment resumed at the durable offset the killed process recorded');
  t.ok(origin.requests.slice(before).every((q) => q.ifRange === file.etag), 'with If-Range');
});
