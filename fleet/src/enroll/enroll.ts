// Enrollment: a bootstrap token and a CSR in, a device id, certificate, CA chain, command key and policy out.
import type { Client } from '@libsql/client';
import { eq } from 'drizzle-orm';
import type { EnrollRequest, EnrollResponse } from '../../../lib/fleet/protocol.js';
import { FleetPaths, SocketClose } from '../../../lib/fleet/protocol.js';
import type { Logger } from '../../../lib/log/index.js';
import { randomId, secretMatches } from '../auth/index.js';
import { checkCsr, issueDeviceCertificate, type CertificateAuthority, type CheckedCsr } from '../ca/index.js';
import type { CommandKey } from '../commands/index.js';
import type { FleetDb, WriteQueue } from '../db/index.js';
import { statement, tables } from '../db/index.js';
import type { DeviceRegistry } from '../devices/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import type { PolicyService } from '../policy/index.js';
import { checkToken, parseBootstrapToken, UNKNOWN_TOKEN_MESSAGE } from './token.js';
import { getTokenRow } from './tokens.js';

export interface EnrollDeps {
  db: FleetDb;
  client: Client;
  /** Enrollment writes are committed with the other queued writes: a burst of units costs few fsyncs. */
  writes: WriteQueue;
  ca: CertificateAuthority;
  commandKey: CommandKey;
  policies: PolicyService;
  registry: DeviceRegistry;
  deviceCertDays: number;
  log: Logger;
  /** Closes the socket of a device whose identity is replaced. */
  disconnect(deviceId: string, code: number, reason: string): void;
  /** Forgets in-memory state of a re-enrolled device. */
  forget(deviceId: string): void;
  clock?: () => number;
}

export interface EnrollOutcome {
  response: EnrollResponse;
  tokenId: string;
  reenrolled: boolean;
}

export function newDeviceId(): string {
  return `dev_${randomId(26)}`;
}

/**
 * Checks run in an order that never burns a token for nothing: the token (unknown, used, expired, serial),
 * then the CSR; only then is the token taken, in one conditional UPDATE, so of two concurrent enrollments
 * with the same token exactly one wins. The certificate is made before the token is taken and thrown away
 * if the race is lost.
 */
export async function enroll(deps: EnrollDeps, req: EnrollRequest, socketBase: string): Promise<EnrollOutcome> {
  const clock = deps.clock ?? Date.now;
  const now = clock();
  const cred = parseBootstrapToken(req.token);
  if (!cred) throw new FleetError(ErrorCode.TOKEN_UNKNOWN, UNKNOWN_TOKEN_MESSAGE);
  const row = await getTokenRow(deps.db, cred.id);
  const known = row && secretMatches(cred.secret, row.secretHash) ? row : undefined;
  checkToken(known, req.serial, now);
  const token = known as NonNullable<typeof known>;
  const csr: CheckedCsr = await checkCsr(req.csr);

  // Re-enrollment (after a wipe, a disk swap): the same unit keeps its device id unless it was retired.
  const existing = (await deps.client.execute({ sql: "SELECT id FROM devices WHERE serial = ? AND status != 'retired' ORDER BY enrolled_at DESC LIMIT 1", args: [req.serial] })).rows[0];
  const deviceId = existing ? String(existing.id) : newDeviceId();
  const cert = await issueDeviceCertificate(deps.ca, csr, deviceId, now, deps.deviceCertDays);

  const [won] = await deps.writes.write([
    {
      sql: 'UPDATE bootstrap_tokens SET used_at = ?, used_serial = ?, device_id = ? WHERE id = ? AND used_at IS NULL AND expires_at > ? RETURNING id',
      args: [now, req.serial, deviceId, token.id, now],
    },
  ]);
  if (won?.rows.length !== 1) {
    throw new FleetError(ErrorCode.TOKEN_USED, 'this bootstrap token was used by another enrollment a moment ago; a token enrolls one device once.');
  }

  const inventory = JSON.stringify(req.inventory);
  try {
    const certRow = { serial: cert.serial, deviceId, fingerprint: cert.fingerprint, issuedAt: now, notAfter: cert.notAfter, revokedAt: null, revokeReason: null };
    if (existing) {
      await deps.writes.write([
        deps.db
          .update(tables.certificates)
          .set({ revokedAt: now, revokeReason: 're-enrolled' })
          .where(eq(tables.certificates.deviceId, deviceId)),
        deps.db
          .update(tables.devices)
          .set({
            dealerCode: token.dealerCode,
            status: 'active',
            updatedAt: now,
            tokenId: token.id,
            certSerial: cert.serial,
            certNotAfter: cert.notAfter,
            agentVersion: req.inventory.agentVersion,
            inventory,
            ackedSeq: 0,
            retiredAt: null,
          })
          .where(eq(tables.devices.id, deviceId)),
        deps.db.insert(tables.certificates).values(certRow),
      ].map(statement));
    } else {
      await deps.writes.write([
        deps.db.insert(tables.devices).values({
          id: deviceId,
          dealerCode: token.dealerCode,
          serial: req.serial,
          status: 'active',
          enrolledAt: now,
          updatedAt: now,
          tokenId: token.id,
          certSerial: cert.serial,
          certNotAfter: cert.notAfter,
          agentVersion: req.inventory.agentVersion,
          inventory,
        }),
        deps.db.insert(tables.certificates).values(certRow),
      ].map(statement));
    }
  } catch (err) {
    // Give the token back: the device got nothing, it must be able to try again.
    await deps.writes.write([{ sql: 'UPDATE bootstrap_tokens SET used_at = NULL, used_serial = NULL, device_id = NULL WHERE id = ?', args: [token.id] }]).catch(() => undefined);
    throw err;
  }
  if (existing) {
    deps.disconnect(deviceId, SocketClose.REVOKED, 're-enrolled: certificate replaced');
    deps.forget(deviceId);
  }
  const device = await deps.registry.require(deviceId);
  return {
    tokenId: token.id,
    reenrolled: Boolean(existing),
    response: {
      deviceId,
      dealerCode: token.dealerCode,
      certificate: cert.pem,
      caChain: deps.ca.caChain,
      commandKey: deps.commandKey.publicKeyPem,
      policy: deps.policies.effective(device.policyVersion),
      socketUrl: `${socketBase.replace(/^https:/, 'wss:')}${FleetPaths.deviceSocket}`,
    },
  };
}

/** A fresh certificate for a device presenting its current one (mTLS), for a new CSR. */
export async function renew(deps: EnrollDeps, deviceId: string, csrPem: string): Promise<{ certificate: string; caChain: string[] }> {
  const clock = deps.clock ?? Date.now;
  const now = clock();
  const csr = await checkCsr(csrPem);
  const cert = await issueDeviceCertificate(deps.ca, csr, deviceId, now, deps.deviceCertDays);
  // The certificate in use stays valid until it expires: the device may not have stored the new one yet.
  await deps.writes.write([
    statement(deps.db.insert(tables.certificates).values({ serial: cert.serial, deviceId, fingerprint: cert.fingerprint, issuedAt: now, notAfter: cert.notAfter })),
    statement(deps.db.update(tables.devices).set({ certSerial: cert.serial, certNotAfter: cert.notAfter, updatedAt: now }).where(eq(tables.devices.id, deviceId))),
  ]);
  return { certificate: cert.pem, caChain: deps.ca.caChain };
}
