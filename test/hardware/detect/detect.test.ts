// Detection over fixture trees of several machines, and a capture of this machine read back identically.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectHardware, detectInventory, formatInventory, fsReader, identifyProfiles, listProfiles } from '../../../hardware/src/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { fixtureInventory, fixtureRoot } from '../../helpers/hardware.js';

t.test('Dell OptiPlex 7010 Micro: identity, parts, firmware, BIOS settings through dell-wmi-sysman', async (t) => {
  const inv = await fixtureInventory('dell-optiplex-7010-micro');
  t.equal(inv.schema, 'plugsrv.hw-inventory/1');
  t.equal(inv.detectedAt, '2026-01-15T10:00:00.000Z');
  t.match(inv.dmi, { sysVendor: 'Dell Inc.', productName: 'OptiPlex 7010 Micro', productSku: '0C0F', productSerial: '7XK2B34', boardName: '0X8WKT', biosVersion: '1.16.1', chassisType: 35 });
  t.same(inv.cpu, { vendor: 'GenuineIntel', model: '13th Gen Intel(R) Core(TM) i5-13500T', sockets: 1, cores: 14, threads: 20 });
  t.equal(inv.memory.totalBytes, 16108340 * 1024);
  t.same(inv.disks, [{ name: 'nvme0n1', model: 'PC801 NVMe SK hynix 512GB', serial: 'SSB4N123456789A1C', sizeBytes: 1000215216 * 512, kind: 'nvme', rotational: false, removable: false, driver: null }], 'loop devices are not disks');
  t.same(
    inv.nics.map((n) => [n.name, n.driver, n.pciId, n.wireless, n.speedMbps, n.carrier, n.wakeup]),
    [
      ['eno1', 'e1000e', '8086:1A1C', false, 1000, true, 'enabled'],
      ['wlp0s20f3', 'iwlwifi', '8086:51F0', true, null, false, null],
    ],
    'lo is not a NIC; the Wi-Fi card is marked wireless',
  );
  t.same(inv.tpm, { device: 'tpm0', versionMajor: 2 });
  t.match(inv.firmware, { uefi: true, secureBoot: true, setupMode: false, bootCurrent: 1 });
  t.same(inv.firmware.bootOrder, [
    { number: 1, description: 'debian', active: true, kind: 'file' },
    { number: 2, description: 'Onboard NIC(IPV4)', active: true, kind: 'network' },
  ]);
  t.same(inv.usb, { rootHubs: [{ bus: 'usb1', speedMbps: 480, ports: 12, version: '2.00' }, { bus: 'usb2', speedMbps: 10000, ports: 10, version: '3.20' }] });
  t.match(inv.bios, { source: 'dell-wmi-sysman', adminPasswordSet: true, attributes: { AcPwrRcvry: 'On', WakeOnLan: 'LanOnly', UsbBootSupport: 'Disabled' } });
  t.same(inv.notes, []);
  t.same(JSON.parse(JSON.stringify(inv)), inv, 'JSON-serialisable as is');
  t.match(formatInventory(inv, ['dell-optiplex-7010-micro']), /Model:\s+Dell Inc\. OptiPlex 7010 Micro \(SKU 0C0F\), service tag 7XK2B34\nBoard:.*\nProfile:\s+dell-optiplex-7010-micro\nCPU:\s+13th Gen .* \(14 cores, 20 threads\)/);
});

