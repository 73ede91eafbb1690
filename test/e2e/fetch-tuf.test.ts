// `plugsrv fetch --trusted-root`: a box synced from a signed catalog, reached directly and through a tampering proxy; good packages pass, every tampering is refused with its own code and nothing written.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCli, startServer, tempDir, type ServerProcess } from '../helpers/agent-process.js';
import { sha256File } from '../helpers/files.js';
import { startTufOrigin, type TufOrigin } from '../helpers/tuf-origin.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let origin: TufOrigin;
let box: ServerProcess;
const signed: Record<string, { sha256: string; size: number }> = {};
let rogueSha = '';

/** A sync window twelve hours away, so the serving box does not sync again by itself during the test. */
function farWindow(): string {
  const h = String((new Date().getUTCHours() + 12) % 24).padStart(2, '0');
  return `${h}:00-${h}:30`;
}

t.before(async () => {
  origin = await startTufOrigin(t);
  const map = await origin.add('IVI_MAP_EU.bin', 3 * MiB + 77, { kind: 'map', headUnit: 'IVI', models: ['XBA'], version: '2026.1' }, 'maps/eu/IVI_MAP_EU.bin');
  const soft = await origin.add('IVI_SOFT_3.1.bin', 200_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '3.1' });
  signed['IVI_MAP_EU.bin'] = { sha256: map.sha256, size: map.bytes.length };
  signed['IVI_SOFT_3.1.bin'] = { sha256: soft.sha256, size: soft.bytes.length };
  await origin.publish();

  const dataDir = await tempDir(t);
  const syncEnv = { PLUGSRV_SYNC_ORIGIN_URL: origin.url, PLUGSRV_SYNC_TRUSTED_ROOT: origin.trustedRoot, PLUGSRV_STORE_RESERVE_BYTES: '0', PLUGSRV_SYNC_WINDOW: farWindow(), PLUGSRV_SYNC_TIME_ZONE: 'UTC' };
  const synced = await runCli(['--data-dir', dataDir, 'sync', 'now', '--json'], { env: syncEnv });
  if (synced.code !== 0) throw new Error(`sync failed: ${synced.stdout}${synced.stderr}`);
  // A package side-loaded on the box: served, but not in the signed catalog.
  const rogue = join(await tempDir(t), 'R-LINK2_SOFT_9.9.bin');
  const rogueBytes = randomBytes(5000);
  await writeFile(rogue, rogueBytes);
  rogueSha = sha(rogueBytes);
  const imported = await runCli(['--data-dir', dataDir, 'import', rogue, '--kind', 'soft', '--head-unit', 'R-LINK2', '--models', 'BJA', '--package-version', '9.9', '--json']);
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
  box = await startServer(dataDir, [], syncEnv);
});
t.teardown(() => box?.kill());

type Mode = 'pass' | 'swap-package' | 'flip-timestamp-signature' | 'no-tuf' | 'origin-metadata';

/**
 * A proxy in front of the box. `swap-package`: the list says IVI_MAP_EU.bin has another sha256, whose bytes
 * the proxy serves (a consistent lie: sha256 alone cannot catch it); `flip-timestamp-signature`: one hex
 * digit of timestamp.json's signature changed; `no-tuf`: 404 under /tuf/ (a box without a signed catalog);
 * `origin-metadata`: /tuf/metadata/ from the origin itself (newer, validly signed versions than the box has).
 */
