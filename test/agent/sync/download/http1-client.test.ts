// Http1Client against scripted raw-socket servers on 127.0.0.1: keep-alive, the connection limit, chunked bodies,
// pause and resume, timeouts, stale sockets, broken framing, abort and destroy.
import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import type { Dispatcher } from 'undici';
import { Http1Client } from '../../../../agent/src/sync/download/http1-client.js';

interface Server {
  url: string;
  /** Request heads received, in order. */
  requests: string[];
  /** TCP connections accepted. */
  connections: () => number;
  /** Most connections open at once. */
  peak: () => number;
}

/** A server that calls `answer` for each request head read on a connection (keep-alive: several per socket). */
async function serve(t: { teardown(fn: () => unknown): void }, answer: (socket: net.Socket, request: string, index: number) => void): Promise<Server> {
  const requests: string[] = [];
  let connections = 0;
  let open = 0;
  let peak = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    open++;
    peak = Math.max(peak, open);
    sockets.add(socket);
    socket.on('close', () => {
      open--;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const request = buf.slice(0, end);
        buf = buf.slice(end + 4);
        requests.push(request);
        answer(socket, request, requests.length - 1);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, connections: () => connections, peak: () => peak };
}

interface Got {
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
}

interface GetOpts {
  path?: string;
  headers?: Record<string, string>;
  headersTimeout?: number;
  bodyTimeout?: number;
  /** Pause after each body chunk and resume after this many ms. */
  pauseMs?: number;
  /** Abort after this many body bytes. */
  abortAfter?: number;
}

function get(client: Http1Client, url: string, o: GetOpts = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: Record<string, unknown> = {};
    let got = 0;
    const handler: Dispatcher.DispatchHandler = {
      onResponseStart(_c, s, h) {
        status = s;
        headers = h;
      },
      onResponseData(c, chunk) {
        chunks.push(Buffer.from(chunk));
        got += chunk.length;
        if (o.abortAfter !== undefined && got >= o.abortAfter) c.abort(new Error('enough'));
        else if (o.pauseMs !== undefined) {
          c.pause();
          setTimeout(() => c.resume(), o.pauseMs);
        }
      },
      onResponseEnd() {
        resolve({ status, headers, body: Buffer.concat(chunks) });
      },
      onResponseError(_c, err) {
        reject(err);
      },
    };
    client.dispatch({ origin: url, path: o.path ?? '/', method: 'GET', headers: o.headers ?? {}, headersTimeout: o.headersTimeout ?? 5000, bodyTimeout: o.bodyTimeout ?? 5000 }, handler);
  });
}

/** A client of one connection per origin, destroyed at the end of the test. */
function clientOf(t: { teardown(fn: () => unknown): void }, connections = 1): Http1Client {
  const client = new Http1Client({ connections });
  t.teardown(() => client.destroy());
  return client;
}

/** Two GETs get `body` each, over two connections: the first socket was not reused. */
async function twiceOnTwoSockets(tt: Pick<typeof t, 'equal'>, client: Http1Client, s: Server, body: string): Promise<void> {
  tt.equal((await get(client, s.url)).body.toString(), body);
  tt.equal((await get(client, s.url)).body.toString(), body);
  tt.equal(s.connections(), 2, 'the first connection was not used again');
}

