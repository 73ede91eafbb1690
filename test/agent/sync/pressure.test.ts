// Sync on a small fixed-size filesystem: packages no longer selected are evicted early to make room; a selection that cannot fit is reported, not thrashed.
import t from 'tap';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent, type Agent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { removeTarget } from '../../../agent/src/catalog/publish/index.js';
import { syncOnce, syncSummary } from '../../../agent/src/sync/index.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';
import { startTufOrigin, type TufOrigin } from '../../helpers/tuf-origin.js';

const MiB = 1024 * 1024;

async function agentOn(t: { teardown(fn: () => unknown): void }, dataDir: string, origin: TufOrigin, reserveBytes: number, exclude: string[] = []): Promise<Agent> {
  const flags = { dataDir, 'store.reserveBytes': reserveBytes, 'sync.originUrl': origin.url, 'sync.trustedRoot': origin.trustedRoot, 'sync.gcGraceHours': 24, 'sync.exclude': exclude };
  const agent = await openAgent(loadConfig({ env: {}, flags }), silentLogger(), { recover: true });
  t.teardown(() => agent.close());
  return agent;
}

const custom = { kind: 'map' as const, headUnit: 'IVI', models: ['XBA'], version: '1' };

t.test('a new package that needs room evicts one that left the selection, before its grace period ends', async (t) => {
  const mnt = await smallTmpfs(t, '16m');
  if (typeof mnt !== 'string') {
    t.plan(0, mnt.skip);
    return;
  }
  const origin = await startTufOrigin(t);
  const old = await origin.add('OLD.bin', 6 * MiB, custom);
  await origin.publish();
  const agent = await agentOn(t, mnt, origin, 3 * MiB);
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 1 });

  await removeTarget(origin.dir, old.path);
  const fresh = await origin.add('NEW.bin', 7 * MiB, custom);
  await origin.publish();
  const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(outcome, { result: 'ok', ready: 1, failed: 0 }, 'room was made');
  t.same((await agent.packages.listReady()).map((p) => p.id), [fresh.sha256]);
  t.equal(await agent.store.sizeOf(old.sha256), undefined, 'the package that left the selection was evicted early');
});

t.test('a selection that cannot fit is reported with E_DISK_FULL and nothing is downloaded', async (t) => {
  const mnt = await smallTmpfs(t, '4m');
  if (typeof mnt !== 'string') {
    t.plan(0, mnt.skip);
    return;
  }
  const origin = await startTufOrigin(t);
  await origin.add('BIG.bin', 8 * MiB, custom);
  await origin.publish();
  const agent = await agentOn(t, mnt, origin, 0);
  const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(outcome, { result: 'failed', errorCode: 'E_DISK_FULL', failed: 1, bytesFetched: 0 });
  t.equal(origin.targetBytesSent(), 0, 'not a byte was fetched');
  t.match(await syncSummary(agent), { failed: [{ path: 'BIG.bin', error: /E_DISK_FULL: not enough space.*does not fit/ }] });
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { errorCode: 'E_DISK_FULL' }, 'the next run says the same, without thrashing');
});

t.test('eviction order: least urgent campaign and lowest priority go first; a blob being served is never evicted', async (t) => {
  const mnt = await smallTmpfs(t, '24m');
  if (typeof mnt !== 'string') {
    t.plan(0, mnt.skip);
    return;
  }
  const origin = await startTufOrigin(t);
  const recall = await origin.add('RECALL.bin', 4 * MiB, { ...custom, campaign: 'recall', priority: 1 }, 'old/RECALL.bin');
  const high = await origin.add('HIGH.bin', 4 * MiB, { ...custom, priority: 9 }, 'old/HIGH.bin');
  const low = await origin.add('LOW.bin', 4 * MiB, { ...custom, priority: 1 }, 'old/LOW.bin');
  await origin.publish();
  const first = await agentOn(t, mnt, origin, 0);
  t.match(await syncOnce(first, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 3 });
  const stored = async (agent: Agent): Promise<string[]> => {
    const names = new Map([recall, high, low].map((x) => [x.sha256, x.path]));
    const out: string[] = [];
    for (const [sha256, path] of names) if ((await agent.store.sizeOf(sha256)) !== undefined) out.push(path);
    return out.sort();
  };
  await first.close();

  // The site stops taking old/ and a package arrives that needs the room of exactly one old one.
  const free = (await first.store.freeBytes()).free;
  const fresh = await origin.add('NEW.bin', free + 2 * MiB, custom, 'new/NEW.bin');
  await origin.publish();
  const agent = await agentOn(t, mnt, origin, 0, ['old/**']);
  // A technician is downloading LOW (a lease, as the serve role takes one per stream, here from this process).
  const unlease = await agent.store.leases.hold(low.sha256);
  t.same([...(await agent.store.leases.servedNow())], [low.sha256], 'the lease is visible to the sync');
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 1 }, 'room was made for NEW');
  t.same(await stored(agent), ['old/LOW.bin', 'old/RECALL.bin'], 'LOW (lowest rank) is being served: HIGH, next in order, was evicted instead; the recall is kept');
  await unlease();
  t.same([...(await agent.store.leases.servedNow())], [], 'the lease ends with the stream');

  // Without the lease, the next package needing room takes LOW before the recall.
  const free2 = (await agent.store.freeBytes()).free;
  await origin.add('NEW2.bin', free2 + 2 * MiB, custom, 'new/NEW2.bin');
  await origin.publish();
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok' }, 'room was made for NEW2');
  t.same(await stored(agent), ['old/RECALL.bin'], 'LOW went before the recall');
  t.ok((await agent.store.sizeOf(fresh.sha256)) !== undefined, 'NEW is still there: selected packages are never evicted');
});
