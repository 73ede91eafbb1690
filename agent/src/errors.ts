// The agent's error codes, and the one place that maps them to HTTP statuses and process exit codes.
import { PlugsrvError, type ErrorDetails } from '../../lib/errors.js';

export const ErrorCode = {
  CONFIG: 'E_CONFIG',
  BAD_REQUEST: 'E_BAD_REQUEST',
  BAD_VIN: 'E_BAD_VIN',
  NOT_FOUND: 'E_NOT_FOUND',
  METHOD: 'E_METHOD_NOT_ALLOWED',
  URI_TOO_LONG: 'E_URI_TOO_LONG',
  RANGE: 'E_RANGE_NOT_SATISFIABLE',
  LOCKED: 'E_LOCKED',
  DISK_FULL: 'E_DISK_FULL',
  HASH_MISMATCH: 'E_HASH_MISMATCH',
  SIZE_MISMATCH: 'E_SIZE_MISMATCH',
  IMPORT_INPUT: 'E_IMPORT_INPUT',
  MANIFEST: 'E_MANIFEST',
  STORE_IO: 'E_STORE_IO',
  DB: 'E_DB',
  INTERNAL: 'E_INTERNAL',
  TUF_SIGNATURE: 'E_TUF_SIGNATURE',
  TUF_EXPIRED: 'E_TUF_EXPIRED',
  TUF_ROLLBACK: 'E_TUF_ROLLBACK',
  TUF_LENGTH: 'E_TUF_LENGTH',
  TUF_METADATA: 'E_TUF_METADATA',
  ORIGIN: 'E_ORIGIN',
  DOWNLOAD: 'E_DOWNLOAD',
  SYNC_BUSY: 'E_SYNC_BUSY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Record<ErrorCode, number> = {
  E_CONFIG: 500,
  E_BAD_REQUEST: 400,
  E_BAD_VIN: 400,
  E_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_URI_TOO_LONG: 414,
  E_RANGE_NOT_SATISFIABLE: 416,
  E_LOCKED: 423,
  E_DISK_FULL: 507,
  E_HASH_MISMATCH: 422,
  E_SIZE_MISMATCH: 422,
  E_IMPORT_INPUT: 400,
  E_MANIFEST: 400,
  E_STORE_IO: 500,
  E_DB: 500,
  E_INTERNAL: 500,
  E_TUF_SIGNATURE: 502,
  E_TUF_EXPIRED: 502,
  E_TUF_ROLLBACK: 502,
  E_TUF_LENGTH: 502,
  E_TUF_METADATA: 502,
  E_ORIGIN: 502,
  E_DOWNLOAD: 502,
  E_SYNC_BUSY: 409,
};

/** Exit codes for the CLI: 2 = input or configuration, 3 = the machine (disk, I/O), 4 = signed catalog refused, 5 = origin unreachable, 1 = else. */
const EXIT_CODE: Partial<Record<ErrorCode, number>> = {
  E_CONFIG: 2,
  E_BAD_REQUEST: 2,
  E_BAD_VIN: 2,
  E_IMPORT_INPUT: 2,
  E_MANIFEST: 2,
  E_HASH_MISMATCH: 2,
  E_SIZE_MISMATCH: 2,
  E_DISK_FULL: 3,
  E_STORE_IO: 3,
  E_DB: 3,
  E_TUF_SIGNATURE: 4,
  E_TUF_EXPIRED: 4,
  E_TUF_ROLLBACK: 4,
  E_TUF_LENGTH: 4,
  E_TUF_METADATA: 4,
  E_ORIGIN: 5,
  E_DOWNLOAD: 5,
};

export class AgentError extends PlugsrvError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(code, message, options);
    this.name = 'AgentError';
  }
}

export function httpStatusOf(err: unknown): number {
  return err instanceof AgentError ? HTTP_STATUS[err.code] : 500;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof AgentError ? (EXIT_CODE[err.code] ?? 1) : 1;
}
