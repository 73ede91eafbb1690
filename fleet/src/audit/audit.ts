// The audit log: every operator action (and enrollment) with who, what, on what and how it ended; never a secret.
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { redact } from '../../../lib/log/index.js';
import type { FleetDb, WriteQueue } from '../db/index.js';
import { statement, tables } from '../db/index.js';

export type AuditOutcome = 'ok' | 'denied' | 'failed';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  outcome: AuditOutcome;
  code?: string | undefined;
  /** Arguments and counts; fields named like secrets are redacted, as in logs. */
  detail?: Record<string, unknown> | undefined;
  remote?: string;
}

export interface AuditRecord {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  outcome: AuditOutcome;
  code: string | null;
  detail: Record<string, unknown> | null;
  remote: string;
}

export interface AuditQuery {
  limit?: number;
  before?: number | undefined;
  since?: number | undefined;
  actor?: string | undefined;
  action?: string | undefined;
}

export class AuditLog {
  /** With `writes`, entries are committed with the other queued writes (one fsync for a burst); alone otherwise (CLI). */
  constructor(
    private readonly db: FleetDb,
    private readonly clock: () => number = Date.now,
    private readonly writes?: WriteQueue,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const insert = this.db.insert(tables.auditLog).values({
      at: this.clock(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? '',
      outcome: entry.outcome,
      code: entry.code ?? null,
      detail: entry.detail ? JSON.stringify(redact(entry.detail)) : null,
      remote: entry.remote ?? '',
    });
    if (this.writes) await this.writes.write([statement(insert)]);
    else await insert;
  }

  /** Newest first. */
  async list(q: AuditQuery = {}): Promise<AuditRecord[]> {
    const where: SQL[] = [];
    if (q.before !== undefined) where.push(lt(tables.auditLog.id, q.before));
    if (q.since !== undefined) where.push(gte(tables.auditLog.at, q.since));
    if (q.actor) where.push(eq(tables.auditLog.actor, q.actor));
    if (q.action) where.push(eq(tables.auditLog.action, q.action));
    const rows = await this.db
      .select()
      .from(tables.auditLog)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(tables.auditLog.id))
      .limit(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
  }
}
