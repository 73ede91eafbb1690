// Self-check runs in the state DB: record a report, prune old runs, read the latest for /v1/status.
import { desc, lt } from 'drizzle-orm';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';
import type { CheckStatus, ProbeResult } from './probe.js';
import type { SelfcheckReport } from './run.js';

export type SelfcheckTrigger = 'startup' | 'schedule' | 'cli' | 'command';

export interface StoredRun {
  id: number;
  trigger: SelfcheckTrigger;
  status: CheckStatus;
  startedAt: number;
  finishedAt: number;
  results: ProbeResult[];
}

export async function recordRun(db: AgentDb, report: SelfcheckReport, trigger: SelfcheckTrigger, keep: number): Promise<number> {
  const [row] = await db
    .insert(tables.selfcheckRuns)
    .values({ trigger, status: report.status, startedAt: report.startedAt, finishedAt: report.finishedAt, results: JSON.stringify(report.results) })
    .returning({ id: tables.selfcheckRuns.id });
  const id = row?.id ?? 0;
  await db.delete(tables.selfcheckRuns).where(lt(tables.selfcheckRuns.id, id - keep + 1));
  return id;
}

export async function latestRuns(db: AgentDb, limit = 1): Promise<StoredRun[]> {
  const rows = await db.select().from(tables.selfcheckRuns).orderBy(desc(tables.selfcheckRuns.id)).limit(limit);
  return rows.map((r) => ({ ...r, results: JSON.parse(r.results) as ProbeResult[] }));
}

/** The shape /v1/status shows: overall status, counts, and what to fix. */
export function statusSummary(run: StoredRun | undefined): Record<string, unknown> | null {
  if (!run) return null;
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const r of run.results) counts[r.status]++;
  return {
    status: run.status,
    at: new Date(run.finishedAt).toISOString(),
    trigger: run.trigger,
    counts,
    problems: run.results
      .filter((r) => r.status !== 'ok')
      .map((r) => ({ id: r.id, status: r.status, reason: r.reason, target: r.target, remediation: r.remediation })),
  };
}
