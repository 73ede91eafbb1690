// What the main thread and the hash worker share: the layout of the control block (SharedArrayBuffer), held ranges, the worker's reports.
import type { MessagePort } from 'node:worker_threads';

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
  /** Bytes hashed so far in the epoch ACK names (written by the worker; the main thread frees held buffers below it). */
  HASHED: 4,
  /** The epoch the worker works in (written by it, after resetting HASHED): older epochs' buffers are no longer read. */
  ACK: 5,
} as const;

export const SLOTS = 6;

/**
 * Written bytes the worker may hash from memory instead of reading them back from the file: views of shared
 * buffers, by file offset. The main thread posts them before it raises PREFIX over them, and reuses the buffers only
 * once HASHED (in this epoch) is past their end.
 */
export interface HeldRanges {
  epoch: number;
  /** [file offset, shared buffer, byte offset in it, length], in file order. */
  ranges: [number, SharedArrayBuffer, number, number][];
}

/** What the worker is started with (workerData). */
export interface HashWorkerData {
  path: string;
  size: number;
  control: SharedArrayBuffer;
  /** Bytes per read of the file. */
  readBytes: number;
  /** Where HeldRanges messages come from (read synchronously with receiveMessageOnPort); absent: the file only. */
  port?: MessagePort;
}

/** What the worker posts: the digest of all `size` bytes in one epoch, or why it stopped. */
export type HashWorkerReport =
  | { kind: 'digest'; epoch: number; digest: string }
  | { kind: 'error'; message: string; code?: string; syscall?: string };
