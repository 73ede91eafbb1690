// Plain-HTTP GETs over kept-alive sockets for the downloader, with undici's dispatch-handler interface.
//
// Why not undici here: on plain HTTP at LAN speed the client is CPU-bound, and undici's parser (llhttp compiled
// to WebAssembly) copies every received byte into its memory before handing out the body. Reading the socket
// and slicing the body ourselves costs less than half the user CPU per byte (2 GiB received and written: 0.6-0.7 s
// against 1.4-1.6 s; docs/PERFORMANCE.md). Only what
// the downloader needs is here: GET, Content-Length or chunked bodies, keep-alive, a connection limit per
// origin, timeouts, pause and resume. HTTPS stays with undici (see dispatcher.ts).
import net from 'node:net';
import type { Dispatcher } from 'undici';
import { ChunkedDecoder, Http1ParseError, bodyFraming, keepsAlive, parseResponseHead, requestHead, type BodyFraming, type ResponseHead } from './http1-parse.js';

/** A failure of the connection or the exchange itself (not of the HTTP status); `code` says which. */
export class Http1Error extends Error {
  constructor(
    message: string,
    readonly code: 'HTTP1_CLOSED' | 'HTTP1_HEADERS_TIMEOUT' | 'HTTP1_BODY_TIMEOUT' | 'HTTP1_CONNECT_TIMEOUT' | 'HTTP1_CLIENT_CLOSED',
  ) {
    super(message);
    this.name = 'Http1Error';
  }
}

export interface Http1ClientOptions {
  /** Connections per origin (host and port); requests beyond wait their turn. */
  connections: number;
  connectTimeoutMs?: number;
  /** How long an idle kept-alive connection is kept. */
  keepAliveMs?: number;
}

/** The part of undici's DispatchOptions the downloader uses. */
export interface GetOptions {
  origin: string | URL;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  headersTimeout?: number;
  bodyTimeout?: number;
}

type Handler = Dispatcher.DispatchHandler;

/** One kept-alive socket and the exchange it carries, if any. */
interface Connection {
  socket: net.Socket;
  exchange: Exchange | undefined;
  /** Requests this socket carried before the current one (a stale kept-alive socket fails only those). */
  served: number;
}

/** Per origin: idle sockets, how many are open, and the requests waiting for one. */
interface OriginPool {
  host: string;
  port: number;
  hostHeader: string;
  idle: Connection[];
  open: number;
  waiting: Exchange[];
}

/**
 * True when `ex` went out on a kept-alive socket and the origin closed it before any byte of the answer: the
 * origin's idle timeout won the race, and a GET is safe to send again on a new connection.
 */
function sentOnStaleSocket(conn: Connection, ex: Exchange): boolean {
  return conn.served > 0 && ex.received === 0;
}

/** One GET and its response, on one connection; also the controller its handler pauses, resumes and aborts. */
class Exchange implements Dispatcher.DispatchController {
  conn: Connection | undefined;
  private head: ResponseHead | undefined;
  private framing: BodyFraming = { kind: 'none' };
  private headBuf: Buffer | undefined;
  private left = 0;
  private chunked: ChunkedDecoder | undefined;
  /** Received while paused, to deliver on resume. */
  private held: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastData = 0;
  private finished = false;
  /** Bytes of any response received on this exchange (a stale reused socket fails before the first). */
  received = 0;
  aborted = false;
  paused = false;
  reason: Error | null = null;

