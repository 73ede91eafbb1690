// The serve role over real HTTP on loopback: listing and filters, bytes by hash with Range and conditionals, errors as JSON.
import t from 'tap';
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { http, json, rawRequest, startFixture } from '../../helpers/agent-fixture.js';

const SIZE = 300_001;
const fx = await startFixture(t, [
  { size: SIZE, meta: { name: 'R-LINK2_SOFT_10.8.bin', kind: 'soft', headUnit: 'R-LINK2', models: ['BJA', 'HJB'], version: '10.8' } },
  { size: 4096, meta: { name: 'carte été 2026.bin', kind: 'map', headUnit: 'R-LINK2', models: ['HJB'], version: '2026.3', releaseNotes: 'summer map' } },
  { size: 1234, meta: { name: 'IVI_3.1.bin', kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '3.1' } },
]);
const soft = fx.imported[0]!;
const softBytes = fx.files.get('R-LINK2_SOFT_10.8.bin')!;
const url = `${fx.base}/v1/packages/${soft.sha256}`;

type Listing = { packages: Array<{ id: string; name: string; size: number; kind: string; headUnit: string; models: string[]; version: string; addedAt: string }> };

t.test('GET /v1/packages lists ready packages with their metadata', async (t) => {
  const r = await http(`${fx.base}/v1/packages`);
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /application\/json/);
  const list = json<Listing>(r).packages;
  t.equal(list.length, 3);
  const p = list.find((x) => x.id === soft.sha256);
  t.match(p, { name: 'R-LINK2_SOFT_10.8.bin', size: SIZE, kind: 'soft', headUnit: 'R-LINK2', models: ['BJA', 'HJB'], version: '10.8' });
  t.ok(p && !Number.isNaN(Date.parse(p.addedAt)), 'addedAt is an ISO date');
  const head = await http(`${fx.base}/v1/packages`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.body.length, 0);
  t.equal(Number(head.headers['content-length']), r.body.length, 'HEAD announces the GET length');
});

t.test('filters: headUnit, kind, model, vin', async (t) => {
  const names = async (q: string) => json<Listing>(await http(`${fx.base}/v1/packages?${q}`)).packages.map((p) => p.name).sort();
  t.same(await names('headUnit=IVI'), ['IVI_3.1.bin']);
  t.same(await names('headUnit=r-link2&kind=map'), ['carte été 2026.bin']);
  t.same(await names('model=BJA'), ['R-LINK2_SOFT_10.8.bin']);
  t.same(await names('vin=VF1RJB00012345678'), ['R-LINK2_SOFT_10.8.bin', 'carte été 2026.bin'], 'VF1RJB resolves to HJB');
  const bad = await http(`${fx.base}/v1/packages?vin=VF1RJB0001234567I`);
  t.equal(bad.status, 400);
  t.match(json(bad), { code: 'E_BAD_VIN', message: /I, O and Q/ });
});

t.test('GET the bytes: whole body with validators and caching headers', async (t) => {
  const r = await http(`${url}/R-LINK2_SOFT_10.8.bin`);
  t.equal(r.status, 200);
  t.equal(createHash('sha256').update(r.body).digest('hex'), soft.sha256);
  t.equal(r.headers['content-length'], String(SIZE));
  t.equal(r.headers.etag, `"${soft.sha256}"`);
  t.equal(r.headers['accept-ranges'], 'bytes');
  t.match(r.headers['cache-control'], /immutable/);
  t.ok(r.headers['last-modified']);
  t.match(r.headers['content-disposition'], /attachment; filename="R-LINK2_SOFT_10.8.bin"/);
  const upper = await http(`${fx.base}/v1/packages/${soft.sha256.toUpperCase()}`, { method: 'HEAD' });
  t.equal(upper.status, 200, 'the hash is case-insensitive');
});

