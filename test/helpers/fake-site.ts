// Test helper: a whole dealer-site network on loopback for the self-check: a DNS server, good and intercepting TLS origins, silent and closed ports.
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Flow } from '../../agent/src/selfcheck/index.js';
import { startDnsServer, type DnsBehaviour } from './dns-server.js';
import { makeTestPki, ORIGIN } from './pki.js';

export interface SiteShape {
  ok: number;
  intercepted: number;
  /** Accept the TCP connection, never answer the TLS handshake. */
  silent: number;
  refused: number;
  nxdomain: number;
  servfail: number;
}

export interface FakeSite {
  flows: Flow[];
  dnsServers: string[];
  trustStore: string[];
  publicRoots: string[];
  /** Expected reason by `host:port` of each https target. */
  expected: Map<string, string>;
  close(): Promise<void>;
}

function listen(server: TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

export async function startFakeSite(t: { teardown(fn: () => unknown): void }, shape: SiteShape): Promise<FakeSite> {
  const pki = await makeTestPki(t);
  const servers: TcpServer[] = [];
  const sockets = new Set<Socket>();
  const track = (s: TcpServer): TcpServer => {
    s.on('connection', (c: Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    servers.push(s);
    return s;
  };
  const zone: Record<string, DnsBehaviour> = {};
  const flows: Flow[] = [];
  const expected = new Map<string, string>();
  const add = (host: string, port: number, reason: string): void => {
    flows.push({ host, port, protocol: 'tcp', purpose: 'business' });
    expected.set(`${host}:${port}`, reason);
  };
  zone[ORIGIN] = { a: ['127.0.0.1'] };

  for (let i = 0; i < shape.ok; i++) {
    const s = track(createTlsServer({ key: pki.leaf.key, cert: pki.leaf.cert + pki.publicIntermediate.cert }, (c) => c.end()));
    add(ORIGIN, await listen(s), 'ok');
  }
  for (let i = 0; i < shape.intercepted; i++) {
    const s = track(createTlsServer({ key: pki.interceptedLeaf.key, cert: pki.interceptedLeaf.cert + pki.interceptorCa.cert }, (c) => c.end()));
    add(ORIGIN, await listen(s), 'intercepted');
  }
  for (let i = 0; i < shape.silent; i++) {
    const host = `silent-${i}.plugsrv.test`;
    zone[host] = { a: ['127.0.0.1'] };
    add(host, await listen(track(createTcpServer(() => undefined))), 'timeout');
  }
  for (let i = 0; i < shape.refused; i++) {
    const host = `closed-${i}.plugsrv.test`;
    zone[host] = { a: ['127.0.0.1'] };
    const s = createTcpServer();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    add(host, port, 'refused');
  }
  for (let i = 0; i < shape.nxdomain; i++) add(`missing-${i}.plugsrv.test`, 443, 'nxdomain');
  for (let i = 0; i < shape.servfail; i++) {
    const host = `broken-${i}.plugsrv.test`;
    zone[host] = 'servfail';
    add(host, 443, 'servfail');
  }

  const dns = await startDnsServer(zone);
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await dns.close();
  };
  t.teardown(close);
  return { flows, dnsServers: [dns.address], trustStore: [pki.publicRoot.cert], publicRoots: [pki.publicRoot.cert], expected, close };
}
