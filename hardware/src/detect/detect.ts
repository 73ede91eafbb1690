// Detection: reads DMI, CPU, memory, disks, NICs, TPM, UEFI state, USB root hubs and BIOS attributes through a
// SysReader and returns the unit's inventory. Parsing is in parse.ts; this file only decides what to read.
import { INVENTORY_SCHEMA, type BiosState, type BootEntry, type Disk, type Dmi, type Firmware, type Inventory, type Nic, type Tpm, type UsbRootHub } from './inventory.js';
import {
  bootVarName,
  classifyDisk,
  cleanValue,
  EFI_GLOBAL_GUID,
  isCandidateDisk,
  parseBootCurrent,
  parseBootOrder,
  parseCpuinfo,
  parseEfiBool,
  parseFlag,
  parseIntOrNull,
  parseLoadOption,
  parseMemTotal,
  parseTpmVersion,
  parseUevent,
} from './parse.js';
import type { SysReader } from './reader.js';

const DMI = '/sys/class/dmi/id';
const EFIVARS = '/sys/firmware/efi/efivars';
const FW_ATTRS = '/sys/class/firmware-attributes';

async function readDmi(r: SysReader): Promise<Dmi> {
  const v = async (name: string): Promise<string | null> => cleanValue(await r.text(`${DMI}/${name}`));
  return {
    sysVendor: await v('sys_vendor'),
    productName: await v('product_name'),
    productVersion: await v('product_version'),
    productSku: await v('product_sku'),
    productSerial: await v('product_serial'),
    boardVendor: await v('board_vendor'),
    boardName: await v('board_name'),
    biosVendor: await v('bios_vendor'),
    biosVersion: await v('bios_version'),
    biosDate: await v('bios_date'),
    chassisType: parseIntOrNull(await r.text(`${DMI}/chassis_type`)),
  };
}

async function readDisks(r: SysReader): Promise<Disk[]> {
  const disks: Disk[] = [];
  for (const name of await r.list('/sys/block')) {
    if (!isCandidateDisk(name)) continue;
    const base = `/sys/block/${name}`;
    // A disk with no `device` is virtual in the kernel's sense (loop, zram ...).
    if (!(await r.isDir(`${base}/device`))) continue;
    const sectors = parseIntOrNull(await r.text(`${base}/size`));
    if (sectors === null || sectors === 0) continue; // card reader without a card, empty optical drive
    const rot = parseIntOrNull(await r.text(`${base}/queue/rotational`));
    const model = cleanValue(await r.text(`${base}/device/model`));
    const driver = parseUevent(await r.text(`${base}/device/uevent`)).DRIVER ?? null;
    const viaUsb = /\/usb\d+\//.test((await r.link(base)) ?? '');
    const rotational = rot === null ? null : rot === 1;
    disks.push({
      name,
      model,
      serial: cleanValue(await r.text(`${base}/device/serial`)) ?? cleanValue(await r.text(`${base}/serial`)),
      sizeBytes: sectors * 512,
      kind: classifyDisk({ name, rotational, driver, model, viaUsb }),
      rotational,
      removable: parseIntOrNull(await r.text(`${base}/removable`)) === 1,
      driver,
    });
  }
  return disks;
}

async function readNics(r: SysReader): Promise<Nic[]> {
  const nics: Nic[] = [];
  for (const name of await r.list('/sys/class/net')) {
    const base = `/sys/class/net/${name}`;
    // Only NICs backed by a device (not lo, bridges, veth, ifb, tunnels).
    if (!(await r.isDir(`${base}/device`))) continue;
    const uevent = parseUevent(await r.text(`${base}/device/uevent`));
    const speed = parseIntOrNull(await r.text(`${base}/speed`));
    nics.push({
      name,
      mac: cleanValue(await r.text(`${base}/address`)),
      driver: uevent.DRIVER ?? null,
      pciId: uevent.PCI_ID ?? null,
      wireless: await r.isDir(`${base}/wireless`),
      speedMbps: speed !== null && speed > 0 ? speed : null,
      carrier: parseFlag(await r.text(`${base}/carrier`)),
      operstate: cleanValue(await r.text(`${base}/operstate`)),
      wakeup: cleanValue(await r.text(`${base}/device/power/wakeup`)),
    });
  }
  return nics;
}

