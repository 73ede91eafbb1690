// TLS probe against real node:tls servers on 127.0.0.1 presenting test PKIs: public chain, interceptor, private CA, pins, names, dates, network failures.
import t from 'tap';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { probeTls, type TlsProbeOptions } from '../../../../agent/src/selfcheck/probes/tls.js';
import { INTERCEPTOR_CN, ORIGIN, PUBLIC_INTERMEDIATE_CN, PUBLIC_ROOT_CN, makeTestPki, opensslMissing } from '../../../helpers/pki.js';

type Teardown = { teardown(fn: () => unknown): void };

/** Listens on 127.0.0.1:0, tracks connections, and closes everything at teardown. */
async function listen(tt: Teardown, server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tt.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A TLS server presenting `certs` (leaf first) with the leaf's key. */
function tlsServer(tt: Teardown, key: string, certs: readonly string[]): Promise<number> {
  const server = createTlsServer({ key, cert: certs.join('') }, (s) => s.on('error', () => undefined));
  server.on('tlsClientError', () => undefined);
  return listen(tt, server);
}

const missing = await opensslMissing();
if (missing) {
  console.log(`# skipping TLS probe tests: ${missing}`);
  t.plan(0, missing);
} else {
  const pki = await makeTestPki(t);
  const publicChain = [pki.leaf.cert, pki.publicIntermediate.cert];
  const base = (port: number): TlsProbeOptions => ({
    host: ORIGIN,
    port,
    connectAddress: '127.0.0.1',
    timeoutMs: 5000,
    trustStore: [pki.publicRoot.cert],
    publicRoots: [pki.publicRoot.cert],
  });

  t.test('a public chain for the right name: ok, with the chain in evidence', async (t) => {
    const port = await tlsServer(t, pki.leaf.key, publicChain);
    const r = await probeTls(base(port));
    t.equal(r.status, 'ok');
    t.equal(r.reason, 'ok');
    t.equal(r.id, `tls:${ORIGIN}:${port}`);
    t.equal(r.kind, 'tls');
    t.equal(r.target, `${ORIGIN}:${port}/tcp`);
    t.equal(r.remediation, undefined);
    t.ok(r.latencyMs >= 0 && r.latencyMs < 5000);
    t.equal(r.evidence.subject, ORIGIN);
    t.equal(r.evidence.issuer, `${PUBLIC_INTERMEDIATE_CN}, Test Public Trust`);
    t.equal(r.evidence.rootIssuer, `${PUBLIC_ROOT_CN}, Test Public Trust`);
    t.equal(r.evidence.protocol, 'TLSv1.3');
    t.type(r.evidence.cipher, 'string');
    const chain = r.evidence.chain as Array<{ subject: string; sha256: string }>;
    t.same(chain.map((c) => c.subject), [ORIGIN, `${PUBLIC_INTERMEDIATE_CN}, Test Public Trust`, `${PUBLIC_ROOT_CN}, Test Public Trust`], 'root appended from the trust store');
    t.match(chain[0]!.sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    t.notOk('authorizationError' in r.evidence);
  });

  t.test('an inspection CA the box does not trust: intercepted, naming it', async (t) => {
    const port = await tlsServer(t, pki.interceptedLeaf.key, [pki.interceptedLeaf.cert, pki.interceptorCa.cert]);
    const r = await probeTls(base(port));
    t.equal(r.status, 'fail');
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.interceptor, INTERCEPTOR_CN);
    t.equal(r.evidence.via, 'unknown-ca');
    t.equal(r.evidence.authorizationError, 'SELF_SIGNED_CERT_IN_CHAIN');
    t.equal(
      r.remediation?.en,
      `TLS to ${ORIGIN}:${port} is intercepted by '${INTERCEPTOR_CN}'. Exempt this host from TLS inspection (no TLS bridging or SSL forward proxy is allowed) or exempt this box entirely.`,
    );
    t.match(r.remediation?.fr, `La connexion TLS vers ${ORIGIN}:${port} est interceptée par « ${INTERCEPTOR_CN} »`);
  });

  t.test('an interceptor sending only its leaf: intercepted, naming the leaf issuer', async (t) => {
    const port = await tlsServer(t, pki.interceptedLeaf.key, [pki.interceptedLeaf.cert]);
    const r = await probeTls(base(port));
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.interceptor, INTERCEPTOR_CN);
    t.match(r.evidence.authorizationError, /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  });

  t.test('a self-signed certificate: intercepted, naming it', async (t) => {
    const port = await tlsServer(t, pki.selfSigned.key, [pki.selfSigned.cert]);
    const r = await probeTls(base(port));
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    t.equal(r.evidence.interceptor, `${ORIGIN}, Crude Proxy`);
  });

  t.test('an inspection CA installed in the box trust store but not public: intercepted (private CA)', async (t) => {
    const port = await tlsServer(t, pki.interceptedLeaf.key, [pki.interceptedLeaf.cert]);
    const r = await probeTls({ ...base(port), trustStore: [pki.publicRoot.cert, pki.interceptorCa.cert] });
    t.equal(r.status, 'fail');
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.via, 'private-ca');
    t.equal(r.evidence.interceptor, INTERCEPTOR_CN);
    t.notOk('authorizationError' in r.evidence, 'the chain itself verified');
    t.match(r.remediation?.en, `TLS to ${ORIGIN}:${port} is intercepted by '${INTERCEPTOR_CN}', a private CA`);
    t.match(r.remediation?.fr, 'une autorité privée');
  });

  t.test('a public chain under a public CA the box store lacks: trust store outdated, not interception', async (t) => {
    const port = await tlsServer(t, pki.leaf.key, publicChain);
    const r = await probeTls({ ...base(port), trustStore: [pki.interceptorCa.cert] });
    t.equal(r.reason, 'trust-store-outdated');
    t.equal(r.evidence.publicCa, `${PUBLIC_ROOT_CN}, Test Public Trust`);
  });

  t.test('default trust store and public roots (OS / Mozilla): the test root is unknown, so intercepted', async (t) => {
    const port = await tlsServer(t, pki.leaf.key, publicChain);
    const r = await probeTls({ host: ORIGIN, port, connectAddress: '127.0.0.1', timeoutMs: 5000 });
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.interceptor, `${PUBLIC_ROOT_CN}, Test Public Trust`);
  });

  t.test('pins', async (t) => {
    const port = await tlsServer(t, pki.leaf.key, publicChain);
    const intermediatePin = await probeTls({ ...base(port), pins: ['AAAA', pki.publicIntermediate.spkiPin] });
    t.equal(intermediatePin.reason, 'ok', 'intermediate key pinned');
    const rootPin = await probeTls({ ...base(port), pins: [pki.publicRoot.spkiPin] });
    t.equal(rootPin.reason, 'ok', 'root key pinned (root taken from the trust store)');
    const leafPin = await probeTls({ ...base(port), pins: [pki.leaf.spkiPin] });
    t.equal(leafPin.reason, 'ok', 'leaf key pinned');
    const wrong = await probeTls({ ...base(port), pins: [pki.interceptorCa.spkiPin] });
    t.equal(wrong.status, 'fail');
    t.equal(wrong.reason, 'pin-mismatch');
    t.match(wrong.remediation?.en, `issued by '${PUBLIC_INTERMEDIATE_CN}, Test Public Trust'`);
    t.match(wrong.remediation?.en, `${ORIGIN}:${port}`);
  });

  t.test('expected issuers', async (t) => {
    const port = await tlsServer(t, pki.leaf.key, publicChain);
    t.equal((await probeTls({ ...base(port), expectedIssuers: ['Google Trust Services', 'test public trust'] })).reason, 'ok');
    const r = await probeTls({ ...base(port), expectedIssuers: ['Google Trust Services'] });
    t.equal(r.reason, 'unexpected-issuer');
    t.match(r.remediation?.en, `instead of 'Google Trust Services'`);
  });

  t.test('a valid chain for another name: name-mismatch', async (t) => {
    const port = await tlsServer(t, pki.otherLeaf.key, [pki.otherLeaf.cert, pki.publicIntermediate.cert]);
    const r = await probeTls(base(port));
    t.equal(r.reason, 'name-mismatch');
    t.equal(r.evidence.presented, 'DNS:other.plugsrv.test');
    t.match(r.remediation?.en, `not for ${ORIGIN}`);
  });

  t.test('an expired leaf: expired, pointing at the box clock', async (t) => {
    const port = await tlsServer(t, pki.expiredLeaf.key, [pki.expiredLeaf.cert, pki.publicIntermediate.cert]);
    const r = await probeTls(base(port));
    t.equal(r.reason, 'expired');
    t.equal(r.evidence.authorizationError, 'CERT_HAS_EXPIRED');
    t.equal(r.evidence.cert, ORIGIN);
    t.type(r.evidence.boxTime, 'string');
    t.match(r.remediation?.en, 'box clock');
    t.match(r.remediation?.fr, 'horloge du boîtier');
  });

  t.test('an expired leaf from an untrusted inspection CA: intercepted, not merely expired', async (t) => {
    const port = await tlsServer(t, pki.expiredInterceptedLeaf.key, [pki.expiredInterceptedLeaf.cert]);
    const r = await probeTls(base(port));
    t.equal(r.reason, 'intercepted');
    t.equal(r.evidence.via, 'unknown-ca');
    t.equal(r.evidence.interceptor, INTERCEPTOR_CN);
    const trusted = await probeTls({ ...base(port), trustStore: [pki.publicRoot.cert, pki.interceptorCa.cert] });
    t.equal(trusted.reason, 'intercepted');
    t.equal(trusted.evidence.via, 'private-ca');
  });

  t.test('a server that accepts and never speaks: timeout within timeoutMs', async (t) => {
    const port = await listen(t, createTcpServer(() => undefined));
    const started = Date.now();
    const r = await probeTls({ ...base(port), timeoutMs: 300 });
    const took = Date.now() - started;
    t.equal(r.reason, 'timeout');
    t.ok(took >= 290 && took < 1500, `took ${took} ms`);
    t.ok(r.latencyMs >= 290);
    t.match(r.remediation?.en, `within 300 ms`);
  });

  t.test('a server that resets after the ClientHello: reset', async (t) => {
    const port = await listen(t, createTcpServer((s) => s.once('data', () => s.resetAndDestroy())));
    const r = await probeTls(base(port));
    t.equal(r.reason, 'reset');
    t.equal(r.evidence.code, 'ECONNRESET');
    t.match(r.remediation?.en, `SNI ${ORIGIN}`);
  });

  t.test('a closed port: refused', async (t) => {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await probeTls(base(port));
    t.equal(r.reason, 'refused');
    t.match(r.remediation?.en, `TCP connection to ${ORIGIN}:${port} was refused`);
    t.match(r.remediation?.fr, `port TCP ${port}`);
  });

  t.test('an abort signal ends the probe with a result', async (t) => {
    const port = await listen(t, createTcpServer(() => undefined));
    const pre = await probeTls(base(port), AbortSignal.abort());
    t.equal(pre.reason, 'aborted');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const during = await probeTls(base(port), ac.signal);
    t.equal(during.reason, 'aborted');
  });

  t.test('never throws, even on a bad port', async (t) => {
    const r = await probeTls({ ...base(70000) });
    t.equal(r.status, 'fail');
    t.equal(r.reason, 'tls-error');
    t.ok(r.remediation);
  });
}
