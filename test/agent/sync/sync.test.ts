// Sync end to end on loopback: a signed catalog from our publisher, verified and mirrored; every kind of tampering refused with its own code while the last good state stays served.
import t from 'tap';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent, type Agent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { startServeRole } from '../../../agent/src/serve/index.js';
import { catalogClientFor, policyFromConfig, runSync, syncOnce, trustedMetadataExpiry, type DownloadFn } from '../../../agent/src/sync/index.js';
import { probeClock } from '../../../agent/src/selfcheck/probes/clock.js';
import { generateKey, signerOf } from '../../../agent/src/catalog/publish/keys.js';
import { tempDir } from '../../helpers/agent-process.js';
import { http, json } from '../../helpers/agent-fixture.js';
import { startTufOrigin, type TufOrigin } from '../../helpers/tuf-origin.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function agentFor(t: { teardown(fn: () => unknown): void }, origin: TufOrigin, sync: Record<string, unknown> = {}): Promise<Agent> {
  const dataDir = await tempDir(t);
  const flags: Record<string, unknown> = { dataDir, 'serve.host': '127.0.0.1', 'serve.port': 0, 'store.reserveBytes': 0, 'sync.originUrl': origin.url, 'sync.trustedRoot': origin.trustedRoot };
  for (const [k, v] of Object.entries(sync)) flags[`sync.${k}`] = v;
  const agent = await openAgent(loadConfig({ env: {}, flags }), silentLogger(), { recover: true });
  t.teardown(() => agent.close());
  return agent;
}

const readyIds = async (agent: Agent): Promise<string[]> => (await agent.packages.listReady()).map((p) => p.id).sort();

