// SNTP probe: pure packet encode/decode and checks, then real exchanges with chronyd and with hand-made UDP servers on loopback.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import t, { type Test } from 'tap';
import { probeSntp } from '../../../../agent/src/selfcheck/probes/sntp.js';
import {
  checkReply,
  clockSample,
  decodePacket,
  encodePacket,
  encodeRequest,
  msToNtp,
  NTP_UNIX_OFFSET_S,
  ntpToMs,
  refIdText,
  type NtpPacket,
  type NtpTimestamp,
} from '../../../../agent/src/selfcheck/probes/sntp-packet.js';
import { freeUdpPort, startChronyd } from '../../../helpers/chronyd.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.padEnd(4, '\0'), 'latin1'));

/** A plausible stratum-2 reply to a request sent at `sent`, server clock = `serverMs`. */
function serverReply(sent: NtpTimestamp, serverMs: number, over: Partial<NtpPacket> = {}): NtpPacket {
  return {
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    poll: 6,
    precision: -20,
    rootDelay: 0,
    rootDispersion: 0,
    refId: Uint8Array.of(192, 0, 2, 1),
    reference: msToNtp(serverMs - 10_000),
    originate: sent,
    receive: msToNtp(serverMs),
    transmit: msToNtp(serverMs),
    ...over,
  };
}

t.test('timestamps: Unix ms <-> NTP era 0', async (t) => {
  t.same(msToNtp(0), { seconds: NTP_UNIX_OFFSET_S, fraction: 0 }, 'Unix epoch is 2208988800 s after 1900');
  t.same(msToNtp(1500), { seconds: NTP_UNIX_OFFSET_S + 1, fraction: 2 ** 31 }, 'half a second is 2^31');
  t.equal(ntpToMs({ seconds: NTP_UNIX_OFFSET_S, fraction: 2 ** 30 }), 250);
  const now = 1_790_000_000_123.456;
  t.ok(Math.abs(ntpToMs(msToNtp(now)) - now) < 1e-3, 'round trip within a microsecond');
  const fraction = msToNtp(-0.5).fraction;
  t.ok(fraction > 0 && fraction < 2 ** 32, 'negative ms still gives a fraction in range');
  // RFC 4330 section 3: high bit clear means era 1 (after 2036-02-07T06:28:16Z).
  t.equal(ntpToMs({ seconds: 0, fraction: 0 }), (2 ** 32 - NTP_UNIX_OFFSET_S) * 1000);
  const in2040 = Date.UTC(2040, 0, 1);
  t.equal(ntpToMs(msToNtp(in2040)), in2040, 'era 1 wraps and unwraps');
});

t.test('the client request is 48 bytes: LI 0, VN 4, mode 3, transmit = T1', async (t) => {
  const ts = msToNtp(1_790_000_000_000);
  const buf = encodeRequest(ts);
  t.equal(buf.length, 48);
  t.equal(buf[0], 0x23, '00 100 011');
  t.same([...buf.subarray(1, 40)], new Array<number>(39).fill(0), 'all but the first byte and transmit are zero');
  t.equal(buf.readUInt32BE(40), ts.seconds);
  t.equal(buf.readUInt32BE(44), ts.fraction);
});

t.test('decode is the inverse of encode; short packets are refused', async (t) => {
  const p = serverReply(msToNtp(1000), 2000, { leap: 3, poll: -3, precision: -29, rootDelay: 0x0001_8000, rootDispersion: 7 });
  const decoded = decodePacket(encodePacket(p));
  t.same(decoded, p);
  const withMac = Buffer.concat([encodePacket(p), Buffer.alloc(20, 0xff)]);
  t.same(decodePacket(withMac), p, 'extension fields / MAC after the header are ignored');
  t.equal(decodePacket(Buffer.alloc(47)), undefined);
});

