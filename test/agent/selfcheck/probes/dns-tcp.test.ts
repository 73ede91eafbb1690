// DNS and TCP probes against real peers on loopback: a DNS server answering each failure kind, refused, silent and open ports.
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { probeDns } from '../../../../agent/src/selfcheck/probes/dns.js';
import { probeTcp } from '../../../../agent/src/selfcheck/probes/tcp.js';
import { startDnsServer } from '../../../helpers/dns-server.js';

const dns = await startDnsServer({
  'ok.plugsrv.test': { a: ['127.0.0.1'] },
  'servfail.plugsrv.test': 'servfail',
  'refused.plugsrv.test': 'refused',
  'silent.plugsrv.test': 'drop',
});
t.teardown(() => dns.close());

t.test('DNS: answer, NXDOMAIN, SERVFAIL, REFUSED, timeout', async (t) => {
  const probe = (host: string) => probeDns({ host, servers: [dns.address], timeoutMs: 1500 });
  const ok = await probe('ok.plugsrv.test');
  t.match(ok, { status: 'ok', kind: 'dns', reason: 'ok', addresses: ['127.0.0.1'] });
  const cases: Array<[string, string, RegExp]> = [
    ['missing.plugsrv.test', 'nxdomain', /NXDOMAIN/],
    ['servfail.plugsrv.test', 'servfail', /SERVFAIL/],
    ['refused.plugsrv.test', 'refused', /REFUSED/],
    ['silent.plugsrv.test', 'timeout', /UDP\/TCP 53/],
  ];
  for (const [host, reason, text] of cases) {
    const r = await probe(host);
    t.equal(r.status, 'fail', host);
    t.equal(r.reason, reason, host);
    t.match(r.remediation?.en, text);
    t.match(r.remediation?.en, host, 'names the host');
    t.match(r.remediation?.fr, host, 'French too');
  }
  t.ok(dns.queries.includes('silent.plugsrv.test'), 'the server saw the query it dropped');
});

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
}

t.test('TCP: open, refused, aborted', async (t) => {
  const open = createServer((s) => s.end());
  const openPort = await listen(open);
  t.teardown(() => open.close());
  t.match(await probeTcp({ host: 'origin.test', address: '127.0.0.1', port: openPort }), { status: 'ok', reason: 'ok', target: `origin.test:${openPort}/tcp` });

  const closed = createServer();
  const closedPort = await listen(closed);
  await new Promise((r) => closed.close(r));
  const refused = await probeTcp({ host: 'origin.test', address: '127.0.0.1', port: closedPort });
  t.match(refused, { status: 'fail', reason: 'refused' });
  t.match(refused.remediation?.en, `TCP ${closedPort} to origin.test`);

  // A run's overall deadline aborts the probe; a silent port (dropped SYN) is covered by the TLS probe's tests.
  const start = Date.now();
  const silent = await probeTcp({ host: 'blackhole.test', address: '127.0.0.1', port: closedPort, timeoutMs: 300 }, AbortSignal.abort());
  t.equal(silent.reason, 'timeout', 'an aborted probe reports a timeout');
  t.ok(Date.now() - start < 1000);
});
