// The production line's error codes, and the one place that maps them to `plugsrv-line` exit codes.
import { PlugsrvError, type ErrorDetails } from '../../lib/errors.js';

export const ErrorCode = {
  /** Bad command-line input or configuration. */
  USAGE: 'E_USAGE',
  CONFIG: 'E_CONFIG',
  /** An orders CSV that does not validate (every bad row named with its line number). */
  ORDERS_CSV: 'E_ORDERS_CSV',
  NOT_FOUND: 'E_NOT_FOUND',
  /** A unit or order in a state that does not allow the step (a failed unit shipped, an order already full). */
  STATE: 'E_STATE',
  /** The image does not match its manifest (sha256 or size), or the manifest is not the image's. */
  IMAGE_MISMATCH: 'E_IMAGE_MISMATCH',
  /** A bmap that does not parse, whose own checksum is wrong, or that does not describe this image. */
  BMAP: 'E_BMAP',
  /** The target is smaller than the image. */
  TARGET_TOO_SMALL: 'E_TARGET_TOO_SMALL',
  /** The target, or one of its partitions, is mounted or used as swap / by device-mapper. */
  TARGET_MOUNTED: 'E_TARGET_MOUNTED',
  /** The target is the disk the running system lives on. */
  TARGET_SYSTEM_DISK: 'E_TARGET_SYSTEM_DISK',
  /** The target does not exist, is not a file or a block device, or cannot be opened for writing. */
  TARGET_INVALID: 'E_TARGET_INVALID',
  /** The operator did not confirm (no TTY and no --yes, or answered no). */
  NOT_CONFIRMED: 'E_NOT_CONFIRMED',
  /** What was read back from the target differs from what was written. */
  VERIFY_FAILED: 'E_VERIFY_FAILED',
  /** No space left on the line's own disk (DB, letters, labels). */
  DISK_FULL: 'E_DISK_FULL',
  /** The flashed target has no usable personalisation partition. */
  PERSO_PARTITION: 'E_PERSO_PARTITION',
  /** The fleet refused or could not be reached. */
  FLEET: 'E_FLEET',
  FLEET_UNREACHABLE: 'E_FLEET_UNREACHABLE',
  /** A tool the line needs (mkfs.ext4, ...) is missing or failed. */
  TOOL: 'E_TOOL',
  DB: 'E_DB',
  INTERNAL: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class LineError extends PlugsrvError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(code, message, options);
    this.name = 'LineError';
  }
}

/**
 * Exit codes of `plugsrv-line`: 2 = bad input (usage, CSV, image, bmap, not confirmed), 3 = the target refused
 * (too small, mounted, the system disk, invalid), 4 = verification failed (the target is bad: do not ship it),
 * 5 = the fleet refused or is unreachable, 6 = not found or wrong state, 1 = anything else.
 */
const EXIT_CODE: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 2,
  E_CONFIG: 2,
  E_ORDERS_CSV: 2,
  E_IMAGE_MISMATCH: 2,
  E_BMAP: 2,
  E_NOT_CONFIRMED: 2,
  E_TARGET_TOO_SMALL: 3,
  E_TARGET_MOUNTED: 3,
  E_TARGET_SYSTEM_DISK: 3,
  E_TARGET_INVALID: 3,
  E_PERSO_PARTITION: 3,
  E_VERIFY_FAILED: 4,
  E_FLEET: 5,
  E_FLEET_UNREACHABLE: 5,
  E_NOT_FOUND: 6,
  E_STATE: 6,
};

export function exitCodeOf(err: unknown): number {
  if (err instanceof PlugsrvError) return EXIT_CODE[err.code as ErrorCode] ?? 1;
  return 1;
}