t.test('reference id text', async (t) => {
  t.equal(refIdText(0, ascii('RATE')), 'RATE');
  t.equal(refIdText(1, ascii('GPS')), 'GPS', 'trailing NULs dropped');
  t.equal(refIdText(8, Uint8Array.of(127, 127, 1, 1)), '127.127.1.1');
});

t.test('reply checks', async (t) => {
  const sent = msToNtp(1_790_000_000_000);
  const ok = serverReply(sent, 1_790_000_000_010);
  t.same(checkReply(ok, sent), { kind: 'ok', unsynchronised: false });
  t.same(checkReply({ ...ok, version: 3 }, sent), { kind: 'ok', unsynchronised: false }, 'NTPv3 servers are fine');
  t.same(checkReply({ ...ok, leap: 3 }, sent), { kind: 'ok', unsynchronised: true });
  t.same(checkReply({ ...ok, stratum: 16 }, sent), { kind: 'ok', unsynchronised: true });
  t.same(checkReply({ ...ok, stratum: 0, refId: ascii('DENY') }, sent), { kind: 'kiss', code: 'DENY' });
  t.match(checkReply({ ...ok, mode: 3 }, sent), { kind: 'bogus', why: /mode/ });
  t.match(checkReply({ ...ok, mode: 5 }, sent), { kind: 'bogus', why: /mode/ }, 'broadcast is not an answer');
  t.match(checkReply({ ...ok, version: 2 }, sent), { kind: 'bogus', why: /version/ });
  t.match(checkReply({ ...ok, stratum: 17 }, sent), { kind: 'bogus', why: /stratum/ });
  t.match(checkReply({ ...ok, transmit: { seconds: 0, fraction: 0 } }, sent), { kind: 'bogus', why: /transmit/ });
  t.match(checkReply({ ...ok, receive: { seconds: 0, fraction: 0 } }, sent), { kind: 'bogus', why: /receive/ });
  const wrongOrigin = { ...sent, fraction: sent.fraction + 1 };
  t.match(checkReply({ ...ok, originate: wrongOrigin }, sent), { kind: 'bogus', why: /originate/ });
  t.match(
    checkReply({ ...ok, originate: wrongOrigin, stratum: 0, refId: ascii('DENY') }, sent),
    { kind: 'bogus' },
    'a kiss-o-death that does not echo our timestamp is not believed',
  );
});

t.test('offset and delay (RFC 4330 section 5)', async (t) => {
  // Server 300 s ahead, 20 ms each way, 2 ms inside the server.
  const s = clockSample(1000, 301_020, 301_022, 1042);
  t.equal(s.offsetMs, 300_000);
  t.equal(s.delayMs, 40);
  t.same(clockSample(0, 0, 0, 0), { offsetMs: 0, delayMs: 0 });
});

