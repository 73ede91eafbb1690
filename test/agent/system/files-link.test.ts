// Durable writes (mode, content, no temp left behind) and the choice of interface from a fake sysfs.
import t from 'tap';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectInterface, readCarrier, readTextIfExists, removeDurable, resolveInterface, writeFileDurable } from '../../../agent/src/system/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('writeFileDurable replaces atomically with the mode asked', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sub', 'a.network');
  await writeFileDurable(file, 'one\n');
  t.equal(await readFile(file, 'utf8'), 'one\n');
  t.equal((await stat(file)).mode & 0o777, 0o644);
  await writeFileDurable(file, 'two\n', 0o600);
  t.equal(await readFile(file, 'utf8'), 'two\n');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.same(await readdir(join(dir, 'sub')), ['a.network'], 'no temp file left');
  t.equal(await readTextIfExists(join(dir, 'nope')), undefined);
  await removeDurable(file);
  await removeDurable(file);
  t.equal(await readTextIfExists(file), undefined, 'removing twice is fine');
});

/** A sysfs tree: class/net/<name> symlinks to devices/(virtual/)net/<name> with a type and a carrier. */
async function fakeSys(root: string, ifaces: Array<{ name: string; type?: string; virtual?: boolean; wireless?: boolean; carrier?: string }>): Promise<void> {
  await mkdir(join(root, 'class', 'net'), { recursive: true });
  for (const i of ifaces) {
    const real = join(root, 'devices', i.virtual ? 'virtual' : 'pci0000:00', 'net', i.name);
    await mkdir(real, { recursive: true });
    await writeFile(join(real, 'type'), `${i.type ?? '1'}\n`);
    if (i.carrier !== undefined) await writeFile(join(real, 'carrier'), `${i.carrier}\n`);
    if (i.wireless) await mkdir(join(real, 'wireless'));
    await symlink(real, join(root, 'class', 'net', i.name));
  }
}

t.test('the first physical ethernet interface is the default', async (t) => {
  const root = await tempDir(t);
  await fakeSys(root, [
    { name: 'lo', type: '772', virtual: true },
    { name: 'docker0', virtual: true },
    { name: 'wlp2s0', wireless: true },
    { name: 'enp3s0', carrier: '0' },
    { name: 'enp1s0', carrier: '1' },
  ]);
  t.equal(await detectInterface(root), 'enp1s0');
  t.equal(await readCarrier('enp1s0', root), true);
  t.equal(await readCarrier('enp3s0', root), false);
  t.equal(await readCarrier('missing', root), false);
  t.equal(await resolveInterface('', root), 'enp1s0');
  t.equal(await resolveInterface('enp3s0', root), 'enp3s0', 'a configured one wins');
  await t.rejects(resolveInterface('eth9', root), { code: 'E_NETWORK_INTERFACE', message: /interface eth9 \(console.interface\) does not exist/ });
});

t.test('only virtual ethernet (a veth in a namespace): taken; nothing: a clear error', async (t) => {
  const root = await tempDir(t);
  await fakeSys(root, [{ name: 'lo', type: '772', virtual: true }, { name: 'veth0', virtual: true }]);
  t.equal(await detectInterface(root), 'veth0');
  const empty = await tempDir(t);
  await fakeSys(empty, [{ name: 'lo', type: '772', virtual: true }]);
  t.equal(await detectInterface(empty), undefined);
  await t.rejects(resolveInterface('', empty), { code: 'E_NETWORK_INTERFACE', message: /no ethernet interface found/ });
});
