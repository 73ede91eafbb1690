// Pure HTTP/1.1 response parsing for the plain-HTTP downloader: the response head, the body's framing, chunked decoding.

/** A response head: status, lower-cased header names (a repeated header becomes an array), where the body starts. */
export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  /** 1.0 or 1.1. */
  minorVersion: 0 | 1;
  headers: Record<string, string | string[]>;
  /** Bytes of the head, its final empty line included. */
  length: number;
}

/** How the body of a response ends. */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; bytes: number }
  | { kind: 'chunked' }
  /** Until the origin closes the connection (HTTP/1.0 style): the connection cannot be reused. */
  | { kind: 'close' };

/** A response that breaks HTTP/1.1's syntax or our limits; `code` is stable for logs and retry decisions. */
export class Http1ParseError extends Error {
  readonly code = 'HPE_PLUGSRV_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'Http1ParseError';
  }
}

/** Largest response head accepted (status line and headers): 64 KiB, as undici's default. */
export const MAX_HEAD_BYTES = 64 * 1024;

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Field values: visible characters, spaces, tabs and obs-text; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/**
 * Parses the response head at the start of `buf`. Returns undefined while the head is incomplete (feed more
 * bytes), throws Http1ParseError when it is malformed or longer than MAX_HEAD_BYTES.
 */
export function parseResponseHead(buf: Buffer): ResponseHead | undefined {
  const end = buf.indexOf(CRLF2);
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) throw new Http1ParseError(`the response head is longer than ${MAX_HEAD_BYTES} bytes`);
    return undefined;
  }
  if (end + 4 > MAX_HEAD_BYTES) throw new Http1ParseError(`the response head is longer than ${MAX_HEAD_BYTES} bytes`);
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const status = STATUS_LINE.exec(lines[0] ?? '');
  if (!status) throw new Http1ParseError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.includes('\n') || line.includes('\r')) throw new Http1ParseError('a bare CR or LF in the response head');
    if (line.startsWith(' ') || line.startsWith('\t')) throw new Http1ParseError('a folded header line (obs-fold), which HTTP/1.1 forbids in responses to us');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Http1ParseError(`a malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) throw new Http1ParseError(`a control character in the value of header ${name}`);
    const key = name.toLowerCase();
    const prev = headers[key];
    if (prev === undefined) headers[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[key] = [prev, value];
  }
  return {
    statusCode: Number(status[2]),
    statusMessage: status[3] ?? '',
    minorVersion: status[1] === '1' ? 1 : 0,
    headers,
    length: end + 4,
  };
}

function values(headers: Record<string, string | string[]>, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * How the body of `head` (the answer to a GET) is delimited (RFC 9112 section 6.3). Throws Http1ParseError on a
 * contradictory or invalid Content-Length, or a Transfer-Encoding other than chunked (we never ask for one).
 */
export function bodyFraming(head: ResponseHead): BodyFraming {
  const code = head.statusCode;
  if ((code >= 100 && code < 200) || code === 204 || code === 304) return { kind: 'none' };
  const te = values(head.headers, 'transfer-encoding').map((s) => s.toLowerCase());
  if (te.length > 0) {
    if (te.length === 1 && te[0] === 'chunked') return { kind: 'chunked' };
    throw new Http1ParseError(`Transfer-Encoding "${te.join(', ')}", which was not asked for (only chunked is accepted)`);
  }
  const cl = values(head.headers, 'content-length');
  if (cl.length === 0) return { kind: 'close' };
  if (cl.some((v) => v !== cl[0])) throw new Http1ParseError(`conflicting Content-Length values ${cl.join(', ')}`);
  const text = cl[0] as string;
  if (!/^\d{1,15}$/.test(text)) throw new Http1ParseError(`an invalid Content-Length "${text.slice(0, 20)}"`);
  return { kind: 'length', bytes: Number(text) };
}

/** True when the connection may carry another request after this response's body. */
export function keepsAlive(head: ResponseHead, framing: BodyFraming): boolean {
  if (framing.kind === 'close') return false;
  const connection = values(head.headers, 'connection').map((s) => s.toLowerCase());
  if (connection.includes('close')) return false;
  return head.minorVersion === 1 || connection.includes('keep-alive');
}

/** Longest chunk-size line accepted (size, extensions and CRLF). */
const MAX_CHUNK_LINE = 4096;
/** Largest trailer section accepted. */
const MAX_TRAILER_BYTES = 16 * 1024;

type ChunkState = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * Incremental decoder of a chunked body. push() takes the next bytes received and returns the body bytes they
 * carry (views into the input, no copy) and how many input bytes it used: once `done`, the rest of the input
 * belongs to the next response.
 */
export class ChunkedDecoder {
  private state: ChunkState = 'size';
  private remaining = 0;
  /** A partial size line or trailer carried over from the previous push. */
  private pending = '';

  get done(): boolean {
    return this.state === 'done';
  }

  push(input: Buffer): { data: Buffer[]; used: number } {
    const data: Buffer[] = [];
    let i = 0;
    while (i < input.length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, input.length - i);
        data.push(input.subarray(i, i + take));
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      const nl = input.indexOf(0x0a, i);
      const stop = nl < 0 ? input.length : nl + 1;
      this.pending += input.toString('latin1', i, stop);
      i = stop;
      if (nl < 0) {
        const limit = this.state === 'trailer' ? MAX_TRAILER_BYTES : MAX_CHUNK_LINE;
        if (this.pending.length > limit) throw new Http1ParseError(`a chunked-body ${this.state} line longer than ${limit} bytes`);
        continue;
      }
      const line = this.pending;
      this.pending = '';
      if (!line.endsWith('\r\n')) throw new Http1ParseError('a bare LF in a chunked body');
      const text = line.slice(0, -2);
      if (this.state === 'data-crlf') {
        if (text !== '') throw new Http1ParseError('chunk data longer than its announced size');
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(text);
        if (!size) throw new Http1ParseError(`an invalid chunk size line ${JSON.stringify(text.slice(0, 40))}`);
        this.remaining = parseInt(size[1] as string, 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.state === 'trailer') {
        // Trailer fields are read and dropped: nothing we use may come from them.
        if (text === '') this.state = 'done';
      }
    }
    return { data, used: i };
  }
}

/** The request head of a GET: the Host header first, then `headers` (checked: no CR, LF or NUL anywhere). */
export function requestHead(path: string, host: string, headers: Record<string, string>): string {
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw new Http1ParseError(`the request path ${JSON.stringify(path.slice(0, 80))} is not a valid origin-form target`);
  let head = `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || !/^[\t\x20-\x7e]*$/.test(value)) throw new Http1ParseError(`the request header ${JSON.stringify(name)} is not valid`);
    if (name.toLowerCase() === 'host') continue;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
