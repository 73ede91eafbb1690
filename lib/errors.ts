// Base class for every plugsrv error: a stable machine code plus a message that says what to do.

export interface ErrorDetails {
  readonly [key: string]: unknown;
}

export class PlugsrvError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlugsrvError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isPlugsrvError(err: unknown): err is PlugsrvError {
  return err instanceof PlugsrvError;
}

/** The errno-style code of a Node system error (ENOENT, ENOSPC, ...), if any. */
export function systemErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
