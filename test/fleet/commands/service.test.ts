// The command queue on a real DB: seqs strictly increasing per device under concurrent creation and delivered in
// order, redelivery reads, results recorded once, expiry on an injected clock.
import t from 'tap';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { commandPayload } from '../../../lib/fleet/protocol.js';
import { verifyCommandSignature } from '../../../lib/fleet/signing.js';
import { silentLogger } from '../../../lib/log/index.js';
import { CommandService, loadCommandKey, type OutgoingCommand } from '../../../fleet/src/commands/index.js';
import { openFleetDb, tables, WriteQueue } from '../../../fleet/src/db/index.js';
import { tempDir } from '../../helpers/agent-process.js';

async function setup(t: { teardown(fn: () => unknown): void }, devices: string[]) {
  const dir = await tempDir(t);
  const state = await openFleetDb(join(dir, 'fleet.db'));
  t.teardown(() => state.close());
  const writes = new WriteQueue(state.client, silentLogger());
  let now = 1_000_000;
  const key = loadCommandKey(dir);
  const svc = new CommandService({ db: state.db, client: state.client, writes, key, log: silentLogger(), clock: () => now });
  for (const id of devices) {
    await state.db.insert(tables.devices).values({ id, dealerCode: '12345678', serial: id, status: 'active', enrolledAt: 0, updatedAt: 0, tokenId: 't', certSerial: id, certNotAfter: 0 });
  }
  await svc.init();
  const delivered = new Map<string, OutgoingCommand[]>();
  svc.setDelivery({ deliver: (d, cmds) => delivered.set(d, [...(delivered.get(d) ?? []), ...cmds]) });
  return { state, svc, key, delivered, setNow: (n: number) => (now = n), writes };
}

const A = `dev_${'a'.repeat(26)}`;
const B = `dev_${'b'.repeat(26)}`;

t.test('concurrent creations: per-device seqs 1..n, handed over in seq order, each signed', async (t) => {
  const { svc, key, delivered } = await setup(t, [A, B]);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      svc.create({ kind: 'lock', args: { reason: `r${i}` }, target: i % 2 ? { deviceIds: [A] } : { allActive: true }, ttlMs: 60_000, createdBy: 'k' }),
    ),
  );
  for (const [dev, n] of [[A, 20], [B, 10]] as const) {
    const seqs = (delivered.get(dev) ?? []).map((c) => c.seq);
    t.same(seqs, Array.from({ length: n }, (_, i) => i + 1), `${dev.slice(0, 6)} got seqs 1..${n} in order`);
  }
  const frame = JSON.parse((delivered.get(A) as OutgoingCommand[])[0]?.frame as string);
  t.equal(frame.type, 'command');
  t.ok(verifyCommandSignature(frame.command, createPublicKey(key.privateKey)));
  t.equal(commandPayload.parse(JSON.parse(frame.command.payload)).deviceId, A);
  t.equal(svc.pendingTotal, 30);
});

t.test('retired or unknown devices get no seq; pendingFor reads only what to send', async (t) => {
  const { state, svc, setNow } = await setup(t, [A, B]);
  await state.client.execute({ sql: "UPDATE devices SET status = 'retired' WHERE id = ?", args: [B] });
  t.same(await svc.create({ kind: 'unlock', args: {}, target: { deviceIds: [B, `dev_${'c'.repeat(26)}`] }, ttlMs: 60_000, createdBy: 'k' }), []);
  t.same(await svc.pendingFor(B, 0), [], 'nothing pending: no DB read needed');
  const [c1] = await svc.create({ kind: 'unlock', args: {}, target: { deviceIds: [A] }, ttlMs: 60_000, createdBy: 'k' });
  const [c2] = await svc.create({ kind: 'sync-now', args: {}, target: { deviceIds: [A] }, ttlMs: 10_000, createdBy: 'k' });
  t.same((await svc.pendingFor(A, 0)).map((c) => c.id), [c1?.id, c2?.id]);
  t.same((await svc.pendingFor(A, 1)).map((c) => c.id), [c2?.id], 'above the acked seq only');
  setNow(1_000_000 + 10_000);
  t.same((await svc.pendingFor(A, 0)).map((c) => c.id), [c1?.id], 'an expired one is not sent');
  t.equal(await svc.sweepExpired(), 1);
  t.equal((await svc.get(c2?.id as string)).state, 'expired');
  t.equal(svc.pendingTotal, 1);
});

t.test('results: recorded once, only from the device the command is for', async (t) => {
  const { svc } = await setup(t, [A, B]);
  const [c] = await svc.create({ kind: 'lock', args: { reason: 'x' }, target: { deviceIds: [A] }, ttlMs: 60_000, createdBy: 'k' });
  const id = c?.id as string;
  svc.markDelivered([id]);
  t.notOk(await svc.recordResult(B, { type: 'result', commandId: id, seq: 1, status: 'ok', detail: '' }), 'another device cannot answer it');
  t.notOk(await svc.recordResult(A, { type: 'result', commandId: 'cmd_nope', seq: 1, status: 'ok', detail: '' }));
  t.ok(await svc.recordResult(A, { type: 'result', commandId: id, seq: 1, status: 'rejected', detail: 'E_COMMAND_EXPIRED: clock' }));
  t.notOk(await svc.recordResult(A, { type: 'result', commandId: id, seq: 1, status: 'ok', detail: '' }), 'a second answer is ignored');
  t.match(await svc.get(id), { state: 'rejected', detail: 'E_COMMAND_EXPIRED: clock' });
  t.equal(svc.pendingTotal, 0);
});

t.test('a late answer to an expired command is recorded without counting it twice', async (t) => {
  const { svc, setNow } = await setup(t, [A]);
  const [c] = await svc.create({ kind: 'reboot', args: {}, target: { deviceIds: [A] }, ttlMs: 1000, createdBy: 'k' });
  svc.markDelivered([c?.id as string]);
  setNow(1_000_000 + 1000);
  t.equal(await svc.sweepExpired(), 1);
  t.equal(svc.pendingTotal, 0);
  t.ok(await svc.recordResult(A, { type: 'result', commandId: c?.id as string, seq: 1, status: 'ok', detail: '' }));
  t.equal((await svc.get(c?.id as string)).state, 'ok');
  t.equal(svc.pendingTotal, 0, 'not decremented again');
  const [d] = await svc.create({ kind: 'reboot', args: {}, target: { deviceIds: [A] }, ttlMs: 60_000, createdBy: 'k' });
  t.equal(svc.pendingTotal, 1);
  t.equal((await svc.pendingFor(A, 0))[0]?.id, d?.id, 'the count still lets a hello find what is pending');
});
