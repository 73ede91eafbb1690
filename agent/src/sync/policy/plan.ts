// What a sync run does with the store: which selected targets to fetch now, which blobs to collect, which to evict for room.
import { campaignRank, type Campaign, type CatalogTarget } from './select.js';

/** Campaigns worth daytime bandwidth at a dealer site: safety recalls only. */
export const URGENT_CAMPAIGNS: ReadonlySet<Campaign> = new Set<Campaign>(['recall']);

export function isUrgent(target: CatalogTarget): boolean {
  return target.custom.campaign !== undefined && URGENT_CAMPAIGNS.has(target.custom.campaign);
}

export interface PlanInput {
  /** The time the plan is made for (kept for the log; the window decision arrives as `inWindow`). */
  now: Date;
  /** The targets selectTargets() kept, in its order. */
  selected: readonly CatalogTarget[];
  /** sha256 of the blobs already in the store. */
  stored: ReadonlySet<string>;
  inWindow: boolean;
  /** Whether urgent campaigns may download outside the window (a day rate above 0). */
  dayAllowsUrgent: boolean;
}

export interface PlanStep {
  /** 'keep': no bytes to fetch, the blob is stored or fetched by an earlier step of this plan. */
  action: 'download' | 'keep';
  target: CatalogTarget;
}

/**
 * One step per selected target that has its bytes or may fetch them now, in selection order. A target
 * missing from the store is fetched inside the window, or outside it when urgent and day downloads are
 * allowed; otherwise it waits for the next run and is left out.
 */
export function planSync(input: PlanInput): PlanStep[] {
  const steps: PlanStep[] = [];
  const planned = new Set<string>();
  for (const target of input.selected) {
    if (input.stored.has(target.sha256) || planned.has(target.sha256)) {
      steps.push({ action: 'keep', target });
    } else if (input.inWindow || (input.dayAllowsUrgent && isUrgent(target))) {
      planned.add(target.sha256);
      steps.push({ action: 'download', target });
    }
  }
  return steps;
}

export interface GcInput {
  /** sha256 of every target the current catalog lists (not only the selected ones). */
  catalogSha256s: ReadonlySet<string>;
  /** The synced blobs in the store, with when each was first seen missing from the catalog. Leave side-loaded (imported) blobs out. */
  stored: ReadonlyArray<{ sha256: string; size: number; leftCatalogAt?: number }>;
  /** Epoch ms. */
  now: number;
  /** How long a blob stays after leaving the catalog, so a PC midway through a download can finish. */
  graceMs: number;
  /** sha256 of blobs being served right now: never removed. */
  serving: ReadonlySet<string>;
}

export interface GcResult {
  /** Blobs to delete, in input order. */
  remove: string[];
  /** Their total size. */
  reclaimBytes: number;
  /** Blobs that just left the catalog: record `now` as their leftCatalogAt. */
  markLeft: string[];
  /** Blobs back in the catalog: clear their leftCatalogAt. */
  clearLeft: string[];
}

/** Blobs out of the catalog for at least the grace period and not being served. */
export function gcCandidates(input: GcInput): GcResult {
  if (!(input.graceMs >= 0)) throw new RangeError(`graceMs must be 0 or more, not ${input.graceMs}`);
  const result: GcResult = { remove: [], reclaimBytes: 0, markLeft: [], clearLeft: [] };
  for (const blob of input.stored) {
    if (input.catalogSha256s.has(blob.sha256)) {
      if (blob.leftCatalogAt !== undefined) result.clearLeft.push(blob.sha256);
      continue;
    }
    if (blob.leftCatalogAt === undefined) result.markLeft.push(blob.sha256);
    const leftAt = blob.leftCatalogAt ?? input.now;
    if (input.now - leftAt >= input.graceMs && !input.serving.has(blob.sha256)) {
      result.remove.push(blob.sha256);
      result.reclaimBytes += blob.size;
    }
  }
  return result;
}

export interface StoredBlob {
  sha256: string;
  size: number;
  /** A selected target supersedes the package this blob holds. */
  superseded: boolean;
  priority: number;
  campaign?: Campaign | string;
}

export interface Eviction {
  /** sha256 to delete, in order; empty when `fits` is false. */
  evict: string[];
  /** Whether evicting (possibly nothing) frees needBytes. */
  fits: boolean;
}

/** Eviction order, the reverse of selection: superseded, then least urgent campaign, lowest priority, largest, sha256. */
function compareForEviction(a: StoredBlob, b: StoredBlob): number {
  return (
    Number(b.superseded) - Number(a.superseded) ||
    campaignRank(b.campaign) - campaignRank(a.campaign) ||
    finite(a.priority) - finite(b.priority) ||
    b.size - a.size ||
    (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0)
  );
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

/** The shortest prefix of the eviction order that frees needBytes, never touching a blob being served. */
export function evictionOrder(stored: readonly StoredBlob[], needBytes: number, serving: ReadonlySet<string>): Eviction {
  if (Number.isNaN(needBytes)) throw new RangeError('needBytes is not a number');
  if (needBytes <= 0) return { evict: [], fits: true };
  const order = stored.filter((b) => !serving.has(b.sha256)).sort(compareForEviction);
  const evict: string[] = [];
  let freed = 0;
  for (const blob of order) {
    evict.push(blob.sha256);
    freed += blob.size;
    if (freed >= needBytes) return { evict, fits: true };
  }
  return { evict: [], fits: false };
}

