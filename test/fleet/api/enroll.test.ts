// Enrollment against the real `plugsrv-fleet serve`: tokens minted over the API, CSRs made here, every refusal code of the contract.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { enrollResponse, EnrollErrorCode, renewResponse } from '../../../lib/fleet/protocol.js';
import { tempDir } from '../../helpers/agent-process.js';
import { enrollDevice, makeDeviceKey } from '../../helpers/fleet-device.js';
import { api, createKey, startFleet } from '../../helpers/fleet-process.js';

const dataDir = await tempDir(t, 'plugsrv-fleet-enroll-');
const admin = await createKey(dataDir, 'admin');
// The first key made the DB; the others can be made at once.
const [reader, provision, fleet] = await Promise.all([createKey(dataDir, 'read', 'dashboard'), createKey(dataDir, 'provision', 'line'), startFleet(dataDir)]);
t.teardown(() => fleet.kill());

async function mint(body: Record<string, unknown>, key = provision): Promise<string> {
  const r = await api(fleet, 'POST', '/v1/tokens', { key, body });
  if (r.status !== 201) throw new Error(`minting a token failed: ${r.status} ${r.text}`);
  return r.json.token as string;
}

t.test('operator keys: missing, wrong, too weak', async (t) => {
  const none = await api(fleet, 'POST', '/v1/tokens', { body: { dealerCode: '12345678' } });
  t.equal(none.status, 401);
  t.equal(none.json.code, 'E_UNAUTHORIZED');
  const forged = await api(fleet, 'GET', '/v1/devices', { key: `${admin.slice(0, -4)}AAAA` });
  t.equal(forged.status, 401, 'a key with a wrong secret is refused');
  const weak = await api(fleet, 'POST', '/v1/tokens', { key: reader, body: { dealerCode: '12345678' } });
  t.equal(weak.status, 403);
  t.equal(weak.json.code, 'E_FORBIDDEN');
  t.equal((await api(fleet, 'GET', '/v1/devices', { key: reader })).status, 200, 'read may list devices');
  t.equal((await api(fleet, 'GET', '/healthz')).json.status, 'ok');
  const bad = await api(fleet, 'POST', '/v1/tokens', { key: provision, body: { dealerCode: '1234' } });
  t.equal(bad.status, 400);
  t.match(bad.json.message, /8 digits/);
});

t.test('a token enrolls a device once; the response follows the contract', async (t) => {
  const created = await api(fleet, 'POST', '/v1/tokens', { key: provision, body: { dealerCode: '12345678', serial: 'SN-0001', note: 'order 42' } });
  t.equal(created.status, 201);
  t.match(created.json, { dealerCode: '12345678', serial: 'SN-0001', state: 'unused', token: /^pbt_[a-z0-9]+_/ });
  const listed = await api(fleet, 'GET', '/v1/tokens', { key: provision });
  t.notOk(JSON.stringify(listed.json).includes(created.json.token.split('_').pop()), 'the list never shows the secret');

  const { res, enrolled } = await enrollDevice(fleet, created.json.token, 'SN-0001');
  t.equal(res.status, 201, res.text);
  t.ok(enrollResponse.safeParse(res.json).success, 'the body parses with the contract schema');
  t.equal(enrolled.dealerCode, '12345678');
  t.equal(enrolled.policy.version, 1);
  t.match(enrolled.socketUrl, /^wss:\/\/127\.0\.0\.1:\d+\/v1\/device\/ws$/);
  const cert = new X509Certificate(enrolled.certificate);
  const deviceCa = new X509Certificate(enrolled.caChain[0] as string);
  const root = new X509Certificate(enrolled.caChain[1] as string);
  t.equal(cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3), enrolled.deviceId, 'CN is the device id');
  t.ok(cert.verify(deviceCa.publicKey), 'signed by the device CA');
  t.ok(deviceCa.verify(root.publicKey), 'device CA signed by the root');
  t.equal(root.fingerprint256, new X509Certificate(fleet.rootCa).fingerprint256, 'the chain ends at the root clients pin');
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only');
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  t.ok(days > 89 && days < 91, `valid ~90 days (${days.toFixed(1)})`);

  const again = await enrollDevice(fleet, created.json.token, 'SN-0001');
  t.equal(again.res.status, 409);
  t.equal(again.res.json.code, EnrollErrorCode.USED_TOKEN);

  const tokens = await api(fleet, 'GET', '/v1/tokens', { key: provision });
  t.match(tokens.json.tokens.find((x: { id: string }) => x.id === created.json.id), { state: 'used', deviceId: enrolled.deviceId, usedSerial: 'SN-0001' });
  const device = await api(fleet, 'GET', `/v1/devices/${enrolled.deviceId}`, { key: reader });
  t.match(device.json, { id: enrolled.deviceId, status: 'active', serial: 'SN-0001', dealerCode: '12345678', online: false, inventory: { hostname: 'box-SN-0001' } });
});

