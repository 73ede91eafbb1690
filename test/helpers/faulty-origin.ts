// A real HTTP origin on 127.0.0.1 serving generated files with Range/206/ETag/If-Range, plus per-request fault injection.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type Fault =
  /** Send the headers and `afterBytes` body bytes, then reset the TCP connection. */
  | { kind: 'reset'; afterBytes: number }
  /** Answer `status` (e.g. 503 or 500) with an optional Retry-After. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Send `bytes` bytes, then go silent for `ms` before going on. */
  | { kind: 'stall'; bytes: number; ms: number }
  /** Close the connection after `afterBytes` although Content-Length promised the full span. */
  | { kind: 'truncate'; afterBytes: number }
  /** Announce a Content-Length off by `delta` (the body follows the announced length). */
  | { kind: 'wrong-length'; delta: number }
  /** Chunked, no Content-Length, and `extra` more bytes than the span. */
  | { kind: 'overflow'; extra: number }
  /** Serve the right length with flipped bytes. */
  | { kind: 'wrong-bytes' }
  /** Answer 200 with the whole file whatever the Range. */
  | { kind: 'ignore-range' };

export interface Served {
  data: Buffer;
  sha256: string;
  etag: string;
}

export interface RequestRecord {
  path: string;
  range?: string;
  ifRange?: string;
  /** The first byte the request asked for (0 without Range). */
  from: number;
  status: number;
  bytesSent: number;
  fault?: Fault['kind'];
}

interface Injection {
  fault: Fault;
  when: (r: { from: number; hasRange: boolean }) => boolean;
}

export interface Pacing {
  chunkBytes: number;
  delayMs: number;
}

