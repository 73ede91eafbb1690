// SyncScheduler with an injected clock: nothing outside the night window, a run stopped at the window's end and resumed the next night, and the night bandwidth cap held.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent, type Agent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { tables } from '../../../agent/src/db/index.js';
import { SyncScheduler } from '../../../agent/src/sync/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { startTufOrigin, type TufOrigin } from '../../helpers/tuf-origin.js';

const MiB = 1024 * 1024;
const WINDOW = { window: '22:00-06:30', timeZone: 'UTC' };

async function agentFor(t: { teardown(fn: () => unknown): void }, origin: TufOrigin, sync: Record<string, unknown> = {}): Promise<Agent> {
  const dataDir = await tempDir(t);
  const flags: Record<string, unknown> = { dataDir, 'store.reserveBytes': 0, 'sync.originUrl': origin.url, 'sync.trustedRoot': origin.trustedRoot };
  for (const [k, v] of Object.entries(sync)) flags[`sync.${k}`] = v;
  const agent = await openAgent(loadConfig({ env: {}, flags }), silentLogger(), { recover: true });
  t.teardown(() => agent.close());
  return agent;
}

/** A scheduler whose clock always says `iso`; stopped at the end of the test. */
function schedulerAt(t: { teardown(fn: () => unknown): void }, agent: Agent, iso: string): SyncScheduler {
  const at = Date.parse(iso);
  const scheduler = new SyncScheduler(agent, () => at);
  t.teardown(() => scheduler.stop());
  return scheduler;
}

const syncRuns = (agent: Agent) => agent.state.db.select().from(tables.syncRuns).orderBy(asc(tables.syncRuns.id));

