// Which catalog targets this site syncs, and in what order: path patterns, head units, models, campaign urgency, supersession.
import dockerignore, { type Ignore } from '@balena/dockerignore';

// A CommonJS module typed with `export default`: under NodeNext the function is the default's `default`.
const ignore = dockerignore.default;

/** Service campaigns, most urgent first; a target without a campaign ranks after all of them. */
export const CAMPAIGNS = ['recall', 'technical-campaign', 'compliance', 'part-replacement', 'customer-complaint'] as const;
export type Campaign = (typeof CAMPAIGNS)[number];

/** One target of the signed catalog: its TUF path, hash, length and the custom metadata the publisher signs with it. */
export interface CatalogTarget {
  path: string;
  /** Lowercase hex sha256 of the bytes. */
  sha256: string;
  size: number;
  custom: {
    kind: 'soft' | 'map';
    headUnit: string;
    models: string[];
    version: string;
    region?: string;
    campaign?: Campaign;
    /** Higher first; absent counts as 0. */
    priority?: number;
    /** The path of the older target this one replaces. */
    supersedes?: string;
    releaseNotes?: string;
  };
}

/** What a site wants from the catalog. */
export interface SyncPolicy {
  /** .dockerignore-syntax patterns over target paths ("!" re-includes); no pattern means every path. */
  include: string[];
  /** .dockerignore-syntax patterns over target paths; a path matched here is skipped even if included. */
  exclude: string[];
  /** Head units to sync, compared case-insensitively; empty means all. */
  headUnits: string[];
  /** Vehicle project codes, compared case-insensitively; a target matches when it lists one of them; empty means all. */
  models: string[];
}

export type SkipReason = 'not-included' | 'excluded' | 'head-unit' | 'model' | 'superseded';

export interface Selection {
  /** The targets to hold on this site, most urgent first. */
  selected: CatalogTarget[];
  /** Every other target, in catalog order, with the first reason it was left out. */
  skipped: Array<{ path: string; reason: SkipReason }>;
}

/** 0 for a recall, up to CAMPAIGNS.length for no (or an unknown) campaign: lower is more urgent. */
export function campaignRank(campaign: string | undefined): number {
  const i = campaign === undefined ? -1 : (CAMPAIGNS as readonly string[]).indexOf(campaign);
  return i === -1 ? CAMPAIGNS.length : i;
}

/** A target's priority, 0 when absent or not a finite number. */
export function priorityOf(target: CatalogTarget): number {
  const p = target.custom.priority;
  return typeof p === 'number' && Number.isFinite(p) ? p : 0;
}

/** Urgency: campaign first, then higher priority. 0: the same tier (the download queue keeps within one). */
export function compareUrgency(a: CatalogTarget, b: CatalogTarget): number {
  return campaignRank(a.custom.campaign) - campaignRank(b.custom.campaign) || priorityOf(b) - priorityOf(a);
}

/** Selection order: urgency, then smaller size (more packages ready sooner), then path. */
export function compareTargets(a: CatalogTarget, b: CatalogTarget): number {
  return compareUrgency(a, b) || a.size - b.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Patterns that are neither blank nor comments: the ones .dockerignore would keep. */
function effectivePatterns(patterns: readonly string[]): string[] {
  return patterns.filter((p) => p.trim() !== '' && !p.trim().startsWith('#'));
}

/** A matcher over target paths; case-sensitive like Docker on Linux, since TUF paths are. */
function matcher(patterns: readonly string[]): Ignore {
  return ignore({ ignorecase: false }).add(effectivePatterns(patterns));
}

/** TUF paths are relative; a leading slash (tolerated by some publishers) would defeat every pattern. */
function normalizePath(path: string): string {
  return path.replace(/^\/+/, '');
}

function lowerSet(values: readonly string[]): Set<string> {
  return new Set(values.map((v) => v.trim().toLowerCase()));
}

/** Filter the catalog by the site policy, drop what a selected target supersedes, and order what is left. */
export function selectTargets(targets: readonly CatalogTarget[], policy: SyncPolicy): Selection {
  const includeAll = effectivePatterns(policy.include).length === 0;
  const include = matcher(policy.include);
  const exclude = matcher(policy.exclude);
  const headUnits = lowerSet(policy.headUnits);
  const models = lowerSet(policy.models);

  const reasons = new Map<CatalogTarget, SkipReason>();
  const passed: CatalogTarget[] = [];
  for (const target of targets) {
    const path = normalizePath(target.path);
    let reason: SkipReason | undefined;
    if (!includeAll && !include.ignores(path)) reason = 'not-included';
    else if (exclude.ignores(path)) reason = 'excluded';
    else if (headUnits.size > 0 && !headUnits.has(target.custom.headUnit.trim().toLowerCase())) reason = 'head-unit';
    else if (models.size > 0 && !target.custom.models.some((m) => models.has(m.trim().toLowerCase()))) reason = 'model';
    if (reason === undefined) passed.push(target);
    else reasons.set(target, reason);
  }

  for (const target of supersededAmong(passed)) reasons.set(target, 'superseded');

  const selected = passed.filter((t) => !reasons.has(t)).sort(compareTargets);
  const skipped: Selection['skipped'] = [];
  for (const target of targets) {
    const reason = reasons.get(target);
    if (reason !== undefined) skipped.push({ path: target.path, reason });
  }
  return { selected, skipped };
}

/**
 * The targets replaced, directly or down a chain, by a target nothing replaces. Walking only from
 * those heads means a malformed cycle (A replaces B, B replaces A) drops nothing rather than everything.
 */
function supersededAmong(targets: readonly CatalogTarget[]): Set<CatalogTarget> {
  const byPath = new Map(targets.map((t) => [normalizePath(t.path), t]));
  const older = (t: CatalogTarget): CatalogTarget | undefined => {
    const name = t.custom.supersedes;
    if (name === undefined) return undefined;
    const found = byPath.get(normalizePath(name));
    return found === t ? undefined : found;
  };
  const replaced = new Set<CatalogTarget>();
  for (const t of targets) {
    const o = older(t);
    if (o) replaced.add(o);
  }
  const dropped = new Set<CatalogTarget>();
  for (const head of targets) {
    if (replaced.has(head)) continue;
    for (let o = older(head); o && !dropped.has(o); o = older(o)) dropped.add(o);
  }
  return dropped;
}