t.test('a blob holds a serving lease while its bytes go out, released when the client goes away', async (t) => {
  t.same([...(await fx.agent.store.leases.servedNow())], [], 'nothing served before');
  const req = request(`${url}?lease`);
  const res = await new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject).end());
  res.pause(); // a slow client: the server waits with the stream open
  t.equal(res.statusCode, 200);
  t.same([...(await fx.agent.store.leases.servedNow())], [soft.sha256], 'the lease is visible while the download runs');
  req.destroy();
  for (let i = 0; i < 100 && (await fx.agent.store.leases.servedNow()).size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.same([...(await fx.agent.store.leases.servedNow())], [], 'released once the client is gone');
});

t.test('Content-Disposition carries a non-ASCII name per RFC 6266', async (t) => {
  const map = fx.imported[1]!;
  const r = await http(`${fx.base}/v1/packages/${map.sha256}`, { method: 'HEAD' });
  t.match(r.headers['content-disposition'], `filename*=UTF-8''carte%20%C3%A9t%C3%A9%202026.bin`);
  t.match(r.headers['content-disposition'], 'filename="carte _t_ 2026.bin"');
});

t.test('Range: single, open-ended, suffix, clamped, unsatisfiable', async (t) => {
  const cases: Array<[string, number, number]> = [
    ['bytes=0-0', 0, 0],
    ['bytes=100-199', 100, 199],
    ['bytes=299990-', 299990, SIZE - 1],
    ['bytes=-10', SIZE - 10, SIZE - 1],
    ['bytes=5-99999999', 5, SIZE - 1],
  ];
  for (const [range, start, end] of cases) {
    const r = await http(url, { headers: { Range: range } });
    t.equal(r.status, 206, range);
    t.equal(r.headers['content-range'], `bytes ${start}-${end}/${SIZE}`, range);
    t.equal(r.headers['content-length'], String(end - start + 1), range);
    t.ok(r.body.equals(softBytes.subarray(start, end + 1)), `${range} body`);
  }
  for (const range of [`bytes=${SIZE}-`, 'bytes=5-2', 'bytes=-0', 'bytes=x-y']) {
    const r = await http(url, { headers: { Range: range } });
    t.equal(r.status, 416, range);
    t.equal(r.headers['content-range'], `bytes */${SIZE}`, range);
    t.match(json(r), { code: 'E_RANGE_NOT_SATISFIABLE' });
  }
  const multi = await http(url, { headers: { Range: 'bytes=0-1,4-5' } });
  t.equal(multi.status, 200, 'several ranges: the whole body');
  t.equal(multi.body.length, SIZE);
  const head = await http(url, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
  t.equal(head.status, 206);
  t.equal(head.headers['content-length'], '10');
  t.equal(head.body.length, 0);
});

t.test('conditional requests', async (t) => {
  const etag = `"${soft.sha256}"`;
  const inm = await http(url, { headers: { 'If-None-Match': etag } });
  t.equal(inm.status, 304);
  t.equal(inm.body.length, 0);
  t.equal(inm.headers.etag, etag);
  const first = await http(url, { method: 'HEAD' });
  const ims = await http(url, { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } });
  t.equal(ims.status, 304);
  t.equal((await http(url, { method: 'HEAD', headers: { 'If-None-Match': '"nope"' } })).status, 200);
  t.equal((await http(url, { headers: { 'If-Match': '"nope"' } })).status, 412);
  const ifRangeOk = await http(url, { headers: { Range: 'bytes=0-9', 'If-Range': etag } });
  t.equal(ifRangeOk.status, 206, 'If-Range with the current ETag: partial');
  const ifRangeStale = await http(url, { headers: { Range: 'bytes=0-9', 'If-Range': '"stale"' } });
  t.equal(ifRangeStale.status, 200, 'If-Range with another ETag: the whole body');
  t.equal(ifRangeStale.body.length, SIZE);
});

