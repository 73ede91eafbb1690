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

async function agentOn(t: { teardown(fn: () => unknown): void }, dataDir: string, origin: TufOrigin, reserveBytes: number): Promise<Agent> {
  const flags = { dataDir, 'store.reserveBytes': reserveBytes, 'sync.originUrl': origin.url, 'sync.trustedRoot': origin.trustedRoot, 'sync.gcGraceHours': 24 };
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
