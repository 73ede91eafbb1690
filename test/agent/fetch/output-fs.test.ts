// The output folder's file system: FAT32 refuses files of 4 GiB or more before any byte; detection from statfs; Windows drives; file names any USB key accepts.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFileSizes, defaultCacheDir, FAT_MAX_FILE_BYTES, fileSystemOf, isFat, linuxFsName, selectPackages, syncDir, tooLargeFor, unsafeNameReason, windowsDrive, type ServerPackage } from '../../../agent/src/fetch/index.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';

const GiB = 1024 ** 3;

t.test('FAT names: Linux vfat/msdos, Windows FAT32/FAT; exFAT and NTFS are not FAT', async (t) => {
  for (const name of ['vfat', 'msdos', 'FAT32', 'FAT', 'fat16', ' FAT32\r\n']) t.ok(isFat(name), name);
  for (const name of ['exFAT', 'exfat', 'NTFS', 'ntfs', 'ext4', 'tmpfs', 'fuseblk', undefined]) t.notOk(isFat(name), String(name));
});

t.test('4 GiB - 1 byte fits FAT32, 4 GiB does not', async (t) => {
  const pkgs = [
    { name: 'MAX.bin', size: FAT_MAX_FILE_BYTES },
    { name: 'FOUR.bin', size: 4 * GiB },
    { name: 'BIG.bin', size: 9 * GiB },
  ];
  t.same(tooLargeFor('vfat', pkgs).map((p) => p.name), ['FOUR.bin', 'BIG.bin']);
  t.same(tooLargeFor('exFAT', pkgs), []);
  t.same(tooLargeFor(undefined, pkgs), [], 'unknown: left to EFBIG at the first write');
  t.throws(() => checkFileSizes('FAT32', pkgs, 'E:\\KEY'), { code: 'E_FILE_TOO_LARGE', message: /E:\\KEY is on a FAT32 file system \(FAT32\), which cannot hold a file of 4 GiB or more: FOUR\.bin \(4\.00 GiB\), BIG\.bin \(9\.00 GiB\)\. Reformat the USB key as exFAT/ });
  t.doesNotThrow(() => checkFileSizes('vfat', [pkgs[0]!], '/media/KEY'));
});

t.test('linux statfs magic numbers', async (t) => {
  t.equal(linuxFsName(0x4d44), 'vfat');
  t.equal(linuxFsName(0x2011bab0), 'exfat');
  t.equal(linuxFsName(0x01021994), 'tmpfs');
  t.equal(linuxFsName(0x1234), '0x1234');
});

t.test('fileSystemOf a real tmpfs on Linux; undefined where it cannot tell', async (t) => {
  const mnt = await smallTmpfs(t, '1m');
  if (typeof mnt !== 'string') {
    t.plan(0, mnt.skip);
    return;
  }
  t.equal(await fileSystemOf(mnt), 'tmpfs');
  t.equal(await fileSystemOf(join(mnt, 'missing')), undefined);
  t.equal(await fileSystemOf(mnt, 'darwin'), undefined);
});

t.test('Windows drives from paths (UNC shares have none)', async (t) => {
  t.equal(windowsDrive('E:\\'), 'E:');
  t.equal(windowsDrive('e:\\updates\\car'), 'E:');
  t.equal(windowsDrive('\\\\server\\share\\dir'), undefined);
});

t.test('directory fsync is skipped on Windows and done elsewhere', async (t) => {
  await t.resolves(syncDir('Z:\\not-a-dir-here', 'win32'), 'win32: nothing to open');
  await t.rejects(syncDir(join(tmpdir(), 'plugsrv-no-such-dir-' + process.pid), 'linux'), { code: 'ENOENT' });
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-fs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.resolves(syncDir(dir, 'linux'));
});

t.test('the verified-metadata cache lives in the user cache folder of each OS', async (t) => {
  t.equal(defaultCacheDir('win32', { LOCALAPPDATA: 'C:\\Users\\d\\AppData\\Local' }, 'C:\\Users\\d'), join('C:\\Users\\d\\AppData\\Local', 'plugsrv', 'tuf'));
  t.equal(defaultCacheDir('linux', { XDG_CACHE_HOME: '/x' }, '/home/d'), join('/x', 'plugsrv', 'tuf'));
  t.equal(defaultCacheDir('linux', {}, '/home/d'), join('/home/d', '.cache', 'plugsrv', 'tuf'));
});

t.test('file names any USB key and Windows accept', async (t) => {
  for (const ok of ['R-LINK2_SOFT_10.8.2.bin', 'EASY-LINK SOFT 6.2.1.bin', 'Carte_Europe_été_2026.bin', 'CONSOLE.bin', 'nul2.bin']) t.equal(unsafeNameReason(ok), undefined, ok);
  t.match(unsafeNameReason('a:b.bin'), /< > : " \| \? \*/);
  t.match(unsafeNameReason('what?.bin'), /FAT32, exFAT and Windows refuse/);
  t.match(unsafeNameReason('x.bin.'), /ends with a dot or a space/);
  t.match(unsafeNameReason('CON'), /device name/);
  t.match(unsafeNameReason('nul.bin'), /device name/);
  t.match(unsafeNameReason('COM1.txt'), /device name/);
  t.match(unsafeNameReason('dir\\x.bin'), /path separator/);
  const pkg: ServerPackage = { id: 'a'.repeat(64), name: 'AUX.bin', size: 1, kind: 'soft', headUnit: 'IVI', models: [], version: '1' };
  t.throws(() => selectPackages([pkg], { ids: [], all: true }), { code: 'E_BAD_REQUEST', message: /AUX\.bin.*device name Windows reserves/ });
});
