// Pure parsers over the contents of sysfs, procfs and efivars files: strings and bytes in, plain values out.
import type { BootKind, Cpu, DiskKind } from './inventory.js';

/** The EFI global variable GUID (SecureBoot, SetupMode, BootOrder, Boot####). */
export const EFI_GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';

/** A sysfs attribute's value, trimmed; empty or placeholder DMI strings become null. */
export function cleanValue(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const v = raw.replace(/\0/g, '').trim();
  if (v === '' || /^(to be filled by o\.e\.m\.|default string|not specified|none)$/i.test(v)) return null;
  return v;
}

export function parseIntOrNull(raw: string | undefined): number | null {
  const v = cleanValue(raw);
  if (v === null || !/^-?\d+$/.test(v)) return null;
  return Number(v);
}

/** /proc/cpuinfo: vendor, model, sockets, physical cores and logical processors. */
export function parseCpuinfo(content: string): Cpu {
  const blocks = content.split(/\n\s*\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    return fields;
  });
  const procs = blocks.filter((b) => b.has('processor'));
  const first = procs[0];
  const sockets = new Set(procs.map((p) => p.get('physical id') ?? '0'));
  const cores = new Set(procs.filter((p) => p.has('core id')).map((p) => `${p.get('physical id') ?? '0'}:${p.get('core id')}`));
  return {
    vendor: first?.get('vendor_id') ?? null,
    model: first?.get('model name') ?? null,
    sockets: procs.length > 0 ? sockets.size : 0,
    cores: cores.size > 0 ? cores.size : procs.length,
    threads: procs.length,
  };
}

/** MemTotal from /proc/meminfo, in bytes. */
export function parseMemTotal(content: string): number | null {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(content);
  return m ? Number(m[1]) * 1024 : null;
}

/** KEY=value lines of a uevent file. */
export function parseUevent(content: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (content ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Block devices worth listing: not loop, RAM, zram, device-mapper, md, optical or floppy. */
export function isCandidateDisk(name: string): boolean {
  return !/^(loop|ram|zram|dm-|md|sr|fd|nbd)/.test(name);
}

export function classifyDisk(d: { name: string; rotational: boolean | null; driver: string | null; model: string | null; viaUsb: boolean }): DiskKind {
  if (d.viaUsb) return 'usb';
  if (/^(virtio|xen|vmw_pvscsi|hv_storvsc)/.test(d.driver ?? '') || /^(vd|xvd)/.test(d.name) || /^(QEMU|VBOX|Virtual)/i.test(d.model ?? '')) return 'virtual';
  if (d.name.startsWith('nvme')) return 'nvme';
  if (d.name.startsWith('mmcblk')) return 'mmc';
  if (d.rotational === false) return 'ssd';
  if (d.rotational === true) return 'hdd';
  return 'unknown';
}

/** An EFI variable file in efivarfs: 4 bytes of attributes, then the data. */
export function efiVarData(bytes: Buffer | undefined): Buffer | null {
  if (!bytes || bytes.length < 4) return null;
  return bytes.subarray(4);
}

/** SecureBoot / SetupMode: one byte, 1 = on. */
export function parseEfiBool(bytes: Buffer | undefined): boolean | null {
  const data = efiVarData(bytes);
  if (!data || data.length < 1) return null;
  return data[0] === 1;
}

/** BootOrder: little-endian uint16 list. */
export function parseBootOrder(bytes: Buffer | undefined): number[] | null {
  const data = efiVarData(bytes);
  if (!data) return null;
  const out: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) out.push(data.readUInt16LE(i));
  return out;
}

export function parseBootCurrent(bytes: Buffer | undefined): number | null {
  const data = efiVarData(bytes);
  return data && data.length >= 2 ? data.readUInt16LE(0) : null;
}

export function bootVarName(n: number): string {
  return `Boot${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What a device path points at, from its nodes (UEFI spec 2.10, section 10.3). */
export function classifyDevicePath(path: Buffer): BootKind {
  const nodes: Array<[number, number]> = [];
  for (let i = 0; i + 4 <= path.length; ) {
    const type = path[i]!;
    const sub = path[i + 1]!;
    const len = path.readUInt16LE(i + 2);
    if (type === 0x7f && sub === 0xff) break;
    if (len < 4) return 'unknown';
    nodes.push([type, sub]);
    i += len;
  }
  if (nodes.length === 0) return 'unknown';
  const has = (type: number, subs: number[]): boolean => nodes.some(([t, s]) => t === type && subs.includes(s));
  if (has(0x03, [0x05, 0x0f, 0x10])) return 'usb';
  if (has(0x03, [0x17])) return 'nvme';
  if (has(0x03, [0x01, 0x02, 0x12])) return 'sata';
  if (has(0x03, [0x0b, 0x0c, 0x0d, 0x18])) return 'network';
  // A short-form path starting at the partition (what efibootmgr writes for an installed OS): HD(...)/File(...).
  if (nodes[0]![0] === 0x04 && (nodes[0]![1] === 0x01 || nodes[0]![1] === 0x04)) return 'file';
  return 'other';
}

/** A Boot#### variable: EFI_LOAD_OPTION (attributes, path length, UCS-2 description, device path). */
export function parseLoadOption(bytes: Buffer | undefined): { active: boolean; description: string; kind: BootKind } | null {
  const data = efiVarData(bytes);
  if (!data || data.length < 8) return null;
  const attributes = data.readUInt32LE(0);
  const pathLength = data.readUInt16LE(4);
  let end = 6;
  while (end + 1 < data.length && data.readUInt16LE(end) !== 0) end += 2;
  if (end + 1 >= data.length) return null;
  const description = data.subarray(6, end).toString('utf16le');
  const path = data.subarray(end + 2, end + 2 + pathLength);
  return { active: (attributes & 0x1) === 1, description, kind: classifyDevicePath(path) };
}

/** /sys/class/tpm/tpmN/tpm_version_major ("2"), else TPM 1.2 exposes `caps`. */
export function parseTpmVersion(versionMajor: string | undefined, caps: string | undefined): number | null {
  const v = parseIntOrNull(versionMajor);
  if (v !== null) return v;
  if (caps !== undefined && /TCG version:\s*1\.2/.test(caps)) return 1;
  return null;
}

/** "1", "enabled", "Enabled" -> true; "0", "disabled" -> false. */
export function parseFlag(raw: string | undefined): boolean | null {
  const v = cleanValue(raw)?.toLowerCase();
  if (v === undefined || v === null) return null;
  if (v === '1' || v === 'enabled' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'disabled' || v === 'false' || v === 'no') return false;
  return null;
}