function ok(socket: net.Socket, body: Buffer | string, extra = ''): void {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n${extra}\r\n`);
  socket.write(data);
}

t.test('keep-alive: sequential requests share one connection, with the path and headers sent', async (t) => {
  const s = await serve(t, (socket, _r, i) => ok(socket, `body ${i}`));
  const client = clientOf(t);
  for (let i = 0; i < 3; i++) t.equal((await get(client, s.url, { path: `/f?i=${i}`, headers: { range: 'bytes=0-4' } })).body.toString(), `body ${i}`);
  t.equal(s.connections(), 1, 'one TCP connection for three requests');
  t.match(s.requests[2], /^GET \/f\?i=2 HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\nrange: bytes=0-4$/);
});

t.test('the connection limit holds per origin; every request is answered', async (t) => {
  const s = await serve(t, (socket, _r, i) => setTimeout(() => ok(socket, Buffer.alloc(100_000, i)), 20));
  const client = clientOf(t, 2);
  const all = await Promise.all(Array.from({ length: 8 }, () => get(client, s.url)));
  t.equal(all.length, 8);
  for (const r of all) t.equal(r.body.length, 100_000);
  t.equal(s.peak(), 2, 'never more than 2 connections at once');
  t.equal(s.connections(), 2, 'and they were reused');
});

t.test('a large body paused after every chunk arrives whole; pauses do not count as the origin being silent', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
  const s = await serve(t, (socket) => ok(socket, big));
  const client = clientOf(t);
  const r = await get(client, s.url, { pauseMs: 1 });
  t.ok(r.body.equals(big), '4 MiB, byte for byte');
  const slow = await get(client, s.url, { pauseMs: 150, bodyTimeout: 100, abortAfter: Infinity }).catch((err: Error) => err);
  t.notOk(slow instanceof Error, `paused 150 ms per chunk with a 100 ms body timeout: no timeout (${slow instanceof Error ? slow.message : 'ok'})`);
});

t.test('chunked bodies, paused mid-input, decode whole; the connection is reused after them', async (t) => {
  const s = await serve(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    socket.write('3\r\nabc\r\n4\r\ndefg\r\n1;x=y\r\nh\r\n0\r\nT: 1\r\n\r\n');
  });
  const client = clientOf(t);
  t.equal((await get(client, s.url, { pauseMs: 5 })).body.toString(), 'abcdefgh');
  t.equal((await get(client, s.url)).body.toString(), 'abcdefgh');
  t.equal(s.connections(), 1);
});

t.test('1xx answers are skipped; the real status is reported', async (t) => {
  const s = await serve(t, (socket) => {
    socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    setTimeout(() => ok(socket, 'done'), 10);
  });
  const client = clientOf(t);
  const r = await get(client, s.url);
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'done');
});

t.test('a kept-alive socket the origin closed as the next GET went out: it goes out again on a new connection', async (t) => {
  // The second request lands on the kept-alive socket and the origin drops it unanswered, as when its idle
  // timeout fires at the same moment: a GET is safe to repeat, so the caller never sees it.
  const s = await serve(t, (socket, _r, i) => (i === 1 ? socket.destroy() : ok(socket, `n${i}`)));
  const client = clientOf(t);
  t.equal((await get(client, s.url)).body.toString(), 'n0');
  t.equal((await get(client, s.url)).body.toString(), 'n2', 'answered by the third request, on a new connection');
  t.equal(s.connections(), 2);
  // Not on a fresh connection: there, a close before the answer is the origin's failure.
  const fresh = await serve(t, (socket) => socket.destroy());
  await t.rejects(get(client, fresh.url), { code: 'HTTP1_CLOSED', message: /before a complete response head/ });
  t.equal(fresh.requests.length, 1, 'sent once');
});

t.test('no response head in time: HTTP1_HEADERS_TIMEOUT', async (t) => {
  const s = await serve(t, () => {});
  const client = clientOf(t);
  await t.rejects(get(client, s.url, { headersTimeout: 100 }), { code: 'HTTP1_HEADERS_TIMEOUT', message: /no response head within 100 ms/ });
});

t.test('a body that stalls: HTTP1_BODY_TIMEOUT', async (t) => {
  const s = await serve(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  const client = clientOf(t);
  await t.rejects(get(client, s.url, { bodyTimeout: 100 }), { code: 'HTTP1_BODY_TIMEOUT' });
});

t.test('the origin closing mid-body: HTTP1_CLOSED, saying how far it got', async (t) => {
  const s = await serve(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    setTimeout(() => socket.end(), 10);
  });
  const client = clientOf(t);
  await t.rejects(get(client, s.url), { code: 'HTTP1_CLOSED', message: /after 3 of 10 bytes of the body/ });
});

t.test('a reset mid-body fails with the socket error', async (t) => {
  const s = await serve(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    setTimeout(() => socket.resetAndDestroy(), 10);
  });
  const client = clientOf(t);
  await t.rejects(get(client, s.url), { code: /ECONNRESET|HTTP1_CLOSED/ });
});

t.test('a body delimited by the close of an HTTP/1.0 connection ends there; the socket is not reused', async (t) => {
  const s = await serve(t, (socket) => {
    socket.write('HTTP/1.0 200 OK\r\n\r\nall of it');
    setTimeout(() => socket.end(), 10);
  });
  await twiceOnTwoSockets(t, clientOf(t), s, 'all of it');
});

t.test('bytes past the announced length are not delivered, and that socket is not used again', async (t) => {
  const s = await serve(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA'));
  await twiceOnTwoSockets(t, clientOf(t), s, 'abc');
});

t.test('a malformed response fails with a parse error code (retried by the downloader)', async (t) => {
  const s = await serve(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'));
  const client = clientOf(t);
  await t.rejects(get(client, s.url), { code: 'HPE_PLUGSRV_INVALID', message: /conflicting Content-Length/ });
});

t.test('abort mid-body: the handler hears the reason, the socket is dropped, the next request gets a new one', async (t) => {
  const s = await serve(t, (socket) => ok(socket, Buffer.alloc(1024 * 1024)));
  const client = clientOf(t);
  await t.rejects(get(client, s.url, { abortAfter: 1 }), { message: 'enough' });
  t.equal((await get(client, s.url)).body.length, 1024 * 1024);
  t.equal(s.connections(), 2);
});

t.test('refused connections and a closed client fail clearly', async (t) => {
  const dead = net.createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const { port } = dead.address() as net.AddressInfo;
  dead.close();
  await once(dead, 'close');
  const client = new Http1Client({ connections: 1 });
  await t.rejects(get(client, `http://127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
  const s = await serve(t, () => {});
  const waiting = get(client, s.url);
  const queued = get(client, s.url);
  await new Promise((r) => setTimeout(r, 50));
  const settled = Promise.allSettled([waiting, queued]);
  await client.destroy();
  const [inFlight, inQueue] = await settled;
  t.match(inFlight, { status: 'rejected', reason: { code: 'HTTP1_CLOSED' } }, 'the request in flight fails');
  t.match(inQueue, { status: 'rejected', reason: { code: 'HTTP1_CLIENT_CLOSED' } }, 'the queued one too');
  await t.rejects(get(client, s.url), { code: 'HTTP1_CLIENT_CLOSED' });
  t.throws(() => client.dispatch({ origin: 'https://127.0.0.1', path: '/' }, {}), { message: /plain HTTP only/ });
});

t.test('a request that would not be valid HTTP is refused before anything is sent', async (t) => {
  const s = await serve(t, (socket) => ok(socket, 'x'));
  const client = clientOf(t);
  await t.rejects(get(client, s.url, { path: '/a\r\nX-Injected: 1' }), { code: 'HPE_PLUGSRV_INVALID', message: /not a valid origin-form target/ });
  await t.rejects(get(client, s.url, { headers: { range: 'bytes=0-1\r\nX-Injected: 1' } }), { code: 'HPE_PLUGSRV_INVALID' });
  t.equal(s.connections(), 0, 'no connection was even opened');
});
