// Target facts and refusals: pure refusal() on hand-made facts, the /proc parsers, and targetFacts over a fake /proc
// and /sys tree (a disk with partitions, a device-mapper holder, the system disk behind LVM) with a real device node.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { devNumberOf, parseMountInfo, parseSwaps, refusal, systemDisks, targetFacts, type TargetFacts } from '../../../provisioning/src/flash/index.js';
import { tempDir } from './fixture.js';

const GiB = 1024 ** 3;
const IMAGE = 2434793472;
const disk = (over: Partial<TargetFacts> = {}): TargetFacts => ({ path: '/dev/sdb', kind: 'block', sizeBytes: 16 * GiB, device: 'sdb', devNumber: '8:16', readOnly: false, inUse: [], systemDisk: [], busy: false, ...over });

t.test('refusal: a good disk and a big enough file pass', async (t) => {
  t.equal(refusal(disk(), IMAGE), null);
  t.equal(refusal(disk({ sizeBytes: IMAGE }), IMAGE), null, 'exactly the image size');
  t.equal(refusal({ path: '/srv/unit.img', kind: 'file', sizeBytes: IMAGE, inUse: [], systemDisk: [] }, IMAGE), null);
});

t.test('refusal: each reason, its code and what to do', async (t) => {
  t.match(refusal({ path: '/tmp/u.img', kind: 'missing', inUse: [], systemDisk: [] }, IMAGE), { code: 'E_TARGET_INVALID', message: /does not exist.*truncate -s 2434793472 \/tmp\/u\.img/ });
  t.match(refusal({ path: '/dev/sdz', kind: 'missing', inUse: [], systemDisk: [] }, IMAGE), { code: 'E_TARGET_INVALID', message: /not plugged in.*lsblk/ });
  t.match(refusal({ path: '/dev/tty0', kind: 'other', inUse: [], systemDisk: [] }, IMAGE), { code: 'E_TARGET_INVALID', message: /neither a block device/ });
  t.match(refusal({ path: '/dev/sdx', kind: 'file', realPath: '/dev/sdx', sizeBytes: IMAGE, inUse: [], systemDisk: [] }, IMAGE), { code: 'E_TARGET_INVALID', message: /regular file under \/dev/ });
  t.match(refusal(disk({ systemDisk: ['/dev/sdb: it holds the root filesystem /'] }), IMAGE), { code: 'E_TARGET_SYSTEM_DISK', message: /the disk this computer runs from \(\/dev\/sdb: it holds the root filesystem \/\).*Nothing was written/ });
  t.match(refusal(disk({ inUse: ['/dev/sdb1 is mounted on /media/x (vfat)'] }), IMAGE), { code: 'E_TARGET_MOUNTED', message: /in use: \/dev\/sdb1 is mounted on \/media\/x.*unmount it/ });
  t.match(refusal(disk({ busy: true }), IMAGE), { code: 'E_TARGET_MOUNTED', message: /holds it open exclusively/ });
  t.match(refusal(disk({ partitionOf: 'sdb', path: '/dev/sdb1' }), IMAGE), { code: 'E_TARGET_INVALID', message: /partition of \/dev\/sdb.*Flash \/dev\/sdb instead/ });
  t.match(refusal(disk({ readOnly: true }), IMAGE), { code: 'E_TARGET_INVALID', message: /read-only/ });
  t.match(refusal(disk({ sizeBytes: 2 * GiB }), IMAGE), { code: 'E_TARGET_TOO_SMALL', message: /holds 2147483648 bytes \(2\.00 GiB\), less than the image's 2434793472 bytes \(2\.27 GiB\).*at least 2\.27 GiB/ });
  t.match(refusal({ path: '/tmp/u.img', kind: 'file', sizeBytes: 10, inUse: [], systemDisk: [] }, IMAGE), { code: 'E_TARGET_TOO_SMALL', message: /truncate -s 2434793472 \/tmp\/u\.img/ });
});

t.test('refusal order: system disk before in use before partition before size', async (t) => {
  const all = disk({ systemDisk: ['x'], inUse: ['y'], partitionOf: 'sda', readOnly: true, sizeBytes: 1 });
  t.equal(refusal(all, IMAGE)?.code, 'E_TARGET_SYSTEM_DISK');
  t.equal(refusal({ ...all, systemDisk: [] }, IMAGE)?.code, 'E_TARGET_MOUNTED');
  t.equal(refusal({ ...all, systemDisk: [], inUse: [] }, IMAGE)?.code, 'E_TARGET_INVALID');
  t.equal(refusal({ ...all, systemDisk: [], inUse: [], partitionOf: undefined, readOnly: false }, IMAGE)?.code, 'E_TARGET_TOO_SMALL');
});

t.test('/proc parsers and dev_t decoding', async (t) => {
  const mi = parseMountInfo('36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n26 1 254:0 / / rw - ext4 /dev/vda rw\nshort line\n');
  t.same(mi, [
    { devNumber: '98:0', mountPoint: '/mnt/with space', fsType: 'ext3', source: '/dev/root' },
    { devNumber: '254:0', mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
  ]);
  t.same(parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/dev/sda3                               partition\t8388604\t0\t-2\n/swap\\040file\\040(deleted) file 10 0 -3\n'), [
    { file: '/dev/sda3', type: 'partition' },
    { file: '/swap file', type: 'file' },
  ]);
  t.equal(devNumberOf(0xfe00n), '254:0');
  t.equal(devNumberOf(0x0811n), '8:17');
  t.equal(devNumberOf((259n << 8n) | 1n), '259:1');
  // glibc's makedev(0x1234, 0x56789): minor low 8 bits, major low 12 bits << 8, minor high bits << 12, major high bits << 32.
  const makedev = (major: bigint, minor: bigint): bigint => (minor & 0xffn) | ((major & 0xfffn) << 8n) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
  t.equal(devNumberOf(makedev(0x1234n, 0x56789n)), `${0x1234}:${0x56789}`, 'large major and minor');
  t.equal(devNumberOf(makedev(4095n, 0xffffffn)), `4095:${0xffffff}`);
});

/** A fake sysfs block device: /sys/devices/.../<name>[/<part>] with dev, size, ro and the /sys/dev/block and /sys/class/block links. */
async function fakeBlock(sys: string, devicePath: string, dev: string, extra: Record<string, string> = {}): Promise<void> {
  const dir = join(sys, 'devices', devicePath);
  await mkdir(join(dir, 'holders'), { recursive: true });
  await writeFile(join(dir, 'dev'), `${dev}\n`);
  await writeFile(join(dir, 'size'), `${extra['size'] ?? 1000}\n`);
  await writeFile(join(dir, 'ro'), `${extra['ro'] ?? 0}\n`);
  for (const [file, text] of Object.entries(extra)) {
    if (file === 'size' || file === 'ro') continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), `${text}\n`);
  }
  const name = devicePath.split('/').at(-1)!;
  await mkdir(join(sys, 'dev', 'block'), { recursive: true });
  await mkdir(join(sys, 'class', 'block'), { recursive: true });
  await symlink(dir, join(sys, 'dev', 'block', dev));
  await symlink(dir, join(sys, 'class', 'block', name));
}

