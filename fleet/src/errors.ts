// The fleet's error codes, and the one place that maps them to HTTP statuses and `plugsrv-fleet` exit codes.
import { PlugsrvError, type ErrorDetails } from '../../lib/errors.js';
import { EnrollErrorCode } from '../../lib/fleet/protocol.js';

export const ErrorCode = {
  CONFIG: 'E_CONFIG',
  BAD_REQUEST: 'E_BAD_REQUEST',
  /** A body or message that does not parse with the wire contract (lib/fleet/protocol.ts). */
  PROTOCOL: 'E_FLEET_PROTOCOL',
  BODY_TOO_LARGE: 'E_BODY_TOO_LARGE',
  NOT_FOUND: 'E_NOT_FOUND',
  METHOD: 'E_METHOD_NOT_ALLOWED',
  UNAUTHORIZED: 'E_UNAUTHORIZED',
  FORBIDDEN: 'E_FORBIDDEN',
  TOKEN_UNKNOWN: EnrollErrorCode.UNKNOWN_TOKEN,
  TOKEN_USED: EnrollErrorCode.USED_TOKEN,
  TOKEN_EXPIRED: EnrollErrorCode.EXPIRED_TOKEN,
  SERIAL_MISMATCH: EnrollErrorCode.SERIAL_MISMATCH,
  BAD_CSR: EnrollErrorCode.BAD_CSR,
  RATE_LIMITED: EnrollErrorCode.RATE_LIMITED,
  CERT_REQUIRED: 'E_CERT_REQUIRED',
  CERT_REVOKED: 'E_CERT_REVOKED',
  DEVICE_RETIRED: 'E_DEVICE_RETIRED',
  DEVICE_WIPED: 'E_DEVICE_WIPED',
  CONFLICT: 'E_CONFLICT',
  KEY_PERMISSIONS: 'E_KEY_PERMISSIONS',
  CA: 'E_CA',
  DB: 'E_DB',
  /** CLI only: the fleet could not be reached (connection refused, DNS, timeout). */
  UNREACHABLE: 'E_FLEET_UNREACHABLE',
  /** CLI only: the fleet's TLS certificate is not trusted (wrong --ca). */
  TLS: 'E_TLS',
  /** CLI only: the fleet answered something that is not the API's JSON. */
  API: 'E_API',
  INTERNAL: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Record<ErrorCode, number> = {
  E_CONFIG: 500,
  E_BAD_REQUEST: 400,
  E_FLEET_PROTOCOL: 400,
  E_BODY_TOO_LARGE: 413,
  E_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_TOKEN_UNKNOWN: 401,
  E_TOKEN_USED: 409,
  E_TOKEN_EXPIRED: 410,
  E_SERIAL_MISMATCH: 403,
  E_BAD_CSR: 400,
  E_RATE_LIMITED: 429,
  E_CERT_REQUIRED: 401,
  E_CERT_REVOKED: 403,
  E_DEVICE_RETIRED: 409,
  E_DEVICE_WIPED: 409,
  E_CONFLICT: 409,
  E_KEY_PERMISSIONS: 500,
  E_CA: 500,
  E_DB: 500,
  E_FLEET_UNREACHABLE: 502,
  E_TLS: 502,
  E_API: 502,
  E_INTERNAL: 500,
};

/**
 * Exit codes of `plugsrv-fleet`: 2 = bad input or configuration, 3 = this machine (DB, key files, CA files),
 * 4 = authentication or permission refused, 5 = fleet unreachable or not trusted, 6 = not found or refused
 * by the device's state, 1 = anything else.
 */
const EXIT_CODE: Partial<Record<ErrorCode, number>> = {
  E_CONFIG: 2,
  E_BAD_REQUEST: 2,
  E_FLEET_PROTOCOL: 2,
  E_BODY_TOO_LARGE: 2,
  E_METHOD_NOT_ALLOWED: 2,
  E_BAD_CSR: 2,
  E_RATE_LIMITED: 2,
  E_KEY_PERMISSIONS: 3,
  E_CA: 3,
  E_DB: 3,
  E_UNAUTHORIZED: 4,
  E_FORBIDDEN: 4,
  E_TOKEN_UNKNOWN: 4,
  E_TOKEN_USED: 4,
  E_TOKEN_EXPIRED: 4,
  E_SERIAL_MISMATCH: 4,
  E_CERT_REQUIRED: 4,
  E_CERT_REVOKED: 4,
  E_FLEET_UNREACHABLE: 5,
  E_TLS: 5,
  E_NOT_FOUND: 6,
  E_DEVICE_RETIRED: 6,
  E_DEVICE_WIPED: 6,
  E_CONFLICT: 6,
};

export class FleetError extends PlugsrvError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(code, message, options);
    this.name = 'FleetError';
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(HTTP_STATUS, code);
}

export function httpStatusOf(err: unknown): number {
  return err instanceof FleetError ? HTTP_STATUS[err.code] : 500;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof FleetError ? (EXIT_CODE[err.code] ?? 1) : 1;
}
