// Public surface of the blob store.
export { BlobStore, hashFile, isSha256Hex, type BlobStoreOptions, type StoredBlob, type RecoveryReport, type PutExpectation } from './blob-store.js';
