// The device socket against the real `plugsrv-fleet serve`: mTLS admission, welcome, queued and live commands with
// verifiable signatures, results, heartbeats, replacement, retire (4001), wipe (4003), graceful stop (1001).
import t from 'tap';
import { createPublicKey, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandPayload, SocketClose, type EnrollResponse, type SignedCommand } from '../../../lib/fleet/protocol.js';
import { verifyCommandSignature } from '../../../lib/fleet/signing.js';
import { EC_ALG, x509 } from '../../../fleet/src/ca/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { DeviceSocket, enrollDevice, type DeviceKey } from '../../helpers/fleet-device.js';
import { api, createKey, eventually, startFleet } from '../../helpers/fleet-process.js';

const dataDir = await tempDir(t, 'plugsrv-fleet-hub-');
const admin = await createKey(dataDir, 'admin');
const [operator, fleet] = await Promise.all([createKey(dataDir, 'operate', 'support'), startFleet(dataDir)]);
t.teardown(() => fleet.kill());

interface Device {
  enrolled: EnrollResponse;
  key: DeviceKey;
}

async function newDevice(dealer: string, serial: string): Promise<Device> {
  const tok = await api(fleet, 'POST', '/v1/tokens', { key: admin, body: { dealerCode: dealer } });
  const { res, enrolled, key } = await enrollDevice(fleet, tok.json.token, serial);
  if (res.status !== 201) throw new Error(`enroll failed: ${res.text}`);
  return { enrolled, key };
}

function connect(d: Device): DeviceSocket {
  return new DeviceSocket(d.enrolled.socketUrl, { ca: fleet.rootCa, cert: d.enrolled.certificate, key: d.key.keyPem });
}