t.test('unknown, expired, serial mismatch and bad CSR: stable codes, token kept', async (t) => {
  const unknown = await enrollDevice(fleet, `pbt_aaaaaaaaaaaaaaaa_${'A'.repeat(43)}`, 'SN-X');
  t.equal(unknown.res.status, 401);
  t.equal(unknown.res.json.code, EnrollErrorCode.UNKNOWN_TOKEN);

  const real = await mint({ dealerCode: '23456789', serial: 'SN-0002' });
  const wrongSecret = await enrollDevice(fleet, `${real.slice(0, -3)}${real.endsWith('AAA') ? 'BBB' : 'AAA'}`, 'SN-0002');
  t.equal(wrongSecret.res.json.code, EnrollErrorCode.UNKNOWN_TOKEN, 'a right id with a wrong secret is unknown');

  const mismatch = await enrollDevice(fleet, real, 'SN-9999');
  t.equal(mismatch.res.status, 403);
  t.equal(mismatch.res.json.code, EnrollErrorCode.SERIAL_MISMATCH);

  for (const alg of ['P-384', 'RSA'] as const) {
    const badCsr = await enrollDevice(fleet, real, 'SN-0002', await makeDeviceKey(alg));
    t.equal(badCsr.res.status, 400, alg);
    t.equal(badCsr.res.json.code, EnrollErrorCode.BAD_CSR, `${alg} keys are refused`);
  }
  const k = await makeDeviceKey();
  const tampered = { ...k, csrPem: k.csrPem.replace(/^(-----BEGIN CERTIFICATE REQUEST-----\n)(.{20})(.)/m, (_m, a: string, b: string, c: string) => `${a}${b}${c === 'A' ? 'B' : 'A'}`) };
  t.equal((await enrollDevice(fleet, real, 'SN-0002', tampered)).res.json.code, EnrollErrorCode.BAD_CSR, 'a CSR whose bytes changed is refused');
  const malformed = await api(fleet, 'POST', '/v1/enroll', { body: { token: real, serial: 'SN-0002' } });
  t.equal(malformed.status, 400);
  t.equal(malformed.json.code, 'E_FLEET_PROTOCOL');

  t.equal((await enrollDevice(fleet, real, 'SN-0002')).res.status, 201, 'none of the refusals used the token up');

  const shortLived = await mint({ dealerCode: '23456789', expiresInHours: 0.0003 });
  await new Promise((r) => setTimeout(r, 1300));
  const expired = await enrollDevice(fleet, shortLived, 'SN-0003');
  t.equal(expired.res.status, 410);
  t.equal(expired.res.json.code, EnrollErrorCode.EXPIRED_TOKEN);

  const revokedToken = await api(fleet, 'POST', '/v1/tokens', { key: provision, body: { dealerCode: '23456789' } });
  t.equal((await api(fleet, 'DELETE', `/v1/tokens/${revokedToken.json.id}`, { key: provision })).status, 200);
  t.equal((await enrollDevice(fleet, revokedToken.json.token, 'SN-0004')).res.json.code, EnrollErrorCode.EXPIRED_TOKEN, 'a revoked token no longer enrolls');
});

