// JSON shapes of the operator API: a device row merged with what the hub knows live (online, last seen, latest heartbeat).
import type { Fleet } from '../app.js';
import type { DeviceRow } from '../devices/index.js';
import type { Heartbeat } from '../hub/index.js';

type LiveHeartbeat = Omit<Heartbeat, 'inventory'>;

function latestHeartbeat(fleet: Fleet, d: DeviceRow): { lastSeenAt: number | null; heartbeat: LiveHeartbeat | null } {
  const live = fleet.hub.view(d.id);
  const stored = d.lastHeartbeat ? (JSON.parse(d.lastHeartbeat) as LiveHeartbeat) : null;
  return {
    lastSeenAt: Math.max(live?.lastSeenAt ?? 0, d.lastSeenAt ?? 0) || null,
    heartbeat: live?.heartbeat ?? stored,
  };
}

export function deviceSummary(fleet: Fleet, d: DeviceRow): Record<string, unknown> {
  const { lastSeenAt, heartbeat } = latestHeartbeat(fleet, d);
  return {
    id: d.id,
    dealerCode: d.dealerCode,
    serial: d.serial,
    status: d.status,
    online: fleet.hub.isOnline(d.id),
    lastSeenAt,
    enrolledAt: d.enrolledAt,
    agentVersion: heartbeat?.agentVersion ?? d.agentVersion,
    locked: heartbeat ? heartbeat.lock.locked : d.locked,
    lockReason: heartbeat ? heartbeat.lock.reason : d.lockReason,
    policy: { assigned: d.policyVersion ?? fleet.policies.defaultPolicyVersion, own: d.policyVersion !== null, applied: heartbeat?.policyVersion ?? d.appliedPolicyVersion },
    sync: heartbeat?.sync ?? null,
    storage: heartbeat?.storage ?? null,
    selfcheck: heartbeat?.selfcheck ?? null,
    certNotAfter: d.certNotAfter,
  };
}

export async function deviceDetail(fleet: Fleet, d: DeviceRow): Promise<Record<string, unknown>> {
  const { heartbeat } = latestHeartbeat(fleet, d);
  const [certs, commands] = await Promise.all([fleet.registry.certificates(d.id), fleet.commands.list({ deviceId: d.id, limit: 20 })]);
  return {
    ...deviceSummary(fleet, d),
    tokenId: d.tokenId,
    retiredAt: d.retiredAt,
    lastSeq: d.lastSeq,
    ackedSeq: d.ackedSeq,
    heartbeat,
    inventory: JSON.parse(d.inventory) as unknown,
    certificates: certs.map((c) => ({ serial: c.serial, fingerprint: c.fingerprint, issuedAt: c.issuedAt, notAfter: c.notAfter, revokedAt: c.revokedAt, revokeReason: c.revokeReason })),
    commands,
  };
}
