// JSON bodies and JSON errors `{code, message}`: every answer of the fleet's API goes through here.
import type { ServerResponse } from 'node:http';
import { isPlugsrvError } from '../../../lib/errors.js';
import { ErrorCode, httpStatusOf } from '../errors.js';

export interface ErrorBody {
  code: string;
  message: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** Maps any thrown value to a status and body. Unknown errors are 500 with a message that leaks nothing. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isPlugsrvError(err)) return { status: httpStatusOf(err), body: { code: err.code, message: err.message } };
  return { status: 500, body: { code: ErrorCode.INTERNAL, message: 'internal error; the fleet log has the details.' } };
}

/** The raw HTTP/1.1 bytes of a JSON error, for sockets the HTTP parser has given up on. */
export function rawErrorResponse(status: number, reason: string, body: ErrorBody): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}
