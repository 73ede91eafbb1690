// Who may open the device socket (pure): a certificate from our device CA, known, unrevoked, of a device still in service.
import { SocketClose } from '../../../lib/fleet/protocol.js';
import type { Admission } from '../devices/index.js';
import { ErrorCode } from '../errors.js';

/** What the TLS layer says about the client certificate. */
export interface PeerCertificate {
  /** OpenSSL verified the chain up to a CA the server trusts (root or device CA). */
  readonly authorized: boolean;
  readonly serial?: string | undefined;
  readonly commonName?: string | undefined;
  /** Colon-separated sha256 of the certificate that issued it. */
  readonly issuerFingerprint?: string | undefined;
}

export type AdmissionDecision =
  /** Refused before the upgrade, with an HTTP error (no certificate of ours: nothing to tell a device). */
  | { kind: 'refuse'; status: 401; code: string; message: string }
  /** Upgraded then closed with an application code the agent acts on (retired: stop; revoked: enroll again). */
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'accept'; deviceId: string; dealerCode: string; policyVersion: number | null };

/** First step, before any DB read: is this a certificate our device CA issued? Returns its serial, or a refusal. */
export function checkPeer(peer: PeerCertificate, deviceCaFingerprint: string): { serial: string } | Extract<AdmissionDecision, { kind: 'refuse' }> {
  if (!peer.authorized || !peer.serial) {
    return { kind: 'refuse', status: 401, code: ErrorCode.CERT_REQUIRED, message: 'the device socket needs the device certificate issued at enrollment as TLS client certificate.' };
  }
  if (peer.issuerFingerprint !== deviceCaFingerprint) {
    return { kind: 'refuse', status: 401, code: ErrorCode.CERT_REQUIRED, message: 'this client certificate was not issued by the fleet\'s device CA; enroll the device to get one.' };
  }
  return { serial: peer.serial };
}

/** Second step, with the certificate's row and its device (undefined: a serial the DB does not know). */
export function decideAdmission(peer: PeerCertificate, found: Admission | undefined): AdmissionDecision {
  if (!found) return { kind: 'close', code: SocketClose.REVOKED, reason: 'unknown certificate: enroll again' };
  if (found.status === 'retired') return { kind: 'close', code: SocketClose.RETIRED, reason: 'device retired' };
  if (found.certRevokedAt !== null || found.status === 'wiped') return { kind: 'close', code: SocketClose.REVOKED, reason: 'certificate revoked: enroll again' };
  if (peer.commonName !== found.deviceId) return { kind: 'close', code: SocketClose.REVOKED, reason: 'certificate does not name this device: enroll again' };
  return { kind: 'accept', deviceId: found.deviceId, dealerCode: found.dealerCode, policyVersion: found.policyVersion };
}
