// Import inputs: manifests and flags are validated before anything is written, with errors that say what to fix.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itemsFromFlags, parseManifest } from '../../../agent/src/import/index.js';
import { runCli, tempDir } from '../../helpers/agent-process.js';

t.test('manifest: paths relative to the manifest, names default to the file name', async (t) => {
  const items = parseManifest(
    'packages:\n  - path: sub/a.bin\n    kind: map\n    headUnit: R-LINK2\n    models: [BJA]\n    version: "2026.4"\n    releaseNotes: Europe\n',
    '/media/disk/manifest.yaml',
  );
  t.same(items, [{ path: '/media/disk/sub/a.bin', meta: { name: 'a.bin', kind: 'map', headUnit: 'R-LINK2', models: ['BJA'], version: '2026.4', releaseNotes: 'Europe' } }]);
});

t.test('manifest errors name the entry and field', async (t) => {
  t.throws(() => parseManifest('packages:\n  - path: a.bin\n    kind: firmware\n    headUnit: IVI\n    models: [XBA]\n    version: "1"\n', 'm.yaml'), {
    code: 'E_MANIFEST',
    message: /packages\.0\.kind/,
  });
  t.throws(() => parseManifest('packages: [', 'm.yaml'), { code: 'E_MANIFEST', message: /not valid YAML/ });
  t.throws(() => parseManifest('packages:\n  - path: a.bin\n    kind: soft\n    headUnit: IVI\n    models: [xba]\n    version: "1"\n', 'm.yaml'), { message: /models\.0.*project code/ });
});

t.test('flags: all metadata required, models upper-cased', async (t) => {
  t.throws(() => itemsFromFlags(['a.bin'], { kind: 'soft' }), { code: 'E_IMPORT_INPUT', message: /--head-unit, --models, --package-version/ });
  const [item] = itemsFromFlags(['/x/a.bin'], { kind: 'soft', headUnit: 'IVI', models: 'xba, bja', version: '1' });
  t.same(item?.meta.models, ['XBA', 'BJA']);
});

t.test('CLI: a missing file fails before anything is imported, exit code 2', async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, 'good.bin');
  await writeFile(good, 'bytes');
  const r = await runCli(['--data-dir', join(dir, 'data'), 'import', good, join(dir, 'missing.bin'), '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1']);
  t.equal(r.code, 2);
  t.match(r.stderr, /E_IMPORT_INPUT: cannot import .*missing\.bin: it does not exist/);
  t.notMatch(r.stdout, /imported/, 'the good file was not imported either');
  const hash = await runCli(['--data-dir', join(dir, 'data'), 'import', '--manifest', join(dir, 'm.yaml')]);
  t.equal(hash.code, 2, 'a missing manifest is a usage error');
});

t.test('CLI: an expected sha256 that does not match refuses the package', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.bin'), 'tampered bytes');
  await writeFile(join(dir, 'm.yaml'), `packages:\n  - path: a.bin\n    kind: soft\n    headUnit: IVI\n    models: [XBA]\n    version: 1.10\n    sha256: ${"1e" + "0".repeat(62)}\n`);
  const r = await runCli(['--data-dir', join(dir, 'data'), 'import', '--manifest', join(dir, 'm.yaml')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /E_HASH_MISMATCH/);
});
