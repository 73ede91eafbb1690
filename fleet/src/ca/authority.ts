// The fleet's PKI: a root CA, a device CA signed by it, a server certificate; generated into <dataDir>/ca or read from given files.
import { createPrivateKey, randomBytes, X509Certificate, type webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log/index.js';
import type { Config } from '../config/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { checkKeyFile, writePublicFile, writeSecretFile } from './files.js';
import { EC_ALG, subtle, x509 } from './x509.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const DAY_MS = 86_400_000;
/** The server certificate is renewed at start when it has less than this left. */
const SERVER_RENEW_MS = 30 * DAY_MS;
/** Certificates start a little in the past, so a device whose clock is a few minutes behind accepts them. */
export const BACKDATE_MS = 5 * 60_000;

export interface CertificateAuthority {
  readonly rootPem: string;
  readonly deviceCaPem: string;
  readonly deviceCaCert: x509.X509Certificate;
  readonly deviceCaKey: CryptoKey;
  /** Node's colon-separated sha256 fingerprint of the device CA, as getPeerCertificate() reports issuers. */
  readonly deviceCaFingerprint: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** Device CA then root, as the enrollment response carries it. */
  readonly caChain: string[];
  /** Where the root certificate is, for operators (`--ca`) and provisioning. */
  readonly rootFile: string;
}

/** A positive 128-bit serial without a leading zero byte, as lowercase hex. */
export function newSerial(random: (n: number) => Buffer = randomBytes): string {
  const b = random(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x40;
  return b.toString('hex');
}

/** Serials compared the same way whatever printed them: lowercase hex, no leading zeros. */
export function normalizeSerial(hex: string): string {
  return hex.replace(/:/g, '').toLowerCase().replace(/^0+(?=.)/, '');
}

export async function importEcPrivateKey(pem: string, file: string): Promise<CryptoKey> {
  try {
    const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
    return await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  } catch (err) {
    throw new FleetError(ErrorCode.CA, `${file} is not an ECDSA P-256 private key in PEM: ${(err as Error).message}. Give the device CA's key (PKCS#8 or SEC1 PEM).`, { cause: err });
  }
}

async function exportPrivatePem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function names(config: Config): string[] {
  return [...new Set(['localhost', '127.0.0.1', ...config.serve.publicNames])];
}

async function createRoot(now: number): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: 'CN=plugsrv fleet root CA, O=plugsrv',
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 20 * 365 * DAY_MS),
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function createDeviceCa(root: x509.X509Certificate, rootKey: CryptoKey, now: number): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: 'CN=plugsrv fleet device CA, O=plugsrv',
    issuer: root.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  return { cert, keys };
}

async function createServer(root: x509.X509Certificate, rootKey: CryptoKey, hostNames: string[], now: number, days: number): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: `CN=${hostNames.find((n) => isIP(n) === 0) ?? hostNames[0]}, O=plugsrv`,
    issuer: root.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hostNames.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  return { cert, keys };
}

/** True when the server certificate covers exactly `wanted`, was issued by `root` and has a month left. */
function serverCertFits(pem: string, root: x509.X509Certificate, wanted: string[], now: number): boolean {
  try {
    const cert = new x509.X509Certificate(pem);
    if (cert.issuer !== root.subject || cert.notAfter.getTime() - now < SERVER_RENEW_MS) return false;
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const have = new Set((san?.names.items ?? []).map((n) => n.value));
    return wanted.length === have.size && wanted.every((n) => have.has(n));
  } catch {
    return false;
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetError(ErrorCode.CA, `cannot read ${what} ${file}: ${(err as Error).message}. Check the tls.* options.`, { cause: err });
  }
}

function parseCert(pem: string, file: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (err) {
    throw new FleetError(ErrorCode.CA, `${file} is not a PEM certificate: ${(err as Error).message}.`, { cause: err });
  }
}

async function build(rootPem: string, deviceCaPem: string, deviceCaKey: CryptoKey, serverCertPem: string, serverKeyPem: string, rootFile: string): Promise<CertificateAuthority> {
  return {
    rootPem,
    deviceCaPem,
    deviceCaCert: new x509.X509Certificate(deviceCaPem),
    deviceCaKey,
    deviceCaFingerprint: new X509Certificate(deviceCaPem).fingerprint256,
    serverCertPem,
    serverKeyPem,
    caChain: [deviceCaPem, rootPem],
    rootFile,
  };
}

