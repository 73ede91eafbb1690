// One sync run: refresh the signed catalog, pick this site's targets, download what is missing, verify, store, record.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { desc, eq } from 'drizzle-orm';
import type { Logger } from '../../../lib/log/index.js';
import type { PackageRepository } from '../catalog/index.js';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { BlobStore } from '../store/index.js';
import type { CatalogClient, VerifiedCatalog } from './catalog-client.js';
import { compareUrgency, DownloadQueue, evictionOrder, gcCandidates, priorityOf, selectTargets, type CatalogTarget, type Selection, type StoredBlob, type SyncPolicy } from './policy/index.js';
import { runSlots } from './download/index.js';

export interface DownloadFn {
  (
    job: { url: string; sha256: string; size: number; partialPath: string },
    onProgress: (done: number, total: number) => void,
    signal?: AbortSignal,
    /** Called once the bytes are all written, before the final fsync and hash check. */
    onTransferred?: () => void,
  ): Promise<{ path: string; sha256: string; size: number }>;
}

export interface SyncDeps {
  db: AgentDb;
  store: BlobStore;
  packages: PackageRepository;
  catalog: CatalogClient;
  download: DownloadFn;
  policy: SyncPolicy;
  /** How long a synced package stays after leaving the selection. */
  gcGraceMs: number;
  /** A further restriction on the selection (e.g. urgent campaigns only, by day). */
  filter?: (t: CatalogTarget) => boolean;
  originUrl: string;
  dataDir: string;
  /** Targets downloaded at once. */
  parallelTargets: number;
  /** Free space a sync must leave on the store's filesystem. */
  reserveBytes: number;
  log: Logger;
  clock?: () => number;
  signal?: AbortSignal;
  onProgress?: (event: SyncProgress) => void;
}

export type SyncProgress =
  | { event: 'catalog'; version: number; selected: number; missing: number; bytes: number }
  | { event: 'target'; path: string; done: number; total: number }
  | { event: 'target-done'; path: string; sha256: string; size: number }
  | { event: 'target-failed'; path: string; code: string; message: string };

export interface SyncOutcome {
  runId: number;
  result: 'ok' | 'partial' | 'failed';
  errorCode?: string;
  message?: string;
  catalogVersion?: number;
  bytesFetched: number;
  ready: number;
  failed: number;
}

/** The origin URL of a target under consistent snapshots: `targets/<dir>/<sha256>.<name>`. */
export function targetUrl(originUrl: string, target: CatalogTarget): string {
  const slash = target.path.lastIndexOf('/');
  const dir = slash >= 0 ? `${target.path.slice(0, slash + 1)}` : '';
  const name = target.path.slice(slash + 1);
  return `${originUrl.replace(/\/$/, '')}/targets/${dir.split('/').map(encodeURIComponent).join('/')}${target.sha256}.${encodeURIComponent(name)}`;
}

function metaOf(t: CatalogTarget) {
  return {
    name: basename(t.path),
    kind: t.custom.kind,
    headUnit: t.custom.headUnit,
    models: t.custom.models,
    version: t.custom.version,
    ...(t.custom.releaseNotes ? { releaseNotes: t.custom.releaseNotes } : {}),
  };
}

type TargetState = 'queued' | 'downloading' | 'verified' | 'failed';

function targetStateQuery(db: AgentDb, t: CatalogTarget, state: TargetState, now: number, extra: { doneBytes?: number; error?: string | null } = {}) {
  const values = { path: t.path, size: t.size, state, doneBytes: extra.doneBytes ?? 0, error: extra.error ?? null, updatedAt: now };
  return db.insert(tables.syncTargets).values({ sha256: t.sha256, ...values }).onConflictDoUpdate({ target: tables.syncTargets.sha256, set: values });
}

async function setTargetState(db: AgentDb, t: CatalogTarget, state: TargetState, now: number, extra: { doneBytes?: number; error?: string | null } = {}): Promise<void> {
  await targetStateQuery(db, t, state, now, extra);
}