t.test('two concurrent enrollments with one token: exactly one wins', async (t) => {
  const token = await mint({ dealerCode: '34567890' });
  const keys = await Promise.all(Array.from({ length: 6 }, () => makeDeviceKey()));
  const results = await Promise.all(keys.map((k, i) => enrollDevice(fleet, token, `RACE-${i}`, k)));
  const statuses = results.map((r) => r.res.status).sort();
  t.same(statuses, [201, 409, 409, 409, 409, 409], `one 201, the rest 409 (${statuses.join(',')})`);
  const devices = await api(fleet, 'GET', '/v1/devices?dealerCode=34567890', { key: reader });
  t.equal(devices.json.devices.length, 1, 'one device exists');
});

t.test('re-enrollment of the same serial keeps the device id and revokes the old certificate; renewal over mTLS', async (t) => {
  const first = await enrollDevice(fleet, await mint({ dealerCode: '45678901', serial: 'SN-RE' }), 'SN-RE');
  t.equal(first.res.status, 201);

  const renewKey = await makeDeviceKey();
  const renewed = await api(fleet, 'POST', '/v1/device/renew', { body: { csr: renewKey.csrPem }, cert: first.enrolled.certificate, certKey: first.key.keyPem });
  t.equal(renewed.status, 200, 'renewed');
  t.ok(renewResponse.safeParse(renewed.json).success);
  t.not(new X509Certificate(renewed.json.certificate).serialNumber, new X509Certificate(first.enrolled.certificate).serialNumber, 'a new certificate');
  const noCert = await api(fleet, 'POST', '/v1/device/renew', { body: { csr: renewKey.csrPem } });
  t.equal(noCert.status, 401);
  t.equal(noCert.json.code, 'E_CERT_REQUIRED');

  const second = await enrollDevice(fleet, await mint({ dealerCode: '45678901', serial: 'SN-RE' }), 'SN-RE');
  t.equal(second.res.status, 201);
  t.equal(second.enrolled.deviceId, first.enrolled.deviceId, 'same device id after a wipe or disk swap');
  const detail = await api(fleet, 'GET', `/v1/devices/${first.enrolled.deviceId}`, { key: reader });
  t.equal(detail.json.certificates.length, 3);
  t.equal(detail.json.certificates.filter((c: { revokedAt: number | null }) => c.revokedAt === null).length, 1, 'only the newest certificate is valid');
  const oldRenew = await api(fleet, 'POST', '/v1/device/renew', { body: { csr: renewKey.csrPem }, cert: first.enrolled.certificate, certKey: first.key.keyPem });
  t.equal(oldRenew.status, 403);
  t.equal(oldRenew.json.code, 'E_CERT_REVOKED');
});

t.test('the audit log has the token mints and enrollments, never a secret', async (t) => {
  const r = await api(fleet, 'GET', '/v1/audit?limit=1000', { key: admin });
  t.equal(r.status, 200);
  const entries = r.json.entries as Array<{ actor: string; action: string; outcome: string; code: string | null; target: string }>;
  t.ok(entries.some((e) => e.action === 'token.create' && e.outcome === 'ok' && e.actor !== 'anonymous'));
  t.ok(entries.some((e) => e.action === 'device.enroll' && e.outcome === 'ok' && /^token:/.test(e.actor) && /^dev_/.test(e.target)));
  t.ok(entries.some((e) => e.action === 'device.enroll' && e.outcome === 'failed' && e.code === EnrollErrorCode.USED_TOKEN));
  t.ok(entries.some((e) => e.action === 'token.create' && e.outcome === 'denied' && e.code === 'E_FORBIDDEN'), 'a refused key is audited');
  t.notMatch(r.text, /pbt_[a-z0-9]+_[A-Za-z0-9_-]{32}/, 'no token in the audit');
  t.notMatch(r.text, /pak_[a-z0-9]+_[A-Za-z0-9_-]{32}/, 'no API key in the audit');
  t.equal((await api(fleet, 'GET', '/v1/audit', { key: reader })).status, 403, 'reading the audit needs admin');
  t.notMatch(fleet.output(), /pbt_[a-z0-9]+_[A-Za-z0-9_-]{32}|pak_[a-z0-9]+_[A-Za-z0-9_-]{32}/, 'no secret in the log');
});
