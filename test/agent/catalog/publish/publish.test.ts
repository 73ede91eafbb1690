// The publisher end to end: what it writes, verified by a real tuf-js client over HTTP (download, custom fields, rotation, refusals).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addTargets, initRepo, layoutOf, publish, removeTarget, rotateKeys, targetFile } from '../../../../agent/src/catalog/publish/index.js';
import { tempDir } from '../../../helpers/agent-process.js';
import { clientPinnedTo, serveStatic } from './tuf-fixture.js';

const NOW = new Date();
const custom = { kind: 'soft' as const, headUnit: 'R-LINK2', models: ['XFK', 'BJA'], version: '11.2.0', region: 'EU', campaign: 'recall' as const, priority: 10, releaseNotes: 'fixes' };

/** A repository initialised, with `files` staged and published once. */
async function publishedRepo(t: Parameters<typeof tempDir>[0], files: Record<string, Buffer>) {
  const work = await tempDir(t);
  const dir = join(work, 'repo');
  await initRepo(dir, {}, NOW);
  for (const [name, bytes] of Object.entries(files)) {
    await writeFile(join(work, name), bytes);
    await addTargets(dir, [join(work, name)], { custom });
  }
  await publish(dir, NOW);
  const layout = layoutOf(dir);
  const base = await serveStatic(t, layout.repositoryDir);
  return { dir, layout, base, root1: join(layout.metadataDir, '1.root.json') };
}

