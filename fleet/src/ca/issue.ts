// Device certificates: CN = device id, clientAuth only, signed by the device CA.
import { createHash } from 'node:crypto';
import type { CertificateAuthority } from './authority.js';
import { BACKDATE_MS, newSerial } from './authority.js';
import type { CheckedCsr } from './csr.js';
import { EC_ALG, x509 } from './x509.js';

export interface IssuedCertificate {
  readonly pem: string;
  /** Lowercase hex, as stored in the certificates table. */
  readonly serial: string;
  /** sha256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  readonly notAfter: number;
}

/** The authority key identifier is the same for every certificate a CA issues: computed once. */
const akiCache = new WeakMap<CertificateAuthority, Promise<x509.AuthorityKeyIdentifierExtension>>();

export async function issueDeviceCertificate(ca: CertificateAuthority, csr: CheckedCsr, deviceId: string, now: number, days: number): Promise<IssuedCertificate> {
  const serial = newSerial();
  let aki = akiCache.get(ca);
  if (!aki) {
    aki = x509.AuthorityKeyIdentifierExtension.create(ca.deviceCaCert);
    akiCache.set(ca, aki);
  }
  const notAfter = now + days * 86_400_000;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${deviceId}, O=plugsrv devices`,
    issuer: ca.deviceCaCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: EC_ALG,
    publicKey: csr.publicKey,
    signingKey: ca.deviceCaKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await aki,
    ],
  });
  return {
    pem: cert.toString('pem'),
    serial,
    fingerprint: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
    notAfter: Math.floor(notAfter / 1000) * 1000,
  };
}