async function command(d: Device, kind: string, args: Record<string, unknown> = {}, key = operator): Promise<{ id: string; seq: number }> {
  const r = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/commands`, { key, body: { kind, args } });
  if (r.status !== 201) throw new Error(`${kind} refused: ${r.status} ${r.text}`);
  return r.json.command;
}

async function stateOf(id: string): Promise<{ state: string; detail: string | null; resultAt: number | null; data: unknown }> {
  return (await api(fleet, 'GET', `/v1/commands/${id}`, { key: operator })).json;
}

function verified(d: Device, signed: SignedCommand): ReturnType<typeof commandPayload.parse> {
  if (!verifyCommandSignature(signed, createPublicKey(d.enrolled.commandKey))) throw new Error('signature does not verify');
  return commandPayload.parse(JSON.parse(signed.payload));
}

/** Why the upgrade was refused (the test fails if the socket opened). */
async function refusal(sock: DeviceSocket): Promise<unknown> {
  return sock.opened.then(
    () => new Error('the socket opened'),
    (err: unknown) => err,
  );
}

/** A client certificate the fleet must refuse although it looks right: signed by `issuerKey` under `issuerName`. */
async function foreignCert(cn: string, issuer?: { name: string; keyPem: string }): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  let signingKey = keys.privateKey;
  let issuerName = `CN=${cn}`;
  if (issuer) {
    const der = Buffer.from(issuer.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    signingKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    issuerName = issuer.name;
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '4a0102030405060708',
    subject: `CN=${cn}`,
    issuer: issuerName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const pk = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pk, 'PRIVATE KEY') };
}

t.test('no certificate, a certificate of another CA, or one the root signed directly: refused before the upgrade', async (t) => {
  const d = await newDevice('11111111', 'HUB-0');
  const bare = new DeviceSocket(d.enrolled.socketUrl, { ca: fleet.rootCa });
  t.match(await refusal(bare), { status: 401 }, 'no client certificate');
  const stranger = await foreignCert(d.enrolled.deviceId);
  const other = new DeviceSocket(d.enrolled.socketUrl, { ca: fleet.rootCa, ...stranger });
  t.match(await refusal(other), { status: 401 }, 'self-made certificate with the right CN');
  const rootPem = await readFile(join(dataDir, 'ca', 'root.pem'), 'utf8');
  const rootKey = await readFile(join(dataDir, 'ca', 'root.key'), 'utf8');
  const byRoot = await foreignCert(d.enrolled.deviceId, { name: new x509.X509Certificate(rootPem).subject, keyPem: rootKey });
  const sideways = new DeviceSocket(d.enrolled.socketUrl, { ca: fleet.rootCa, ...byRoot });
  t.match(await refusal(sideways), { status: 401 }, 'chains to the root but not through the device CA');
  const wrongPath = await api(fleet, 'GET', '/v1/device/wsx', { cert: d.enrolled.certificate, certKey: d.key.keyPem, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
  t.equal(wrongPath.status, 404);
});

t.test('a command queued while offline is delivered after hello, signed; results reach the API', async (t) => {
  const d = await newDevice('22222222', 'HUB-1');
  const lock = await command(d, 'lock', { reason: 'unpaid invoice 2025-07' });
  t.equal(lock.seq, 1);
  t.equal((await stateOf(lock.id)).state, 'queued');

  const sock = connect(d);
  await sock.opened;
  const welcome = await sock.next('welcome');
  t.match(welcome, { deviceId: d.enrolled.deviceId, heartbeatSeconds: 30 });
  t.ok(Math.abs(welcome.serverTime - Date.now()) < 10_000);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sock.messages.length, 0, 'nothing is sent before hello');

  sock.hello(0);
  const first = await sock.next('command');
  const payload = verified(d, first.command);
  t.match(payload, { id: lock.id, deviceId: d.enrolled.deviceId, seq: 1, kind: 'lock', args: { reason: 'unpaid invoice 2025-07' } });
  t.equal(payload.expiresAt - payload.issuedAt, 7 * 86_400_000, 'expires after the default 7 days');
  const tampered = { ...first.command, payload: first.command.payload.replace('unpaid', 'UNPAID') };
  t.notOk(verifyCommandSignature(tampered, createPublicKey(d.enrolled.commandKey)), 'a changed payload does not verify');
  await eventually(async () => ((await stateOf(lock.id)).state === 'delivered' ? true : undefined), 5000, 'delivered');

  sock.send({ type: 'result', commandId: lock.id, seq: 1, status: 'ok', detail: '' });
  const done = await eventually(async () => {
    const s = await stateOf(lock.id);
    return s.state === 'ok' ? s : undefined;
  }, 5000, 'ok');
  t.ok(done.resultAt);

  const unlock = await command(d, 'unlock');
  const second = verified(d, (await sock.next('command', 5000)).command);
  t.match(second, { id: unlock.id, seq: 2, kind: 'unlock' }, 'a live command goes out at once');
  sock.send({ type: 'result', commandId: unlock.id, seq: 2, status: 'failed', detail: 'E_LOCK_IO: cannot write the lock state' });
  await eventually(async () => ((await stateOf(unlock.id)).state === 'failed' ? true : undefined), 5000, 'failed');
  sock.send({ type: 'result', commandId: unlock.id, seq: 2, status: 'ok', detail: '' });
  await new Promise((r) => setTimeout(r, 300));
  t.match(await stateOf(unlock.id), { state: 'failed', detail: 'E_LOCK_IO: cannot write the lock state' }, 'a second answer does not overwrite the first');

  const logs = await command(d, 'collect-logs', { lines: 3 });
  const third = verified(d, (await sock.next('command', 5000)).command);
  t.same(third.args, { lines: 3 });
  sock.send({ type: 'result', commandId: logs.id, seq: third.seq, status: 'ok', detail: '', data: { lines: ['a', 'b', 'c'] } });
  await eventually(async () => ((await stateOf(logs.id)).state === 'ok' ? true : undefined), 5000, 'logs ok');
  t.same((await stateOf(logs.id)).data, { lines: ['a', 'b', 'c'] }, 'command output is kept for the operator');

  // Not answered: redelivered on the next connection if the device did not accept it (seq above lastSeq).
  const sync = await command(d, 'sync-now');
  t.equal(verified(d, (await sock.next('command', 5000)).command).id, sync.id);
  await sock.close();
  const again = connect(d);
  await again.next('welcome');
  again.hello(3);
  t.equal(verified(d, (await again.next('command', 5000)).command).id, sync.id, 'redelivered with the same id and seq');
  await again.close();
  const third2 = connect(d);
  await third2.next('welcome');
  third2.hello(4);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(third2.messages.filter((m) => m.type === 'command').length, 0, 'nothing redelivered once the device accepted it');

  const foreign = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/commands`, { key: operator, body: { kind: 'wipe' } });
  t.equal(foreign.status, 403, 'wipe needs an admin key');
  const retireByCommand = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/commands`, { key: admin, body: { kind: 'retire' } });
  t.equal(retireByCommand.status, 400, 'retire goes through its own route');
  const badArgs = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/commands`, { key: operator, body: { kind: 'lock', args: {} } });
  t.equal(badArgs.status, 400, 'lock needs a reason');
  await third2.close();
});

