// Pure parts of the device channel: the reconnection schedule (exponential, full jitter, capped, reset) and the heartbeat builder.
import t from 'tap';
import { deviceMessage } from '../../../lib/fleet/protocol.js';
import { Backoff, backoffCeiling, backoffDelay, buildHeartbeat, DEFAULT_BACKOFF, type HeartbeatParts } from '../../../agent/src/fleet/index.js';

t.test('backoff: ceilings double from 1 s up to the 5 min cap', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 8].map((a) => backoffCeiling(a)), [1000, 2000, 4000, 8000, 16000, 32000, 256000]);
  t.equal(backoffCeiling(9), 300_000, 'capped');
  t.equal(backoffCeiling(1000), 300_000, 'no overflow for a long outage');
  t.equal(DEFAULT_BACKOFF.capMs, 300_000);
});

t.test('backoff: full jitter over [floor, ceiling] from the injected random', async (t) => {
  t.equal(backoffDelay(3, () => 1), 8000, 'random 1 = the ceiling');
  t.equal(backoffDelay(3, () => 0.5), 4000);
  t.equal(backoffDelay(3, () => 0), 250, 'random 0 = the floor, not an immediate retry');
  t.equal(backoffDelay(20, () => 0.999999), 299_999);
  const opts = { baseMs: 100, capMs: 1000, minMs: 500 };
  t.equal(backoffDelay(0, () => 0, opts), 100, 'the floor never exceeds the ceiling');
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(i % 12, Math.random);
    if (d < 250 || d > backoffCeiling(i % 12)) t.fail(`delay ${d} out of bounds for attempt ${i % 12}`);
  }
});

t.test('Backoff: counts failures, skips ahead when told to back off, resets after a stable connection', async (t) => {
  const b = new Backoff(() => 1);
  t.same([b.next(), b.next(), b.next()], [1000, 2000, 4000]);
  t.equal(b.attempts, 3);
  b.reset();
  t.equal(b.next(), 1000, 'after a reset the first delay is short again');
  b.atLeast(5);
  t.equal(b.next(), 32_000, 'a "replaced" close jumps to the 5th attempt');
  b.atLeast(2);
  t.equal(b.next(), 64_000, 'atLeast never goes back');
});

const base: HeartbeatParts = {
  now: 1_795_000_000_123.7,
  agentVersion: '1.2.3',
  lock: { locked: false },
  policyVersion: 4,
  targets: [],
  packagesReady: 0,
  storage: { totalBytes: 1000, freeBytes: 400, usedBytes: 300 },
};

t.test('heartbeat: a fresh device (never synced, no self-check) follows the protocol', async (t) => {
  const hb = buildHeartbeat(base);
  t.same(deviceMessage.parse(hb), hb, 'the strict protocol schema accepts it unchanged');
  t.match(hb, { type: 'heartbeat', at: 1_795_000_000_123, agentVersion: '1.2.3', catalogVersion: null, lock: { locked: false, reason: '' }, policyVersion: 4 });
  t.same(hb.sync, { state: 'never', bytesDone: 0, bytesTotal: 0, lastRunAt: null, lastResult: null, packagesReady: 0 });
  t.same(hb.selfcheck, { at: null, status: 'none', failed: [] });
  t.notOk('inventory' in hb);
});

t.test('heartbeat: running sync progress, lock, failed self-checks, inventory', async (t) => {
  const hb = buildHeartbeat({
    ...base,
    lock: { locked: true, reason: 'stolen' },
    lastSyncRun: { result: 'running', startedAt: 1000, finishedAt: null, catalogVersion: 17, errorCode: null },
    targets: [
      { state: 'downloading', size: 100, doneBytes: 40 },
      { state: 'queued', size: 50, doneBytes: 0 },
      { state: 'verified', size: 999, doneBytes: 999 },
      { state: 'failed', size: 7, doneBytes: 3 },
      { state: 'downloading', size: 10, doneBytes: 25 },
    ],
    packagesReady: 12,
    lastSelfcheck: { finishedAt: 5000, status: 'warn', results: [{ id: 'dns:a', status: 'ok' }, { id: 'tls:b:443', status: 'warn' }, { id: 'ntp:c', status: 'fail' }] },
    inventory: { agentVersion: '1.2.3', hostname: 'box', os: 'Debian', macs: ['aa:bb:cc:dd:ee:ff'] },
  });
  t.same(deviceMessage.parse(hb), hb);
  t.same(hb.lock, { locked: true, reason: 'stolen' });
  t.same(hb.sync, { state: 'running', bytesDone: 50, bytesTotal: 160, lastRunAt: 1000, lastResult: 'running', packagesReady: 12 }, 'queued and downloading count; done bytes never exceed a size');
  t.equal(hb.catalogVersion, 17);
  t.same(hb.selfcheck, { at: 5000, status: 'warn', failed: ['tls:b:443', 'ntp:c'] });
  t.equal(hb.inventory?.hostname, 'box');
});

t.test('heartbeat: a failed and a finished sync run', async (t) => {
  const failed = buildHeartbeat({ ...base, lastSyncRun: { result: 'failed', startedAt: 1000, finishedAt: 2000, catalogVersion: null, errorCode: 'E_TUF_EXPIRED' } });
  t.same(failed.sync, { state: 'failed', bytesDone: 0, bytesTotal: 0, lastRunAt: 2000, lastResult: 'failed (E_TUF_EXPIRED)', packagesReady: 0 });
  const ok = buildHeartbeat({ ...base, lastSyncRun: { result: 'partial', startedAt: 1000, finishedAt: 3000, catalogVersion: 3, errorCode: null } });
  t.match(ok.sync, { state: 'idle', lastRunAt: 3000, lastResult: 'partial' });
  t.same(deviceMessage.parse(ok), ok);
});