async function tamperingProxy(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; mode(m: Mode): void }> {
  let mode: Mode = 'pass';
  const evil = randomBytes(signed['IVI_MAP_EU.bin']!.size);
  const evilSha = sha(evil);
  const upstream = new URL(box.url);
  const forward = (req: IncomingMessage, res: ServerResponse, target: URL): void => {
    const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const readUpstream = async (path: string): Promise<Buffer> => Buffer.from(await (await fetch(new URL(path, upstream))).arrayBuffer());
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    void (async () => {
      if (mode === 'no-tuf' && path.startsWith('/tuf/')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"E_NOT_FOUND","message":"no signed catalog"}');
      } else if (mode === 'swap-package' && /^\/v1\/packages(\?|$)/.test(path)) {
        const list = JSON.parse((await readUpstream(path)).toString()) as { packages: Array<{ id: string; name: string }> };
        for (const p of list.packages) if (p.name === 'IVI_MAP_EU.bin') p.id = evilSha;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
      } else if (mode === 'swap-package' && path.startsWith(`/v1/packages/${evilSha}`)) {
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const end = m && m[2] ? Math.min(Number(m[2]), evil.length - 1) : evil.length - 1;
        res.writeHead(m ? 206 : 200, { 'content-length': end - start + 1, 'accept-ranges': 'bytes', etag: `"${evilSha}"`, ...(m ? { 'content-range': `bytes ${start}-${end}/${evil.length}` } : {}) });
        res.end(req.method === 'HEAD' ? undefined : evil.subarray(start, end + 1));
      } else if (mode === 'flip-timestamp-signature' && path === '/tuf/metadata/timestamp.json' && req.method === 'GET') {
        const doc = JSON.parse((await readUpstream(path)).toString()) as { signatures: Array<{ sig: string }> };
        const sig = doc.signatures[0]!.sig;
        doc.signatures[0]!.sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      } else if (mode === 'origin-metadata' && path.startsWith('/tuf/metadata/')) {
        forward(req, res, new URL(`/metadata/${path.slice('/tuf/metadata/'.length)}`, origin.url));
      } else forward(req, res, new URL(path, upstream));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mode: (m) => (mode = m) };
}

/** `plugsrv fetch` with its own verified-metadata cache. */
const fetchCli = (server: string, cacheDir: string, args: string[], env: Record<string, string> = {}) =>
  runCli(['fetch', '--server', server, '--segment-bytes', String(2 * MiB), ...args], { env: { PLUGSRV_FETCH_CACHE_DIR: cacheDir, ...env } });

t.test('a box whose list matches the signed catalog: packages pass, from the flag or the environment', async (t) => {
  const cache = await tempDir(t);
  const out = await tempDir(t);
  const r = await fetchCli(box.url, cache, ['--all', '--head-unit', 'IVI', '--out', out, '--trusted-root', origin.trustedRoot]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^plugsrv: signed catalog verified \(targets version \d+\): 2 package\(s\) match it$/m);
  t.notMatch(r.stderr, /was not checked/);
  t.same((await readdir(out)).sort(), ['IVI_MAP_EU.bin', 'IVI_SOFT_3.1.bin']);
  for (const [name, s] of Object.entries(signed)) t.equal(await sha256File(join(out, name)), s.sha256, `${name} is the signed file`);
  t.ok((await readdir(cache)).some((d) => /^[0-9a-f]{24}$/.test(d)), 'the verified metadata is kept for the next run');

  const again = await fetchCli(box.url, cache, ['--id', signed['IVI_MAP_EU.bin']!.sha256, '--out', out], { PLUGSRV_FETCH_TRUSTED_ROOT: origin.trustedRoot });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /signed catalog verified .*1 package\(s\) match it/, 'PLUGSRV_FETCH_TRUSTED_ROOT is the default');
  t.match(again.stdout, /skipped IVI_MAP_EU\.bin: already there/);
});

t.test('a listing whose sha256 differs from the signed target is refused; without a trusted root it would have been taken', async (t) => {
  const proxy = await tamperingProxy(t);
  proxy.mode('swap-package');
  const refusedOut = await tempDir(t);
  const r = await fetchCli(proxy.url, await tempDir(t), ['--all', '--head-unit', 'IVI', '--out', refusedOut, '--trusted-root', origin.trustedRoot]);
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /E_TUF_TARGET_MISMATCH: refusing the selection: 1 of 2 package\(s\) do not match the box's signed catalog \(targets version \d+\):/);
  t.match(r.stderr, /the box lists IVI_MAP_EU\.bin as \d+ bytes with sha256 [0-9a-f]{12}\.\.\., but the signed catalog has maps\/eu\/IVI_MAP_EU\.bin as \d+ bytes with sha256 [0-9a-f]{12}\.\.\. \(E_TUF_TARGET_MISMATCH\)/);
  t.match(r.stderr, /Nothing was written/);
  t.same(await readdir(refusedOut), [], 'nothing in the output folder, not even the partial folder');

  // The same lie without --trusted-root: the sha256 of the list is all there is to check, and the bytes match it.
  const naiveOut = await tempDir(t);
  const naive = await fetchCli(proxy.url, await tempDir(t), ['--id', (await listedId(proxy.url, 'IVI_MAP_EU.bin')) ?? '', '--out', naiveOut]);
  t.equal(naive.code, 0, naive.stderr);
  t.match(naive.stderr, /the signed catalog was not checked/);
  t.not(await sha256File(join(naiveOut, 'IVI_MAP_EU.bin')), signed['IVI_MAP_EU.bin']!.sha256, 'the substituted file got through: this is what --trusted-root is for');
});