export async function runSync(deps: SyncDeps, trigger: 'now' | 'schedule' | 'command'): Promise<SyncOutcome> {
  const clock = deps.clock ?? Date.now;
  const [run] = await deps.db.insert(tables.syncRuns).values({ trigger, startedAt: clock(), result: 'running' }).returning({ id: tables.syncRuns.id });
  const runId = run?.id ?? 0;
  const finish = async (o: Omit<SyncOutcome, 'runId'>): Promise<SyncOutcome> => {
    await deps.db
      .update(tables.syncRuns)
      .set({
        finishedAt: clock(),
        result: o.result,
        errorCode: o.errorCode ?? null,
        message: o.message ?? null,
        catalogVersion: o.catalogVersion ?? null,
        bytesFetched: o.bytesFetched,
        targetsReady: o.ready,
        targetsFailed: o.failed,
      })
      .where(eq(tables.syncRuns.id, runId));
    return { runId, ...o };
  };

  let catalog: VerifiedCatalog;
  try {
    catalog = await deps.catalog.refresh();
  } catch (err) {
    const e = err instanceof AgentError ? err : new AgentError(ErrorCode.TUF_METADATA, String((err as Error).message), { cause: err });
    deps.log.error('sync: catalog refresh refused; keeping the last good state', { code: e.code, error: e.message });
    return finish({ result: 'failed', errorCode: e.code, message: e.message, bytesFetched: 0, ready: 0, failed: 0 });
  }

  const selection = selectTargets(catalog.targets, deps.policy);
  const skipped = selection.skipped;
  const selected = deps.filter ? selection.selected.filter(deps.filter) : selection.selected;
  const missing: CatalogTarget[] = [];
  for (const t of selected) if ((await deps.store.sizeOf(t.sha256)) === undefined) missing.push(t);
  deps.log.info('sync: catalog verified', { version: catalog.version, targets: catalog.targets.length, selected: selected.length, skipped: skipped.length, missing: missing.length });
  await deps.db.update(tables.syncRuns).set({ catalogVersion: catalog.version, targetsSelected: selected.length }).where(eq(tables.syncRuns.id, runId));
  deps.onProgress?.({ event: 'catalog', version: catalog.version, selected: selected.length, missing: missing.length, bytes: missing.reduce((n, t) => n + t.size, 0) });

  // Targets already in the store (imported, or synced before) only need their package row.
  // One commit for all of them: each commit waits for an fsync, and a catalog lists hundreds of targets.
  const rows = [
    ...selected.filter((t) => !missing.includes(t)).map((t) => deps.packages.upsertQuery(t.sha256, metaOf(t), 'sync', clock())),
    ...missing.map((t) => targetStateQuery(deps.db, t, 'queued', clock())),
  ];
  const [first, ...rest] = rows;
  if (first) await deps.db.batch([first, ...rest]);

  if (!deps.filter) await collectGarbage(deps, new Set(selected.map((t) => t.sha256)), clock());

  // Download only what fits, in priority order: a selection too big for the disk is reported, not thrashed.
  const selectedSet = new Set(selected.map((t) => t.sha256));
  let room = (await deps.store.freeBytes()).free - deps.reserveBytes;
  const need = missing.reduce((n, t) => n + t.size, 0) - room;
  if (need > 0 && !deps.filter) room += await evictForRoom(deps, catalog, selection, selectedSet, need);
  const fitting: CatalogTarget[] = [];
  for (const t of missing) {
    if (t.size <= room) {
      fitting.push(t);
      room -= t.size;
      continue;
    }
    const message = `not enough space for ${t.path} (${t.size} bytes; ${Math.max(0, room)} left after higher-priority packages and the reserve). The site's selection does not fit this disk: narrow it (sync.include/exclude, headUnits, models) or give the box a larger disk.`;
    await setTargetState(deps.db, t, 'failed', clock(), { error: `${ErrorCode.DISK_FULL}: ${message}` });
    deps.log.error('sync: selection does not fit', { path: t.path, size: t.size, room: Math.max(0, room) });
    deps.onProgress?.({ event: 'target-failed', path: t.path, code: ErrorCode.DISK_FULL, message });
  }
  const unfit = missing.length - fitting.length;

  const partialDir = join(deps.dataDir, 'partial');
  await mkdir(partialDir, { recursive: true, mode: 0o750 });
  if (!deps.filter) await dropStalePartials(partialDir, new Set(missing.map((t) => t.sha256)));
  let bytesFetched = 0;
  let failed = 0;
  let done = 0;
  let firstError: AgentError | undefined;
  const queue = new DownloadQueue(fitting, compareUrgency);
  const slots = Math.max(1, Math.min(deps.parallelTargets, fitting.length));
  /** One target from start to its verdict; `onTransferred` once its bytes are all written. Never throws. */
  const syncTarget = async (t: CatalogTarget, onTransferred: () => void): Promise<void> => {
    try {
      await setTargetState(deps.db, t, 'downloading', clock());
      let lastSavedAt = clock();
      const file = await deps.download(
        { url: targetUrl(deps.originUrl, t), sha256: t.sha256, size: t.size, partialPath: join(partialDir, `${t.sha256}.part`) },
        (done, total) => {
          deps.onProgress?.({ event: 'target', path: t.path, done, total });
          // Progress in the DB is for status only (durable offsets live in the sidecar): about one commit
          // every 2 s per target keeps the status page live without costing the download. Every commit waits
          // for an fsync on the main thread (synchronous=FULL), so none at the end: 'verified' follows.
          const now = clock();
          if (now - lastSavedAt >= 2000 && done < total) {
            lastSavedAt = now;
            void setTargetState(deps.db, t, 'downloading', clock(), { doneBytes: done }).catch(() => undefined);
          }
        },
        deps.signal,
        onTransferred,
      );
      await deps.store.adopt(file.path, { sha256: t.sha256, size: t.size }, { hashedByCaller: true });
      // The package row and the target's state in one commit (one fsync instead of two).
      await deps.db.batch([deps.packages.upsertQuery(t.sha256, metaOf(t), 'sync', clock()), targetStateQuery(deps.db, t, 'verified', clock(), { doneBytes: t.size })]);
      bytesFetched += t.size;
      done++;
      deps.onProgress?.({ event: 'target-done', path: t.path, sha256: t.sha256, size: t.size });
    } catch (err) {
      // Stopped by the window end or a service stop: not a failure; the durable bytes resume next run.
      if (deps.signal?.aborted) {
        await setTargetState(deps.db, t, 'queued', clock()).catch(() => undefined);
        return;
      }
      const e = err instanceof AgentError ? err : new AgentError(ErrorCode.ORIGIN, (err as Error).message, { cause: err });
      failed++;
      firstError ??= e;
      await setTargetState(deps.db, t, 'failed', clock(), { error: `${e.code}: ${e.message}` });
      deps.log.warn('sync: target failed', { path: t.path, code: e.code, error: e.message });
      deps.onProgress?.({ event: 'target-failed', path: t.path, code: e.code, message: e.message });
    }
  };
  // With two slots or more, slot 0 takes the largest of the current tier and the others go from the smallest.
  await runSlots(
    slots,
    (slot) => (slot === 0 && slots > 1 ? queue.takeLargestOfTier() : queue.takeFirst()),
    syncTarget,
    () => deps.signal?.aborted === true,
  );
  failed += unfit;
  if (unfit > 0) firstError ??= new AgentError(ErrorCode.DISK_FULL, `${unfit} selected package(s) do not fit on this disk; see plugsrv sync status.`);

  const ready = selected.length - missing.length + done;
  const result = failed === 0 && !deps.signal?.aborted ? 'ok' : failed === missing.length && missing.length > 0 ? 'failed' : 'partial';
  return finish({
    result,
    ...(firstError ? { errorCode: firstError.code, message: firstError.message } : deps.signal?.aborted ? { message: 'stopped before the end (window closed or service stopping); resumes next run' } : {}),
    catalogVersion: catalog.version,
    bytesFetched,
    ready,
    failed,
  });
}