t.test('init lays out keys (0600 in a 0700 dir), config, staging and version 1 of the metadata', async (t) => {
  const dir = join(await tempDir(t), 'repo');
  const r = await initRepo(dir, { expires: 'timestamp=2h' }, NOW);
  const layout = layoutOf(dir);
  t.equal((await stat(layout.keysDir)).mode & 0o777, 0o700);
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    t.equal((await stat(join(layout.keysDir, `${role}.json`))).mode & 0o777, 0o600, `${role} key is private`);
    t.match(JSON.parse(await readFile(join(layout.keysDir, `${role}.json`), 'utf8')), { keyid: r.keyIds[role as 'root'], private: /^-----BEGIN PRIVATE KEY-----/ });
  }
  t.same(JSON.parse(await readFile(layout.configFile, 'utf8')), { expires: { root: '365d', targets: '90d', snapshot: '7d', timestamp: '2h' }, threshold: 1 });
  t.same(JSON.parse(await readFile(layout.stagingFile, 'utf8')), { targets: {} });
  t.same((await readdir(layout.metadataDir)).sort(), ['1.root.json', '1.snapshot.json', '1.targets.json', 'root.json', 'timestamp.json']);
  t.equal(await readFile(join(layout.metadataDir, 'root.json'), 'utf8'), await readFile(join(layout.metadataDir, '1.root.json'), 'utf8'));
  const ts = JSON.parse(await readFile(join(layout.metadataDir, 'timestamp.json'), 'utf8'));
  t.equal(ts.signed.expires, new Date(NOW.getTime() + 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  await t.rejects(initRepo(dir, {}, NOW), { code: 'E_CONFIG', message: /already/ });
});

t.test('a tuf-js client refreshes, downloads the bytes and reads the custom fields', async (t) => {
  const bytes = randomBytes(100_000);
  const { base, root1, layout } = await publishedRepo(t, { 'rlink2-11.2.0.bin': bytes, 'other.bin': randomBytes(10) });
  const { updater, targetDir } = await clientPinnedTo(t, base, root1);
  await updater.refresh();
  const info = await updater.getTargetInfo('rlink2-11.2.0.bin');
  if (!info) throw new Error('target not found');
  t.same(Object.keys(info.hashes), ['sha256']);
  t.same(info.custom, custom, 'custom fields round-trip');
  const saved = await updater.downloadTarget(info, join(targetDir, 'pkg.bin'));
  t.ok((await readFile(saved)).equals(bytes), 'the downloaded bytes match');
  t.ok(await stat(targetFile(layout, 'rlink2-11.2.0.bin', info.hashes.sha256 as string)), 'stored as targets/<sha256>.<name>');
  t.same((await readdir(layout.metadataDir)).filter((f) => /^\d+\.targets\.json$/.test(f)).sort(), ['1.targets.json', '2.targets.json'], 'old versions stay');
});

t.test('remove and republish: the target is gone for clients, its bytes stay for clients mid-update', async (t) => {
  const { dir, base, root1, layout } = await publishedRepo(t, { 'a.bin': randomBytes(50), 'b.bin': randomBytes(60) });
  await removeTarget(dir, 'a.bin');
  const r = await publish(dir, NOW);
  t.match(r, { targets: 1, targetsVersion: 3, snapshotVersion: 3, timestampVersion: 3, rootVersion: 1 });
  const { updater } = await clientPinnedTo(t, base, root1);
  await updater.refresh();
  t.equal(await updater.getTargetInfo('a.bin'), undefined);
  t.ok(await updater.getTargetInfo('b.bin'));
  t.equal((await readdir(layout.targetsDir)).filter((f) => f.endsWith('.a.bin')).length, 1);
});

t.test('a target path with folders is stored as dir/<sha256>.<name> and downloads', async (t) => {
  const work = await tempDir(t);
  const dir = join(work, 'repo');
  await initRepo(dir, {}, NOW);
  const bytes = randomBytes(2000);
  await writeFile(join(work, 'x.bin'), bytes);
  await addTargets(dir, [join(work, 'x.bin')], { custom: { ...custom, kind: 'map' }, path: 'maps/eu/x-2026.bin' });
  await publish(dir, NOW);
  const base = await serveStatic(t, layoutOf(dir).repositoryDir);
  const { updater, targetDir } = await clientPinnedTo(t, base, join(layoutOf(dir).metadataDir, '1.root.json'));
  const info = await updater.getTargetInfo('maps/eu/x-2026.bin');
  if (!info) throw new Error('target not found');
  t.ok((await readFile(await updater.downloadTarget(info, join(targetDir, 'x')))).equals(bytes));
});

t.test('a tampered target file is refused by downloadTarget', async (t) => {
  const { base, root1, layout } = await publishedRepo(t, { 'pkg.bin': randomBytes(4096) });
  const { updater, targetDir } = await clientPinnedTo(t, base, root1);
  const info = await updater.getTargetInfo('pkg.bin');
  if (!info) throw new Error('target not found');
  const file = targetFile(layout, 'pkg.bin', info.hashes.sha256 as string);
  const bytes = await readFile(file);
  bytes[100] = (bytes[100] as number) ^ 0xff;
  await writeFile(file, bytes);
  await t.rejects(updater.downloadTarget(info, join(targetDir, 'pkg.bin')), /Expected hash/);
  await t.rejects(stat(join(targetDir, 'pkg.bin')), 'nothing written');
});

t.test('metadata published with an expired timestamp is refused by refresh', async (t) => {
  const { dir, base, root1 } = await publishedRepo(t, { 'pkg.bin': randomBytes(10) });
  await publish(dir, new Date(Date.now() - 30 * 86_400_000));
  const { updater } = await clientPinnedTo(t, base, root1);
  await t.rejects(updater.refresh(), /Final timestamp\.json is expired/);
});

for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
  t.test(`rotate the ${role} key: a client pinned to the old root follows the chain`, async (t) => {
    const bytes = randomBytes(3000);
    const { dir, base, root1, layout } = await publishedRepo(t, { 'pkg.bin': bytes });
    // A client that already trusts version 2 metadata under the old keys.
    const early = await clientPinnedTo(t, base, root1);
    await early.updater.refresh();
    const oldKey = JSON.parse(await readFile(join(layout.keysDir, `${role}.json`), 'utf8')).keyid;
    const r = await rotateKeys(dir, role, NOW);
    t.match(r, { role, oldKeyId: oldKey, rootVersion: 2, targetsVersion: 3, snapshotVersion: 3, timestampVersion: 3, targets: 1 });
    t.not(r.newKeyId, oldKey);
    await publish(dir, NOW);
    const root2 = JSON.parse(await readFile(join(layout.metadataDir, '2.root.json'), 'utf8'));
    t.same(root2.signed.roles[role].keyids, [r.newKeyId]);
    t.same(Object.keys(root2.signatures).length, role === 'root' ? 2 : 1, role === 'root' ? 'signed by the old and the new root key' : 'signed by the root key');
    t.equal(await readFile(join(layout.metadataDir, 'root.json'), 'utf8'), JSON.stringify(root2, null, 2) + '\n');
    // The early client holds old-key timestamp/snapshot/targets in its cache; a fresh one starts from root v1 only.
    for (const [name, client] of [['cached', early], ['fresh', await clientPinnedTo(t, base, root1)]] as const) {
      const updater = client.reopen();
      await updater.refresh();
      const info = await updater.getTargetInfo('pkg.bin');
      if (!info) throw new Error('target not found');
      t.ok((await readFile(await updater.downloadTarget(info, join(client.targetDir, name)))).equals(bytes), `${name} client downloads`);
    }
    t.same((await readdir(layout.keysDir)).sort(), ['root.json', 'snapshot.json', 'targets.json', 'timestamp.json'], 'no pending key left');
  });
}

t.test('two rotations of root in a row still verify from root v1', async (t) => {
  const { dir, base, root1 } = await publishedRepo(t, { 'pkg.bin': randomBytes(10) });
  await rotateKeys(dir, 'root', NOW);
  await rotateKeys(dir, 'root', NOW);
  const { updater } = await clientPinnedTo(t, base, root1);
  await updater.refresh();
  t.ok(await updater.getTargetInfo('pkg.bin'));
});

t.test('a root signed only by the new key would be refused: the old root key signature is what carries trust', async (t) => {
  const { dir, base, root1, layout } = await publishedRepo(t, { 'pkg.bin': randomBytes(10) });
  const r = await rotateKeys(dir, 'root', NOW);
  const file = join(layout.metadataDir, '2.root.json');
  const root2 = JSON.parse(await readFile(file, 'utf8'));
  const onlyNew = { ...root2, signatures: root2.signatures.filter((s: { keyid: string }) => s.keyid === r.newKeyId) };
  await writeFile(file, JSON.stringify(onlyNew));
  const { updater } = await clientPinnedTo(t, base, root1);
  await t.rejects(updater.refresh(), /root was signed by 0\/1 keys/);
});
