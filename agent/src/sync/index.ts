// Public surface of the sync role.
export { CatalogClient, isMirroredMetadataName, tufError, tufErrorCode, tufMirrorDir, trustedMetadataExpiry, type VerifiedCatalog } from './catalog-client.js';
export { runSync, targetUrl, type DownloadFn, type SyncOutcome, type SyncProgress } from './engine.js';
export { syncOnce, syncSummary, syncConfigured, catalogClientFor, policyFromConfig, type SyncRunOptions } from './service.js';
export { SyncScheduler } from './scheduler.js';
export { acquireSyncLock } from './run-lock.js';
