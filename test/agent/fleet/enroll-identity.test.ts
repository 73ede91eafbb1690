// Enrollment and renewal against the stand-in fleet (real HTTPS, real CA), the identity files, tokens and serials.
import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent, type Agent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import {
  collectInventory,
  enrollDevice,
  IDENTITY_FILES,
  identityDir,
  loadIdentity,
  needsRenewal,
  readCaFile,
  readPolicy,
  readSerial,
  readToken,
  renewCertificate,
  type EnrollOptions,
} from '../../../agent/src/fleet/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { startFleetStandin, type FleetStandin } from '../../helpers/fleet-standin.js';

const SERIAL = 'SN-UNIT-0001';

async function setup(t: Test): Promise<{ fleet: FleetStandin; agent: Agent; dir: string; opts: (token: string, over?: Partial<EnrollOptions>) => Promise<EnrollOptions> }> {
  const fleet = await startFleetStandin(t);
  const dir = await tempDir(t);
  const agent = await openAgent(loadConfig({ env: {}, flags: { dataDir: join(dir, 'data') } }), silentLogger());
  t.teardown(() => agent.close());
  const caFileCerts = await readCaFile(fleet.caFile);
  const opts = async (token: string, over: Partial<EnrollOptions> = {}): Promise<EnrollOptions> => {
    const tokenFile = join(dir, 'bootstrap-token');
    await writeFile(tokenFile, `${token}\n`);
    return { dataDir: agent.dataDir, db: agent.state.db, fleetUrl: fleet.url, caFileCerts, token, tokenFile, serial: SERIAL, inventory: await collectInventory('9.9.9'), log: silentLogger(), ...over };
  };
  return { fleet, agent, dir, opts };
}

t.test('enrollment: identity saved (key 0600), policy stored, token file deleted, no second enrollment without --force', async (t) => {
  const { fleet, agent, opts } = await setup(t);
  const o = await opts(fleet.addToken({ serial: SERIAL, dealerCode: '87654321' }));
  const identity = await enrollDevice(o);
  t.match(identity.deviceId, /^dev_[a-z0-9]{24}$/);
  t.equal(identity.dealerCode, '87654321');
  t.ok(fleet.devices.has(identity.deviceId), 'the fleet knows the device');
  const files = (await readdir(identityDir(agent.dataDir))).sort();
  t.same(files, Object.values(IDENTITY_FILES).sort(), 'exactly the identity files, no temp file left');
  t.equal((await stat(join(identityDir(agent.dataDir), 'key.pem'))).mode & 0o777, 0o600, 'the private key is 0600');
  t.equal((await stat(identityDir(agent.dataDir))).mode & 0o777, 0o700);
  const cert = new X509Certificate(identity.certPem);
  t.match(cert.subject, `CN=${identity.deviceId}`);
  t.ok(cert.checkIssued(new X509Certificate(identity.caChain[0] as string)), 'issued by the device CA of the chain');
  t.equal(identity.caChain.length, 2);
  t.same(await loadIdentity(agent.dataDir), identity, 'what was saved loads back');
  t.equal((await readPolicy(agent.state.db))?.version, 1, 'the enrollment policy is stored');
  await t.rejects(stat(o.tokenFile), { code: 'ENOENT' }, 'the spent token file is gone');
  const record = JSON.parse(await readFile(join(identityDir(agent.dataDir), 'device.json'), 'utf8')) as Record<string, unknown>;
  t.same(Object.keys(record).sort(), ['dealerCode', 'deviceId', 'enrolledAt', 'fleetUrl', 'serial', 'socketUrl']);

  await t.rejects(enrollDevice(await opts(fleet.addToken())), { code: 'E_ALREADY_ENROLLED', message: /--force/ });
  const again = await enrollDevice(await opts(fleet.addToken(), { force: true }));
  t.not(again.deviceId, identity.deviceId, '--force enrolls as a new device');
  t.equal((await loadIdentity(agent.dataDir))?.deviceId, again.deviceId);
  t.same((await readdir(agent.dataDir)).filter((n) => n.startsWith('identity')), ['identity'], 'the old identity and the staging folder are gone');
});

t.test('refused tokens map to codes that say what to do; the token never appears in a message', async (t) => {
  const { fleet, opts } = await setup(t);
  const used = fleet.addToken();
  await enrollDevice(await opts(used));
  const { agent: other } = await setup(t).then((s) => ({ agent: s.agent }));
  const cases: Array<[string, Partial<EnrollOptions>, string, RegExp]> = [
    [used, {}, 'E_TOKEN_USED', /already used.*new bootstrap token/],
    [`pbt_${'a'.repeat(16)}_${'b'.repeat(40)}`, {}, 'E_TOKEN_UNKNOWN', /does not know this bootstrap token/],
    [fleet.addToken({ serial: 'SOMEONE-ELSE' }), {}, 'E_SERIAL_MISMATCH', /serial is SN-UNIT-0001/],
    [fleet.addToken({ expiresInMs: -1000 }), {}, 'E_TOKEN_EXPIRED', /expired/],
  ];
  for (const [token, over, code, message] of cases) {
    const o = await opts(token, { dataDir: other.dataDir, db: other.state.db, ...over });
    const err = await enrollDevice(o).then(
      () => undefined,
      (e: Error & { code: string }) => e,
    );
    t.equal(err?.code, code, code);
    t.match(err?.message, message);
    t.notOk(err?.message.includes(token), `${code}: the token is not in the message`);
    t.ok(await stat(o.tokenFile).then(() => true), `${code}: a refused token file is left in place`);
  }
});