t.test('heartbeats: online, last seen, latest state in the API, monthly activity report', async (t) => {
  const d = await newDevice('33333333', 'HUB-2');
  const sock = connect(d);
  await sock.next('welcome');
  sock.hello(0);
  sock.heartbeat({ lock: { locked: true, reason: 'test lock' } });
  const shown = await eventually(async () => {
    const r = await api(fleet, 'GET', `/v1/devices/${d.enrolled.deviceId}`, { key: operator });
    return r.json.heartbeat ? r.json : undefined;
  }, 5000, 'heartbeat visible');
  t.match(shown, { online: true, locked: true, lockReason: 'test lock', sync: { packagesReady: 12 }, storage: { freeBytes: 600 }, policy: { applied: 1, assigned: 1 } });
  t.ok(Date.now() - shown.lastSeenAt < 10_000, 'last seen now');
  const month = new Date().toISOString().slice(0, 7);
  const report = await eventually(async () => {
    const r = await api(fleet, 'GET', `/v1/reports/active-units?from=${month}&to=${month}`, { key: operator });
    return r.json.rows.some((row: { dealerCode: string }) => row.dealerCode === '33333333') ? r.json : undefined;
  }, 5000, 'activity flushed');
  t.match(report.rows.find((r: { dealerCode: string }) => r.dealerCode === '33333333'), { month, activeUnits: 1 });
  const csv = await api(fleet, 'GET', `/v1/reports/active-units?from=${month}&to=${month}&format=csv`, { key: operator });
  t.match(csv.headers['content-type'], /text\/csv/);
  t.match(csv.text, new RegExp(`^month,dealer_code,active_units\\r\\n(.*\\r\\n)*${month},33333333,1\\r\\n`));
  t.equal((await api(fleet, 'GET', '/v1/reports/active-units?from=2025-13', { key: operator })).status, 400);

  const online = await api(fleet, 'GET', '/v1/devices?online=true', { key: operator });
  t.ok(online.json.devices.some((x: { id: string }) => x.id === d.enrolled.deviceId));
  const stats = await api(fleet, 'GET', '/v1/stats', { key: operator });
  t.ok(stats.json.connected >= 1);
  t.ok(stats.json.heartbeats.heartbeats >= 1);

  await sock.close();
  await eventually(async () => ((await api(fleet, 'GET', `/v1/devices/${d.enrolled.deviceId}`, { key: operator })).json.online === false ? true : undefined), 5000, 'offline');
});

t.test('a newer connection replaces the older (4009); a message off the protocol closes with 4002', async (t) => {
  const d = await newDevice('44444444', 'HUB-3');
  const a = connect(d);
  await a.next('welcome');
  const b = connect(d);
  await b.next('welcome');
  t.equal((await a.closed).code, SocketClose.REPLACED);
  b.send({ type: 'heartbeat', at: 'yesterday' });
  t.equal((await b.closed).code, SocketClose.PROTOCOL);
});

