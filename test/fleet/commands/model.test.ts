// Commands (pure): the state machine, lifetimes, arguments and scopes by kind, what a hello redelivers.
import t from 'tap';
import { commandPayload } from '../../../lib/fleet/protocol.js';
import { buildPayload, COMMAND_SCOPE, commandTtlMs, isFinal, newCommandId, nextState, parseArgs, parseKind, shouldSend, type CommandState } from '../../../fleet/src/commands/index.js';

const ALL: CommandState[] = ['queued', 'delivered', 'ok', 'failed', 'rejected', 'expired'];

t.test('state machine: queued -> delivered -> ok|failed|rejected, or expired; answers are final', async (t) => {
  t.equal(nextState('queued', { type: 'delivered' }), 'delivered');
  t.equal(nextState('delivered', { type: 'delivered' }), 'delivered', 'a redelivery keeps it delivered');
  t.equal(nextState('queued', { type: 'result', status: 'ok' }), 'ok', 'a result may overtake the delivered mark');
  t.equal(nextState('delivered', { type: 'result', status: 'rejected' }), 'rejected');
  t.equal(nextState('queued', { type: 'expire' }), 'expired');
  t.equal(nextState('delivered', { type: 'expire' }), 'expired');
  t.equal(nextState('expired', { type: 'result', status: 'failed' }), 'failed', 'a late answer is still the truth');
  t.equal(nextState('expired', { type: 'delivered' }), undefined, 'an expired command is never sent');
  t.equal(nextState('expired', { type: 'expire' }), undefined);
  for (const s of ALL.filter(isFinal)) {
    for (const e of [{ type: 'delivered' }, { type: 'expire' }, { type: 'result', status: 'ok' }] as const) t.equal(nextState(s, e), undefined, `${s} stays ${s} on ${e.type}`);
  }
});

t.test('redelivery: pending, above what the agent accepted, not expired', async (t) => {
  t.ok(shouldSend({ state: 'queued', seq: 5, expiresAt: 2000 }, 4, 1000));
  t.ok(shouldSend({ state: 'delivered', seq: 5, expiresAt: 2000 }, 4, 1000));
  t.notOk(shouldSend({ state: 'delivered', seq: 4, expiresAt: 2000 }, 4, 1000), 'the agent has it');
  t.notOk(shouldSend({ state: 'queued', seq: 5, expiresAt: 1000 }, 4, 1000), 'expired');
  t.notOk(shouldSend({ state: 'ok', seq: 5, expiresAt: 2000 }, 0, 1000));
});

t.test('lifetimes: default, bounds', async (t) => {
  t.equal(commandTtlMs(undefined, 168), 168 * 3_600_000);
  t.equal(commandTtlMs(60, 168), 60_000);
  for (const bad of [59, 90 * 86_400 + 1, 1.5, '600']) t.throws(() => commandTtlMs(bad, 168), { code: 'E_BAD_REQUEST' }, String(bad));
});

t.test('kinds and arguments follow the contract; retire and set-policy have their own routes', async (t) => {
  t.equal(parseKind('lock'), 'lock');
  t.throws(() => parseKind('format-disk'), { code: 'E_BAD_REQUEST', message: /unknown command kind/ });
  t.throws(() => parseKind('retire'), { message: /\/retire/ });
  t.throws(() => parseKind('set-policy'), { message: /\/v1\/policies/ });
  t.same(parseArgs('lock', { reason: 'theft' }), { reason: 'theft' });
  t.throws(() => parseArgs('lock', {}), { code: 'E_BAD_REQUEST', message: /reason/ });
  t.throws(() => parseArgs('unlock', { force: true }), { code: 'E_BAD_REQUEST' }, 'no unknown arguments');
  t.same(parseArgs('collect-logs', undefined), { lines: 500 }, 'defaults filled in');
  t.equal(COMMAND_SCOPE.wipe, 'admin');
  t.equal(COMMAND_SCOPE.retire, 'provision');
  t.equal(COMMAND_SCOPE.lock, 'operate');
});

t.test('payloads parse with the contract', async (t) => {
  const id = newCommandId();
  t.match(id, /^cmd_[a-z0-9]{26}$/);
  const p = buildPayload({ id, deviceId: `dev_${'a'.repeat(26)}`, seq: 3, kind: 'lock', args: { reason: 'x' }, issuedAt: 1000, ttlMs: 500 });
  t.same(commandPayload.parse(p), p);
  t.equal(p.expiresAt, 1500);
});
