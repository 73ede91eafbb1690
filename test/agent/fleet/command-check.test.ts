// The command check (pure): what a device accepts from the fleet and why it refuses the rest, with stable codes.
import t from 'tap';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { CommandPayload, SignedCommand } from '../../../lib/fleet/protocol.js';
import { signCommand } from '../../../lib/fleet/signing.js';
import { checkCommand } from '../../../agent/src/fleet/index.js';

const fleetKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const DEVICE = 'dev_aaaaaaaaaaaaaaaaaaaaaaaa';
const NOW = Date.parse('2026-03-10T12:00:00Z');

function payload(over: Partial<CommandPayload> = {}): CommandPayload {
  return { id: 'cmd_bbbbbbbbbbbbbbbbbbbbbbbb', deviceId: DEVICE, seq: 5, kind: 'lock', args: { reason: 'stolen unit' }, issuedAt: NOW - 1000, expiresAt: NOW + 60_000, ...over };
}

const check = (command: unknown, lastSeq = 4, now = NOW) => checkCommand({ command, commandKey: fleetKey.publicKey, deviceId: DEVICE, lastSeq, now });

t.test('a good command is accepted with its arguments parsed', async (t) => {
  const v = check(signCommand(payload(), fleetKey.privateKey));
  t.ok(v.accepted);
  if (v.accepted) t.match(v.command, { id: 'cmd_bbbbbbbbbbbbbbbbbbbbbbbb', seq: 5, kind: 'lock', args: { reason: 'stolen unit' } });
  const logs = check(signCommand(payload({ kind: 'collect-logs', args: {} }), fleetKey.privateKey));
  t.ok(logs.accepted && logs.command.args.lines === 500, 'defaults of the kind\'s arguments are applied');
});

t.test('replays and reordering: seq <= last accepted is refused', async (t) => {
  const cmd = signCommand(payload({ seq: 5 }), fleetKey.privateKey);
  t.match(check(cmd, 5), { accepted: false, code: 'E_COMMAND_REPLAY', commandId: 'cmd_bbbbbbbbbbbbbbbbbbbbbbbb', seq: 5 }, 'the same command again');
  t.match(check(signCommand(payload({ seq: 3, id: 'cmd_cccccccccccccccccccccccc' }), fleetKey.privateKey), 4), { accepted: false, code: 'E_COMMAND_REPLAY', seq: 3 }, 'an older command arriving after a newer one');
  t.ok(check(signCommand(payload({ seq: 9 }), fleetKey.privateKey), 4).accepted, 'a gap in the sequence is fine');
});

t.test('an expired command is refused', async (t) => {
  const v = check(signCommand(payload({ expiresAt: NOW - 1 }), fleetKey.privateKey));
  t.match(v, { accepted: false, code: 'E_COMMAND_EXPIRED' });
  t.ok(check(signCommand(payload({ expiresAt: NOW }), fleetKey.privateKey)).accepted, 'valid up to its expiry instant');
});

t.test('a command for another device is refused', async (t) => {
  t.match(check(signCommand(payload({ deviceId: 'dev_zzzzzzzzzzzzzzzzzzzzzzzz' }), fleetKey.privateKey)), { accepted: false, code: 'E_COMMAND_DEVICE' });
});

t.test('bad signatures: tampered payload, another key, wrong key id, garbage', async (t) => {
  const good = signCommand(payload({ kind: 'unlock', args: {} }), fleetKey.privateKey);
  const tampered: SignedCommand = { ...good, payload: good.payload.replace('"seq":5', '"seq":6') };
  t.match(check(tampered), { accepted: false, code: 'E_COMMAND_SIGNATURE', message: /does not match/ }, 'one changed byte');

  const forgedText = JSON.stringify(payload({ kind: 'unlock', args: {} }));
  const forged: SignedCommand = { payload: forgedText, signature: sign(null, Buffer.from(forgedText), otherKey.privateKey).toString('base64'), keyId: good.keyId };
  t.match(check(forged), { accepted: false, code: 'E_COMMAND_SIGNATURE' }, 'signed by another key under the pinned key id');

  const otherKeyId = signCommand(payload(), otherKey.privateKey);
  t.match(check(otherKeyId), { accepted: false, code: 'E_COMMAND_SIGNATURE', message: /trusts command key/ }, 'signed by another key, under its own key id');

  t.match(check({ ...good, keyId: '0123456789abcdef' }), { accepted: false, code: 'E_COMMAND_SIGNATURE', message: /0123456789abcdef/ }, 'a key id that is not the pinned one');
  t.match(check({ payload: good.payload }), { accepted: false, code: 'E_COMMAND_SIGNATURE', commandId: 'cmd_bbbbbbbbbbbbbbbbbbbbbbbb' }, 'no signature; the id is still read for the rejection');
  t.match(check('lock everything'), { accepted: false, code: 'E_COMMAND_SIGNATURE', commandId: '', seq: 0 });
  t.match(check({ ...good, signature: 'not base64!' }), { accepted: false, code: 'E_COMMAND_SIGNATURE' });
  // The signature is checked before anything in the payload is believed: a forged replay is a signature problem.
  t.match(check(forged, 99), { accepted: false, code: 'E_COMMAND_SIGNATURE' });
  t.equal(createPublicKey(fleetKey.privateKey).export({ format: 'pem', type: 'spki' }), fleetKey.publicKey.export({ format: 'pem', type: 'spki' }));
});

t.test('bad arguments and malformed signed payloads', async (t) => {
  t.match(check(signCommand(payload({ args: {} }), fleetKey.privateKey)), { accepted: false, code: 'E_COMMAND_ARGS', message: /lock: reason/ }, 'lock without a reason');
  t.match(check(signCommand(payload({ kind: 'unlock', args: { force: true } }), fleetKey.privateKey)), { accepted: false, code: 'E_COMMAND_ARGS' }, 'unknown argument');
  t.match(check(signCommand(payload({ kind: 'collect-logs', args: { lines: 1_000_000 } }), fleetKey.privateKey)), { accepted: false, code: 'E_COMMAND_ARGS' });
  t.match(check(signCommand(payload({ kind: 'set-policy', args: { policy: { version: 0 } } }), fleetKey.privateKey)), { accepted: false, code: 'E_COMMAND_ARGS' });
  t.ok(check(signCommand(payload({ kind: 'set-policy', args: { policy: { version: 3 } } }), fleetKey.privateKey)).accepted, 'a policy with defaults');
  const text = JSON.stringify({ ...payload(), kind: 'format-disk' });
  t.match(check({ payload: text, signature: sign(null, Buffer.from(text), fleetKey.privateKey).toString('base64'), keyId: signCommand(payload(), fleetKey.privateKey).keyId }), {
    accepted: false,
    code: 'E_COMMAND_ARGS',
    message: /not a command/,
  }, 'a signed payload of an unknown kind');
});
