// Local probes: proxy settings, clock sanity, link speed from a sysfs fixture, the serve port on the LAN address, free disk.
import t from 'tap';
import { createServer } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probeClock, EARLIEST_PLAUSIBLE } from '../../../../agent/src/selfcheck/probes/clock.js';
import { probeDisk } from '../../../../agent/src/selfcheck/probes/disk.js';
import { judgeLinkSpeed, pickLanInterface, probeLan } from '../../../../agent/src/selfcheck/probes/lan.js';
import { probeProxy, withoutCredentials } from '../../../../agent/src/selfcheck/probes/proxy.js';
import { tempDir } from '../../../helpers/agent-process.js';

t.test('proxy: none is ok; an explicit proxy warns without leaking its password', async (t) => {
  t.match(probeProxy({}), { status: 'ok', reason: 'none' });
  const r = probeProxy({ HTTPS_PROXY: 'http://user:s3cret@proxy.dealer.lan:3128' });
  t.match(r, { status: 'warn', reason: 'explicit-proxy' });
  t.notMatch(JSON.stringify(r), 's3cret');
  t.match(r.remediation?.en, /proxy\.dealer\.lan:3128.*TCP 443/);
  t.equal(withoutCredentials('not a url //u:p@x'), 'not a url //***@x');
});

t.test('clock: unset, behind signed metadata, metadata expired, fine', async (t) => {
  const now = Date.UTC(2026, 10, 25);
  t.match(probeClock({ now: Date.UTC(2000, 0, 1) }), { status: 'fail', reason: 'clock-unset' });
  t.ok(EARLIEST_PLAUSIBLE < now);
  t.match(probeClock({ now, newestSignedAt: now + 3600_000 }), { status: 'fail', reason: 'clock-behind-metadata', remediation: { en: /UDP 123/ } });
  t.match(probeClock({ now, newestSignedAt: now + 60_000 }), { status: 'ok' }, 'within the 5 min tolerance');
  t.match(probeClock({ now, newestSignedAt: now - 1000, metadataExpiresAt: now - 1 }), { status: 'warn', reason: 'metadata-expired' });
  t.match(probeClock({ now }), { status: 'ok', reason: 'no-signed-metadata-yet' });
});

t.test('link speed: 1000 ok, 100 warns with the USB-key timing, 10 fails, unknown warns', async (t) => {
  t.match(judgeLinkSpeed('eno1', 1000), { status: 'ok' });
  t.match(judgeLinkSpeed('eno1', 100), { status: 'warn', reason: 'slow-link', remediation: { en: /48 min.*5 min/, fr: /48 min.*5 min/ } });
  t.match(judgeLinkSpeed('eno1', 10), { status: 'fail' });
  t.match(judgeLinkSpeed('eno1', undefined), { status: 'warn', reason: 'speed-unknown' });
  t.match(judgeLinkSpeed('eno1', -1), { status: 'warn', reason: 'speed-unknown' });
});

t.test('LAN: the serve port on the LAN address, link speed from sysfs', async (t) => {
  const sys = await tempDir(t);
  await mkdir(join(sys, 'class', 'net', 'eno1'), { recursive: true });
  await writeFile(join(sys, 'class', 'net', 'eno1', 'speed'), '100\n');
  // The LAN address is loopback here, so the test never leaves this machine.
  const interfaces = () => ({
    lo: [{ address: '127.0.0.1', family: 'IPv4' as const, internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }],
    eno1: [{ address: '127.0.0.1', family: 'IPv4' as const, internal: false, netmask: '255.255.255.0', mac: '00:11:22:33:44:55', cidr: '127.0.0.1/24' }],
  });
  t.same(pickLanInterface(interfaces()), { name: 'eno1', address: '127.0.0.1' });
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const [bound, link] = await probeLan({ port, interfaces, sysRoot: sys });
  t.match(bound, { id: `lan:port:${port}`, status: 'ok' });
  t.match(link, { id: 'lan:link:eno1', status: 'warn', evidence: { speedMbps: 100 } });
  await new Promise((r) => server.close(r));
  const [down] = await probeLan({ port, interfaces, sysRoot: sys });
  t.match(down, { status: 'fail', remediation: { en: new RegExp(`Nothing answers on 127\\.0\\.0\\.1:${port} \\(TCP\\)`) } });
  const [none] = await probeLan({ port, interfaces: () => ({}), sysRoot: sys });
  t.match(none, { status: 'fail', reason: 'no-address' });
});

t.test('disk: thresholds on free space', async (t) => {
  const fake = (free: number) => async () => ({ bavail: free / 4096, bsize: 4096, blocks: 1e9 / 4096 });
  const opts = { dir: '/var/lib/plugsrv', warnFreeBytes: 20e6, failFreeBytes: 2e6 };
  t.match(await probeDisk({ ...opts, statfsFn: fake(40e6) }), { status: 'ok' });
  t.match(await probeDisk({ ...opts, statfsFn: fake(10e6) }), { status: 'warn', reason: 'low-space' });
  t.match(await probeDisk({ ...opts, statfsFn: fake(1e6) }), { status: 'fail' });
  t.match(await probeDisk({ dir: '/nonexistent/plugsrv', warnFreeBytes: 1, failFreeBytes: 0 }), { status: 'fail', reason: 'unreadable' });
  const real = await probeDisk({ dir: await tempDir(t), warnFreeBytes: 0, failFreeBytes: 0 });
  t.ok((real.evidence.freeBytes as number) > 0, 'reads the real filesystem');
});