t.test('sync: maxConnectionsPerHost holds across the targets downloading at once, and connections are reused', async (t) => {
  // Paced, so that the requests of both targets overlap; segments of 1 MiB, so that each target wants several.
  const origin = await startTufOrigin(t, { rateBytesPerSec: 24 * 1024 * 1024 });
  const added = [];
  for (let i = 0; i < 4; i++) added.push(await origin.add(`PKG_${i}.bin`, 3 * 1024 * 1024 + i, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' }));
  await origin.publish();
  const agent = await agentFor(t, origin, { parallelTargets: 2, maxConnectionsPerHost: 2, segmentBytes: 1024 * 1024 });
  const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(outcome, { result: 'ok', ready: 4, failed: 0 });
  t.same(await readyIds(agent), added.map((a) => a.sha256).sort());
  t.ok(origin.requests.filter((r) => r.startsWith('/targets/')).length > 4, 'the targets were fetched in several Range segments each');
  t.equal(origin.peakTargetRequests(), 2, 'never more than 2 target requests at once (2 targets x 2 connections would be 4)');
  t.ok(origin.targetConnections() <= 2, `the 4 targets went over at most 2 connections (${origin.targetConnections()})`);
});

t.test('a slot starts its next target once the bytes of the last are written, while that one is still being checked', async (t) => {
  const origin = await startTufOrigin(t);
  const files: Buffer[] = [];
  for (let i = 0; i < 2; i++) files.push((await origin.add(`PKG_${i}.bin`, 4096 + i, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' })).bytes);
  await origin.publish();
  const agent = await agentFor(t, origin, { parallelTargets: 1 });
  // A download that reports its bytes written, then holds its final check until the test opens the gate.
  const started: string[] = [];
  let openGate = (): void => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const download: DownloadFn = async (job, _onProgress, _signal, onTransferred) => {
    started.push(job.sha256);
    const data = files.find((f) => sha(f) === job.sha256) as Buffer;
    await mkdir(dirname(job.partialPath), { recursive: true });
    await writeFile(job.partialPath, data);
    onTransferred?.();
    if (started.length === 1) await gate;
    return { path: job.partialPath, sha256: job.sha256, size: job.size };
  };
  const s = agent.config.sync;
  const run = runSync(
    { db: agent.state.db, store: agent.store, packages: agent.packages, catalog: catalogClientFor(agent), policy: policyFromConfig(agent), originUrl: s.originUrl, dataDir: agent.dataDir, parallelTargets: 1, reserveBytes: 0, gcGraceMs: 0, log: silentLogger(), download },
    'now',
  );
  const deadline = Date.now() + 5000;
  while (started.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(started.length, 2, 'the second target started while the first was held after its transfer (one slot)');
  openGate();
  t.match(await run, { result: 'ok', ready: 2, failed: 0 }, 'both end verified once the first is let through');
  t.same(await readyIds(agent), files.map(sha).sort());
});

t.test('sync: selected targets become ready packages; metadata is mirrored verbatim for LAN clients', async (t) => {
  const origin = await startTufOrigin(t);
  const soft = await origin.add('RLINK2_SOFT.bin', 300_000, { kind: 'soft', headUnit: 'R-LINK2', models: ['BJA'], version: '10.8', campaign: 'recall', releaseNotes: 'fix' });
  const map = await origin.add('EU.bin', 200_000, { kind: 'map', headUnit: 'R-LINK2', models: ['HJB'], version: '2026.4' }, 'maps/eu/EU.bin');
  await origin.add('IVI.bin', 100_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '3' });
  await origin.publish();
  const agent = await agentFor(t, origin, { headUnits: ['R-LINK2'] });

  const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(outcome, { result: 'ok', ready: 2, failed: 0, bytesFetched: 500_000 });
  t.same(await readyIds(agent), [soft.sha256, map.sha256].sort(), 'the IVI package is not for this site');
  const pkg = (await agent.packages.listReady()).find((p) => p.id === soft.sha256);
  t.match(pkg, { name: 'RLINK2_SOFT.bin', kind: 'soft', headUnit: 'R-LINK2', models: ['BJA'], version: '10.8', releaseNotes: 'fix', source: 'sync' });

  const server = await startServeRole(agent);
  t.teardown(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  const ts = await http(`${base}/tuf/metadata/timestamp.json`);
  t.equal(ts.status, 200);
  t.ok(ts.body.equals(await readFile(join(origin.repository, 'metadata', 'timestamp.json'))), 'timestamp.json verbatim');
  const root1 = await http(`${base}/tuf/metadata/1.root.json`);
  t.ok(root1.body.equals(await readFile(origin.trustedRoot)), '1.root.json verbatim');
  const targets = await http(`${base}/tuf/metadata/2.targets.json`);
  t.ok(targets.body.equals(await readFile(join(origin.repository, 'metadata', '2.targets.json'))), 'versioned targets metadata verbatim');
  const viaTuf = await http(`${base}/tuf/targets/maps/eu/${map.sha256}.EU.bin`);
  t.equal(viaTuf.status, 200);
  t.equal(sha(viaTuf.body), map.sha256, 'targets by their consistent-snapshot name');
  t.equal((await http(`${base}/tuf/metadata/../state.db`)).status, 404);
  const status = json(await http(`${base}/v1/status`));
  t.match(status.sync, { lastRun: { result: 'ok', targetsReady: 2, catalogVersion: 2 } });

  // The self-check's clock probe reads the trusted catalog's expiry (the timestamp's, one day here).
  const expiry = await trustedMetadataExpiry(agent.dataDir);
  t.ok(expiry !== undefined && expiry > Date.now() && expiry <= Date.now() + 86_400_000, 'earliest expiry of the trusted metadata');
  t.match(probeClock({ now: Date.now() + 2 * 86_400_000, metadataExpiresAt: expiry as number }), { status: 'warn', reason: 'metadata-expired' });

  const again = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(again, { result: 'ok', bytesFetched: 0, ready: 2 }, 'nothing fetched twice');
});

t.test('tampering is refused, each with its own code, and the last good state stays served', async (t) => {
  const origin = await startTufOrigin(t);
  const good = await origin.add('GOOD.bin', 50_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' });
  await origin.publish();
  const agent = await agentFor(t, origin);
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 1 });
  const meta = (name: string): string => join(origin.repository, 'metadata', name);
  const stillServed = async (what: string): Promise<void> => {
    t.same(await readyIds(agent), [good.sha256], `${what}: the good package is still served`);
  };

  // A modified target byte: the file at the origin no longer matches its signed hash.
  const second = await origin.add('SECOND.bin', 40_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '2' });
  await origin.publish();
  const secondFile = join(origin.repository, 'targets', `${second.sha256}.SECOND.bin`);
  const flipped = Buffer.from(second.bytes);
  flipped[100] = (flipped[100] as number) ^ 0xff;
  await writeFile(secondFile, flipped);
  const byte = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 });
  t.match(byte, { result: 'failed', errorCode: 'E_HASH_MISMATCH', failed: 1 });
  await stillServed('modified target byte');

  // A target longer than signed (endless data): cut off at the signed length.
  await writeFile(secondFile, Buffer.concat([second.bytes, Buffer.alloc(10_000)]));
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { errorCode: 'E_SIZE_MISMATCH' });
  await stillServed('target longer than signed');
  await writeFile(secondFile, second.bytes);

  // Modified targets metadata (not re-signed): the snapshot's hash of it no longer matches.
  await origin.publish();
  const version = (JSON.parse(await readFile(meta('timestamp.json'), 'utf8')) as { signed: { version: number } }).signed.version;
  const targetsFile = meta(`${version}.targets.json`);
  const originalTargets = await readFile(targetsFile, 'utf8');
  await writeFile(targetsFile, originalTargets.replace('"version": "2"', '"version": "666"'));
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'failed', errorCode: 'E_TUF_METADATA' });
  await stillServed('modified targets metadata');
  await writeFile(targetsFile, originalTargets);

  // Now let a good sync through, so the box trusts this timestamp version.
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 2 });
  const goodSet = [good.sha256, second.sha256].sort();
  const oldTimestamp = await readFile(meta('timestamp.json'));

  // Metadata signed by a wrong key: a newer timestamp signed by a key the root does not list.
  const forgedJson = JSON.parse(oldTimestamp.toString('utf8')) as { signed: { version: number }; signatures: unknown[] };
  forgedJson.signed.version += 1;
  forgedJson.signatures = [];
  const forged = Metadata.fromJSON(MetadataKind.Timestamp, forgedJson as unknown as Parameters<typeof Metadata.fromJSON>[1]);
  forged.sign(signerOf(generateKey()));
  await writeFile(meta('timestamp.json'), JSON.stringify(forged.toJSON()));
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'failed', errorCode: 'E_TUF_SIGNATURE' });
  t.same(await readyIds(agent), goodSet, 'wrong key: the good packages are still served');

  // A rolled-back catalog: publish twice, sync, then serve the older (validly signed) timestamp again.
  await origin.publish();
  const olderTimestamp = await readFile(meta('timestamp.json'));
  await origin.publish();
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok' });
  const newestTimestamp = await readFile(meta('timestamp.json'));
  await writeFile(meta('timestamp.json'), olderTimestamp);
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'failed', errorCode: 'E_TUF_ROLLBACK' });
  t.same(await readyIds(agent), goodSet, 'rollback: the good packages are still served');

  // An expired timestamp: the origin publishes with a clock a month behind.
  await writeFile(meta('timestamp.json'), newestTimestamp);
  await origin.publish(new Date(Date.now() - 30 * 86_400_000));
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'failed', errorCode: 'E_TUF_EXPIRED' });
  t.same(await readyIds(agent), goodSet, 'expired: the good packages are still served');
});

