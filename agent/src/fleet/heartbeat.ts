// Builds the heartbeat message from the device's status parts (pure: plain values in, a protocol message out).
import type { DeviceMessage, Inventory } from '../../../lib/fleet/protocol.js';

export type HeartbeatMessage = Extract<DeviceMessage, { type: 'heartbeat' }>;

/** What the agent knows about itself when a heartbeat is due, read from the DB, the store and the lock watcher. */
export interface HeartbeatParts {
  now: number;
  agentVersion: string;
  lock: { locked: false } | { locked: true; reason: string };
  /** Version of the applied policy; 0 = none yet. */
  policyVersion: number;
  /** The newest sync run, if any. */
  lastSyncRun?: { result: 'running' | 'ok' | 'partial' | 'failed'; startedAt: number; finishedAt: number | null; catalogVersion: number | null; errorCode: string | null };
  /** Per-target download state (sync_targets). */
  targets: ReadonlyArray<{ state: 'queued' | 'downloading' | 'verified' | 'failed'; size: number; doneBytes: number }>;
  packagesReady: number;
  storage: { totalBytes: number; freeBytes: number; usedBytes: number };
  /** The newest self-check run, if any. */
  lastSelfcheck?: { finishedAt: number; status: 'ok' | 'warn' | 'fail'; results: ReadonlyArray<{ id: string; status: 'ok' | 'warn' | 'fail' }> };
  /** Sent with the first heartbeat of each connection only. */
  inventory?: Inventory;
}

function syncState(run: HeartbeatParts['lastSyncRun']): HeartbeatMessage['sync']['state'] {
  if (!run) return 'never';
  if (run.result === 'running') return 'running';
  return run.result === 'failed' ? 'failed' : 'idle';
}

const nonNegativeInt = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

export function buildHeartbeat(parts: HeartbeatParts): HeartbeatMessage {
  const run = parts.lastSyncRun;
  // Progress of the current work: what is being downloaded plus what is queued behind it.
  const pending = parts.targets.filter((t) => t.state === 'downloading' || t.state === 'queued');
  const bytesTotal = pending.reduce((n, t) => n + nonNegativeInt(t.size), 0);
  const bytesDone = pending.reduce((n, t) => n + Math.min(nonNegativeInt(t.doneBytes), nonNegativeInt(t.size)), 0);
  const sc = parts.lastSelfcheck;
  return {
    type: 'heartbeat',
    at: Math.floor(parts.now),
    agentVersion: parts.agentVersion,
    catalogVersion: run?.catalogVersion ?? null,
    lock: parts.lock.locked ? { locked: true, reason: parts.lock.reason } : { locked: false, reason: '' },
    policyVersion: parts.policyVersion,
    sync: {
      state: syncState(run),
      bytesDone,
      bytesTotal,
      lastRunAt: run ? (run.finishedAt ?? run.startedAt) : null,
      lastResult: run ? (run.errorCode ? `${run.result} (${run.errorCode})` : run.result) : null,
      packagesReady: nonNegativeInt(parts.packagesReady),
    },
    storage: {
      totalBytes: Math.max(0, parts.storage.totalBytes),
      freeBytes: Math.max(0, parts.storage.freeBytes),
      usedBytes: Math.max(0, parts.storage.usedBytes),
    },
    selfcheck: sc
      ? { at: sc.finishedAt, status: sc.status, failed: sc.results.filter((r) => r.status !== 'ok').map((r) => r.id) }
      : { at: null, status: 'none', failed: [] },
    ...(parts.inventory ? { inventory: parts.inventory } : {}),
  };
}