/**
 * Under disk pressure, deletes synced packages that are no longer selected (still in their grace period) before
 * the grace ends, in evictionOrder's order: those a selected target supersedes (or that left the catalog) first,
 * then the least urgent campaign, the lowest priority, the largest. Selected and imported packages, and blobs a
 * process is serving right now, are never evicted. Returns the bytes freed (0 when even all of them would not do).
 */
async function evictForRoom(deps: SyncDeps, catalog: VerifiedCatalog, selection: Selection, selected: ReadonlySet<string>, need: number): Promise<number> {
  const inCatalog = new Map(catalog.targets.map((t) => [t.sha256, t]));
  const replaced = new Set(selection.skipped.filter((s) => s.reason === 'superseded').map((s) => s.path));
  const candidates: StoredBlob[] = (await deps.packages.listSynced())
    .filter((p) => !selected.has(p.sha256))
    .map((p) => {
      const t = inCatalog.get(p.sha256);
      return { sha256: p.sha256, size: p.size, superseded: t === undefined || replaced.has(t.path), priority: t ? priorityOf(t) : 0, ...(t?.custom.campaign ? { campaign: t.custom.campaign } : {}) };
    });
  const serving = await deps.store.leases.servedNow();
  const plan = evictionOrder(candidates, need, serving);
  if (!plan.fits) return 0;
  let freed = 0;
  for (const sha256 of plan.evict) {
    freed += candidates.find((c) => c.sha256 === sha256)?.size ?? 0;
    await deps.store.remove(sha256);
  }
  const kept = candidates.filter((c) => serving.has(c.sha256)).length;
  deps.log.warn('sync: disk pressure: evicted packages no longer selected to make room', { count: plan.evict.length, bytes: freed, evicted: plan.evict, ...(kept > 0 ? { keptWhileServed: kept } : {}) });
  return freed;
}

/** Partial downloads of targets no longer wanted would hold disk space forever: drop them (file and sidecar). */
async function dropStalePartials(dir: string, wanted: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    const sha256 = /^([0-9a-f]{64})\.part(?:\.json(?:\.hint)?)?(?:\.tmp)?$/.exec(name)?.[1];
    if (sha256 && !wanted.has(sha256)) await rm(join(dir, name), { force: true });
  }
}

/** Deletes synced packages out of the selection for longer than the grace period; imported ones are never touched. */
async function collectGarbage(deps: SyncDeps, selected: ReadonlySet<string>, now: number): Promise<void> {
  const gc = gcCandidates({ catalogSha256s: selected, stored: await deps.packages.listSynced(), now, graceMs: deps.gcGraceMs, serving: await deps.store.leases.servedNow() });
  await deps.packages.setLeftCatalogAt(gc.markLeft, now);
  await deps.packages.setLeftCatalogAt(gc.clearLeft, null);
  for (const sha256 of gc.remove) await deps.store.remove(sha256);
  if (gc.remove.length > 0) deps.log.info('sync: removed packages that left the catalog', { count: gc.remove.length, bytes: gc.reclaimBytes });
}

export async function latestSyncRun(db: AgentDb) {
  const rows = await db.select().from(tables.syncRuns).orderBy(desc(tables.syncRuns.id)).limit(1);
  return rows[0];
}