t.test('retire: the device confirms, its socket closes with 4001, later connections too; forced retire', async (t) => {
  const d = await newDevice('55555555', 'HUB-4');
  const sock = connect(d);
  await sock.next('welcome');
  sock.hello(0);
  const r = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/retire`, { key: admin, body: {} });
  t.equal(r.status, 202);
  t.equal(r.json.status, 'retiring');
  const cmd = verified(d, (await sock.next('command')).command);
  t.equal(cmd.kind, 'retire');
  sock.send({ type: 'result', commandId: cmd.id, seq: cmd.seq, status: 'ok', detail: '' });
  t.equal((await sock.closed).code, SocketClose.RETIRED);
  t.match((await api(fleet, 'GET', `/v1/devices/${d.enrolled.deviceId}`, { key: operator })).json, { status: 'retired', online: false });
  const later = connect(d);
  t.equal((await later.closed).code, SocketClose.RETIRED, 'a retired device is told so on every connection');
  const refused = await api(fleet, 'POST', `/v1/devices/${d.enrolled.deviceId}/commands`, { key: operator, body: { kind: 'unlock' } });
  t.equal(refused.json.code, 'E_DEVICE_RETIRED');

  const lost = await newDevice('55555555', 'HUB-5');
  const lostSock = connect(lost);
  await lostSock.next('welcome');
  const forced = await api(fleet, 'POST', `/v1/devices/${lost.enrolled.deviceId}/retire`, { key: admin, body: { force: true } });
  t.equal(forced.status, 200);
  t.equal(forced.json.status, 'retired');
  t.equal((await lostSock.closed).code, SocketClose.RETIRED);
});

t.test('wipe: confirmed by the device, certificate revoked (4003); bulk commands reach every active device', async (t) => {
  const d = await newDevice('66666666', 'HUB-6');
  const other = await newDevice('66666666', 'HUB-7');
  const sock = connect(d);
  const otherSock = connect(other);
  await Promise.all([sock.next('welcome'), otherSock.next('welcome')]);
  sock.hello(0);
  otherSock.hello(0);

  const bulk = await api(fleet, 'POST', '/v1/commands', { key: operator, body: { kind: 'lock', args: { reason: 'audit' }, target: { dealerCode: '66666666' } } });
  t.equal(bulk.status, 201);
  t.equal(bulk.json.count, 2);
  t.equal(verified(d, (await sock.next('command')).command).kind, 'lock');
  t.equal(verified(other, (await otherSock.next('command')).command).kind, 'lock');
  const all = await api(fleet, 'POST', '/v1/commands', { key: operator, body: { kind: 'sync-now', target: { all: true } } });
  const active = (await api(fleet, 'GET', '/v1/devices?status=active', { key: operator })).json.devices.length;
  t.equal(all.json.count, active, 'all = every active device');
  verified(d, (await sock.next('command')).command);

  const wipe = await command(d, 'wipe', {}, admin);
  const w = verified(d, (await sock.next('command')).command);
  t.equal(w.id, wipe.id);
  sock.send({ type: 'result', commandId: wipe.id, seq: w.seq, status: 'ok', detail: '' });
  t.equal((await sock.closed).code, SocketClose.REVOKED);
  t.equal((await api(fleet, 'GET', `/v1/devices/${d.enrolled.deviceId}`, { key: operator })).json.status, 'wiped');
  t.equal((await connect(d).closed).code, SocketClose.REVOKED, 'the wiped identity is refused');
  await otherSock.close();
});

t.test('SIGTERM closes device sockets with 1001 and exits 0', async (t) => {
  const d = await newDevice('77777777', 'HUB-8');
  const sock = connect(d);
  await sock.next('welcome');
  sock.hello(0);
  sock.heartbeat();
  const code = fleet.stop();
  t.equal((await sock.closed).code, 1001);
  t.equal(await code, 0);
  t.match(fleet.output(), /"msg":"stopped"/);
});
