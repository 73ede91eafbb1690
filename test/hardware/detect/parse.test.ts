// Pure parsers over sysfs, procfs and efivars contents.
import t from 'tap';
import {
  applyBackspaces,
  bootVarName,
  classifyDevicePath,
  classifyDisk,
  cleanValue,
  isCandidateDisk,
  parseBootOrder,
  parseCpuinfo,
  parseEfiBool,
  parseFlag,
  parseLoadOption,
  parseMemTotal,
  parseTpmVersion,
  parseUevent,
} from '../../../hardware/src/index.js';

const node = (type: number, sub: number, payload: Buffer = Buffer.alloc(0)): Buffer => {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt8(type, 0);
  b.writeUInt8(sub, 1);
  b.writeUInt16LE(4 + payload.length, 2);
  payload.copy(b, 4);
  return b;
};
const END = node(0x7f, 0xff);
const ucs2 = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf16le'), Buffer.alloc(2)]);
const efivar = (data: Buffer, attrs = 7): Buffer => {
  const a = Buffer.alloc(4);
  a.writeUInt32LE(attrs, 0);
  return Buffer.concat([a, data]);
};
const loadOption = (description: string, path: Buffer, active = true): Buffer => {
  const head = Buffer.alloc(6);
  head.writeUInt32LE(active ? 1 : 0, 0);
  head.writeUInt16LE(path.length, 4);
  return efivar(Buffer.concat([head, ucs2(description), path, Buffer.from('optional data')]));
};

t.test('cpuinfo: hybrid cores, hyper-threading, a VM without core ids', async (t) => {
  const block = (p: number, core: number | undefined): string =>
    `processor\t: ${p}\nvendor_id\t: GenuineIntel\nmodel name\t: 13th Gen Intel(R) Core(TM) i5-13500T\nphysical id\t: 0\n${core === undefined ? '' : `core id\t\t: ${core}\n`}flags\t\t: fpu vme\n`;
  // 6 performance cores with 2 threads, 8 efficient cores with 1: 14 cores, 20 threads.
  const blocks: string[] = [];
  let p = 0;
  for (let c = 0; c < 6; c++) for (let i = 0; i < 2; i++) blocks.push(block(p++, c * 4));
  for (let c = 0; c < 8; c++) blocks.push(block(p++, 24 + c));
  t.same(parseCpuinfo(blocks.join('\n')), { vendor: 'GenuineIntel', model: '13th Gen Intel(R) Core(TM) i5-13500T', sockets: 1, cores: 14, threads: 20 });
  t.same(parseCpuinfo([block(0, undefined), block(1, undefined)].join('\n')), { vendor: 'GenuineIntel', model: '13th Gen Intel(R) Core(TM) i5-13500T', sockets: 1, cores: 2, threads: 2 }, 'no core id: one core per processor');
  t.same(parseCpuinfo(''), { vendor: null, model: null, sockets: 0, cores: 0, threads: 0 });
});

t.test('meminfo, uevent, DMI placeholders, flags', async (t) => {
  t.equal(parseMemTotal('MemTotal:       16108340 kB\nMemFree:  1 kB\n'), 16108340 * 1024);
  t.equal(parseMemTotal('MemFree: 1 kB\n'), null);
  t.same(parseUevent('DRIVER=e1000e\nPCI_ID=8086:1A1C\n\nbroken\n'), { DRIVER: 'e1000e', PCI_ID: '8086:1A1C' });
  t.equal(cleanValue('  Dell Inc. \n'), 'Dell Inc.');
  t.equal(cleanValue('To Be Filled By O.E.M.\n'), null);
  t.equal(cleanValue('Default string'), null);
  t.equal(cleanValue('\n'), null);
  t.equal(cleanValue(undefined), null);
  t.equal(parseFlag('1\n'), true);
  t.equal(parseFlag('Disabled'), false);
  t.equal(parseFlag('maybe'), null);
  t.equal(parseTpmVersion('2\n', undefined), 2);
  t.equal(parseTpmVersion(undefined, 'Manufacturer: 0x49465800\nTCG version: 1.2\nFirmware version: 6.40\n'), 1);
  t.equal(parseTpmVersion(undefined, undefined), null);
});