/** A UDP server on 127.0.0.1 that answers each request with the datagrams `respond` returns, in order (none on undefined). */
async function fakeServer(
  t: Test,
  respond: (request: NtpPacket) => Buffer | Buffer[] | undefined,
): Promise<{ port: number; requests: NtpPacket[] }> {
  const socket = dgram.createSocket('udp4');
  const requests: NtpPacket[] = [];
  socket.on('message', (msg, rinfo) => {
    const request = decodePacket(msg);
    if (request === undefined) return;
    requests.push(request);
    const reply = respond(request);
    for (const datagram of reply === undefined ? [] : [reply].flat()) socket.send(datagram, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port, requests };
}

t.test('hand-made servers', async (t) => {
  t.test('a well-formed stratum-2 reply: ok, and the request on the wire is what we sent', async (t) => {
    const srv = await fakeServer(t, (req) => encodePacket(serverReply(req.transmit, Date.now())));
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
    t.match(r, {
      id: `ntp:127.0.0.1:${srv.port}`,
      kind: 'ntp',
      target: `127.0.0.1:${srv.port}/udp`,
      status: 'ok',
      reason: 'ok',
      evidence: { stratum: 2, leap: 0, refId: '192.0.2.1', address: '127.0.0.1' },
    });
    t.equal(r.remediation, undefined);
    t.equal(srv.requests.length, 1);
    t.match(srv.requests[0], { leap: 0, version: 4, mode: 3 });
  });

  t.test('kiss-o-death RATE: fail, kiss code in evidence', async (t) => {
    const srv = await fakeServer(t, (req) =>
      encodePacket(serverReply(req.transmit, Date.now(), { stratum: 0, leap: 3, refId: ascii('RATE') })),
    );
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
    t.match(r, { status: 'fail', reason: 'kiss-o-death', evidence: { kissCode: 'RATE' } });
    t.match(r.remediation?.en, /RATE/);
    t.match(r.remediation?.en, /UDP \d+/);
  });

  t.test('kiss-o-death DENY', async (t) => {
    const srv = await fakeServer(t, (req) => encodePacket(serverReply(req.transmit, Date.now(), { stratum: 0, refId: ascii('DENY') })));
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
    t.match(r, { status: 'fail', reason: 'kiss-o-death', evidence: { kissCode: 'DENY' } });
    t.match(r.remediation?.fr, /127\.0\.0\.1/);
  });

  t.test('wrong originate timestamp: rejected as bogus-reply once the deadline passes', async (t) => {
    const srv = await fakeServer(t, (req) =>
      encodePacket(serverReply({ seconds: req.transmit.seconds - 1, fraction: req.transmit.fraction }, Date.now())),
    );
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 300 });
    t.match(r, { status: 'fail', reason: 'bogus-reply', evidence: { rejected: /originate/ } });
    t.match(r.remediation?.en, new RegExp(`UDP ${srv.port}`));
  });

  t.test('bogus replies followed by the genuine one: the genuine one wins', async (t) => {
    const srv = await fakeServer(t, (req) => [
      Buffer.alloc(20),
      encodePacket(serverReply({ seconds: 1, fraction: 1 }, Date.now())),
      encodePacket(serverReply(req.transmit, Date.now())),
    ]);
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
    t.match(r, { status: 'ok', reason: 'ok' });
  });

  t.test('leap indicator 3: warn unsynchronised', async (t) => {
    const srv = await fakeServer(t, (req) => encodePacket(serverReply(req.transmit, Date.now(), { leap: 3 })));
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
    t.match(r, { status: 'warn', reason: 'unsynchronised', evidence: { leap: 3 } });
    t.ok(r.remediation);
  });

  t.test('a server that never answers: timeout within timeoutMs', async (t) => {
    const srv = await fakeServer(t, () => undefined);
    const started = performance.now();
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 300 });
    const took = performance.now() - started;
    t.match(r, { status: 'fail', reason: 'timeout' });
    t.ok(took >= 290 && took < 800, `took ${took.toFixed(0)} ms`);
    t.match(r.remediation?.en, `Allow outbound NTP (UDP ${srv.port}) from this box to 127.0.0.1, or set a reachable NTP server.`);
    t.equal(srv.requests.length, 1, 'exactly one request');
  });

  t.test('the AbortSignal stops the probe early; an aborted signal stops it at once', async (t) => {
    const srv = await fakeServer(t, () => undefined);
    const started = performance.now();
    const r = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 5000 }, AbortSignal.timeout(100));
    const took = performance.now() - started;
    t.match(r, { status: 'fail', reason: 'aborted' });
    t.ok(took < 1000, `took ${took.toFixed(0)} ms`);

    const ctl = new AbortController();
    ctl.abort();
    const before = srv.requests.length;
    const r2 = await probeSntp({ server: '127.0.0.1', port: srv.port, timeoutMs: 5000 }, ctl.signal);
    t.match(r2, { status: 'fail', reason: 'aborted' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(srv.requests.length, before, 'nothing was sent');
  });
});

