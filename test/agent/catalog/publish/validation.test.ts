// The publisher's input checks and repository consistency checks: clear AgentErrors, nothing half-done.
import t from 'tap';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Command } from 'commander';
import {
  addTargets,
  canonicalJson,
  expiresAt,
  initRepo,
  keyIdOf,
  layoutOf,
  parseExpiries,
  publish,
  registerCatalogCommands,
  removeTarget,
  rotateKeys,
  targetInputFromFlags,
  validateTargetPath,
} from '../../../../agent/src/catalog/publish/index.js';
import { tempDir } from '../../../helpers/agent-process.js';
import { clientPinnedTo, serveStatic } from './tuf-fixture.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const flags = { kind: 'soft', headUnit: 'IVI', models: 'XFK, BJA', packageVersion: '2.0.1' };

t.test('flags become validated custom fields', async (t) => {
  t.same(targetInputFromFlags({ ...flags, region: 'EU', campaign: 'recall', priority: '5', supersedes: 'ivi-2.0.0.bin', notes: 'n', path: 'ivi/2.0.1.bin' }), {
    custom: { kind: 'soft', headUnit: 'IVI', models: ['XFK', 'BJA'], version: '2.0.1', releaseNotes: 'n', region: 'EU', campaign: 'recall', priority: 5, supersedes: 'ivi-2.0.0.bin' },
    path: 'ivi/2.0.1.bin',
  });
  t.same(targetInputFromFlags(flags), { custom: { kind: 'soft', headUnit: 'IVI', models: ['XFK', 'BJA'], version: '2.0.1' } }, 'no undefined keys');
  const bad: [Record<string, string | undefined>, RegExp][] = [
    [{ kind: undefined }, /--kind is required/],
    [{ kind: 'firmware' }, /--kind is invalid/],
    [{ headUnit: undefined }, /--head-unit is required/],
    [{ headUnit: '-x' }, /--head-unit is invalid/],
    [{ models: 'xfk' }, /--models is invalid: a vehicle project code/],
    [{ models: ',' }, /--models is invalid/],
    [{ packageVersion: undefined }, /--package-version is required/],
    [{ campaign: 'marketing' }, /--campaign is invalid/],
    [{ priority: 'high' }, /--priority must be a whole number/],
    [{ priority: '1001' }, /--priority is invalid/],
    [{ region: 'E/U' }, /--region is invalid/],
    [{ supersedes: '../x' }, /--supersedes is invalid/],
    [{ path: '/etc/passwd' }, /not a valid target path/],
  ];
  for (const [override, message] of bad) {
    t.throws(() => targetInputFromFlags({ ...flags, ...override }), { code: 'E_IMPORT_INPUT', message }, JSON.stringify(override));
  }
});

t.test('target paths: relative, no dot segments, backslashes, quotes or control characters', async (t) => {
  t.equal(validateTargetPath('maps/eu/x.bin'), 'maps/eu/x.bin');
  for (const p of ['', '/x', 'x/', 'a//b', 'a/../b', './a', 'a\\b', 'a"b', 'a\nb', 'x'.repeat(256)]) {
    t.throws(() => validateTargetPath(p), { code: 'E_IMPORT_INPUT' }, JSON.stringify(p));
  }
});

t.test('expiries: defaults, overrides, refusals, TUF date format', async (t) => {
  t.same(parseExpiries(undefined), { root: '365d', targets: '90d', snapshot: '7d', timestamp: '1d' });
  t.same(parseExpiries('root=2w, timestamp=6h'), { root: '2w', targets: '90d', snapshot: '7d', timestamp: '6h' });
  for (const spec of ['root', 'owner=1d', 'root=1', 'root=0d', 'root=1d=2', 'root=1y']) t.throws(() => parseExpiries(spec), { code: 'E_CONFIG' }, spec);
  t.equal(expiresAt(new Date('2026-01-01T00:00:00.123Z'), '1d'), '2026-01-02T00:00:00Z');
});

