// The compliance check over fixture trees: the right verdict and a message that says what to do, for each defect.
import t from 'tap';
import { checkInventory, formatCheckReport, listProfiles, type CheckItem, type CheckReport, type Inventory, type Profile } from '../../../hardware/src/index.js';
import { fixtureInventory, shippedProfile } from '../../helpers/hardware.js';

let all: Profile[] = [];
t.before(async () => {
  all = (await listProfiles()).map((p) => p.profile);
});

async function check(fixture: string, profileId: string): Promise<CheckReport> {
  return checkInventory(await fixtureInventory(fixture), await shippedProfile(profileId), { profiles: all });
}

function item(r: CheckReport, id: string): CheckItem {
  const found = r.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id} in ${r.items.map((i) => i.id).join(', ')}`);
  return found;
}

function failed(r: CheckReport): string[] {
  return r.items.filter((i) => i.status === 'fail').map((i) => i.id);
}

t.test('a good OptiPlex 7010 Micro passes every item, BIOS settings read from the firmware', async (t) => {
  const r = await check('dell-optiplex-7010-micro', 'dell-optiplex-7010-micro');
  t.equal(r.verdict, 'pass');
  t.same(r.counts, { pass: 16, fail: 0, warn: 0, attest: 0 });
  t.same(r.items.map((i) => i.id), [
    'model', 'cpu.cores', 'cpu.vendor', 'memory.size', 'disk', 'nic.present', 'nic.link', 'tpm', 'firmware.uefi', 'firmware.secure-boot', 'usb3',
    'bios.ac-power-recovery', 'bios.wake-on-lan', 'bios.boot-order', 'bios.usb-boot-disabled', 'bios.admin-password',
  ]);
  t.match(item(r, 'nic.link'), { expected: '≥ 1000 Mb/s', measured: 'eno1 at 1000 Mb/s' }, 'the Wi-Fi card is not the NIC judged');
  t.match(item(r, 'bios.ac-power-recovery'), { measured: 'AcPwrRcvry = On' });
  t.match(item(r, 'bios.boot-order'), { measured: 'first boot entry: Boot0001 "debian"' });
  t.match(r, { profile: { id: 'dell-optiplex-7010-micro', verified: false }, unit: { vendor: 'Dell Inc.', product: 'OptiPlex 7010 Micro', serial: '7XK2B34' } });
});

t.test('wrong model: a 3000 Micro checked as a 7010 Micro fails, naming the profile it matches', async (t) => {
  const r = await check('dell-optiplex-3000-micro', 'dell-optiplex-7010-micro');
  t.equal(r.verdict, 'fail');
  t.match(item(r, 'model'), {
    status: 'fail',
    measured: 'Dell Inc., OptiPlex 3000 Micro',
    message: /^Wrong model: this unit is a Dell Inc\. OptiPlex 3000 Micro, not a Dell OptiPlex 7010 Micro\. It matches profile dell-optiplex-3000-micro: run the check with --profile dell-optiplex-3000-micro/,
  });
  t.match(item(r, 'nic.present'), { status: 'warn', message: /r8169 driver, not e1000e/ });
  // Against its own profile it passes, with the BIOS settings Linux cannot read on it to attest by hand.
  const own = await check('dell-optiplex-3000-micro', 'dell-optiplex-3000-micro');
  t.equal(own.verdict, 'pass');
  t.same(own.counts, { pass: 12, fail: 0, warn: 0, attest: 4 });
  t.match(item(own, 'bios.ac-power-recovery'), { status: 'attest', message: /Linux cannot read this setting on this unit: check it by hand and attest it\. In BIOS setup \(F2\) > Power Management > AC Behavior, select "Power On"\./ });
  t.match(item(own, 'bios.usb-boot-disabled'), { status: 'attest', measured: /no USB entry in BootOrder \(this alone does not prove USB boot is disabled\)/ });
  t.equal(item(own, 'bios.boot-order').status, 'pass', 'the boot order is read from efivars even without dell-wmi-sysman');
  t.match(item(own, 'disk'), { status: 'pass', measured: /^nvme0n1/ }, 'the USB stick is not the system disk');
  t.match(
    formatCheckReport(own),
    'To check by hand in BIOS setup (F2) and attest:\n  [ ] Power on after AC loss\n  [ ] Wake-on-LAN\n  [ ] USB boot disabled\n  [ ] BIOS admin password set\n\nVerdict: PASS (12 passed, 0 failed, 0 warnings, 4 to attest)',
  );
});

t.test('missing TPM: fails with what to do in BIOS setup', async (t) => {
  const r = await check('dell-optiplex-5000-micro-no-tpm', 'dell-optiplex-5000-micro');
  t.equal(r.verdict, 'fail');
  t.same(failed(r), ['tpm']);
  t.match(item(r, 'tpm'), { expected: 'TPM 2.0', measured: 'no TPM (/sys/class/tpm is empty)', message: /No TPM is visible to Linux\. In BIOS setup \(F2\) > Security, turn "TPM 2\.0 Security On"/ });
});

t.test('100 Mb/s link: fails with the cable and switch advice (this unit also has Secure Boot off and AC recovery off)', async (t) => {
  const r = await check('dell-optiplex-7020-micro-100mb', 'dell-optiplex-7020-micro');
  t.equal(r.verdict, 'fail');
  t.same(failed(r), ['nic.link', 'firmware.secure-boot', 'bios.ac-power-recovery']);
  t.match(item(r, 'nic.link'), { expected: '≥ 1000 Mb/s', measured: 'eno1 at 100 Mb/s', message: /eno1 links at 100 Mb\/s; the role needs 1000 Mb\/s .* Replace the cable with a Cat 5e or better one/ });
  t.match(item(r, 'firmware.secure-boot'), { measured: 'disabled', message: /tick "Secure Boot Enable"/ });
  t.match(item(r, 'bios.ac-power-recovery'), { measured: 'AcPwrRcvry = Off', message: /^Wrong BIOS setting\. In BIOS setup \(F2\) > Power Management > AC Behavior, select "Power On"\./ });
});

t.test('small disk: a 256 GB NVMe fails the 500 GB floor, saying what to fit', async (t) => {
  const r = await check('dell-optiplex-7010-micro-small-disk', 'dell-optiplex-7010-micro');
  t.equal(r.verdict, 'fail');
  t.same(failed(r), ['disk']);
  t.match(item(r, 'disk'), { expected: 'NVMe, ≥ 500 GB', measured: 'nvme0n1 (NVMe, 256.1 GB, KIOXIA KBG50ZNS256G NVMe 256GB)', message: /The disk is too small: nvme0n1 holds 256\.1 GB, the role needs at least 500 GB\b.* Fit an NVMe of 500 GB or more/ });
});

t.test('QEMU VM against qemu-virtual: passes; a virtual NIC without speed only warns', async (t) => {
  const r = await check('qemu-q35', 'qemu-virtual');
  t.equal(r.verdict, 'pass');
  t.match(item(r, 'nic.link'), { status: 'warn', measured: 'ens3: speed not reported' });
  const dell = await check('qemu-q35', 'dell-optiplex-7010-micro');
  t.same(failed(dell), ['model', 'cpu.cores', 'cpu.vendor', 'memory.size', 'disk', 'nic.link', 'tpm', 'firmware.uefi', 'firmware.secure-boot']);
  t.match(item(dell, 'model'), { message: /It matches profile qemu-virtual/ });
  t.match(item(dell, 'firmware.uefi'), { message: /booted in legacy BIOS mode/ });
  t.equal(item(dell, 'usb3').status, 'warn', 'no USB bus at all: cannot judge');
  t.equal(item(dell, 'bios.boot-order').status, 'attest');
});

t.test('more defects, by editing an inventory: no link, TPM 1.2, setup mode, USB boot entry, wrong vendor, no DMI', async (t) => {
  const base = await fixtureInventory('dell-optiplex-7010-micro');
  const profile = await shippedProfile('dell-optiplex-7010-micro');
  const edit = (f: (inv: Inventory) => void): CheckReport => {
    const inv = structuredClone(base);
    f(inv);
    return checkInventory(inv, profile, { profiles: all });
  };
  t.match(item(edit((i) => Object.assign(i.nics[0]!, { speedMbps: null, carrier: false })), 'nic.link'), { status: 'fail', measured: 'eno1: no link', message: /eno1 has no link\. Plug the line's network cable/ });
  t.match(item(edit((i) => (i.tpm = { device: 'tpm0', versionMajor: 1 })), 'tpm'), { status: 'fail', measured: 'tpm0: TPM 1.2' });
  t.match(item(edit((i) => Object.assign(i.firmware, { secureBoot: false, setupMode: true })), 'firmware.secure-boot'), { status: 'fail', message: /Setup Mode \(no platform key\)/ });
  const usb = edit((i) => {
    i.firmware.bootOrder = [{ number: 3, description: 'UEFI: SanDisk Ultra', active: true, kind: 'usb' }, ...(i.firmware.bootOrder ?? [])];
    delete i.bios.attributes.UsbBootSupport;
  });
  t.match(item(usb, 'bios.usb-boot-disabled'), { status: 'fail', measured: /USB boot entries in BootOrder: "UEFI: SanDisk Ultra"/ });
  t.match(item(usb, 'bios.boot-order'), { status: 'fail', measured: 'first boot entry: Boot0003 "UEFI: SanDisk Ultra"' });
  t.match(item(edit((i) => (i.bios.adminPasswordSet = false)), 'bios.admin-password'), { status: 'fail' });
  t.match(item(edit((i) => (i.cpu.vendor = 'AuthenticAMD')), 'cpu.vendor'), { status: 'fail' });
  t.match(item(edit((i) => Object.assign(i.cpu, { cores: 2, threads: 4 })), 'cpu.cores'), { status: 'fail', message: /has 2 cores and 4 threads; the role needs at least 4 cores/ });
  t.match(item(edit((i) => (i.memory.totalBytes = 3.7 * 1024 ** 3)), 'memory.size'), { status: 'fail', message: /Only 3\.7 GiB of memory is usable; the role needs 8 GiB installed/ });
  t.match(item(edit((i) => (i.disks = [])), 'disk'), { status: 'fail', message: /No NVMe found \(no internal disk\)/ });
  t.match(item(edit((i) => (i.usb = { rootHubs: [{ bus: 'usb1', speedMbps: 480, ports: 12, version: '2.00' }] })), 'usb3'), { status: 'fail', message: /No USB 3 \(SuperSpeed\) controller is active/ });
  const noDmi = edit((i) => Object.assign(i.dmi, { sysVendor: null, productName: null }));
  t.match(item(noDmi, 'model'), { status: 'fail', message: /no DMI identity/ });
  const other = edit((i) => Object.assign(i.dmi, { sysVendor: 'LENOVO', productName: '11JN000QUS' }));
  t.match(item(other, 'model'), { status: 'fail', message: /No shipped profile matches it/ });
});
