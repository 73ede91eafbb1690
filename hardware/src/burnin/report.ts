// Writing the burn-in report (JSON + HTML, each written to a temporary name, fsynced and renamed, so a reader never
// sees half a report), its summary for the fleet inventory, and reading the latest one back.
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir } from '../../../lib/fs-durable.js';
import { renderBurninHtml } from './html.js';
import type { BurninReport, StepId, StepStatus, Verdict } from './types.js';

/** The folder name under the agent's data dir where reports go (`<dataDir>/burnin`). */
export const BURNIN_DIR_NAME = 'burnin';
const FILE_RE = /^burnin-.+\.json$/;

async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Writes `burnin-<id>.json` and `burnin-<id>.html` into dir (created if needed); returns their paths. */
export async function writeBurninReport(report: BurninReport, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, `burnin-${report.id}.json`);
  const html = join(dir, `burnin-${report.id}.html`);
  // HTML first: the JSON is what readers look for, so once it exists both do.
  await writeAtomic(html, renderBurninHtml(report));
  await writeAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  await fsyncDir(dir);
  return { json, html };
}

/** What the fleet inventory carries about the latest burn-in: small, JSON-serialisable. */
export interface BurninSummary {
  id: string;
  profile: string;
  level: BurninReport['level'];
  scale: number;
  verdict: Verdict;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  unitMatchesProfile: boolean;
  counts: Record<StepStatus, number>;
  /** Failed and interrupted steps with their message. */
  problems: Array<{ id: StepId; status: StepStatus; message: string }>;
  /** Skipped steps with the reason (never a pass in disguise). */
  skipped: Array<{ id: StepId; message: string }>;
  /** The JSON report it came from. */
  reportFile: string | null;
}

export function summarizeBurnin(report: BurninReport, reportFile: string | null = null): BurninSummary {
  return {
    id: report.id,
    profile: report.profile.id,
    level: report.level,
    scale: report.scale,
    verdict: report.verdict,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationSeconds: report.durationSeconds,
    unitMatchesProfile: report.unitMatchesProfile,
    counts: report.counts,
    problems: report.steps.filter((s) => s.status === 'fail' || s.status === 'interrupted').map((s) => ({ id: s.id, status: s.status, message: s.message })),
    skipped: report.steps.filter((s) => s.status === 'skipped').map((s) => ({ id: s.id, message: s.message })),
    reportFile,
  };
}

function isReport(v: unknown): v is BurninReport {
  const r = v as Partial<BurninReport> | null;
  return r !== null && typeof r === 'object' && r.schema === 'plugsrv.burnin/1' && typeof r.id === 'string' && typeof r.startedAt === 'string' && Array.isArray(r.steps);
}

/**
 * The summary of the most recent burn-in report in dir (by start time), or null when there is none. Unreadable or
 * foreign files are passed over; a missing dir is no report. For the fleet client: `readLatestBurninSummary(join(dataDir, BURNIN_DIR_NAME))`.
 */
export async function readLatestBurninSummary(dir: string): Promise<BurninSummary | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => FILE_RE.test(n));
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT' || systemErrorCode(err) === 'ENOTDIR') return null;
    throw err;
  }
  // Names start with the start time (fixed width, UTC), so the newest sorts last.
  for (const name of names.sort().reverse()) {
    const file = join(dir, name);
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      if (isReport(parsed)) return summarizeBurnin(parsed, file);
    } catch {
      // not a report of ours, or damaged: try the next one
    }
  }
  return null;
}
