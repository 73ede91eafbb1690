// The compliance check, pure: an inventory and a profile in, one item per requirement out, each with what was
// expected, what was measured and what to do. BIOS settings Linux cannot read become items a person attests.
import type { Disk, Inventory, Nic } from '../detect/inventory.js';
import type { BiosSetting, DiskType, Profile } from '../profile/index.js';

export type ItemStatus = 'pass' | 'fail' | 'warn' | 'attest';

export interface CheckItem {
  /** Stable id: `model`, `cpu.cores`, `memory.size`, `disk`, `nic.link`, `tpm`, `bios.<id>` ... */
  id: string;
  title: string;
  status: ItemStatus;
  expected: string;
  measured: string;
  /** What it means and what to do (for attest items: what to check in BIOS setup). */
  message: string;
}

export interface CheckReport {
  schema: 'plugsrv.hw-check/1';
  profile: { id: string; name: string; verified: boolean; source: string };
  unit: { vendor: string | null; product: string | null; serial: string | null; biosVersion: string | null };
  verdict: 'pass' | 'fail';
  counts: Record<ItemStatus, number>;
  items: CheckItem[];
}

const GiB = 1024 ** 3;

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

const KIND_NAMES: Record<string, string> = { nvme: 'NVMe', ssd: 'SATA SSD', hdd: 'hard disk', virtual: 'virtual disk', usb: 'USB disk', mmc: 'eMMC/SD', unknown: 'disk' };