/** Root CA file of the generated PKI, for clients (`--ca`). */
export function generatedRootFile(dataDir: string): string {
  return join(dataDir, 'ca', 'root.pem');
}

/**
 * Loads the PKI: given files when tls.* is set (the device CA must be signed by the root), else the one
 * generated in <dataDir>/ca on the first start (keys 0600; a server certificate re-issued when the
 * configured names change or it nears its end). Key files readable by others stop the start.
 */
export async function loadAuthority(dataDir: string, config: Config, log: Logger, clock: () => number = Date.now): Promise<CertificateAuthority> {
  const now = clock();
  if (config.tls.certFile !== '') {
    const t = config.tls;
    for (const f of [t.keyFile, t.deviceCaKeyFile]) checkKeyFile(f);
    const rootPem = readText(t.rootCaFile, 'the root CA certificate');
    const deviceCaPem = readText(t.deviceCaCertFile, 'the device CA certificate');
    const root = parseCert(rootPem, t.rootCaFile);
    const deviceCa = parseCert(deviceCaPem, t.deviceCaCertFile);
    if (!(await deviceCa.verify({ publicKey: root.publicKey, signatureOnly: true }))) {
      throw new FleetError(ErrorCode.CA, `${t.deviceCaCertFile} is not signed by ${t.rootCaFile}; the device CA must be issued by the root devices pin.`);
    }
    const deviceCaKey = await importEcPrivateKey(readText(t.deviceCaKeyFile, 'the device CA key'), t.deviceCaKeyFile);
    return build(rootPem, deviceCa.toString('pem'), deviceCaKey, readText(t.certFile, 'the server certificate'), readText(t.keyFile, 'the server key'), t.rootCaFile);
  }

  const dir = join(dataDir, 'ca');
  const f = {
    root: join(dir, 'root.pem'),
    rootKey: join(dir, 'root.key'),
    deviceCa: join(dir, 'device-ca.pem'),
    deviceCaKey: join(dir, 'device-ca.key'),
    server: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
  };
  let root: x509.X509Certificate;
  let rootKey: CryptoKey;
  if (!existsSync(f.root)) {
    const made = await createRoot(now);
    root = made.cert;
    rootKey = made.keys.privateKey;
    writeSecretFile(f.rootKey, await exportPrivatePem(rootKey));
    writePublicFile(f.root, root.toString('pem'));
    log.info('ca: generated the fleet root CA', { file: f.root });
  } else {
    checkKeyFile(f.rootKey);
    root = parseCert(readText(f.root, 'the root CA certificate'), f.root);
    rootKey = await importEcPrivateKey(readText(f.rootKey, 'the root CA key'), f.rootKey);
  }
  let deviceCaPem: string;
  let deviceCaKey: CryptoKey;
  if (!existsSync(f.deviceCa)) {
    const made = await createDeviceCa(root, rootKey, now);
    deviceCaPem = made.cert.toString('pem');
    deviceCaKey = made.keys.privateKey;
    writeSecretFile(f.deviceCaKey, await exportPrivatePem(deviceCaKey));
    writePublicFile(f.deviceCa, deviceCaPem);
    log.info('ca: generated the device CA', { file: f.deviceCa });
  } else {
    checkKeyFile(f.deviceCaKey);
    deviceCaPem = readText(f.deviceCa, 'the device CA certificate');
    deviceCaKey = await importEcPrivateKey(readText(f.deviceCaKey, 'the device CA key'), f.deviceCaKey);
  }
  const wanted = names(config);
  let serverCertPem = existsSync(f.server) ? readText(f.server, 'the server certificate') : '';
  if (existsSync(f.serverKey)) checkKeyFile(f.serverKey);
  if (!serverCertPem || !existsSync(f.serverKey) || !serverCertFits(serverCertPem, root, wanted, now)) {
    const made = await createServer(root, rootKey, wanted, now, config.ca.serverCertDays);
    serverCertPem = made.cert.toString('pem');
    writeSecretFile(f.serverKey, await exportPrivatePem(made.keys.privateKey));
    writePublicFile(f.server, serverCertPem);
    log.info('ca: issued the server certificate', { names: wanted, notAfter: made.cert.notAfter.toISOString() });
  }
  return build(root.toString('pem'), deviceCaPem, deviceCaKey, serverCertPem, readText(f.serverKey, 'the server key'), f.root);
}
