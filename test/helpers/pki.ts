// Test helper: builds throwaway PKIs with the `openssl` CLI in a temp dir (a public-like CA chain, a TLS-inspection CA, bad leaves).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ORIGIN = 'origin.plugsrv.test';
export const OTHER = 'other.plugsrv.test';
export const PUBLIC_ROOT_CN = 'Test Public Root CA';
export const PUBLIC_INTERMEDIATE_CN = 'Test Public Issuing CA 1';
export const INTERCEPTOR_CN = 'ACME Corp TLS Inspection CA';

export interface Issued {
  /** PEM of the certificate. */
  readonly cert: string;
  /** PEM of its private key. */
  readonly key: string;
  /** base64 sha256 of its SubjectPublicKeyInfo (HPKP style), computed by openssl, not by the code under test. */
  readonly spkiPin: string;
}

export interface TestPki {
  readonly publicRoot: Issued;
  readonly publicIntermediate: Issued;
  /** Leaf for ORIGIN under the public intermediate. */
  readonly leaf: Issued;
  /** Leaf for ORIGIN under the public intermediate, whose notAfter is already past. */
  readonly expiredLeaf: Issued;
  /** Leaf for OTHER under the public intermediate (valid chain, wrong name). */
  readonly otherLeaf: Issued;
  /** The inspection CA of a TLS-intercepting proxy. */
  readonly interceptorCa: Issued;
  /** Leaf for ORIGIN minted by the inspection CA, as a proxy would. */
  readonly interceptedLeaf: Issued;
  /** An expired leaf for ORIGIN minted by the inspection CA (a proxy serving a stale certificate). */
  readonly expiredInterceptedLeaf: Issued;
  /** Self-signed certificate for ORIGIN (a crude interceptor). */
  readonly selfSigned: Issued;
}

/** Why the PKI tests cannot run here, or undefined when `openssl` is available. */
export async function opensslMissing(): Promise<string | undefined> {
  try {
    await run('openssl', ['version']);
    return undefined;
  } catch (err) {
    return `openssl CLI not available (${(err as Error).message}); TLS probe tests need it to build certificates`;
  }
}

interface CertSpec {
  readonly name: string;
  readonly subject: string;
  /** Extensions in openssl config syntax, one per line. */
  readonly ext: readonly string[];
  /** Signed by this certificate; self-signed when absent. */
  readonly issuer?: { readonly certFile: string; readonly keyFile: string };
  readonly days?: number;
}

const CA_EXT = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'];

function leafExt(dnsName: string): string[] {
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = DNS:${dnsName}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
}

async function issue(dir: string, spec: CertSpec): Promise<Issued & { certFile: string; keyFile: string }> {
  const keyFile = join(dir, `${spec.name}.key`);
  const csrFile = join(dir, `${spec.name}.csr`);
  const certFile = join(dir, `${spec.name}.pem`);
  const extFile = join(dir, `${spec.name}.ext`);
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  await run('openssl', ['req', '-new', '-key', keyFile, '-subj', spec.subject, '-out', csrFile]);
  await writeFile(extFile, `[ext]\n${spec.ext.join('\n')}\n`);
  const signer = spec.issuer ? ['-CA', spec.issuer.certFile, '-CAkey', spec.issuer.keyFile, '-set_serial', `0x1${randomBytes(7).toString('hex')}`] : ['-signkey', keyFile];
  // `-days -1` puts notAfter a day before notBefore (= now): OpenSSL 3.0's x509 has no -not_after, and this is enough to be expired.
  await run('openssl', [
    'x509', '-req', '-in', csrFile, ...signer, '-sha256', '-days', String(spec.days ?? 30),
    '-extfile', extFile, '-extensions', 'ext', '-out', certFile,
  ]);
  const spkiDer = join(dir, `${spec.name}.spki.der`);
  await run('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER', '-out', spkiDer]);
  const { stdout: digest } = await run('openssl', ['dgst', '-sha256', '-binary', spkiDer], { encoding: 'buffer' });
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), spkiPin: digest.toString('base64'), certFile, keyFile };
}

/** Builds the whole test PKI in a fresh temp dir, removed at teardown. */
export async function makeTestPki(t: { teardown(fn: () => unknown): void }): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  const publicRoot = await issue(dir, { name: 'public-root', subject: `/C=US/O=Test Public Trust/CN=${PUBLIC_ROOT_CN}`, ext: CA_EXT, days: 3650 });
  const publicIntermediate = await issue(dir, {
    name: 'public-intermediate',
    subject: `/C=US/O=Test Public Trust/CN=${PUBLIC_INTERMEDIATE_CN}`,
    ext: [...CA_EXT, 'authorityKeyIdentifier = keyid'],
    issuer: publicRoot,
    days: 1825,
  });
  const interceptorCa = await issue(dir, { name: 'interceptor-ca', subject: `/C=FR/O=ACME Corp/CN=${INTERCEPTOR_CN}`, ext: CA_EXT, days: 3650 });
  const [leaf, expiredLeaf, otherLeaf, interceptedLeaf, expiredInterceptedLeaf, selfSigned] = await Promise.all([
    issue(dir, { name: 'leaf', subject: `/CN=${ORIGIN}`, ext: leafExt(ORIGIN), issuer: publicIntermediate }),
    issue(dir, { name: 'expired-leaf', subject: `/CN=${ORIGIN}`, ext: leafExt(ORIGIN), issuer: publicIntermediate, days: -1 }),
    issue(dir, { name: 'other-leaf', subject: `/CN=${OTHER}`, ext: leafExt(OTHER), issuer: publicIntermediate }),
    issue(dir, { name: 'intercepted-leaf', subject: `/CN=${ORIGIN}`, ext: leafExt(ORIGIN), issuer: interceptorCa }),
    issue(dir, { name: 'expired-intercepted-leaf', subject: `/CN=${ORIGIN}`, ext: leafExt(ORIGIN), issuer: interceptorCa, days: -1 }),
    issue(dir, { name: 'self-signed', subject: `/O=Crude Proxy/CN=${ORIGIN}`, ext: leafExt(ORIGIN) }),
  ]);
  return { publicRoot, publicIntermediate, leaf, expiredLeaf, otherLeaf, interceptorCa, interceptedLeaf, expiredInterceptedLeaf, selfSigned };
}
