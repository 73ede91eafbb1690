// The fleet's PKI: generated once with private keys 0600, reused, server certificate re-issued for new names,
// key files readable by others refused, given certificates checked; CSRs checked; device certificates issued.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { chmod, copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/log/index.js';
import { checkCsr, issueDeviceCertificate, loadAuthority, normalizeSerial, x509 } from '../../../fleet/src/ca/index.js';
import { loadConfig } from '../../../fleet/src/config/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { makeDeviceKey } from '../../helpers/fleet-device.js';

const log = silentLogger();

t.test('generated on first start, reused after, server certificate follows the names', async (t) => {
  const dir = await tempDir(t, 'plugsrv-fleet-ca-');
  const config = loadConfig({ env: {}, flags: { dataDir: dir } });
  const a = await loadAuthority(dir, config, log);
  for (const f of ['root.key', 'device-ca.key', 'server.key']) t.equal((await stat(join(dir, 'ca', f))).mode & 0o777, 0o600, `${f} is 0600`);
  t.equal((await stat(join(dir, 'ca'))).mode & 0o777, 0o700);
  const root = new X509Certificate(a.rootPem);
  const deviceCa = new X509Certificate(a.deviceCaPem);
  const server = new X509Certificate(a.serverCertPem);
  t.ok(root.ca && deviceCa.ca, 'both CAs are CAs');
  t.ok(deviceCa.verify(root.publicKey) && server.verify(root.publicKey));
  t.equal(deviceCa.fingerprint256, a.deviceCaFingerprint);
  t.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
  t.equal(server.ca, false);
  t.equal((root.publicKey.asymmetricKeyDetails as { namedCurve?: string }).namedCurve, 'prime256v1', 'ECDSA P-256');

  const b = await loadAuthority(dir, config, log);
  t.equal(b.rootPem, a.rootPem, 'the root is reused');
  t.equal(b.serverCertPem, a.serverCertPem, 'the server certificate too, while it fits');

  const renamed = await loadAuthority(dir, loadConfig({ env: {}, flags: { dataDir: dir, 'serve.publicNames': ['fleet.example.com', '10.1.2.3'] } }), log);
  t.equal(renamed.rootPem, a.rootPem);
  t.equal(new X509Certificate(renamed.serverCertPem).subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, DNS:fleet.example.com, IP Address:10.1.2.3');

  await chmod(join(dir, 'ca', 'device-ca.key'), 0o640);
  await t.rejects(loadAuthority(dir, config, log), { code: 'E_KEY_PERMISSIONS', message: /chmod 600/ });
});

t.test('given certificates: used as they are; a device CA the root did not sign is refused', async (t) => {
  const gen = await tempDir(t, 'plugsrv-fleet-ca-gen-');
  const other = await tempDir(t, 'plugsrv-fleet-ca-other-');
  await loadAuthority(gen, loadConfig({ env: {}, flags: { dataDir: gen } }), log);
  await loadAuthority(other, loadConfig({ env: {}, flags: { dataDir: other } }), log);
  const files = (d: string): Record<string, string> => ({
    'tls.certFile': join(d, 'ca', 'server.pem'),
    'tls.keyFile': join(d, 'ca', 'server.key'),
    'tls.rootCaFile': join(d, 'ca', 'root.pem'),
    'tls.deviceCaCertFile': join(d, 'ca', 'device-ca.pem'),
    'tls.deviceCaKeyFile': join(d, 'ca', 'device-ca.key'),
  });
  const dataDir = await tempDir(t);
  const given = await loadAuthority(dataDir, loadConfig({ env: {}, flags: { dataDir, ...files(gen) } }), log);
  t.equal(given.rootFile, join(gen, 'ca', 'root.pem'));
  t.equal(given.deviceCaFingerprint, new X509Certificate(given.deviceCaPem).fingerprint256);
  const mixed = { ...files(gen), 'tls.deviceCaCertFile': join(other, 'ca', 'device-ca.pem'), 'tls.deviceCaKeyFile': join(other, 'ca', 'device-ca.key') };
  await t.rejects(loadAuthority(dataDir, loadConfig({ env: {}, flags: { dataDir, ...mixed } }), log), { code: 'E_CA', message: /not signed by/ });
  await copyFile(join(gen, 'ca', 'device-ca.key'), join(dataDir, 'loose.key'));
  await chmod(join(dataDir, 'loose.key'), 0o644);
  await t.rejects(loadAuthority(dataDir, loadConfig({ env: {}, flags: { dataDir, ...files(gen), 'tls.deviceCaKeyFile': join(dataDir, 'loose.key') } }), log), { code: 'E_KEY_PERMISSIONS' });
});

t.test('CSRs: a valid P-256 request only', async (t) => {
  const good = await makeDeviceKey();
  t.ok(await checkCsr(good.csrPem));
  await t.rejects(checkCsr((await makeDeviceKey('P-384')).csrPem), { code: 'E_BAD_CSR', message: /P-384.*P-256 keys only/ });
  await t.rejects(checkCsr((await makeDeviceKey('RSA')).csrPem), { code: 'E_BAD_CSR', message: /RSA/ });
  await t.rejects(checkCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'), { code: 'E_BAD_CSR', message: /not a PEM PKCS#10/ });
  // Same structure, one byte of the subject changed: parses, but the signature no longer covers it.
  const der = Buffer.from(new x509.Pkcs10CertificateRequest(good.csrPem).rawData);
  const at = der.indexOf(Buffer.from('device'));
  t.ok(at > 0);
  der[at] = 'D'.charCodeAt(0);
  const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
  t.equal(new x509.Pkcs10CertificateRequest(tampered).subject, 'CN=Device', 'still parses');
  await t.rejects(checkCsr(tampered), { code: 'E_BAD_CSR', message: /signature does not verify/ });
});

t.test('device certificates: CN = device id, clientAuth, validity, chained to the device CA', async (t) => {
  const dir = await tempDir(t, 'plugsrv-fleet-ca-');
  const ca = await loadAuthority(dir, loadConfig({ env: {}, flags: { dataDir: dir } }), log);
  const key = await makeDeviceKey();
  const now = Date.now();
  const issued = await issueDeviceCertificate(ca, await checkCsr(key.csrPem), 'dev_abcdefghijklmnopqrstuvwxyz', now, 90);
  const cert = new X509Certificate(issued.pem);
  t.match(cert.subject, /CN=dev_abcdefghijklmnopqrstuvwxyz/);
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  t.equal(cert.ca, false);
  t.ok(cert.verify(new X509Certificate(ca.deviceCaPem).publicKey));
  t.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(key.keyPem)), 'for the key in the CSR');
  t.equal(normalizeSerial(cert.serialNumber), issued.serial);
  t.equal(issued.fingerprint, cert.fingerprint256.replace(/:/g, '').toLowerCase());
  t.ok(Math.abs(Date.parse(cert.validTo) - (now + 90 * 86_400_000)) < 2000);
  t.ok(Date.parse(cert.validFrom) < now - 60_000, 'backdated for clocks a little behind');
});

t.test('serials compare whatever printed them', async (t) => {
  t.equal(normalizeSerial('00:4F:0A'), '4f0a');
  t.equal(normalizeSerial('4F0A'), '4f0a');
  t.equal(normalizeSerial('0'), '0');
});
