// Heartbeats kept in memory, written per flush: one UPDATE per changed device, monthly activity for those that beat.
import t from 'tap';
import { LiveState, type Heartbeat } from '../../../fleet/src/hub/index.js';

const hb = (extra: Partial<Heartbeat> = {}): Heartbeat => ({
  type: 'heartbeat',
  at: 0,
  agentVersion: '1.2.3',
  catalogVersion: 4,
  lock: { locked: true, reason: 'theft' },
  policyVersion: 2,
  sync: { state: 'idle', bytesDone: 0, bytesTotal: 0, lastRunAt: null, lastResult: null, packagesReady: 3 },
  storage: { totalBytes: 10, freeBytes: 5, usedBytes: 5 },
  selfcheck: { at: null, status: 'ok', failed: [] },
  ...extra,
});

t.test('many heartbeats, one write per device per flush', async (t) => {
  const s = new LiveState();
  const jan = Date.UTC(2025, 0, 15);
  for (let i = 0; i < 5; i++) s.heartbeat('dev_a', '12345678', jan + i * 1000, hb({ inventory: { agentVersion: '1.2.3', hostname: 'h', os: '', macs: [] } }));
  s.seen('dev_b', '87654321', jan, { agentVersion: '1.0.0', policyVersion: 1, ackedSeq: 3 });
  t.equal(s.dirtyCount, 2);
  const stmts = s.takeStatements();
  t.equal(stmts.length, 3, 'a: update + activity; b: update only (a hello is not a heartbeat)');
  const [upA, actA, upB] = stmts as Array<{ sql: string; args: unknown[] }>;
  t.match(upA?.sql, /^UPDATE devices/);
  t.equal(upA?.args[0], jan + 4000, 'last seen');
  t.same(JSON.parse(upA?.args[1] as string).lock, { locked: true, reason: 'theft' });
  t.notOk((upA?.args[1] as string).includes('inventory'), 'the inventory is kept out of the heartbeat JSON');
  t.equal(upA?.args[5], 1, 'locked');
  t.match(upA?.args[7], /hostname/, 'inventory written in its own column');
  t.match(actA?.sql, /^INSERT INTO device_activity/);
  t.same(actA?.args, ['dev_a', '2025-01', '12345678', jan + 4000, jan + 4000, 5]);
  t.equal(upB?.args[4], 3, 'acked seq from the hello');
  t.same(s.takeStatements(), [], 'nothing changed since');
  s.heartbeat('dev_a', '12345678', jan + 5000, hb());
  const again = s.takeStatements() as Array<{ args: unknown[] }>;
  t.equal(again[0]?.args[7], null, 'the inventory is written once');
  t.equal(again[1]?.args[5], 1, 'one heartbeat since the last flush');
  t.match(s.view('dev_a'), { lastSeenAt: jan + 5000, heartbeat: { agentVersion: '1.2.3' } });
  s.seen('dev_a', '12345678', jan);
  t.equal(s.view('dev_a')?.lastSeenAt, jan + 5000, 'last seen never goes back');
});