t.test('a fleet whose certificate is not from fleet.caFile is refused, naming fleet.caFile', async (t) => {
  const { fleet, opts } = await setup(t);
  const err = await enrollDevice(await opts(fleet.addToken(), { caFileCerts: [] })).catch((e: Error & { code: string }) => e);
  t.match(err, { code: 'E_FLEET_UNREACHABLE', message: /not trusted.*fleet\.caFile/ });
  await fleet.stop();
  const down = await enrollDevice(await opts(fleet.addToken())).catch((e: Error & { code: string }) => e);
  t.match(down, { code: 'E_FLEET_UNREACHABLE', message: /ECONNREFUSED/ });
});

t.test('token files: missing, malformed, stdin', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(readToken(join(dir, 'none')), { code: 'E_TOKEN_MISSING', message: /does not exist/ });
  await writeFile(join(dir, 'bad'), 'pbt_short\n');
  await t.rejects(readToken(join(dir, 'bad')), { code: 'E_TOKEN_MISSING', message: /does not hold a bootstrap token/ });
  const good = `pbt_${'c'.repeat(16)}_${'D'.repeat(40)}`;
  t.equal(await readToken('-', async () => `  ${good}\n`), good, 'from stdin, trimmed');
});

t.test('serial: configured, from DMI, or a clear error', async (t) => {
  const root = await tempDir(t);
  t.equal(await readSerial(' ABC123 ', root), 'ABC123');
  await t.rejects(readSerial('', root), { code: 'E_SERIAL_UNKNOWN', message: /set fleet\.serial/ });
  await mkdir(join(root, 'sys', 'class', 'dmi', 'id'), { recursive: true });
  await writeFile(join(root, 'sys', 'class', 'dmi', 'id', 'product_serial'), '7XK2Q53\n');
  t.equal(await readSerial('', root), '7XK2Q53');
  await writeFile(join(root, 'sys', 'class', 'dmi', 'id', 'product_serial'), 'To Be Filled By O.E.M.\n');
  await t.rejects(readSerial('', root), { code: 'E_SERIAL_UNKNOWN', message: /not usable/ });
});

t.test('renewal: under a third of the validity left; a new key and certificate over mTLS', async (t) => {
  const day = 24 * 3600_000;
  t.notOk(needsRenewal({ notBefore: 0, notAfter: 90 * day }, 59 * day));
  t.ok(needsRenewal({ notBefore: 0, notAfter: 90 * day }, 61 * day));
  t.ok(needsRenewal({ notBefore: 0, notAfter: 90 * day }, 91 * day));

  const { fleet, agent, opts } = await setup(t);
  const identity = await enrollDevice(await opts(fleet.addToken()));
  const renewed = await renewCertificate({ dataDir: agent.dataDir, identity, caFileCerts: await readCaFile(fleet.caFile) });
  t.not(renewed.certPem, identity.certPem);
  t.not(renewed.keyPem, identity.keyPem, 'a new key pair too');
  t.equal(fleet.devices.get(identity.deviceId)?.certSerials.length, 2, 'the fleet issued a second certificate to the same device');
  const loaded = await loadIdentity(agent.dataDir);
  t.equal(loaded?.certPem, renewed.certPem);
  t.equal(loaded?.keyPem, renewed.keyPem);
  t.same((await readdir(identityDir(agent.dataDir))).sort(), Object.values(IDENTITY_FILES).sort(), 'no .new file left');
  t.equal((await stat(join(identityDir(agent.dataDir), 'key.pem'))).mode & 0o777, 0o600);

  // A renewal cut after the new key was written but before the certificate came: the old pair stays.
  await writeFile(join(identityDir(agent.dataDir), 'key.pem.new'), 'half a renewal');
  t.equal((await loadIdentity(agent.dataDir))?.keyPem, renewed.keyPem, 'an orphan new key is dropped');
  t.same((await readdir(identityDir(agent.dataDir))).sort(), Object.values(IDENTITY_FILES).sort());
  // Cut after both new files were written, before the renames: the new pair is completed.
  await writeFile(join(identityDir(agent.dataDir), 'key.pem.new'), identity.keyPem);
  await writeFile(join(identityDir(agent.dataDir), 'cert.pem.new'), identity.certPem);
  const finished = await loadIdentity(agent.dataDir);
  t.equal(finished?.keyPem, identity.keyPem);
  t.equal(finished?.certPem, identity.certPem, 'key and certificate always match');
});
