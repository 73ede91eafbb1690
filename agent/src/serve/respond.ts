// Writes JSON bodies and JSON errors `{code, message}`: every error the serve role sends goes through here.
import type { ServerResponse } from 'node:http';
import { isPlugsrvError } from '../../../lib/errors.js';
import { ErrorCode, httpStatusOf } from '../errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(headOnly ? undefined : text);
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** Maps any thrown value to a status and body. Unknown errors are 500 with a message that leaks nothing. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isPlugsrvError(err)) return { status: httpStatusOf(err), body: { code: err.code, message: err.message } };
  return { status: 500, body: { code: ErrorCode.INTERNAL, message: 'internal error; the server log has the details.' } };
}

/** The raw HTTP/1.1 bytes of a JSON error, for sockets the HTTP parser has already given up on. */
export function rawErrorResponse(status: number, reason: string, body: ErrorBody): string {
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`
  );
}
