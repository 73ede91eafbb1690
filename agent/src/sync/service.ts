// Wires a sync run from the agent's configuration: catalog client, policy, bandwidth bucket, downloader; and the runs' status.
import { desc, eq } from 'drizzle-orm';
import type { Agent } from '../app.js';
import { tables } from '../db/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { CatalogClient } from './catalog-client.js';
import { DownloadDispatcher, downloadTarget } from './download/index.js';
import { runSync, type SyncOutcome, type SyncProgress } from './engine.js';
import { acquireSyncLock } from './run-lock.js';
import { isInWindow, isUrgent, nextWindowStart, parseWindow, systemTimeZone, TokenBucket, windowEndAfter, type SyncPolicy } from './policy/index.js';

export function syncConfigured(agent: Agent): boolean {
  return agent.config.sync.originUrl !== '';
}

export function policyFromConfig(agent: Agent): SyncPolicy {
  const s = agent.config.sync;
  return { include: s.include, exclude: s.exclude, headUnits: s.headUnits, models: s.models };
}

export function catalogClientFor(agent: Agent): CatalogClient {
  const s = agent.config.sync;
  return new CatalogClient({ dataDir: agent.dataDir, originUrl: s.originUrl, trustedRootFile: s.trustedRoot, fetchTimeoutMs: s.fetchTimeoutMs, log: agent.log });
}

export interface SyncRunOptions {
  trigger: 'now' | 'schedule' | 'command';
  /** Bytes per second; 0 or Infinity = no cap. */
  rateBytesPerSec: number;
  /** Only urgent campaigns (recalls), as allowed by day. */
  urgentOnly?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: SyncProgress) => void;
}

/** One sync run with the agent's configuration. Only one runs at a time per data dir (lock file). */
export async function syncOnce(agent: Agent, opts: SyncRunOptions): Promise<SyncOutcome> {
  if (!syncConfigured(agent)) {
    throw new AgentError(ErrorCode.CONFIG, 'sync is not set up: set sync.originUrl (the origin\'s TUF repository) and sync.trustedRoot (its pinned root.json).');
  }
  const release = await acquireSyncLock(agent.dataDir);
  // One connection pool for the whole run: maxConnectionsPerHost holds across every target downloading at
  // once, and connections are reused from target to target.
  const dispatcher = new DownloadDispatcher(agent.config.sync.maxConnectionsPerHost);
  try {
    const s = agent.config.sync;
    const bucket = new TokenBucket({ rateBytesPerSec: opts.rateBytesPerSec === Infinity ? 0 : opts.rateBytesPerSec });
    const policy = policyFromConfig(agent);
    return await runSync(
      {
        db: agent.state.db,
        store: agent.store,
        packages: agent.packages,
        catalog: catalogClientFor(agent),
        policy,
        ...(opts.urgentOnly ? { filter: isUrgent } : {}),
        originUrl: s.originUrl,
        dataDir: agent.dataDir,
        parallelTargets: s.parallelTargets,
        reserveBytes: agent.config.store.reserveBytes,
        gcGraceMs: s.gcGraceHours * 3600_000,
        log: agent.log,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        download: (job, onProgress, signal, onTransferred) =>
          downloadTarget(job, {
            dispatcher,
            maxConnectionsPerHost: s.maxConnectionsPerHost,
            segmentBytes: s.segmentBytes,
            directIo: s.directIo,
            headersTimeoutMs: s.fetchTimeoutMs,
            rate: bucket,
            onProgress,
            ...(onTransferred ? { onTransferred } : {}),
            log: agent.log,
            ...(signal ? { signal } : {}),
          }),
      },
      opts.trigger,
    );
  } finally {
    // Every download has settled by now: destroy cannot cut one short, and unlike close it cannot wait on a stuck socket.
    await dispatcher.destroy();
    await release();
  }
}

/** The sync part of /v1/status and `plugsrv sync status`. */
export async function syncSummary(agent: Agent, now = new Date()): Promise<Record<string, unknown> | null> {
  if (!syncConfigured(agent)) return null;
  const db = agent.state.db;
  const [last] = await db.select().from(tables.syncRuns).orderBy(desc(tables.syncRuns.id)).limit(1);
  const active = await db.select().from(tables.syncTargets).where(eq(tables.syncTargets.state, 'downloading'));
  const failed = await db.select().from(tables.syncTargets).where(eq(tables.syncTargets.state, 'failed'));
  const s = agent.config.sync;
  const window = parseWindow(s.window);
  const tz = s.timeZone || systemTimeZone();
  const inWindow = isInWindow(now, window, tz);
  return {
    origin: new URL(s.originUrl).host,
    window: s.window,
    timeZone: tz,
    inWindow,
    nextWindowStart: inWindow ? null : nextWindowStart(now, window, tz).toISOString(),
    windowEnd: inWindow ? windowEndAfter(now, window, tz).toISOString() : null,
    lastRun: last
      ? {
          id: last.id,
          trigger: last.trigger,
          result: last.result,
          startedAt: new Date(last.startedAt).toISOString(),
          finishedAt: last.finishedAt ? new Date(last.finishedAt).toISOString() : null,
          catalogVersion: last.catalogVersion,
          bytesFetched: last.bytesFetched,
          targetsSelected: last.targetsSelected,
          targetsReady: last.targetsReady,
          targetsFailed: last.targetsFailed,
          ...(last.errorCode ? { errorCode: last.errorCode, message: last.message } : {}),
        }
      : null,
    downloading: active.map((t) => ({ path: t.path, doneBytes: t.doneBytes, size: t.size })),
    failed: failed.map((t) => ({ path: t.path, error: t.error })),
  };
}
