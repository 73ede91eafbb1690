// Public surface of the download module: resumable, segmented, verified downloads of signed targets.
export { downloadTarget, type DownloadDeps, type DownloadJob, type DownloadResult, type RetryPolicy } from './download.js';
export { DOWNLOAD_FAILED } from './faults.js';
export { sidecarPath, type Sidecar, type SegmentRecord } from './sidecar.js';
export { DownloadDispatcher, type BodyDispatcher } from './dispatcher.js';
export { runSlots } from './slots.js';