  constructor(
    readonly opts: GetOptions,
    /** The request head, checked before the exchange was queued. */
    private readonly requestText: string,
    readonly handler: Handler,
    private readonly client: Http1Client,
    readonly pool: OriginPool,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  /** Writes the request on `conn` and starts the headers timer. */
  start(conn: Connection): void {
    this.conn = conn;
    conn.exchange = this;
    conn.socket.resume();
    this.armHeaders();
    conn.socket.write(this.requestText);
  }

  private armHeaders(): void {
    const ms = this.opts.headersTimeout ?? 300_000;
    this.arm(ms, () => this.fail(new Http1Error(`no response head within ${ms} ms`, 'HTTP1_HEADERS_TIMEOUT')));
  }

  pause(): void {
    if (this.finished || this.paused) return;
    this.paused = true;
    this.conn?.socket.pause();
    this.disarm(); // the body timeout counts the origin's silence, not ours
  }

  resume(): void {
    if (this.finished || !this.paused) return;
    this.paused = false;
    // First the decoded body bytes a pause held back, then the raw input that came with or after them.
    while (this.pending.length > 0) {
      this.handler.onResponseData?.(this, this.pending.shift() as Buffer);
      if (this.finished || this.paused) return;
    }
    if (this.chunked?.done) {
      this.end(this.tailReusable);
      return;
    }
    const held = this.held;
    this.held = [];
    for (let i = 0; i < held.length; i++) {
      this.feed(held[i] as Buffer);
      if (this.finished) return;
      if (this.paused) {
        this.held.push(...held.slice(i + 1));
        return;
      }
    }
    if (this.head) this.armBody();
    else if (this.conn) this.armHeaders(); // paused before the head: its wait starts again
    this.conn?.socket.resume();
  }

  abort(reason: Error): void {
    if (this.finished) return;
    this.aborted = true;
    this.reason = reason;
    this.fail(reason);
  }

  /** Bytes from the socket. */
  feed(input: Buffer): void {
    if (this.finished) return;
    if (this.paused) {
      this.held.push(Buffer.from(input)); // the read buffer is reused by the next read
      return;
    }
    this.received += input.length;
    let buf = input;
    try {
      while (!this.head) {
        buf = this.headBuf ? Buffer.concat([this.headBuf, buf]) : buf;
        this.headBuf = undefined;
        const head = parseResponseHead(buf);
        if (!head) {
          this.headBuf = Buffer.from(buf);
          return;
        }
        buf = buf.subarray(head.length);
        if (head.statusCode >= 100 && head.statusCode < 200) {
          if (head.statusCode === 101) throw new Http1ParseError('the origin switched protocols (HTTP 101), which was not asked for');
          continue; // an informational answer: the real one follows
        }
        this.head = head;
        this.framing = bodyFraming(head);
        if (this.framing.kind === 'length') this.left = this.framing.bytes;
        if (this.framing.kind === 'chunked') this.chunked = new ChunkedDecoder();
        this.handler.onResponseStart?.(this, head.statusCode, head.headers, head.statusMessage);
        if (this.finished) return;
        if (this.framing.kind === 'none' || (this.framing.kind === 'length' && this.left === 0)) {
          this.end(buf.length === 0);
          return;
        }
        this.armBody();
        if (buf.length === 0) return;
        if (this.paused) {
          this.held.push(Buffer.from(buf));
          return;
        }
      }
      this.body(buf);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Body bytes of the current response (the exchange is not paused). */
  private body(buf: Buffer): void {
    this.lastData = Date.now();
    if (this.framing.kind === 'length') {
      const take = Math.min(this.left, buf.length);
      this.left -= take;
      this.handler.onResponseData?.(this, take === buf.length ? buf : buf.subarray(0, take));
      // Bytes past the body, on a connection we never pipeline on: the framing is broken, the socket is not reused.
      if (this.left === 0 && !this.finished) this.end(take === buf.length);
      return;
    }
    if (this.framing.kind === 'close') {
      this.handler.onResponseData?.(this, buf);
      return;
    }
    const decoder = this.chunked as ChunkedDecoder;
    const { data, used } = decoder.push(buf);
    this.tailReusable = used === buf.length;
    for (let i = 0; i < data.length; i++) {
      this.handler.onResponseData?.(this, data[i] as Buffer);
      if (this.finished) return;
      if (this.paused) {
        // The decoder's views point into the read buffer, which the next read reuses: copied, delivered on resume.
        this.pending = data.slice(i + 1).map((d) => Buffer.from(d));
        return; // a decoder already done ends the exchange on resume
      }
    }
    if (decoder.done) this.end(this.tailReusable);
  }

  /** Decoded body bytes held back by a pause in the middle of one input. */
  private pending: Buffer[] = [];
  /** The chunked body ended exactly at the end of its input (nothing pipelined after it). */
  private tailReusable = true;

  /** The socket ended (the origin closed its side). */
  closed(err?: Error): void {
    if (this.finished) return;
    if (this.head && this.framing.kind === 'close' && !err) {
      this.end(false);
      return;
    }
    const what = this.head ? `after ${this.receivedBody()} bytes of the body` : 'before a complete response head';
    this.fail(err ?? new Http1Error(`the origin closed the connection ${what}`, 'HTTP1_CLOSED'));
  }

  private receivedBody(): string {
    return this.framing.kind === 'length' ? `${(this.framing.bytes - this.left).toString()} of ${this.framing.bytes.toString()}` : 'some';
  }

  private end(reusable: boolean): void {
    this.finished = true;
    this.disarm();
    const conn = this.conn;
    const keep = reusable && this.head !== undefined && keepsAlive(this.head, this.framing);
    if (conn) this.client.release(this.pool, conn, keep);
    this.handler.onResponseEnd?.(this, {});
  }

  fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.disarm();
    this.held = [];
    this.pending = [];
    if (this.conn) this.client.release(this.pool, this.conn, false);
    else this.client.unqueue(this.pool, this);
    this.handler.onResponseError?.(this, err instanceof Error ? err : new Error(String(err)));
  }

  private armBody(): void {
    const ms = this.opts.bodyTimeout ?? 300_000;
    if (ms <= 0) return;
    this.lastData = Date.now();
    const check = (): void => {
      const quiet = Date.now() - this.lastData;
      if (quiet >= ms) this.fail(new Http1Error(`no body bytes for ${ms} ms`, 'HTTP1_BODY_TIMEOUT'));
      else this.arm(ms - quiet, check);
    };
    this.arm(ms, check);
  }

  private arm(ms: number, fire: () => void): void {
    this.disarm();
    if (ms > 0) this.timer = setTimeout(fire, ms).unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A plain-HTTP client for GETs, implementing the `dispatch(options, handler)` of undici's Dispatcher with its
 * new handler API (onRequestStart, onResponseStart, onResponseData, onResponseEnd, onResponseError).
 */
export class Http1Client {
  private readonly pools = new Map<string, OriginPool>();
  private closing = false;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;

  constructor(private readonly options: Http1ClientOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.keepAliveMs = options.keepAliveMs ?? 4_000;
  }

  dispatch(opts: GetOptions, handler: Handler): boolean {
    const origin = typeof opts.origin === 'string' ? new URL(opts.origin) : opts.origin;
    if (origin.protocol !== 'http:') throw new TypeError(`Http1Client speaks plain HTTP only, not ${origin.protocol}`);
    if ((opts.method ?? 'GET') !== 'GET') throw new TypeError('Http1Client sends GET requests only');
    const pool = this.poolOf(origin);
    let requestText: string;
    try {
      requestText = requestHead(opts.path, pool.hostHeader, opts.headers ?? {});
    } catch (err) {
      const refused = new Exchange(opts, '', handler, this, pool);
      handler.onRequestStart?.(refused, {});
      refused.fail(err);
      return true;
    }
    const ex = new Exchange(opts, requestText, handler, this, pool);
    handler.onRequestStart?.(ex, {});
    if (ex.done) return true;
    if (this.closing) {
      ex.fail(new Http1Error('the HTTP client is closed', 'HTTP1_CLIENT_CLOSED'));
      return true;
    }
    pool.waiting.push(ex);
    this.pump(pool);
    return true;
  }

  /** Ends every connection now; exchanges in flight fail. */
  async destroy(): Promise<void> {
    this.closing = true;
    for (const pool of this.pools.values()) {
      for (const ex of pool.waiting.splice(0)) ex.fail(new Http1Error('the HTTP client was closed', 'HTTP1_CLIENT_CLOSED'));
      for (const conn of pool.idle.splice(0)) conn.socket.destroy();
    }
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private readonly sockets = new Set<net.Socket>();
  /**
   * Every socket of this client reads into this one buffer (`onread`): no fresh memory per read. A read is handed
   * to its exchange at once, so the handler's chunk is valid only during onResponseData; whatever must outlive
   * the call is copied (Transfer copies into its write buffers).
   */
  private readonly readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

  private poolOf(origin: URL): OriginPool {
    const port = Number(origin.port || 80);
    const host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    const key = `${host}:${port}`;
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = { host, port, hostHeader: origin.host, idle: [], open: 0, waiting: [] }));
    return pool;
  }

  /** Gives waiting requests an idle connection, or opens one while under the limit. */
  private pump(pool: OriginPool): void {
    while (pool.waiting.length > 0) {
      const idle = pool.idle.pop();
      if (idle) {
        idle.socket.setTimeout(0);
        (pool.waiting.shift() as Exchange).start(idle);
        continue;
      }
      if (pool.open >= Math.max(1, this.options.connections)) return;
      this.connect(pool, pool.waiting.shift() as Exchange);
    }
  }

  private connect(pool: OriginPool, first: Exchange): void {
    pool.open++;
    const onBytes = (n: number, buf: Uint8Array): boolean => {
      const ex = conn.exchange;
      if (!ex) {
        socket.destroy(); // bytes nobody asked for on an idle connection: it cannot be trusted any more
        return false;
      }
      ex.feed(Buffer.from(buf.buffer, buf.byteOffset, n));
      return !(conn.exchange?.paused ?? false); // false stops reading, as pause() did
    };
    const socket = net.connect({ host: pool.host, port: pool.port, noDelay: true, onread: { buffer: this.readBuffer, callback: onBytes } });
    this.sockets.add(socket);
    const conn: Connection = { socket, exchange: undefined, served: 0 };
    const timer = setTimeout(() => socket.destroy(new Http1Error(`no connection to ${pool.host}:${pool.port} within ${this.connectTimeoutMs} ms`, 'HTTP1_CONNECT_TIMEOUT')), this.connectTimeoutMs).unref();
    conn.exchange = first;
    first.conn = conn;
    socket.once('connect', () => {
      clearTimeout(timer);
      if (!first.done) first.start(conn);
      else this.release(pool, conn, false);
    });
    socket.on('timeout', () => socket.destroy()); // an idle kept-alive connection past keepAliveMs
    socket.on('error', () => {}); // reported by 'close' below, with the error
    socket.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
      pool.open--;
      const idleAt = pool.idle.indexOf(conn);
      if (idleAt >= 0) pool.idle.splice(idleAt, 1);
      const ex = conn.exchange;
      conn.exchange = undefined;
      const err = (socket as net.Socket & { errored?: Error | null }).errored ?? undefined;
      if (ex && !ex.done) {
        if (sentOnStaleSocket(conn, ex) && !this.closing) {
          ex.conn = undefined;
          pool.waiting.unshift(ex);
        } else ex.closed(err);
      }
      if (!this.closing) this.pump(pool);
    });
    socket.on('end', () => {
      const ex = conn.exchange;
      if (ex && !ex.done && !sentOnStaleSocket(conn, ex)) ex.closed(); // a stale socket's request goes out again at 'close'
      socket.end();
    });
  }

  /** An exchange is over: keep its socket for the next request, or end it. */
  release(pool: OriginPool, conn: Connection, keep: boolean): void {
    if (conn.exchange === undefined) return;
    conn.exchange = undefined;
    conn.served++;
    if (!keep || this.closing || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    if (pool.waiting.length > 0) {
      (pool.waiting.shift() as Exchange).start(conn);
      return;
    }
    conn.socket.resume(); // an idle socket still reads, to see the origin close it
    conn.socket.setTimeout(this.keepAliveMs);
    pool.idle.push(conn);
  }

  /** A request failed before it had a connection. */
  unqueue(pool: OriginPool, ex: Exchange): void {
    const at = pool.waiting.indexOf(ex);
    if (at >= 0) pool.waiting.splice(at, 1);
  }
}
