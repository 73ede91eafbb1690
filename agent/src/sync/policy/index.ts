// Public surface of the sync policy: what to sync, when, how fast, and what to keep in the store.
export {
  CAMPAIGNS,
  campaignRank,
  compareTargets,
  compareUrgency,
  priorityOf,
  selectTargets,
  type Campaign,
  type CatalogTarget,
  type Selection,
  type SkipReason,
  type SyncPolicy,
} from './select.js';
export { DownloadQueue } from './queue.js';
export { isInWindow, nextWindowStart, parseWindow, systemTimeZone, windowEndAfter, type NightWindow } from './window.js';
export { bandwidthFor, throttle, TokenBucket, type BandwidthPolicy, type TokenBucketOptions } from './token-bucket.js';
export {
  evictionOrder,
  gcCandidates,
  isUrgent,
  planSync,
  URGENT_CAMPAIGNS,
  type Eviction,
  type GcInput,
  type GcResult,
  type PlanInput,
  type PlanStep,
  type StoredBlob,
} from './plan.js';
