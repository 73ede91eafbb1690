// Group commit: writes from many callers share one transaction per turn; a bad write fails alone.
import t from 'tap';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/log/index.js';
import { openFleetDb, WriteQueue } from '../../../fleet/src/db/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('batched, ordered, isolated failures, drained on close', async (t) => {
  const dir = await tempDir(t);
  const db = await openFleetDb(join(dir, 'fleet.db'));
  t.teardown(() => db.close());
  const q = new WriteQueue(db.client, silentLogger());
  const writes = Array.from({ length: 200 }, (_, i) => q.write([{ sql: 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', args: [`k${i}`, String(i), i] }]));
  await Promise.all(writes);
  t.ok(q.stats.batches <= 3, `200 writers, ${q.stats.batches} transaction(s)`);
  t.equal(q.stats.statements, 200);

  const ok1 = q.write([{ sql: "UPDATE settings SET value = 'a' WHERE key = 'k1'", args: [] }, { sql: "UPDATE settings SET value = value || 'b' WHERE key = 'k1'", args: [] }]);
  const bad = q.write([{ sql: 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', args: ['k2', 'dup', 0] }]);
  const ok2 = q.write([{ sql: "UPDATE settings SET value = 'c' WHERE key = 'k3' RETURNING key", args: [] }]);
  const [r1, r2, r3] = await Promise.allSettled([ok1, bad, ok2]);
  t.equal(r1.status, 'fulfilled');
  t.equal(r2.status, 'rejected', 'the duplicate key fails');
  t.equal(r3.status, 'fulfilled');
  t.equal(r3.status === 'fulfilled' ? r3.value[0]?.rows[0]?.key : undefined, 'k3', 'each caller gets its own results');
  const rows = await db.client.execute("SELECT key, value FROM settings WHERE key IN ('k1', 'k2', 'k3') ORDER BY key");
  t.same(rows.rows.map((r) => `${r.key}=${r.value}`), ['k1=ab', 'k2=2', 'k3=c'], 'statements of one caller stay in order; the failure changed nothing');

  const late = q.write([{ sql: "UPDATE settings SET value = 'z' WHERE key = 'k4'", args: [] }]);
  await q.close();
  await late;
  t.equal((await db.client.execute("SELECT value FROM settings WHERE key = 'k4'")).rows[0]?.value, 'z', 'close waits for queued writes');
  await t.rejects(q.write([{ sql: 'SELECT 1', args: [] }]), /closed/);
});
