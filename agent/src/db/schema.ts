// Tables of the agent's state DB (drizzle schema); migrations under agent/drizzle are generated from it.
import { sqliteTable, text, integer, index } from 'drizzle-orm/sqlite-core';

/** A verified blob in the content-addressed store. A row exists only once the file is fsynced at its final path. */
export const blobs = sqliteTable('blobs', {
  sha256: text('sha256').primaryKey(),
  size: integer('size').notNull(),
  storedAt: integer('stored_at').notNull(),
  verifiedAt: integer('verified_at').notNull(),
});

/** A package ready to serve: a blob plus what the dealer PCs need to pick it. */
export const packages = sqliteTable(
  'packages',
  {
    sha256: text('sha256')
      .primaryKey()
      .references(() => blobs.sha256, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['soft', 'map'] }).notNull(),
    headUnit: text('head_unit').notNull(),
    /** JSON array of vehicle project codes (XFK, BJA, ...). */
    models: text('models').notNull(),
    version: text('version').notNull(),
    releaseNotes: text('release_notes'),
    source: text('source', { enum: ['import', 'sync'] }).notNull(),
    addedAt: integer('added_at').notNull(),
    /** When a synced package was first seen outside the site's selection; garbage-collected after a grace period. */
    leftCatalogAt: integer('left_catalog_at'),
  },
  (t) => [index('packages_head_unit').on(t.headUnit), index('packages_kind').on(t.kind)],
);

/** Small persistent device facts (the lock, later the policy), as JSON values by key. */
export const deviceState = sqliteTable('device_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** One self-check run: its overall status and every probe result (JSON), newest kept up to selfcheck.historySize. */
export const selfcheckRuns = sqliteTable(
  'selfcheck_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    trigger: text('trigger', { enum: ['startup', 'schedule', 'cli', 'command'] }).notNull(),
    status: text('status', { enum: ['ok', 'warn', 'fail'] }).notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at').notNull(),
    /** JSON ProbeResult[]. */
    results: text('results').notNull(),
  },
  (t) => [index('selfcheck_runs_started').on(t.startedAt)],
);

/** One sync run: when, how it ended, how much it fetched. */
export const syncRuns = sqliteTable('sync_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  trigger: text('trigger', { enum: ['now', 'schedule', 'command'] }).notNull(),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  result: text('result', { enum: ['running', 'ok', 'partial', 'failed'] }).notNull(),
  /** Stable error code of a failed run (E_TUF_...). */
  errorCode: text('error_code'),
  message: text('message'),
  /** Catalog (targets metadata) version the run worked from. */
  catalogVersion: integer('catalog_version'),
  bytesFetched: integer('bytes_fetched').notNull().default(0),
  targetsSelected: integer('targets_selected').notNull().default(0),
  targetsReady: integer('targets_ready').notNull().default(0),
  targetsFailed: integer('targets_failed').notNull().default(0),
});

/** Per-target download state, so status and a restarted sync know where each target stands. */
export const syncTargets = sqliteTable('sync_targets', {
  sha256: text('sha256').primaryKey(),
  path: text('path').notNull(),
  size: integer('size').notNull(),
  state: text('state', { enum: ['queued', 'downloading', 'verified', 'failed'] }).notNull(),
  doneBytes: integer('done_bytes').notNull().default(0),
  error: text('error'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Fleet commands this device accepted (signature, device and sequence checked), with their result. A row is written in
 * the same batch as the last accepted sequence number, before the command acts; `resultSent` stays false until the
 * result went out on the device socket, so results are re-sent after a reconnect.
 */
export const fleetCommands = sqliteTable(
  'fleet_commands',
  {
    id: text('id').primaryKey(),
    deviceId: text('device_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    receivedAt: integer('received_at').notNull(),
    status: text('status', { enum: ['running', 'ok', 'failed'] }).notNull(),
    detail: text('detail').notNull().default(''),
    /** JSON result data (self-check summary, collected log lines), at most 1 MiB. */
    data: text('data'),
    finishedAt: integer('finished_at'),
    resultSent: integer('result_sent', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('fleet_commands_unsent').on(t.resultSent, t.seq)],
);