t.test('errors are JSON {code, message}, never a 500', async (t) => {
  const expectError = async (r: Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>, status: number, code: string) => {
    const res = await r;
    t.equal(res.status, status, code);
    t.match(res.headers['content-type'], /application\/json/);
    const body = json<{ code: string; message: string }>(res as never);
    t.equal(body.code, code);
    t.ok(body.message.length > 10, 'a message a person can act on');
  };
  await expectError(http(`${fx.base}/v1/packages/${'0'.repeat(64)}`), 404, 'E_NOT_FOUND');
  await expectError(http(`${fx.base}/v1/packages/not-a-hash`), 404, 'E_NOT_FOUND');
  await expectError(http(`${fx.base}/../../etc/passwd`), 404, 'E_NOT_FOUND');
  await expectError(http(`${fx.base}/v1/packages/${soft.sha256}/a/b`), 404, 'E_NOT_FOUND');
  await expectError(http(`${fx.base}/v1/packages/%2e%2e%2fstate.db`), 404, 'E_NOT_FOUND');
  await expectError(http(url, { method: 'DELETE' }), 405, 'E_METHOD_NOT_ALLOWED');
  await expectError(http(`${fx.base}/v1/packages`, { method: 'POST' }), 405, 'E_METHOD_NOT_ALLOWED');
  await expectError(http(`${fx.base}/v1/packages?x=${'a'.repeat(3000)}`), 414, 'E_URI_TOO_LONG');
  await expectError(http(`${fx.base}/v1/packages?kind=firmware`), 400, 'E_BAD_REQUEST');
  const allow = await http(url, { method: 'PUT' });
  t.equal(allow.headers.allow, 'GET, HEAD');
});

t.test('malformed HTTP gets a JSON 400 on the raw socket', async (t) => {
  const garbage = await rawRequest(fx.server.port, 'GARBAGE\r\n\r\n');
  t.match(garbage, /^HTTP\/1\.1 400 /);
  t.match(garbage, /"code":"E_BAD_REQUEST"/);
  const huge = await rawRequest(fx.server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(huge, /^HTTP\/1\.1 431 /);
});

t.test('status, health and metrics', async (t) => {
  const s = json(await http(`${fx.base}/v1/status`));
  t.match(s, { version: String, locked: false, packages: { ready: 3 }, storage: { usedBytes: SIZE + 4096 + 1234 } });
  t.ok((s.storage as { freeBytes: number }).freeBytes > 0);
  t.equal((await http(`${fx.base}/healthz`)).status, 200);
  const m = (await http(`${fx.base}/metrics`)).body.toString();
  t.match(m, /plugsrv_http_requests_total\{route="package",status="206"\} \d+/);
  t.match(m, /plugsrv_bytes_served_total \d+/);
  t.match(m, /plugsrv_active_downloads 0/);
  t.match(m, /plugsrv_errors_total\{code="E_NOT_FOUND"\} \d+/);
});

t.test('slowloris: a client that never finishes its headers is cut off', async (t) => {
  const slow = await startFixture(t, [], { 'serve.headersTimeoutMs': 500, 'serve.requestTimeoutMs': 600 });
  const start = Date.now();
  const out = await rawRequest(slow.server.port, 'GET /v1/status HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 8000 });
  const waited = Date.now() - start;
  t.ok(waited < 7000, `closed by the server after ${waited} ms`);
  t.match(out, /^(HTTP\/1\.1 408 |$)/, 'a 408 or a plain close');
});

t.test('connection cap: connections beyond maxConnections are refused', async (t) => {
  const capped = await startFixture(t, [], { 'serve.maxConnections': 2 });
  const { Socket } = await import('node:net');
  const held = [new Socket(), new Socket()];
  await Promise.all(held.map((s) => new Promise<void>((r) => s.connect(capped.server.port, '127.0.0.1', () => r()))));
  await new Promise((r) => setTimeout(r, 100));
  const third = await rawRequest(capped.server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 2000 });
  t.equal(third, '', 'the third connection is closed without an answer');
  held.forEach((s) => s.destroy());
});