t.test('key ids and canonical JSON agree with @tufjs/canonical-json', async (t) => {
  const sample = { b: [1, 'x"y\\z', true, null], a: { d: 'é\n', c: 0 } };
  t.equal(canonicalJson(sample), canonicalize(sample));
  const pub = 'ab'.repeat(32);
  const expected = createHash('sha256').update(canonicalize({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pub } })).digest('hex');
  t.equal(keyIdOf(pub), expected);
  t.throws(() => canonicalJson(1.5), /no floats/);
});

async function repoWithFile(t: Parameters<typeof tempDir>[0]) {
  const work = await tempDir(t);
  const dir = join(work, 'repo');
  await initRepo(dir, {}, NOW);
  const file = join(work, 'pkg.bin');
  await writeFile(file, 'package bytes');
  return { work, dir, file, layout: layoutOf(dir) };
}

t.test('add: refusals name the problem and stage nothing', async (t) => {
  const { work, dir, file, layout } = await repoWithFile(t);
  const input = targetInputFromFlags(flags);
  await t.rejects(addTargets(join(work, 'nowhere'), [file], input), { code: 'E_CONFIG', message: /catalog init/ });
  await t.rejects(addTargets(dir, [], input), { code: 'E_IMPORT_INPUT', message: /nothing to add/ });
  await t.rejects(addTargets(dir, [join(work, 'missing.bin')], input), { code: 'E_IMPORT_INPUT', message: /cannot read/ });
  await mkdir(join(work, 'folder'));
  await t.rejects(addTargets(dir, [join(work, 'folder')], input), { code: 'E_IMPORT_INPUT', message: /not a regular file/ });
  await t.rejects(addTargets(dir, [file, file], { ...input, path: 'a.bin' }), { code: 'E_IMPORT_INPUT', message: /single file/ });
  await t.rejects(addTargets(dir, [file, file], input), { code: 'E_IMPORT_INPUT', message: /both be the target "pkg.bin"/ });
  await t.rejects(addTargets(dir, [file], { custom: { ...input.custom, supersedes: 'pkg.bin' } }), { code: 'E_IMPORT_INPUT', message: /--supersedes/ });
  await t.rejects(addTargets(dir, [file], { custom: { ...input.custom, models: [] } }), { code: 'E_IMPORT_INPUT', message: /--models/ });
  t.same(JSON.parse(await readFile(layout.stagingFile, 'utf8')), { targets: {} });
});

t.test('add twice replaces; remove refuses what is not staged', async (t) => {
  const { dir, file } = await repoWithFile(t);
  const [first] = await addTargets(dir, [file], targetInputFromFlags(flags));
  t.equal(first?.replaced, false);
  await writeFile(file, 'new bytes');
  const [second] = await addTargets(dir, [file], targetInputFromFlags({ ...flags, packageVersion: '2.0.2' }));
  t.equal(second?.replaced, true);
  t.not(second?.sha256, first?.sha256);
  await removeTarget(dir, 'pkg.bin');
  await t.rejects(removeTarget(dir, 'pkg.bin'), { code: 'E_IMPORT_INPUT', message: /not staged/ });
  await t.rejects(removeTarget(dir, '../pkg.bin'), { code: 'E_IMPORT_INPUT' });
});