async function readTpm(r: SysReader): Promise<Tpm | null> {
  const devices = (await r.list('/sys/class/tpm')).filter((n) => /^tpm\d+$/.test(n));
  const device = devices[0];
  if (device === undefined) return null;
  const base = `/sys/class/tpm/${device}`;
  return { device, versionMajor: parseTpmVersion(await r.text(`${base}/tpm_version_major`), (await r.text(`${base}/caps`)) ?? (await r.text(`${base}/device/caps`))) };
}

async function readFirmware(r: SysReader): Promise<Firmware> {
  const uefi = await r.isDir('/sys/firmware/efi');
  if (!uefi) return { uefi, secureBoot: null, setupMode: null, bootCurrent: null, bootOrder: null };
  const v = (name: string): Promise<Buffer | undefined> => r.bytes(`${EFIVARS}/${name}-${EFI_GLOBAL_GUID}`);
  const order = parseBootOrder(await v('BootOrder'));
  let bootOrder: BootEntry[] | null = null;
  if (order) {
    bootOrder = [];
    for (const number of order) {
      const option = parseLoadOption(await v(bootVarName(number)));
      bootOrder.push({ number, description: option?.description ?? null, active: option?.active ?? null, kind: option?.kind ?? 'unknown' });
    }
  }
  return { uefi, secureBoot: parseEfiBool(await v('SecureBoot')), setupMode: parseEfiBool(await v('SetupMode')), bootCurrent: parseBootCurrent(await v('BootCurrent')), bootOrder };
}

async function readUsb(r: SysReader): Promise<{ rootHubs: UsbRootHub[] } | null> {
  if (!(await r.isDir('/sys/bus/usb/devices'))) return null;
  const hubs: UsbRootHub[] = [];
  for (const bus of await r.list('/sys/bus/usb/devices')) {
    if (!/^usb\d+$/.test(bus)) continue;
    const base = `/sys/bus/usb/devices/${bus}`;
    hubs.push({
      bus,
      speedMbps: parseIntOrNull(await r.text(`${base}/speed`)),
      ports: parseIntOrNull(await r.text(`${base}/maxchild`)),
      version: cleanValue(await r.text(`${base}/version`)),
    });
  }
  return { rootHubs: hubs };
}

async function readBios(r: SysReader): Promise<BiosState> {
  const drivers = await r.list(FW_ATTRS);
  const source = drivers[0];
  if (source === undefined) return { source: null, attributes: {}, adminPasswordSet: null };
  const attributes: Record<string, string> = {};
  for (const name of await r.list(`${FW_ATTRS}/${source}/attributes`)) {
    const value = cleanValue(await r.text(`${FW_ATTRS}/${source}/attributes/${name}/current_value`));
    if (value !== null) attributes[name] = value;
  }
  return { source, attributes, adminPasswordSet: parseFlag(await r.text(`${FW_ATTRS}/${source}/authentication/Admin/is_enabled`)) };
}

/** Reads the unit's inventory. `now` is injected so tests get stable output. */
export async function detectInventory(r: SysReader, now: () => Date = () => new Date()): Promise<Inventory> {
  const cpuinfo = await r.text('/proc/cpuinfo');
  const meminfo = await r.text('/proc/meminfo');
  const dmi = await readDmi(r);
  const inventory: Inventory = {
    schema: INVENTORY_SCHEMA,
    detectedAt: now().toISOString(),
    dmi,
    cpu: cpuinfo === undefined ? { vendor: null, model: null, sockets: 0, cores: 0, threads: 0 } : parseCpuinfo(cpuinfo),
    memory: { totalBytes: meminfo === undefined ? null : parseMemTotal(meminfo) },
    disks: await readDisks(r),
    nics: await readNics(r),
    tpm: await readTpm(r),
    firmware: await readFirmware(r),
    usb: await readUsb(r),
    bios: await readBios(r),
    notes: [],
  };
  if (cpuinfo === undefined) inventory.notes.push(`${r.root}/proc/cpuinfo is missing: is procfs mounted?`);
  if (!(await r.isDir(DMI))) inventory.notes.push('no DMI table (/sys/class/dmi/id): the model cannot be identified (some virtual machines have none).');
  for (const d of r.denied) inventory.notes.push(`cannot read ${d}${/EACCES|EPERM/.test(d) ? ' (run as root to read it)' : ''}`);
  return inventory;
}