t.test('the other fixtures: 3000 with a Realtek NIC, a USB stick and no BIOS attributes; no TPM; 100 Mb/s; a small disk; QEMU', async (t) => {
  const d3000 = await fixtureInventory('dell-optiplex-3000-micro');
  t.match(d3000.dmi, { productName: 'OptiPlex 3000 Micro' });
  t.match(d3000.cpu, { cores: 4, threads: 8 });
  t.same(d3000.disks.map((d) => [d.name, d.kind, d.removable]), [['nvme0n1', 'nvme', false], ['sda', 'usb', true]]);
  t.match(d3000.nics, [{ name: 'enp1s0', driver: 'r8169', pciId: '10EC:8168' }]);
  t.same(d3000.bios, { source: null, attributes: {}, adminPasswordSet: null });

  t.equal((await fixtureInventory('dell-optiplex-5000-micro-no-tpm')).tpm, null);
  const d7020 = await fixtureInventory('dell-optiplex-7020-micro-100mb');
  t.equal(d7020.nics[0]?.speedMbps, 100);
  t.equal(d7020.firmware.secureBoot, false);
  t.equal((await fixtureInventory('dell-optiplex-7010-micro-small-disk')).disks[0]?.sizeBytes, 500118192 * 512);

  const q = await fixtureInventory('qemu-q35');
  t.match(q.dmi, { sysVendor: 'QEMU', productName: 'Standard PC (Q35 + ICH9, 2009)', boardName: null });
  t.same(q.disks.map((d) => [d.name, d.kind]), [['vda', 'virtual']], 'the CD-ROM is not a disk');
  t.match(q.nics, [{ name: 'ens3', driver: 'virtio_net', speedMbps: null, carrier: true }], '-1 is no speed');
  t.match(q.firmware, { uefi: false, bootOrder: null });
  t.equal(q.tpm, null);
  t.equal(q.usb, null);
});

t.test('which shipped profile each fixture is', async (t) => {
  const profiles = (await listProfiles()).map((p) => p.profile);
  const ids = async (fixture: string): Promise<string[]> => identifyProfiles(await fixtureInventory(fixture), profiles).map((p) => p.id);
  t.same(await ids('dell-optiplex-7010-micro'), ['dell-optiplex-7010-micro']);
  t.same(await ids('dell-optiplex-3000-micro'), ['dell-optiplex-3000-micro']);
  t.same(await ids('dell-optiplex-5000-micro-no-tpm'), ['dell-optiplex-5000-micro']);
  t.same(await ids('dell-optiplex-7020-micro-100mb'), ['dell-optiplex-7020-micro']);
  t.same(await ids('qemu-q35'), ['qemu-virtual']);
  t.same(await ids('firecracker-vm'), [], 'no DMI: no profile');
});

t.test('the captured tree of the CI VM (Firecracker: no DMI, virtio, nothing else)', async (t) => {
  const inv = await fixtureInventory('firecracker-vm');
  t.same(inv.dmi.sysVendor, null);
  t.match(inv.notes, [/no DMI table/]);
  t.match(inv.disks, [{ name: 'vda', kind: 'virtual', driver: 'virtio_blk' }]);
  t.match(inv.nics, [{ name: 'eth0', driver: 'virtio_net', speedMbps: null }]);
  t.same([inv.tpm, inv.usb, inv.firmware.uefi], [null, null, false]);
});

t.test('capture: what this machine reads, written as a tree that detects the same; serials redacted', async (t) => {
  const dir = await tempDir(t);
  const now = (): Date => new Date('2026-01-15T10:00:00Z');
  const live = await detectInventory(fsReader('/', { capture: dir }), now);
  t.ok((await readdir(join(dir, 'proc'))).includes('cpuinfo'));
  const replay = await detectInventory(fsReader(dir), now);
  if (live.dmi.productSerial !== null) {
    t.equal(replay.dmi.productSerial, 'REDACTED');
    t.equal((await readFile(join(dir, 'sys/class/dmi/id/product_serial'), 'utf8')).trim(), 'REDACTED');
    replay.dmi.productSerial = live.dmi.productSerial;
  }
  // The live tree may have notes about files it could not read; the replay cannot see those files at all.
  t.same({ ...replay, notes: [] }, { ...live, notes: [] });
  t.same(await detectHardware({ root: dir, now }), replay, 'detectHardware is the same detection');
});

t.test('a missing root reads as an empty machine with notes, never an exception', async (t) => {
  const inv = await detectHardware({ root: join(fixtureRoot('qemu-q35'), 'does-not-exist') });
  t.same([inv.cpu.threads, inv.memory.totalBytes, inv.disks, inv.nics, inv.tpm], [0, null, [], [], null]);
  t.match(inv.notes, [/proc\/cpuinfo is missing/, /no DMI table/]);
});