/** Waits until the scheduler's run `index` (0-based) has ended, and returns its row. */
async function runEnded(agent: Agent, index: number, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const row = (await syncRuns(agent))[index];
    if (row && row.result !== 'running') return row;
    if (performance.now() > deadline) throw new Error(`sync run ${index} did not end within ${timeoutMs} ms (row: ${JSON.stringify(row)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('outside the window with no day rate, a tick starts nothing', async (t) => {
  const origin = await startTufOrigin(t);
  await origin.add('SOFT.bin', 100_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1', campaign: 'recall' });
  await origin.publish();
  const agent = await agentFor(t, origin, { ...WINDOW, dayRateBytesPerSec: 0 });
  const scheduler = schedulerAt(t, agent, '2026-03-10T12:00:00Z');
  scheduler.tick();
  await new Promise((r) => setTimeout(r, 300));
  t.same(await syncRuns(agent), [], 'no sync_runs row');
  t.same(origin.requests, [], 'the origin was not even asked for its catalog');
  await scheduler.stop();
});

t.test('a run near the window end stops at the end, keeps its durable bytes, and resumes the next night', async (t) => {
  // The origin paces below the agent's cap, so the agent reads bytes as they come and what the origin
  // counts as sent is what reached the agent (not megabytes parked in socket buffers at the abort).
  const cap = 2_000_000;
  const origin = await startTufOrigin(t, { rateBytesPerSec: 1_600_000 });
  const size = 5 * MiB + 321;
  const target = await origin.add('NIGHT.bin', size, { kind: 'map', headUnit: 'R-LINK2', models: ['BJA'], version: '2026.4' });
  await origin.publish();
  const agent = await agentFor(t, origin, { ...WINDOW, nightRateBytesPerSec: cap, dayRateBytesPerSec: 0 });

  // 1.5 s before the window closes (the catalog refresh must come first), for a download of about 3.5 s.
  const tonight = schedulerAt(t, agent, '2026-03-10T06:29:58.500Z');
  const started = performance.now();
  tonight.tick();
  const first = await runEnded(agent, 0);
  const stoppedAfter = performance.now() - started;
  await tonight.stop();
  t.comment(`first run ended after ${stoppedAfter.toFixed(0)} ms: ${JSON.stringify({ result: first.result, errorCode: first.errorCode, message: first.message })}`);
  t.ok(stoppedAfter >= 1400 && stoppedAfter < 3000, `the run stopped when the window closed, 1.5 s after the tick (${stoppedAfter.toFixed(0)} ms)`);
  t.equal(first.trigger, 'schedule');
  t.equal(first.targetsReady, 0, 'the target was not finished');
  t.equal(first.result, 'partial', 'the run is recorded as partial, not failed');
  t.match(first.message ?? '', /window/, 'its message says the window closed');
  t.same(await agent.packages.listReady(), [], 'nothing is listed yet');

  const partial = join(agent.dataDir, 'partial', `${target.sha256}.part`);
  t.equal((await stat(partial)).size, size, 'the partial file is kept (preallocated to the target size)');
  const sidecar = JSON.parse(await readFile(`${partial}.json`, 'utf8')) as { segments: Array<{ start: number; end: number; durable: number }> };
  const durable = sidecar.segments.reduce((n, s) => n + s.durable - s.start, 0);
  const sentTonight = origin.targetBytesSent();
  t.ok(durable > 0 && durable < size, `some bytes are durable (${(durable / MiB).toFixed(2)} of ${(size / MiB).toFixed(2)} MiB)`);
  const onDisk = await readFile(partial);
  t.ok(onDisk.subarray(0, durable).equals(target.bytes.subarray(0, durable)), 'the durable bytes are the target\'s');

  const tomorrow = schedulerAt(t, agent, '2026-03-10T23:00:00Z');
  tomorrow.tick();
  const second = await runEnded(agent, 1);
  await tomorrow.stop();
  t.match(second, { result: 'ok', targetsReady: 1, targetsFailed: 0, bytesFetched: size }, 'the next night the run completes');
  t.same((await agent.packages.listReady()).map((p) => p.id), [target.sha256], 'the package is ready');
  const sentTomorrow = origin.targetBytesSent() - sentTonight;
  t.equal(sentTomorrow, size - durable, 'the second run fetched only the bytes that were not durable');
  const total = origin.targetBytesSent();
  t.comment(`fetched ${(sentTonight / MiB).toFixed(2)} + ${(sentTomorrow / MiB).toFixed(2)} MiB for a ${(size / MiB).toFixed(2)} MiB target: ratio ${(total / size).toFixed(3)}`);
  t.ok(total <= 1.1 * size, `at most 1.1x the target fetched in all (${(total / size).toFixed(3)})`);
});

t.test('the night rate cap holds within 10%', async (t) => {
  const cap = 4_000_000;
  const origin = await startTufOrigin(t);
  const size = 12 * MiB;
  await origin.add('RATE.bin', size, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' });
  await origin.publish();
  const agent = await agentFor(t, origin, { ...WINDOW, nightRateBytesPerSec: cap });
  const scheduler = schedulerAt(t, agent, '2026-03-10T23:00:00Z');
  const started = performance.now();
  let firstByte: number | undefined;
  const watch = setInterval(() => {
    if (firstByte === undefined && origin.targetBytesSent() > 0) firstByte = performance.now();
  }, 5);
  scheduler.tick();
  const row = await runEnded(agent, 0);
  const ended = performance.now();
  clearInterval(watch);
  await scheduler.stop();
  t.match(row, { result: 'ok', bytesFetched: size });
  const whole = size / ((ended - started) / 1000);
  const downloading = size / ((ended - (firstByte ?? started)) / 1000);
  t.comment(`${(size / MiB).toFixed(0)} MiB under a ${(cap / 1e6).toFixed(1)} MB/s cap: ${(downloading / 1e6).toFixed(3)} MB/s from the first byte, ${(whole / 1e6).toFixed(3)} MB/s for the whole run (catalog refresh included)`);
  t.ok(Math.abs(downloading - cap) <= 0.1 * cap, `the achieved rate is within 10% of the cap (${(downloading / 1e6).toFixed(3)} MB/s)`);
});
