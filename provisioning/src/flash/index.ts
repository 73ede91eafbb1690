// The flash engine of the production line: the golden image onto unit disks, checked before and verified after.
export { parseBmap, computeBmapFileChecksum, describeRange, type Bmap, type BmapRange, type ParseBmapOptions } from './bmap.js';
export { expectationFrom, readImageManifest, type ImageExpectation } from './manifest.js';
export { checkImage, imageCacheKey, type ImageCheckCache, type ImageCheckOptions, type ImageCheckResult } from './image-check.js';
export {
  devNumberOf,
  parseMountInfo,
  parseSwaps,
  refusal,
  systemDisks,
  targetFacts,
  type MountEntry,
  type SwapEntry,
  type SystemPaths,
  type TargetFacts,
  type TargetKind,
} from './target.js';
export { DEFAULT_SYNC_EVERY_BYTES, writeTarget, type WriteTargetOptions, type WriteTargetResult } from './write.js';
export { flashTargets, MAX_DEFAULT_CONCURRENCY, type BmapInfo, type FlashPlan, type FlashReport, type FlashTargetsOptions, type PlannedTarget, type TargetResult } from './flash.js';
export { ProgressMeter, isFlashProgressEvent, type FlashProgressEvent } from './progress-meter.js';
export { formatBytes, formatRate } from './units.js';