t.test('targetFacts over a fake /sys and /proc', async (t) => {
  if (process.getuid?.() !== 0) {
    t.plan(0, 'needs root to mknod a block device node (CI runs as root)');
    return;
  }
  const root = await tempDir(t);
  const sys = join(root, 'sys');
  const proc = join(root, 'proc');
  // sda: the system disk (root on LVM dm-0 over sda2); sdb: a unit disk with sdb1 mounted and dm-1 on sdb2; sdc: free; sdd: read-only.
  await fakeBlock(sys, 'pci/block/sda', '8:0', { size: String(500 * 2 ** 21), 'device/vendor': 'ATA', 'device/model': 'LineDisk' });
  await fakeBlock(sys, 'pci/block/sda/sda1', '8:1', { partition: '1' });
  await fakeBlock(sys, 'pci/block/sda/sda2', '8:2', { partition: '2' });
  await fakeBlock(sys, 'virtual/block/dm-0', '253:0', { 'dm/name': 'vg-root' });
  await mkdir(join(sys, 'devices/virtual/block/dm-0/slaves'), { recursive: true });
  await symlink(join(sys, 'devices/pci/block/sda/sda2'), join(sys, 'devices/virtual/block/dm-0/slaves/sda2'));
  await symlink(join(sys, 'devices/virtual/block/dm-0'), join(sys, 'devices/pci/block/sda/sda2/holders/dm-0'));
  await fakeBlock(sys, 'usb/block/sdb', '8:16', { size: String(32 * 2 ** 21), 'device/vendor': 'SanDisk', 'device/model': 'Unit SSD' });
  await fakeBlock(sys, 'usb/block/sdb/sdb1', '8:17', { partition: '1' });
  await fakeBlock(sys, 'usb/block/sdb/sdb2', '8:18', { partition: '2' });
  await fakeBlock(sys, 'virtual/block/dm-1', '253:1', { 'dm/name': 'crypt-unit' });
  await symlink(join(sys, 'devices/virtual/block/dm-1'), join(sys, 'devices/usb/block/sdb/sdb2/holders/dm-1'));
  await fakeBlock(sys, 'usb/block/sdc', '8:32', { size: String(32 * 2 ** 21) });
  await fakeBlock(sys, 'usb/block/sdd', '8:48', { size: String(32 * 2 ** 21), ro: '1' });
  await mkdir(join(proc, 'self'), { recursive: true });
  await writeFile(
    join(proc, 'self', 'mountinfo'),
    ['26 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw', '27 26 8:1 / /boot/efi rw - vfat /dev/sda1 rw', '40 26 8:17 / /media/op/UNIT rw,nosuid - vfat /dev/sdb1 rw', '41 26 0:50 / /mnt/btr rw - btrfs /dev/sdc rw', ''].join('\n'),
  );
  await writeFile(join(proc, 'swaps'), 'Filename\tType\tSize\tUsed\tPriority\n');
  const nodes = join(root, 'dev');
  await mkdir(nodes);
  for (const [name, major, minor] of [['sda', 8, 0], ['sda2', 8, 2], ['sdb', 8, 16], ['sdc', 8, 32], ['sdd', 8, 48], ['dm-0', 253, 0]] as const) {
    execFileSync('mknod', [join(nodes, name), 'b', String(major), String(minor)]);
  }
  const paths = { sys, proc, rootDevice: '253:0', exclusiveProbe: false };

  const system = await systemDisks(paths);
  t.same([...system.keys()], ['sda'], 'root on LVM over sda2, /boot/efi on sda1: sda');
  t.same(system.get('sda'), ['it holds the root filesystem /', 'it holds /boot/efi']);

  const sda = await targetFacts(join(nodes, 'sda'), paths);
  t.match(sda, { kind: 'block', device: 'sda', devNumber: '8:0', sizeBytes: 500 * GiB, description: 'ATA LineDisk', readOnly: false });
  t.same(sda.systemDisk, ['/dev/sda: it holds the root filesystem /', '/dev/sda: it holds /boot/efi']);
  t.equal(refusal(sda, IMAGE)?.code, 'E_TARGET_SYSTEM_DISK');
  t.match(sda.inUse.join('\n'), /\/dev\/sda1 is mounted on \/boot\/efi \(vfat\)/);
  t.match(sda.inUse.join('\n'), /\/dev\/dm-0 \(vg-root\) is built on it/);

  const dm0 = await targetFacts(join(nodes, 'dm-0'), paths);
  t.equal(refusal(dm0, IMAGE)?.code, 'E_TARGET_SYSTEM_DISK', 'the LVM volume itself leads to sda');
  const sda2 = await targetFacts(join(nodes, 'sda2'), paths);
  t.match(sda2, { partitionOf: 'sda' });
  t.equal(refusal(sda2, IMAGE)?.code, 'E_TARGET_SYSTEM_DISK');

  const sdb = await targetFacts(join(nodes, 'sdb'), paths);
  t.same(sdb.systemDisk, []);
  t.match(sdb.inUse.join('\n'), /\/dev\/sdb1 is mounted on \/media\/op\/UNIT \(vfat\)/);
  t.match(sdb.inUse.join('\n'), /\/dev\/dm-1 \(crypt-unit\) is built on it/);
  t.match(refusal(sdb, IMAGE), { code: 'E_TARGET_MOUNTED', message: /\/media\/op\/UNIT/ });

  const sdc = await targetFacts(join(nodes, 'sdc'), paths);
  t.match(sdc.inUse.join('\n'), /\/dev\/sdc is mounted on \/mnt\/btr \(btrfs\)/, 'a btrfs mount (anonymous 0:N) found by its source');
  const sdd = await targetFacts(join(nodes, 'sdd'), paths);
  t.same(sdd.inUse, []);
  t.match(refusal(sdd, IMAGE), { code: 'E_TARGET_INVALID', message: /read-only/ });

  t.match(await targetFacts(join(root, 'nope'), paths), { kind: 'missing' });
  t.match(await targetFacts(root, paths), { kind: 'other' });
  t.match(refusal(await targetFacts(root, paths), IMAGE), { code: 'E_TARGET_INVALID' });
});
