// Certificate renewal: when less than a third of its validity remains, a new key and CSR go to POST /v1/device/renew over mTLS.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { FleetPaths, renewResponse } from '../../../lib/fleet/protocol.js';
import { AgentError, ErrorCode } from '../errors.js';
import { createKeyAndCsr } from './csr.js';
import { fleetEndpoint, fleetTrustAnchors, postJson } from './https.js';
import { replaceCertificate, type DeviceIdentity } from './identity.js';

export interface Validity {
  notBefore: number;
  notAfter: number;
}

export function certificateValidity(certPem: string): Validity {
  const cert = new X509Certificate(certPem);
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/** True when less than a third of the certificate's validity remains at `now` (pure). */
export function needsRenewal(validity: Validity, now: number): boolean {
  const lifetime = validity.notAfter - validity.notBefore;
  return validity.notAfter - now < lifetime / 3;
}

/** Renews the device certificate; returns the identity with the new key, certificate and chain (already saved). */
export async function renewCertificate(o: { dataDir: string; identity: DeviceIdentity; caFileCerts: string[]; timeoutMs?: number }): Promise<DeviceIdentity> {
  const id = o.identity;
  const url = fleetEndpoint(id.fleetUrl, FleetPaths.renew);
  const { keyPem, csrPem } = await createKeyAndCsr(id.serial);
  const res = await postJson(
    url,
    { csr: csrPem },
    { ca: fleetTrustAnchors(o.caFileCerts, id.caChain[id.caChain.length - 1]), cert: id.certPem + (id.caChain[0] ?? ''), key: id.keyPem },
    o.timeoutMs,
  );
  if (res.status !== 200 && res.status !== 201) {
    const b = res.body as { code?: unknown; message?: unknown } | undefined;
    const what = typeof b?.code === 'string' ? `${b.code}: ${String(b.message ?? '')}` : `HTTP ${res.status}`;
    const code = res.status >= 500 ? ErrorCode.FLEET_UNREACHABLE : ErrorCode.FLEET_REFUSED;
    throw new AgentError(code, `the fleet refused to renew this device's certificate (${what.slice(0, 300)}); if the certificate was revoked, the unit must be wiped and enrolled again with a new token.`);
  }
  const parsed = renewResponse.safeParse(res.body);
  if (!parsed.success) throw new AgentError(ErrorCode.FLEET_PROTOCOL, 'the fleet\'s renewal answer does not follow the protocol; report it.');
  const cert = new X509Certificate(parsed.data.certificate);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new AgentError(ErrorCode.FLEET_PROTOCOL, 'the renewed certificate is not for the key this device generated; report it.');
  const next = {
    keyPem,
    certPem: parsed.data.certificate.endsWith('\n') ? parsed.data.certificate : `${parsed.data.certificate}\n`,
    caChain: parsed.data.caChain.map((c) => (c.endsWith('\n') ? c : `${c}\n`)),
  };
  await replaceCertificate(o.dataDir, next);
  return { ...id, ...next };
}