export class FaultyOrigin {
  readonly files = new Map<string, Served>();
  readonly requests: RequestRecord[] = [];
  /** Connections with a request in flight, now and at most so far. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly busy = new Map<Socket, number>();
  pacing: Pacing | undefined;
  /** Once this many body bytes were sent in all, further bytes wait until it is raised or cleared (a client can never finish). */
  holdAfterBytes: number | undefined;
  /** Faults with `persistent` apply to every matching request; the others to one request each, in order. */
  private queue: Injection[] = [];
  private persistent: Injection[] = [];
  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<FaultyOrigin> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = new FaultyOrigin(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => void origin.handle(req, res));
    return origin;
  }

  /** Serves `size` random bytes (or `data`) at /name; returns the URL and the expected hash. */
  add(name: string, sizeOrData: number | Buffer): Served & { url: string } {
    const data = typeof sizeOrData === 'number' ? randomBytes(sizeOrData) : sizeOrData;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const served = { data, sha256, etag: `"${sha256.slice(0, 16)}"` };
    this.files.set(`/${name}`, served);
    return { ...served, url: `${this.base}/${name}` };
  }

  /** The next request matching `when` (default: any) suffers `fault`; `times` requests in a row when given. */
  inject(fault: Fault, options: { times?: number; when?: Injection['when']; always?: boolean } = {}): void {
    const entry = { fault, when: options.when ?? (() => true) };
    if (options.always) this.persistent.push(entry);
    else for (let i = 0; i < (options.times ?? 1); i++) this.queue.push(entry);
  }

  clearFaults(): void {
    this.queue = [];
    this.persistent = [];
  }

  bytesSent(): number {
    return this.requests.reduce((n, r) => n + r.bytesSent, 0);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(from: number, hasRange: boolean): Fault | undefined {
    const hit = this.persistent.find((i) => i.when({ from, hasRange }));
    if (hit) return hit.fault;
    const idx = this.queue.findIndex((i) => i.when({ from, hasRange }));
    if (idx < 0) return undefined;
    return this.queue.splice(idx, 1)[0]?.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Counted per connection: a kept-alive client may send its next request as soon as it has the body, before
    // this handler ended the response (pacing), and that request is no extra connection.
    const socket = req.socket;
    this.busy.set(socket, (this.busy.get(socket) ?? 0) + 1);
    this.inFlight = this.busy.size;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => {
      const n = (this.busy.get(socket) ?? 1) - 1;
      if (n > 0) this.busy.set(socket, n);
      else this.busy.delete(socket);
      this.inFlight = this.busy.size;
    });
    const file = this.files.get(req.url ?? '');
    const range = parseRange(req.headers.range, file?.data.length ?? 0);
    const record: RequestRecord = { path: req.url ?? '', range: req.headers.range, ifRange: header(req, 'if-range'), from: range?.start ?? 0, status: 0, bytesSent: 0 };
    this.requests.push(record);
    if (!file) return void res.writeHead((record.status = 404)).end();
    const fault = this.takeFault(record.from, range !== undefined);
    record.fault = fault?.kind;
    await this.respond(file, req, res, record, fault).catch(() => res.destroy());
  }

  private async respond(file: Served, req: IncomingMessage, res: ServerResponse, record: RequestRecord, fault: Fault | undefined): Promise<void> {
    if (fault?.kind === 'status') {
      record.status = fault.status;
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}).end('try later');
      return;
    }
    const ifRange = header(req, 'if-range');
    const honour = fault?.kind !== 'ignore-range' && (ifRange === undefined || ifRange === file.etag);
    const range = honour ? parseRange(req.headers.range, file.data.length) : undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? file.data.length;
    let body = file.data.subarray(start, end);
    if (fault?.kind === 'wrong-bytes') body = Buffer.from(body.map((b) => b ^ 0xff));
    const headers: Record<string, string> = { etag: file.etag, 'accept-ranges': 'bytes' };
    if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${file.data.length}`;
    if (fault?.kind === 'overflow') {
      body = Buffer.concat([body, randomBytes(fault.extra)]);
    } else {
      const delta = fault?.kind === 'wrong-length' ? fault.delta : 0;
      headers['content-length'] = String(body.length + delta);
      if (delta < 0) body = body.subarray(0, body.length + delta);
      if (delta > 0) body = Buffer.concat([body, randomBytes(delta)]);
    }
    record.status = range ? 206 : 200;
    res.writeHead(record.status, headers);
    await this.sendBody(res, body, record, fault);
  }

  private async sendBody(res: ServerResponse, body: Buffer, record: RequestRecord, fault: Fault | undefined): Promise<void> {
    const step = this.pacing?.chunkBytes ?? 64 * 1024;
    const cutAt = fault?.kind === 'reset' || fault?.kind === 'truncate' ? fault.afterBytes : Infinity;
    for (let off = 0; off < body.length; off += step) {
      if (res.destroyed) return;
      const chunk = body.subarray(off, Math.min(off + step, body.length, cutAt));
      if (chunk.length === 0) break;
      while (this.holdAfterBytes !== undefined && this.bytesSent() >= this.holdAfterBytes && !res.destroyed) await delay(10);
      if (res.destroyed) return;
      record.bytesSent += chunk.length;
      if (!res.write(chunk)) await untilEvent(res, 'drain');
      if (fault?.kind === 'stall' && off < fault.bytes && off + step >= fault.bytes) await Promise.race([delay(fault.ms), untilEvent(res, 'close')]);
      if (this.pacing) await delay(this.pacing.delayMs);
      if (off + chunk.length >= cutAt) break;
    }
    if (fault?.kind === 'reset') return void res.socket?.resetAndDestroy();
    if (fault?.kind === 'truncate') return void res.socket?.destroy();
    res.end();
  }
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { start: Math.max(0, size - Number(m[2])), end: size };
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  return start < end ? { start, end } : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves on `event` or when the response closes, whichever comes first, leaving no listener behind. */
function untilEvent(res: ServerResponse, event: 'drain' | 'close'): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off(event, done).off('close', done);
      resolve();
    };
    res.on(event, done).on('close', done);
  });
}
