// What can go wrong in a transfer, and which of it is worth another try: transient faults, restarts from zero, final errors.
import { systemErrorCode } from '../../../../lib/errors.js';
import { AgentError, ErrorCode } from '../../errors.js';

/** The code for "the origin or the network failed the download". */
export const DOWNLOAD_FAILED = ErrorCode.DOWNLOAD;

/** A transient fault of one request (bad framing, 5xx, 429, short body): retried with backoff. */
export class TransferFault extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** The code to fail with if retries run out on this fault (default E_DOWNLOAD). */
    readonly finalCode?: ErrorCode,
  ) {
    super(message);
    this.name = 'TransferFault';
  }
}

/** The origin ignored a resume (200 to a Range/If-Range) or the file changed: the partial must restart from byte 0. */
export class RestartFromZero extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestartFromZero';
  }
}

/** Network and HTTP-layer errors (undici's and the socket's) that a new connection may not meet again. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
  // Http1Client's (plain HTTP); its parse errors start with HPE_ like llhttp's.
  'HTTP1_CLOSED',
  'HTTP1_HEADERS_TIMEOUT',
  'HTTP1_BODY_TIMEOUT',
  'HTTP1_CONNECT_TIMEOUT',
]);

export function isTransient(err: unknown): boolean {
  if (err instanceof TransferFault) return true;
  if (err instanceof AgentError) return false;
  const code = systemErrorCode(err);
  if (code === undefined) return false;
  return TRANSIENT_CODES.has(code) || code.startsWith('HPE_');
}

/** A one-line account of an error for logs and final messages. */
export function describe(err: unknown): string {
  const code = systemErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** Local disk errors while writing the partial file: never retried, named for what the operator must do. */
export function diskError(err: unknown, path: string): unknown {
  if (err instanceof AgentError) return err;
  const code = systemErrorCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AgentError(ErrorCode.DISK_FULL, `the disk holding ${path} is full; the download stopped and will resume from its last checkpoint once space is freed.`, { cause: err });
  }
  if (code !== undefined && !isTransient(err)) {
    return new AgentError(ErrorCode.STORE_IO, `cannot write the partial download ${path}: ${describe(err)}. Check the disk and its permissions.`, { cause: err });
  }
  return err;
}

export function downloadFailed(message: string, details: Record<string, unknown>, cause?: unknown): AgentError {
  if (cause instanceof TransferFault && cause.finalCode) return new AgentError(cause.finalCode, message, { cause, details });
  return new AgentError(DOWNLOAD_FAILED, message, { cause, details });
}

/** The partial file could not be read back to hash it (EIO, a vanished or truncated file): a disk or store fault, never retried. */
export function hashReadError(err: unknown, path: string): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError(ErrorCode.STORE_IO, `cannot read the partial download ${path} back to check its sha256: ${describe(err)}. Check the disk; the download resumes from its last checkpoint once it is readable.`, { cause: err });
}
