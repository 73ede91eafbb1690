// The device's key pair (ECDSA P-256, generated here, never sent) and its PKCS#10 request, with @peculiar/x509 over WebCrypto.
import { webcrypto } from 'node:crypto';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A fresh key (PKCS#8 PEM) and a CSR for it with CN = `commonName` (a serial: letters, digits, dot, dash, underscore). */
export async function createKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(commonName)) throw new Error(`"${commonName.slice(0, 80)}" cannot be a certificate common name here`);
  // Loaded on first use: every CLI command opens app.ts, and only enrollment and renewal need x509.
  const { x509 } = await import('./x509.js');
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: ALGORITHM,
  });
  const keyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPem, csrPem: csr.toString('pem') };
}