async function listedId(server: string, name: string): Promise<string | undefined> {
  const list = (await (await fetch(`${server}/v1/packages`)).json()) as { packages: Array<{ id: string; name: string }> };
  return list.packages.find((p) => p.name === name)?.id;
}

t.test('a package served by the box but not in the signed catalog is refused', async (t) => {
  const out = await tempDir(t);
  const r = await fetchCli(box.url, await tempDir(t), ['--id', rogueSha, '--out', out, '--trusted-root', origin.trustedRoot]);
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /E_TUF_UNSIGNED_TARGET: .*R-LINK2_SOFT_9\.9\.bin.*no target of the signed catalog has that sha256/s);
  t.same(await readdir(out), []);
});

t.test('tampered, foreign or missing signed metadata is refused with its own code', async (t) => {
  const proxy = await tamperingProxy(t);
  const out = await tempDir(t);
  const args = ['--all', '--head-unit', 'IVI', '--out', out];

  proxy.mode('flip-timestamp-signature');
  const flipped = await fetchCli(proxy.url, await tempDir(t), [...args, '--trusted-root', origin.trustedRoot]);
  t.equal(flipped.code, 4, flipped.stderr);
  t.match(flipped.stderr, /E_TUF_SIGNATURE: the signed catalog metadata of the box at http:\/\/127\.0\.0\.1:\d+ is not signed by the keys of the trusted root .*Nothing was downloaded\./);

  proxy.mode('pass');
  const other = await startTufOrigin(t);
  const foreignRoot = join(await tempDir(t), 'root.json');
  await copyFile(other.trustedRoot, foreignRoot);
  const foreign = await fetchCli(proxy.url, await tempDir(t), [...args, '--trusted-root', foreignRoot]);
  t.equal(foreign.code, 4, foreign.stderr);
  t.match(foreign.stderr, /E_TUF_SIGNATURE/, "another catalog's root trusts nothing here");

  proxy.mode('no-tuf');
  const none = await fetchCli(proxy.url, await tempDir(t), [...args, '--trusted-root', origin.trustedRoot]);
  t.equal(none.code, 4, none.stderr);
  t.match(none.stderr, /E_TUF_UNAVAILABLE: the box at http:\/\/127\.0\.0\.1:\d+ publishes no signed catalog metadata under \/tuf\/.*fetch without --trusted-root/);

  const notRoot = join(await tempDir(t), 'timestamp.json');
  await writeFile(notRoot, JSON.stringify({ signed: { _type: 'timestamp' } }));
  const bad = await fetchCli(box.url, await tempDir(t), [...args, '--trusted-root', notRoot]);
  t.equal(bad.code, 2, bad.stderr);
  t.match(bad.stderr, /E_CONFIG: .*timestamp\.json is not a TUF root\.json/);
  t.same(await readdir(out), [], 'nothing written by any of them');
});

t.test('a box that goes back to an older catalog than this PC verified is a rollback', async (t) => {
  const proxy = await tamperingProxy(t);
  const cache = await tempDir(t);
  const args = ['--id', signed['IVI_SOFT_3.1.bin']!.sha256, '--trusted-root', origin.trustedRoot];
  // Newer, validly signed metadata than the box holds (the origin republished; the box has not synced yet).
  await origin.publish();
  proxy.mode('origin-metadata');
  const newer = await fetchCli(proxy.url, cache, [...args, '--out', await tempDir(t)]);
  t.equal(newer.code, 0, newer.stderr);
  const newerVersion = Number(/targets version (\d+)/.exec(newer.stderr)?.[1]);
  proxy.mode('pass');
  const out = await tempDir(t);
  const older = await fetchCli(proxy.url, cache, [...args, '--out', out]);
  t.equal(older.code, 4, older.stderr);
  t.match(older.stderr, /E_TUF_ROLLBACK: the signed catalog metadata of the box .* is older than what this PC verified from this box before/);
  t.same(await readdir(out), []);
  const fresh = await fetchCli(proxy.url, await tempDir(t), [...args, '--out', out]);
  t.equal(fresh.code, 0, `a PC that never saw version ${newerVersion} accepts the box's: ${fresh.stderr}`);
});