t.test('publish refuses missing bytes, a corrupt staging list, a key the root does not trust', async (t) => {
  const { dir, file, layout } = await repoWithFile(t);
  const [added] = await addTargets(dir, [file], targetInputFromFlags(flags));
  await rm(added?.file as string);
  await t.rejects(publish(dir, NOW), { code: 'E_MANIFEST', message: /pkg.bin.*missing/ });
  await writeFile(layout.stagingFile, JSON.stringify({ targets: { 'x.bin': { length: -1 } } }));
  await t.rejects(publish(dir, NOW), { code: 'E_MANIFEST', message: /staging list/ });
  await writeFile(layout.stagingFile, JSON.stringify({ targets: {} }));
  const other = join(await tempDir(t), 'other');
  await initRepo(other, {}, NOW);
  await copyFile(join(other, 'keys', 'snapshot.json'), join(layout.keysDir, 'snapshot.json'));
  await t.rejects(publish(dir, NOW), { code: 'E_CONFIG', message: /not the one root version 1 trusts for snapshot/ });
  const key = JSON.parse(await readFile(join(other, 'keys', 'targets.json'), 'utf8'));
  await writeFile(join(layout.keysDir, 'targets.json'), JSON.stringify({ ...key, keyid: 'a'.repeat(64) }));
  await t.rejects(publish(dir, NOW), { code: 'E_CONFIG', message: /key id that does not match/ });
  await t.rejects(rotateKeys(dir, 'owner' as 'root', NOW), { code: 'E_IMPORT_INPUT', message: /--role/ });
});

t.test('a rotation interrupted after the new root was written is finished by the next command', async (t) => {
  const { work, dir, file, layout } = await repoWithFile(t);
  await addTargets(dir, [file], targetInputFromFlags(flags));
  await publish(dir, NOW);
  const keyPath = join(layout.keysDir, 'targets.json');
  await copyFile(keyPath, join(work, 'old-targets.json'));
  await rotateKeys(dir, 'targets', NOW);
  // As if the crash came between writing root v2 and renaming the pending key into place.
  await rename(keyPath, join(layout.keysDir, 'targets.next.json'));
  await copyFile(join(work, 'old-targets.json'), keyPath);
  const r = await publish(dir, new Date());
  t.match(r, { rootVersion: 2, targetsVersion: 4 });
  const { updater } = await clientPinnedTo(t, await serveStatic(t, layout.repositoryDir), join(layout.metadataDir, '1.root.json'));
  await updater.refresh();
  t.ok(await updater.getTargetInfo('pkg.bin'), 'signed by the key root v2 lists');
});

t.test('a rotation interrupted before the new root was written is undone', async (t) => {
  const { dir, layout } = await repoWithFile(t);
  const other = join(await tempDir(t), 'other');
  await initRepo(other, {}, NOW);
  await copyFile(join(other, 'keys', 'root.json'), join(layout.keysDir, 'root.next.json'));
  t.match(await publish(dir, NOW), { rootVersion: 1 });
  await t.rejects(readFile(join(layout.keysDir, 'root.next.json')), 'the unused pending key is dropped');
});

t.test('the catalog command: init, add, publish, rotate-keys through commander', async (t) => {
  const { work } = await repoWithFile(t);
  const dir = join(work, 'cli-repo');
  const program = new Command('plugsrv');
  const out: string[] = [];
  registerCatalogCommands(program, (line) => out.push(line));
  // Commander copies exitOverride and output settings only to subcommands made by .command(), not addCommand().
  const quiet = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeErr: () => undefined });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  const run = (...args: string[]) => program.parseAsync(['catalog', ...args], { from: 'user' });
  await run('init', '--repo', dir, '--expires', 'timestamp=12h');
  await run('add', join(work, 'pkg.bin'), '--repo', dir, '--kind', 'map', '--head-unit', 'R-LINK2', '--models', 'XFK', '--package-version', '1', '--priority', '3', '--path', 'maps/pkg.bin');
  await run('publish', '--repo', dir);
  await run('rotate-keys', '--repo', dir, '--role', 'root');
  await run('remove', 'maps/pkg.bin', '--repo', dir);
  await t.rejects(run('add', join(work, 'pkg.bin'), '--repo', dir, '--kind', 'firmware'), { code: 'commander.invalidArgument' });
  await t.rejects(run('publish'), { code: 'commander.missingMandatoryOptionValue' });
  t.match(out.join('\n'), /initialised[\s\S]*staged maps\/pkg.bin[\s\S]*published 1 targets: targets v2[\s\S]*rotated the root key[\s\S]*root v2[\s\S]*unstaged maps\/pkg.bin/);
});