t.test('disks: which block devices count, and of what kind', async (t) => {
  for (const n of ['loop0', 'zram0', 'dm-0', 'md127', 'sr0', 'ram0', 'nbd0']) t.notOk(isCandidateDisk(n), n);
  for (const n of ['nvme0n1', 'sda', 'vda', 'mmcblk0']) t.ok(isCandidateDisk(n), n);
  const d = { rotational: false, driver: null, model: null, viaUsb: false };
  t.equal(classifyDisk({ ...d, name: 'nvme0n1' }), 'nvme');
  t.equal(classifyDisk({ ...d, name: 'sda' }), 'ssd');
  t.equal(classifyDisk({ ...d, name: 'sda', rotational: true }), 'hdd');
  t.equal(classifyDisk({ ...d, name: 'sda', viaUsb: true }), 'usb', 'a USB SSD is not an internal disk');
  t.equal(classifyDisk({ ...d, name: 'vda', rotational: true, driver: 'virtio_blk' }), 'virtual');
  t.equal(classifyDisk({ ...d, name: 'sda', model: 'QEMU HARDDISK' }), 'virtual');
  t.equal(classifyDisk({ ...d, name: 'mmcblk0' }), 'mmc');
  t.equal(classifyDisk({ ...d, name: 'sdb', rotational: null }), 'unknown');
});

t.test('efivars: SecureBoot byte, BootOrder list, load options and what their device paths point at', async (t) => {
  t.equal(parseEfiBool(efivar(Buffer.from([1]), 6)), true);
  t.equal(parseEfiBool(efivar(Buffer.from([0]), 6)), false);
  t.equal(parseEfiBool(Buffer.from([6, 0, 0])), null, 'truncated');
  t.equal(parseEfiBool(undefined), null);
  t.same(parseBootOrder(efivar(Buffer.from([0x01, 0x00, 0x03, 0x00, 0x10, 0x00]))), [1, 3, 16]);
  t.equal(bootVarName(0x1a), 'Boot001A');

  const hd = node(0x04, 0x01, Buffer.alloc(38));
  const file = node(0x04, 0x04, ucs2('\\EFI\\debian\\shimx64.efi'));
  const pciRoot = node(0x02, 0x01, Buffer.alloc(8));
  const pci = node(0x01, 0x01, Buffer.from([0, 0x14]));
  t.same(parseLoadOption(loadOption('debian', Buffer.concat([hd, file, END]))), { active: true, description: 'debian', kind: 'file' });
  t.same(parseLoadOption(loadOption('UEFI: SanDisk Ultra', Buffer.concat([pciRoot, pci, node(0x03, 0x05, Buffer.from([1, 0])), END]), false)), { active: false, description: 'UEFI: SanDisk Ultra', kind: 'usb' });
  t.equal(classifyDevicePath(Buffer.concat([pciRoot, pci, node(0x03, 0x17, Buffer.alloc(12)), hd, END])), 'nvme');
  t.equal(classifyDevicePath(Buffer.concat([pciRoot, pci, node(0x03, 0x12, Buffer.alloc(6)), END])), 'sata');
  t.equal(classifyDevicePath(Buffer.concat([pciRoot, pci, node(0x03, 0x0b, Buffer.alloc(33)), node(0x03, 0x0c, Buffer.alloc(23)), END])), 'network');
  t.equal(classifyDevicePath(Buffer.concat([node(0x04, 0x06, Buffer.alloc(16)), END])), 'other', 'a firmware application (setup, diagnostics)');
  t.equal(classifyDevicePath(Buffer.from([0x03, 0x05, 0x02, 0x00])), 'unknown', 'a node shorter than its header');
  t.equal(parseLoadOption(efivar(Buffer.from([1, 0, 0, 0, 4, 0, 0x41, 0]))), null, 'description never terminated');
});

t.test('backspaces are applied like a terminal would', async (t) => {
  const b = '\b'.repeat(11);
  t.equal(applyBackspaces(`  Stuck Address       : ${' '.repeat(11)}${b}setting   1${b}testing   1${b}${' '.repeat(11)}${b}ok\nnext`), '  Stuck Address       : ok\nnext');
  t.equal(applyBackspaces('\b\bx'), 'x', 'nothing to erase');
});
