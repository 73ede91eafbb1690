// DownloadDispatcher: plain HTTP goes through Http1Client, HTTPS through undici with the system's trust (an
// untrusted certificate is refused).
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import type { Dispatcher } from 'undici';
import { DownloadDispatcher } from '../../../../agent/src/sync/download/dispatcher.js';
import { makeTestPki, opensslMissing } from '../../../helpers/pki.js';

function get(d: DownloadDispatcher, origin: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let body = '';
    // onRequestStart marks the new handler API for undici (as fetchRange's handler does).
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => {},
      onResponseStart: (_c, s) => void (status = s),
      onResponseData: (_c, chunk) => void (body += chunk.toString()),
      onResponseEnd: () => resolve({ status, body }),
      onResponseError: (_c, err) => reject(err),
    };
    d.dispatch({ origin, path: '/x', method: 'GET', headers, headersTimeout: 5000, bodyTimeout: 5000 }, handler);
  });
}

t.test('plain HTTP is answered through our own client', async (t) => {
  // A bare socket server: the request head it receives is the one Http1Client writes (lower-case host first).
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    socket.once('data', (d: Buffer) => {
      heads.push(d.toString('latin1'));
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const d = new DownloadDispatcher(2);
  t.teardown(() => d.destroy());
  t.same(await get(d, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`), { status: 200, body: 'ok' });
  t.match(heads[0], /^GET \/x HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n\r\n$/);
});

t.test('HTTPS goes through undici, which refuses a certificate the system does not trust', async (t) => {
  const missing = await opensslMissing();
  if (missing) return t.plan(0, missing);
  const pki = await makeTestPki(t);
  let connections = 0;
  let served = 0;
  const server = https.createServer({ cert: pki.selfSigned.cert, key: pki.selfSigned.key }, (_req, res) => {
    served++;
    res.end('never');
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const d = new DownloadDispatcher(2);
  t.teardown(() => d.destroy());
  await t.rejects(get(d, `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`), { code: /CERT|SELF_SIGNED|ALTNAME/ });
  t.ok(connections > 0, 'the client did connect to the TLS server');
  t.equal(served, 0, 'and sent no request over the untrusted connection');
});

t.test('a request undici refuses (a header that would split it) reaches the handler as an error, over HTTPS too', async (t) => {
  const d = new DownloadDispatcher(1);
  t.teardown(() => d.destroy());
  // Nothing listens there: undici refuses the header before it would connect.
  await t.rejects(get(d, 'https://127.0.0.1:9', { range: 'bytes=0-1\r\nx-injected: 1' }), { code: 'UND_ERR_INVALID_ARG' });
});