t.test('a box whose pinned root does not match the origin refuses everything', async (t) => {
  const origin = await startTufOrigin(t);
  await origin.add('A.bin', 1000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' });
  await origin.publish();
  const other = await startTufOrigin(t);
  const wrongRoot = join(await tempDir(t), 'root.json');
  await copyFile(other.trustedRoot, wrongRoot);
  const agent = await agentFor(t, origin, { trustedRoot: wrongRoot });
  t.match(await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'failed', errorCode: 'E_TUF_SIGNATURE' });
  t.same(await readyIds(agent), []);
  await appendFile(wrongRoot, '');
});

t.test('garbage collection: a synced package that left the catalog goes after the grace period; imported ones stay', async (t) => {
  const origin = await startTufOrigin(t);
  const keep = await origin.add('KEEP.bin', 20_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' });
  const drop = await origin.add('DROP.bin', 30_000, { kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' });
  await origin.publish();
  const graceful = await agentFor(t, origin, { gcGraceHours: 1 });
  const eager = await agentFor(t, origin, { gcGraceHours: 0 });
  for (const a of [graceful, eager]) t.match(await syncOnce(a, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 2 });
  const { removeTarget } = await import('../../../agent/src/catalog/publish/index.js');
  await removeTarget(origin.dir, drop.path);
  await origin.publish();
  // A partial download of a target nobody wants any more is dropped too.
  const stale = join(eager.dataDir, 'partial', `${'ab'.repeat(32)}.part`);
  await writeFile(stale, 'half');
  await writeFile(`${stale}.json`, '{}');
  for (const a of [graceful, eager]) t.match(await syncOnce(a, { trigger: 'now', rateBytesPerSec: 0 }), { result: 'ok', ready: 1 });
  t.same(await readdir(join(eager.dataDir, 'partial')), [], 'stale partial file and its record are gone');
  t.same(await readyIds(graceful), [keep.sha256, drop.sha256].sort(), 'within the grace period the old package is still served');
  t.same(await readyIds(eager), [keep.sha256], 'after it, it is gone');
  t.equal(await eager.store.sizeOf(drop.sha256), undefined, 'and its blob is deleted');
});

