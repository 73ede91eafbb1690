// Public surface of the device lock.
export { readLock, setLock, clearLock, LockWatcher, type LockState } from './lock.js';
