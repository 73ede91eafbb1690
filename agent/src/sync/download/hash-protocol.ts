// What the main thread and the hash worker share: the layout of the control block (SharedArrayBuffer) and the worker's reports.

/** Slots of the control block, a BigInt64Array over a SharedArrayBuffer; every access goes through Atomics. */
export const Slot = {
  /** Bumped (then notified) whenever the worker should look again: the prefix grew, a restart, a stop. The worker waits on it. */
  SEQ: 0,
  /** Bumped when bytes the worker may have hashed are about to be rewritten: it drops its hash and starts over from byte 0. */
  EPOCH: 1,
  /** [0, PREFIX) of the file holds completed writes of the current epoch: the worker never reads past it. */
  PREFIX: 2,
  /** Non-zero: the worker closes its file and ends. */
  STOP: 3,
  /** Bytes hashed so far in the current epoch (written by the worker; for tests and logs). */
  HASHED: 4,
} as const;

export const SLOTS = 5;

/** What the worker is started with (workerData). */
export interface HashWorkerData {
  path: string;
  size: number;
  control: SharedArrayBuffer;
  /** Bytes per read of the file. */
  readBytes: number;
}

/** What the worker posts: the digest of all `size` bytes in one epoch, or why it stopped. */
export type HashWorkerReport =
  | { kind: 'digest'; epoch: number; digest: string }
  | { kind: 'error'; message: string; code?: string; syscall?: string };