function article(noun: string): string {
  return /^(NVMe|[aeiou])/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function describeDisk(d: Disk): string {
  return `${d.name} (${KIND_NAMES[d.kind] ?? d.kind}, ${gb(d.sizeBytes)}${d.model ? `, ${d.model}` : ''})`;
}

/** Whether the unit's DMI identity is one of the profile's models. */
export function matchesProfile(inv: Inventory, profile: Profile): boolean {
  const m = profile.match;
  const ok = (accepted: string[] | undefined, value: string | null): boolean => accepted === undefined || (value !== null && accepted.includes(value));
  return ok(m.sysVendor, inv.dmi.sysVendor) && ok(m.productName, inv.dmi.productName) && ok(m.boardVendor, inv.dmi.boardVendor) && ok(m.boardName, inv.dmi.boardName) && ok(m.productSku, inv.dmi.productSku);
}

/** The profiles the unit's DMI identity matches (normally zero or one). */
export function identifyProfiles(inv: Inventory, profiles: readonly Profile[]): Profile[] {
  return profiles.filter((p) => matchesProfile(inv, p));
}

function modelItem(inv: Inventory, profile: Profile, others: readonly Profile[]): CheckItem {
  const m = profile.match;
  const expectedParts = [m.sysVendor.join(' | '), m.productName.join(' | ')];
  if (m.boardName) expectedParts.push(`board ${m.boardName.join(' | ')}`);
  if (m.productSku) expectedParts.push(`SKU ${m.productSku.join(' | ')}`);
  const d = inv.dmi;
  const measuredParts = [d.sysVendor ?? '(no vendor)', d.productName ?? '(no product name)'];
  if (m.boardName) measuredParts.push(`board ${d.boardName ?? '(none)'}`);
  if (m.productSku) measuredParts.push(`SKU ${d.productSku ?? '(none)'}`);
  const base = { id: 'model', title: 'Model', expected: expectedParts.join(', '), measured: measuredParts.join(', ') };
  if (matchesProfile(inv, profile)) return { ...base, status: 'pass', message: `This unit is a ${profile.name}.` };
  if (d.sysVendor === null && d.productName === null) {
    return { ...base, status: 'fail', message: `The unit has no DMI identity (/sys/class/dmi/id is missing or empty), so it cannot be recognised as a ${profile.name}. Check the BIOS is not damaged (service tag and model shown in BIOS setup).` };
  }
  const right = others.filter((p) => p.id !== profile.id && matchesProfile(inv, p)).map((p) => p.id);
  const hint = right.length > 0 ? ` It matches profile ${right.join(', ')}: run the check with --profile ${right[0]} if this unit belongs to that order.` : ' No shipped profile matches it: set this unit aside and check the order.';
  return { ...base, status: 'fail', message: `Wrong model: this unit is a ${d.sysVendor ?? '?'} ${d.productName ?? '?'}, not a ${profile.name}.${hint}` };
}

function cpuItems(inv: Inventory, req: NonNullable<Profile['requires']['cpu']>): CheckItem[] {
  const c = inv.cpu;
  const measured = `${c.cores} cores / ${c.threads} threads${c.model ? `, ${c.model}` : ''}`;
  const items: CheckItem[] = [];
  const coresOk = c.cores >= req.minCores && (req.minThreads === undefined || c.threads >= req.minThreads);
  items.push({
    id: 'cpu.cores',
    title: 'CPU cores',
    status: coresOk ? 'pass' : 'fail',
    expected: `≥ ${req.minCores} core${req.minCores > 1 ? 's' : ''}${req.minThreads !== undefined ? ` / ${req.minThreads} threads` : ''}`,
    measured,
    message: coresOk
      ? 'Enough CPU cores.'
      : `The CPU has ${c.cores} cores and ${c.threads} threads; the role needs at least ${req.minCores} cores${req.minThreads !== undefined ? ` and ${req.minThreads} threads` : ''}. The unit was built with a smaller CPU option than ordered: return it to the supplier or use a unit built to the order. (If cores are disabled in BIOS setup > Performance > Multi Core Support, enable all.)`,
  });
  if (req.vendors) {
    const ok = c.vendor !== null && req.vendors.includes(c.vendor);
    items.push({
      id: 'cpu.vendor',
      title: 'CPU vendor',
      status: ok ? 'pass' : 'fail',
      expected: req.vendors.join(' | '),
      measured: c.vendor ?? '(unknown)',
      message: ok ? 'Expected CPU vendor.' : `The CPU vendor is ${c.vendor ?? 'unknown'}, not ${req.vendors.join(' or ')}: this is not the ordered platform.`,
    });
  }
  return items;
}

function memoryItem(inv: Inventory, req: NonNullable<Profile['requires']['memory']>): CheckItem {
  const total = inv.memory.totalBytes;
  const floor = req.minGiB * GiB * (1 - req.tolerancePercent / 100);
  const base = { id: 'memory.size', title: 'Memory', expected: `≥ ${req.minGiB} GiB installed (≥ ${gib(floor)} usable)` };
  if (total === null) return { ...base, status: 'fail', measured: '(unreadable)', message: 'MemTotal could not be read from /proc/meminfo: run the check on the unit itself with procfs mounted.' };
  if (total >= floor) return { ...base, status: 'pass', measured: `${gib(total)} usable`, message: 'Enough memory.' };
  return {
    ...base,
    status: 'fail',
    measured: `${gib(total)} usable`,
    message: `Only ${gib(total)} of memory is usable; the role needs ${req.minGiB} GiB installed. Check the SO-DIMM modules are the ordered size and fully seated (BIOS setup > System Information > Memory shows what the BIOS sees).`,
  };
}

function diskItem(inv: Inventory, req: NonNullable<Profile['requires']['disk']>): CheckItem {
  const want = req.types as readonly DiskType[];
  const typeNames = want.map((t) => KIND_NAMES[t] ?? t).join(' or ');
  const base = { id: 'disk', title: 'System disk', expected: `${typeNames}, ≥ ${req.minGB} GB` };
  const fixed = inv.disks.filter((d) => d.kind !== 'usb' && !d.removable);
  const measuredAll = fixed.length > 0 ? fixed.map(describeDisk).join('; ') : 'no internal disk';
  const ofType = fixed.filter((d) => (want as readonly string[]).includes(d.kind)).sort((a, b) => b.sizeBytes - a.sizeBytes);
  const best = ofType[0];
  if (best && best.sizeBytes >= req.minGB * 1e9) return { ...base, status: 'pass', measured: describeDisk(best), message: 'The system disk is of the expected type and size.' };
  if (best) {
    return {
      ...base,
      status: 'fail',
      measured: measuredAll,
      message: `The disk is too small: ${best.name} holds ${gb(best.sizeBytes)}, the role needs at least ${req.minGB} GB (the package store fills the rest). Fit ${article(typeNames)} of ${req.minGB} GB or more (M.2 slot) and run the check again.`,
    };
  }
  return {
    ...base,
    status: 'fail',
    measured: measuredAll,
    message: `No ${typeNames} found (${measuredAll}). Fit the ordered ${typeNames} of at least ${req.minGB} GB; if it is fitted, check it is seated in the M.2 slot and enabled in BIOS setup > Storage.`,
  };
}

/** The wired NIC to judge: one with a link first, then the first wired one. */
export function pickNic(nics: Nic[], drivers: string[] | undefined): Nic | undefined {
  const wired = nics.filter((n) => !n.wireless && n.driver !== 'usb' && !/^(r8152|ax88179|cdc_ether|asix)$/.test(n.driver ?? ''));
  const preferred = drivers ? wired.filter((n) => n.driver !== null && drivers.includes(n.driver)) : wired;
  const pool = preferred.length > 0 ? preferred : wired;
  return pool.find((n) => n.carrier === true) ?? pool[0];
}

function nicItems(inv: Inventory, req: NonNullable<Profile['requires']['nic']>): CheckItem[] {
  const nic = pickNic(inv.nics, req.drivers);
  const expectedNic = req.drivers ? `wired NIC (${req.drivers.join(' | ')})` : 'a wired NIC';
  if (!nic) {
    return [
      {
        id: 'nic.present',
        title: 'Network card',
        status: 'fail',
        expected: expectedNic,
        measured: inv.nics.length > 0 ? inv.nics.map((n) => `${n.name} (${n.driver ?? '?'}${n.wireless ? ', wireless' : ''})`).join(', ') : 'none',
        message: 'No wired network card is visible. Enable the integrated NIC in BIOS setup > Connection > Integrated NIC, and check the kernel has its driver.',
      },
    ];
  }
  const described = `${nic.name} (${nic.driver ?? 'unknown driver'}${nic.pciId ? `, ${nic.pciId}` : ''})`;
  const driverOk = !req.drivers || (nic.driver !== null && req.drivers.includes(nic.driver));
  const present: CheckItem = {
    id: 'nic.present',
    title: 'Network card',
    status: driverOk ? 'pass' : 'warn',
    expected: expectedNic,
    measured: described,
    message: driverOk
      ? 'The expected wired NIC is present.'
      : `${nic.name} uses the ${nic.driver ?? 'unknown'} driver, not ${req.drivers?.join(' or ')}: the board differs from the profile's model. Check the profile is the right one for this unit.`,
  };
  const base = { id: 'nic.link', title: 'Link speed', expected: `≥ ${req.minSpeedMbps} Mb/s` };
  let link: CheckItem;
  if (nic.speedMbps !== null && nic.speedMbps >= req.minSpeedMbps) link = { ...base, status: 'pass', measured: `${nic.name} at ${nic.speedMbps} Mb/s`, message: 'The link runs at the expected speed.' };
  else if (nic.speedMbps !== null) {
    link = {
      ...base,
      status: 'fail',
      measured: `${nic.name} at ${nic.speedMbps} Mb/s`,
      message: `${nic.name} links at ${nic.speedMbps} Mb/s; the role needs ${req.minSpeedMbps} Mb/s (a USB key takes about 48 min at 100 Mb/s against 5 at 1 Gb/s). Replace the cable with a Cat 5e or better one (all 8 wires) and use a 1 Gb/s switch port; if it stays at ${nic.speedMbps} Mb/s, the NIC or its port is faulty.`,
    };
  } else {
    const down = nic.carrier !== true;
    link = {
      ...base,
      status: req.linkRequired ? 'fail' : 'warn',
      measured: `${nic.name}: ${down ? 'no link' : 'speed not reported'}`,
      message: down
        ? `${nic.name} has no link. Plug the line's network cable into the unit's RJ45 port (1 Gb/s switch port) and run the check again.`
        : `${nic.name} has a link but its driver reports no speed (virtual NIC?): the speed cannot be checked.`,
    };
  }
  return [present, link];
}

function tpmItem(inv: Inventory): CheckItem {
  const base = { id: 'tpm', title: 'TPM', expected: 'TPM 2.0' };
  const t = inv.tpm;
  if (!t) {
    return {
      ...base,
      status: 'fail',
      measured: 'no TPM (/sys/class/tpm is empty)',
      message: 'No TPM is visible to Linux. In BIOS setup (F2) > Security, turn "TPM 2.0 Security On" (and Intel PTT/firmware TPM if offered), save and reboot. If it stays missing, the board is faulty: set the unit aside.',
    };
  }
  if (t.versionMajor === 2) return { ...base, status: 'pass', measured: `${t.device}: TPM 2.0`, message: 'TPM 2.0 present.' };
  if (t.versionMajor === null) return { ...base, status: 'warn', measured: `${t.device}: version not reported`, message: 'A TPM is present but the kernel does not report its version (tpm_version_major missing): check BIOS setup > Security shows TPM 2.0.' };
  return { ...base, status: 'fail', measured: `${t.device}: TPM ${t.versionMajor === 1 ? '1.2' : t.versionMajor}`, message: 'The TPM runs in 1.2 mode; the role needs 2.0. Switch it to TPM 2.0 in BIOS setup > Security (or with Dell\'s TPM firmware update), then reboot.' };
}

function firmwareItems(inv: Inventory, req: NonNullable<Profile['requires']['firmware']>): CheckItem[] {
  const f = inv.firmware;
  const items: CheckItem[] = [];
  if (req.uefi !== undefined) items.push({
    id: 'firmware.uefi',
    title: 'UEFI boot',
    status: f.uefi === req.uefi ? 'pass' : 'fail',
    expected: req.uefi ? 'booted in UEFI mode' : 'booted in legacy mode',
    measured: f.uefi ? 'UEFI (/sys/firmware/efi present)' : 'legacy BIOS (no /sys/firmware/efi)',
    message: f.uefi === req.uefi ? 'Boot mode as expected.' : 'The unit booted in legacy BIOS mode. In BIOS setup > Boot Configuration, set the boot mode to UEFI only, disable Legacy Option ROMs, and boot the image again.',
  });
  if (req.secureBoot !== 'any') {
    const want = req.secureBoot === 'enabled';
    const base = { id: 'firmware.secure-boot', title: 'Secure Boot', expected: want ? 'enabled' : 'disabled' };
    if (!f.uefi) items.push({ ...base, status: 'fail', measured: 'not UEFI', message: 'Secure Boot needs UEFI boot: fix the boot mode first.' });
    else if (f.secureBoot === null) items.push({ ...base, status: 'warn', measured: 'SecureBoot variable unreadable', message: 'The SecureBoot EFI variable cannot be read (efivarfs not mounted?): check BIOS setup > Secure Boot by hand.' });
    else if (f.secureBoot === want) items.push({ ...base, status: 'pass', measured: f.secureBoot ? 'enabled' : 'disabled', message: 'Secure Boot as expected.' });
    else {
      const keys = f.setupMode === true ? ' The firmware is in Setup Mode (no platform key): in Secure Boot > Expert Key Management, restore the factory keys first.' : '';
      items.push({
        ...base,
        status: 'fail',
        measured: f.secureBoot ? 'enabled' : 'disabled',
        message: want ? `Secure Boot is off. In BIOS setup > Secure Boot, tick "Secure Boot Enable" (mode: Deployed), save and reboot.${keys}` : 'Secure Boot is on but the profile wants it off: turn it off in BIOS setup > Secure Boot.',
      });
    }
  }
  return items;
}

function usbItem(inv: Inventory, req: NonNullable<Profile['requires']['usb3']>): CheckItem {
  const base = { id: 'usb3', title: 'USB 3 ports', expected: `≥ ${req.minPorts} USB 3 ports${req.layout ? ` (${req.layout})` : ''}` };
  if (!inv.usb) return { ...base, status: 'warn', measured: 'USB bus not visible', message: 'No USB bus is visible (/sys/bus/usb missing): check USB is enabled in BIOS setup > Integrated Devices > USB Configuration.' };
  const ss = inv.usb.rootHubs.filter((h) => (h.speedMbps ?? 0) >= 5000);
  const ports = ss.reduce((n, h) => n + (h.ports ?? 0), 0);
  const measured = `${ss.length} SuperSpeed root hub(s), ${ports} ports`;
  if (ports >= req.minPorts) {
    return { ...base, status: 'pass', measured, message: `The USB 3 controller offers ${ports} SuperSpeed ports (root hubs count internal ports too, so this confirms the controller, not each socket${req.layout ? `: the sockets are ${req.layout}` : ''}).` };
  }
  return {
    ...base,
    status: 'fail',
    measured,
    message: ss.length === 0 ? 'No USB 3 (SuperSpeed) controller is active. Enable USB 3 in BIOS setup > Integrated Devices > USB Configuration.' : `Only ${ports} SuperSpeed ports are enabled; ${req.minPorts} are expected. Enable all front and rear USB ports in BIOS setup > Integrated Devices > USB Configuration.`,
  };
}

type Evidence = { verdict: 'pass' | 'fail' | 'unknown'; detail: string };

function biosEvidence(inv: Inventory, s: BiosSetting): Evidence[] {
  const out: Evidence[] = [];
  if (s.firmwareAttribute) {
    const { name, expect } = s.firmwareAttribute;
    const value = inv.bios.attributes[name];
    if (value === undefined) out.push({ verdict: 'unknown', detail: inv.bios.source ? `${name} is not exposed by ${inv.bios.source}` : `${name} unreadable (no firmware-attributes driver such as dell-wmi-sysman)` });
    else out.push({ verdict: expect.includes(value) ? 'pass' : 'fail', detail: `${name} = ${value}` });
  }
  if (s.adminPasswordSet) {
    const set = inv.bios.adminPasswordSet;
    if (set === null) out.push({ verdict: 'unknown', detail: 'admin password state unreadable (no firmware-attributes authentication/Admin)' });
    else out.push({ verdict: set ? 'pass' : 'fail', detail: `admin password ${set ? 'set' : 'not set'}` });
  }
  const order = inv.firmware.bootOrder;
  if (s.efiBootFirst !== undefined) {
    const first = order?.[0];
    if (!order) out.push({ verdict: 'unknown', detail: 'UEFI BootOrder unreadable' });
    else if (!first) out.push({ verdict: 'fail', detail: 'UEFI BootOrder is empty' });
    else {
      const ok = new RegExp(s.efiBootFirst, 'i').test(first.description ?? '');
      out.push({ verdict: ok ? 'pass' : 'fail', detail: `first boot entry: Boot${first.number.toString(16).toUpperCase().padStart(4, '0')} "${first.description ?? '?'}"` });
    }
  }
  if (s.efiNoUsbBoot) {
    const usb = order?.filter((e) => e.kind === 'usb' && e.active !== false) ?? [];
    if (!order) out.push({ verdict: 'unknown', detail: 'UEFI BootOrder unreadable' });
    else if (usb.length > 0) out.push({ verdict: 'fail', detail: `USB boot entries in BootOrder: ${usb.map((e) => `"${e.description ?? e.number}"`).join(', ')}` });
    else out.push({ verdict: 'unknown', detail: 'no USB entry in BootOrder (this alone does not prove USB boot is disabled)' });
  }
  return out;
}

function expectedOf(s: BiosSetting): string {
  const parts: string[] = [];
  if (s.firmwareAttribute) parts.push(`${s.firmwareAttribute.name} = ${s.firmwareAttribute.expect.join(' | ')}`);
  if (s.adminPasswordSet) parts.push('admin password set');
  if (s.efiBootFirst !== undefined) parts.push(`first UEFI boot entry matches /${s.efiBootFirst}/`);
  if (s.efiNoUsbBoot) parts.push('no USB entry in the UEFI boot order');
  return parts.length > 0 ? parts.join('; ') : s.title;
}

function biosItem(inv: Inventory, s: BiosSetting): CheckItem {
  const evidence = biosEvidence(inv, s);
  const measured = evidence.length > 0 ? evidence.map((e) => e.detail).join('; ') : 'not readable from Linux';
  const base = { id: `bios.${s.id}`, title: s.title, expected: expectedOf(s), measured };
  if (evidence.some((e) => e.verdict === 'fail')) return { ...base, status: 'fail', message: `Wrong BIOS setting. ${s.howTo}` };
  if (evidence.some((e) => e.verdict === 'pass')) return { ...base, status: 'pass', message: 'Read from the firmware: as required.' };
  return { ...base, status: 'attest', message: `Linux cannot read this setting on this unit: check it by hand and attest it. ${s.howTo}` };
}

export interface CheckOptions {
  /** Every known profile, to name the right one when the model is wrong. */
  profiles?: readonly Profile[];
}

/** Checks an inventory against a profile. Pure. */
export function checkInventory(inv: Inventory, profile: Profile, options: CheckOptions = {}): CheckReport {
  const r = profile.requires;
  const items: CheckItem[] = [modelItem(inv, profile, options.profiles ?? [])];
  if (r.cpu) items.push(...cpuItems(inv, r.cpu));
  if (r.memory) items.push(memoryItem(inv, r.memory));
  if (r.disk) items.push(diskItem(inv, r.disk));
  if (r.nic) items.push(...nicItems(inv, r.nic));
  if (r.tpm) items.push(tpmItem(inv));
  if (r.firmware) items.push(...firmwareItems(inv, r.firmware));
  if (r.usb3) items.push(usbItem(inv, r.usb3));
  for (const s of profile.bios) items.push(biosItem(inv, s));
  const counts: Record<ItemStatus, number> = { pass: 0, fail: 0, warn: 0, attest: 0 };
  for (const i of items) counts[i.status]++;
  return {
    schema: 'plugsrv.hw-check/1',
    profile: { id: profile.id, name: profile.name, verified: profile.verified, source: profile.source },
    unit: { vendor: inv.dmi.sysVendor, product: inv.dmi.productName, serial: inv.dmi.productSerial, biosVersion: inv.dmi.biosVersion },
    verdict: counts.fail > 0 ? 'fail' : 'pass',
    counts,
    items,
  };
}