t.test('nothing listening: refused (ICMP port unreachable) or timeout', async (t) => {
  const port = await freeUdpPort();
  const r = await probeSntp({ server: '127.0.0.1', port, timeoutMs: 1000 });
  t.equal(r.status, 'fail');
  t.ok(r.reason === 'refused' || r.reason === 'timeout', `reason ${r.reason}`);
  t.comment(`closed port gave ${r.reason} in ${r.latencyMs} ms`);
  t.match(r.remediation?.en, new RegExp(`UDP ${port}`));
});

t.test('DNS failure: fail dns', async (t) => {
  const r = await probeSntp({ server: 'no-such-host.invalid', timeoutMs: 5000 });
  t.match(r, { status: 'fail', id: 'ntp:no-such-host.invalid:123', target: 'no-such-host.invalid:123/udp' });
  // A sandbox without any resolver may hit the deadline instead.
  t.ok(r.reason === 'dns' || r.reason === 'timeout', `reason ${r.reason}`);
  t.match(r.remediation?.en, /no-such-host\.invalid/);
  const injected = await probeSntp({
    server: 'ntp.example',
    lookup: () => Promise.reject(Object.assign(new Error('queryA ENOTFOUND ntp.example'), { code: 'ENOTFOUND' })),
  });
  t.match(injected, { status: 'fail', reason: 'dns', evidence: { error: 'ENOTFOUND' } });
});

const chrony = await startChronyd();
if (!chrony.ok) console.log(`# skipping the chronyd tests: ${chrony.reason}`);

t.test('against a real chronyd', { skip: chrony.ok ? false : chrony.reason }, async (t) => {
  if (!chrony.ok) return;
  const { port, stop } = chrony.chronyd;
  t.teardown(stop);
  const server = '127.0.0.1';

  t.test('real clock: offset near 0, status ok, stratum 8 or so', async (t) => {
    const r = await probeSntp({ server, port, timeoutMs: 2000 });
    t.match(r, { status: 'ok', reason: 'ok', kind: 'ntp', id: `ntp:${server}:${port}` });
    const ev = r.evidence as { offsetMs: number; delayMs: number; stratum: number; refId: string };
    t.ok(Math.abs(ev.offsetMs) < 1000, `offset ${ev.offsetMs} ms`);
    t.ok(ev.stratum >= 8 && ev.stratum <= 9, `stratum ${ev.stratum}`);
    t.ok(ev.delayMs >= 0 && ev.delayMs < 1000, `delay ${ev.delayMs} ms`);
    t.equal(r.latencyMs, ev.delayMs);
    t.comment(`chronyd: offset ${ev.offsetMs} ms, delay ${ev.delayMs} ms, stratum ${ev.stratum}, refid ${ev.refId}`);
  });

  for (const skewMs of [5 * 60_000, -5 * 60_000]) {
    t.test(`clock skewed by ${skewMs / 1000} s: offset ${-skewMs / 1000} s, fail`, async (t) => {
      const r = await probeSntp({ server, port, timeoutMs: 2000, clock: () => Date.now() + skewMs });
      t.match(r, { status: 'fail', reason: 'clock-offset' });
      const offsetMs = (r.evidence as { offsetMs: number }).offsetMs;
      t.ok(Math.abs(offsetMs + skewMs) < 1000, `offset ${offsetMs} ms`);
      t.match(r.remediation?.en, /^The clock is off by 300 s \((ahead|behind) of 127\.0\.0\.1\): check that NTP \(UDP \d+\) reaches 127\.0\.0\.1;/);
      t.match(r.remediation?.en, skewMs > 0 ? /ahead/ : /behind/);
      t.match(r.remediation?.fr, /300 s/);
    });
  }

  t.test('a 5 s skew is a warning', async (t) => {
    const r = await probeSntp({ server, port, timeoutMs: 2000, clock: () => Date.now() - 5000 });
    t.match(r, { status: 'warn', reason: 'clock-offset' });
    t.match(r.remediation?.en, /off by 5\.0 s/);
  });
});
