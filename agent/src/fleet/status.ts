// Where this device stands with the fleet: enrolled or not, identity, link, lock, policy; for /v1/status and `plugsrv fleet status`.
import type { Config } from '../config/index.js';
import type { AgentDb } from '../db/index.js';
import { readLock } from '../lock/index.js';
import { loadIdentity, readDeviceRecord } from './identity.js';
import { certificateValidity } from './renew.js';
import { countUnsent, readLastSeq, readLink, readPolicy } from './state.js';
import { pendingWipe } from './wipe.js';

export interface EnrollmentSummary {
  /** fleet.url is set and fleet.enabled. */
  managed: boolean;
  enrolled: boolean;
  deviceId: string | null;
  dealerCode: string | null;
  connected: boolean;
  /** ISO time of the last message from the fleet. */
  lastContactAt: string | null;
}

export interface FleetStatus extends EnrollmentSummary {
  fleet: string | null;
  enrolledAt: string | null;
  link: string;
  lastHeartbeatAt: string | null;
  lastError: string | null;
  certificateExpiresAt: string | null;
  policyVersion: number;
  lastSeq: number;
  pendingResults: number;
  locked: boolean;
  lockReason: string | null;
  wipePending: boolean;
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null);

/** A link row counts as connected only while its heartbeats are fresh (a killed process cannot say it went away). */
function isFresh(link: { state: string; lastContactAt: number | null; lastHeartbeatAt: number | null }, heartbeatSeconds: number, now: number): boolean {
  const last = Math.max(link.lastContactAt ?? 0, link.lastHeartbeatAt ?? 0);
  return link.state === 'connected' && now - last <= heartbeatSeconds * 3000 + 10_000;
}

export async function enrollmentSummary(o: { config: Config; dataDir: string; db: AgentDb; now?: number }): Promise<EnrollmentSummary> {
  const now = o.now ?? Date.now();
  const managed = o.config.fleet.enabled && o.config.fleet.url !== '';
  const record = await readDeviceRecord(o.dataDir).catch(() => undefined);
  if (!record) return { managed, enrolled: false, deviceId: null, dealerCode: null, connected: false, lastContactAt: null };
  const link = await readLink(o.db);
  const mine = link && link.deviceId === record.deviceId ? link : undefined;
  const heartbeatSeconds = (await readPolicy(o.db))?.heartbeatSeconds ?? 30;
  return {
    managed,
    enrolled: true,
    deviceId: record.deviceId,
    dealerCode: record.dealerCode,
    connected: mine ? isFresh(mine, heartbeatSeconds, now) : false,
    lastContactAt: iso(mine?.lastContactAt),
  };
}

export async function fleetStatus(o: { config: Config; dataDir: string; db: AgentDb; now?: number }): Promise<FleetStatus> {
  const summary = await enrollmentSummary(o);
  const identity = summary.enrolled ? await loadIdentity(o.dataDir).catch(() => undefined) : undefined;
  const link = await readLink(o.db);
  const mine = identity && link && link.deviceId === identity.deviceId ? link : undefined;
  const lock = await readLock(o.db);
  let certificateExpiresAt: string | null = null;
  try {
    if (identity) certificateExpiresAt = iso(certificateValidity(identity.certPem).notAfter);
  } catch {
    certificateExpiresAt = null;
  }
  return {
    ...summary,
    fleet: identity ? new URL(identity.fleetUrl).host : o.config.fleet.url ? new URL(o.config.fleet.url).host : null,
    enrolledAt: identity?.enrolledAt ?? null,
    link: mine ? (summary.connected ? 'connected' : mine.state === 'connected' ? 'stale' : mine.state) : summary.enrolled ? 'never connected' : 'not enrolled',
    lastHeartbeatAt: iso(mine?.lastHeartbeatAt),
    lastError: mine?.lastError ?? null,
    certificateExpiresAt,
    policyVersion: (await readPolicy(o.db))?.version ?? 0,
    lastSeq: identity ? await readLastSeq(o.db, identity.deviceId) : 0,
    pendingResults: identity ? await countUnsent(o.db, identity.deviceId) : 0,
    locked: lock.locked,
    lockReason: lock.locked ? lock.reason : null,
    wipePending: (await pendingWipe(o.dataDir)) !== undefined,
  };
}
