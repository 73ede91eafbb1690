// Certificate requests from devices: a valid self-signature over an ECDSA P-256 key, nothing else accepted.
import { ErrorCode, FleetError } from '../errors.js';
import { x509 } from './x509.js';

export interface CheckedCsr {
  readonly publicKey: x509.PublicKey;
}

/** Parses and verifies a PEM PKCS#10 request; E_BAD_CSR says what is wrong. The subject is ignored (CN = device id). */
export async function checkCsr(pem: string): Promise<CheckedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch (err) {
    throw new FleetError(ErrorCode.BAD_CSR, `the csr is not a PEM PKCS#10 certificate request (${(err as Error).message}); send "-----BEGIN CERTIFICATE REQUEST-----...".`);
  }
  const alg = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    throw new FleetError(ErrorCode.BAD_CSR, `the csr's key is ${alg.name ?? 'unknown'}${alg.namedCurve ? ` ${alg.namedCurve}` : ''}; the fleet issues certificates for ECDSA P-256 keys only. Generate a P-256 key on the device.`);
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new FleetError(ErrorCode.BAD_CSR, 'the csr\'s signature does not verify with its own key; sign the request with the private key it carries.');
  return { publicKey: csr.publicKey };
}
