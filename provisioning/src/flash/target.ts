// What a flash target is (a block device, or a regular file standing for a disk), read from /proc and /sys under
// injectable roots, and the pure decision whether to refuse it: missing, the running system's disk, mounted or in use,
// a partition, read-only, or smaller than the image.
import { constants } from 'node:fs';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { LineError, ErrorCode } from '../errors.js';
import { formatBytes } from './units.js';

export interface SystemPaths {
  /** procfs root; '/proc' by default. */
  readonly proc?: string;
  /** sysfs root; '/sys' by default. */
  readonly sys?: string;
  /** major:minor of the device holding '/', or null not to look; by default from stat('/'). */
  readonly rootDevice?: string | null;
  /** Open block devices with O_EXCL (read-only, closed at once) to see whether something holds them; true by default. */
  readonly exclusiveProbe?: boolean;
}

export type TargetKind = 'missing' | 'file' | 'block' | 'other';

export interface TargetFacts {
  readonly path: string;
  readonly kind: TargetKind;
  /** The path with symlinks resolved (/dev/disk/by-id/... -> /dev/sdb). */
  readonly realPath?: string;
  readonly sizeBytes?: number;
  /** Same file or device: 'block M:m' or 'file dev:ino'. */
  readonly identity?: string;
  /** Kernel name of the block device (sdb, loop0, nvme0n1). */
  readonly device?: string;
  /** major:minor of the block device. */
  readonly devNumber?: string;
  /** When the block device is a partition: the kernel name of its disk. */
  readonly partitionOf?: string;
  readonly readOnly?: boolean;
  /** Vendor and model from sysfs, or what a loop device maps; for the confirmation. */
  readonly description?: string;
  /** Why it counts as in use: mounts, swap, device-mapper/RAID holders, of it, its partitions, or (a file) its loop devices. */
  readonly inUse: readonly string[];
  /** An exclusive open was refused (EBUSY): something holds the device. */
  readonly busy?: boolean;
  /** Why it is the running system's disk (/, /boot, /usr, /var or swap live on it). */
  readonly systemDisk: readonly string[];
  /** A stat or open error other than "does not exist". */
  readonly error?: string;
}

export interface MountEntry {
  readonly devNumber: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

export interface SwapEntry {
  readonly file: string;
  readonly type: string;
}

/** Undoes the octal escapes of /proc/self/mountinfo and /proc/swaps ("\040" for a space). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Pure: /proc/self/mountinfo lines ("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0) continue;
    out.push({ devNumber: fields[2] ?? '', mountPoint: unescapeOctal(fields[4] ?? ''), fsType: fields[dash + 1] ?? '', source: unescapeOctal(fields[dash + 2] ?? '') });
  }
  return out;
}

/** Pure: /proc/swaps after its header ("/dev/sda3 partition 8388604 0 -2"). */
export function parseSwaps(text: string): SwapEntry[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0] !== '')
    .map((f) => ({ file: unescapeOctal(f[0] ?? '').replace(/ \(deleted\)$/, ''), type: f[1] ?? '' }));
}

/** Pure: "major:minor" of a Linux dev_t (glibc's gnu_dev_major / gnu_dev_minor). */
export function devNumberOf(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

interface BlockNode {
  readonly name: string;
  readonly dir: string;
  readonly devNumber: string;
  readonly isPartition: boolean;
  /** Its disk's name (itself when not a partition). */
  readonly disk: string;
}

class SysBlock {
  constructor(readonly sys: string) {}

  private async node(link: string): Promise<BlockNode | undefined> {
    let dir: string;
    try {
      dir = await realpath(link);
    } catch {
      return undefined;
    }
    const devNumber = await readText(join(dir, 'dev'));
    if (devNumber === undefined) return undefined;
    const isPartition = (await readText(join(dir, 'partition'))) !== undefined;
    const name = basename(dir);
    return { name, dir, devNumber, isPartition, disk: isPartition ? basename(dirname(dir)) : name };
  }

  byDevNumber(devNumber: string): Promise<BlockNode | undefined> {
    return this.node(join(this.sys, 'dev', 'block', devNumber));
  }

  byName(name: string): Promise<BlockNode | undefined> {
    return name.includes('/') || name.startsWith('.') ? Promise.resolve(undefined) : this.node(join(this.sys, 'class', 'block', name));
  }

  /** A device, its partitions and, recursively, what is built on them (holders: dm, md), each once. */
  async related(start: BlockNode): Promise<BlockNode[]> {
    const seen = new Map<string, BlockNode>();
    const queue = [start];
    while (queue.length > 0) {
      const n = queue.shift() as BlockNode;
      if (seen.has(n.devNumber)) continue;
      seen.set(n.devNumber, n);
      for (const e of await listDir(n.dir)) {
        if ((await readText(join(n.dir, e, 'partition'))) !== undefined) {
          const p = await this.node(join(n.dir, e));
          if (p) queue.push(p);
        }
      }
      for (const h of await listDir(join(n.dir, 'holders'))) {
        const p = await this.byName(h);
        if (p) queue.push(p);
      }
    }
    return [...seen.values()];
  }

  /** The whole disks under a device: its disk, or for device-mapper / RAID, the disks of its slaves. */
  async disksBehind(start: BlockNode, depth = 0): Promise<Set<string>> {
    const slaves = await listDir(join(start.dir, 'slaves'));
    if (slaves.length === 0 || depth > 8) return new Set([start.disk]);
    const out = new Set<string>();
    for (const s of slaves) {
      const n = await this.byName(s);
      if (n) for (const d of await this.disksBehind(n, depth + 1)) out.add(d);
    }
    return out;
  }

  /** The block device a mount source or swap path names ("/dev/sda2", "/dev/mapper/vg-root"), if any. */
  async fromPath(path: string): Promise<BlockNode | undefined> {
    if (!path.startsWith('/')) return undefined;
    const byName = await this.byName(basename(path));
    if (byName) return byName;
    try {
      const st = await stat(path, { bigint: true });
      return st.isBlockDevice() ? await this.byDevNumber(devNumberOf(st.rdev)) : undefined;
    } catch {
      return undefined;
    }
  }

  async label(n: BlockNode): Promise<string> {
    const dm = await readText(join(n.dir, 'dm', 'name'));
    return dm ? `/dev/${n.name} (${dm})` : `/dev/${n.name}`;
  }
}

interface SystemView {
  readonly mounts: MountEntry[];
  readonly swaps: SwapEntry[];
}

async function systemView(proc: string): Promise<SystemView> {
  return {
    mounts: parseMountInfo((await readText(join(proc, 'self', 'mountinfo'))) ?? ''),
    swaps: parseSwaps((await readText(join(proc, 'swaps'))) ?? ''),
  };
}

/** Why each of `nodes` is in use: mounted, swap, or held by device-mapper / RAID. */
async function usesOf(sb: SysBlock, nodes: BlockNode[], view: SystemView, start: BlockNode): Promise<string[]> {
  const byDev = new Map(nodes.map((n) => [n.devNumber, n]));
  const reasons: string[] = [];
  for (const m of view.mounts) {
    const n = byDev.get(m.devNumber) ?? (m.source.startsWith('/dev/') ? byDev.get((await sb.fromPath(m.source))?.devNumber ?? '') : undefined);
    if (n) reasons.push(`${await sb.label(n)} is mounted on ${m.mountPoint} (${m.fsType})`);
  }
  for (const s of view.swaps) {
    const n = s.type === 'partition' ? byDev.get((await sb.fromPath(s.file))?.devNumber ?? '') : undefined;
    if (n) reasons.push(`${await sb.label(n)} is used as swap`);
  }
  for (const n of nodes) {
    if (n === start || n.dir.startsWith(start.dir + '/')) continue;
    reasons.push(`${await sb.label(n)} is built on it (device-mapper, RAID or LVM)`);
  }
  return reasons;
}

/** The disks the running system lives on, each with why: '/', '/boot', '/boot/efi', '/efi', '/usr', '/var' and swap. */
export async function systemDisks(paths: SystemPaths = {}): Promise<Map<string, string[]>> {
  const sb = new SysBlock(paths.sys ?? '/sys');
  const view = await systemView(paths.proc ?? '/proc');
  const out = new Map<string, string[]>();
  const add = async (node: BlockNode | undefined, why: string): Promise<void> => {
    if (!node) return;
    for (const disk of await sb.disksBehind(node)) {
      const reasons = out.get(disk) ?? [];
      if (!reasons.includes(why)) reasons.push(why);
      out.set(disk, reasons);
    }
  };
  let rootDevice = paths.rootDevice;
  if (rootDevice === undefined) rootDevice = devNumberOf((await stat('/', { bigint: true })).dev);
  if (rootDevice !== null) await add(await sb.byDevNumber(rootDevice), 'it holds the root filesystem /');
  for (const mountPoint of ['/', '/boot', '/boot/efi', '/efi', '/usr', '/var']) {
    const m = view.mounts.filter((e) => e.mountPoint === mountPoint).at(-1);
    if (!m) continue;
    const node = (await sb.byDevNumber(m.devNumber)) ?? (await sb.fromPath(m.source));
    await add(node, mountPoint === '/' ? 'it holds the root filesystem /' : `it holds ${mountPoint}`);
  }
  for (const s of view.swaps) {
    if (s.type === 'partition') await add(await sb.fromPath(s.file), `it holds the swap ${s.file}`);
    else {
      const st = await stat(s.file, { bigint: true }).catch(() => undefined);
      if (st) await add(await sb.byDevNumber(devNumberOf(st.dev)), `it holds the swap file ${s.file}`);
    }
  }
  return out;
}

async function exclusivelyBusy(path: string): Promise<boolean> {
  try {
    const h = await open(path, constants.O_RDONLY | constants.O_EXCL);
    await h.close();
    return false;
  } catch (err) {
    return systemErrorCode(err) === 'EBUSY';
  }
}

async function blockFacts(path: string, realPath: string, rdev: bigint, paths: SystemPaths): Promise<TargetFacts> {
  const sb = new SysBlock(paths.sys ?? '/sys');
  const devNumber = devNumberOf(rdev);
  const node = await sb.byDevNumber(devNumber);
  const base = { path, kind: 'block' as const, realPath, identity: `block ${devNumber}`, devNumber };
  if (!node) return { ...base, inUse: [], systemDisk: [], error: `no /sys/dev/block/${devNumber} entry for it` };
  const view = await systemView(paths.proc ?? '/proc');
  const inUse = await usesOf(sb, await sb.related(node), view, node);
  const system = await systemDisks(paths);
  const systemDisk = [...(await sb.disksBehind(node))].flatMap((d) => (system.get(d) ?? []).map((why) => `/dev/${d}: ${why}`));
  const sectors = Number(await readText(join(node.dir, 'size')));
  const diskDir = node.isPartition ? dirname(node.dir) : node.dir;
  const vendorModel = [await readText(join(diskDir, 'device', 'vendor')), await readText(join(diskDir, 'device', 'model'))].filter(Boolean).join(' ');
  const backing = await readText(join(diskDir, 'loop', 'backing_file'));
  const description = vendorModel || (backing ? `loop device on ${backing}` : undefined);
  const busy = (paths.exclusiveProbe ?? true) ? await exclusivelyBusy(path) : undefined;
  return {
    ...base,
    device: node.name,
    ...(node.isPartition ? { partitionOf: node.disk } : {}),
    ...(Number.isFinite(sectors) ? { sizeBytes: sectors * 512 } : {}),
    readOnly: (await readText(join(node.dir, 'ro'))) === '1',
    ...(description ? { description } : {}),
    inUse,
    ...(busy === undefined ? {} : { busy }),
    systemDisk,
  };
}

/** Loop devices backed by the file at `realPath` (same path, or same device and inode), and why they are in use. */
async function loopUses(realPath: string, dev: bigint, ino: bigint, paths: SystemPaths): Promise<string[]> {
  const sb = new SysBlock(paths.sys ?? '/sys');
  const view = await systemView(paths.proc ?? '/proc');
  const reasons: string[] = [];
  for (const name of await listDir(join(paths.sys ?? '/sys', 'block'))) {
    const backing = (await readText(join(paths.sys ?? '/sys', 'block', name, 'loop', 'backing_file')))?.replace(/ \(deleted\)$/, '');
    if (!backing) continue;
    let same = backing === realPath;
    if (!same) {
      const st = await stat(backing, { bigint: true }).catch(() => undefined);
      same = st !== undefined && st.dev === dev && st.ino === ino;
    }
    if (!same) continue;
    const node = await sb.byName(name);
    if (!node) continue;
    for (const why of await usesOf(sb, await sb.related(node), view, node)) reasons.push(`loop device /dev/${name} on this file: ${why}`);
  }
  for (const s of view.swaps) if (s.type === 'file' && s.file === realPath) reasons.push('it is used as a swap file');
  return reasons;
}

/** Gathers the facts about a target path; never throws for a bad target (the facts say what is wrong). */
export async function targetFacts(path: string, paths: SystemPaths = {}): Promise<TargetFacts> {
  let st;
  try {
    st = await stat(path, { bigint: true });
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { path, kind: 'missing', inUse: [], systemDisk: [] };
    return { path, kind: 'other', inUse: [], systemDisk: [], error: `cannot stat it (${code ?? String(err)})` };
  }
  const realPath = await realpath(path).catch(() => path);
  if (st.isBlockDevice()) return blockFacts(path, realPath, st.rdev, paths);
  if (st.isFile()) {
    return {
      path,
      kind: 'file',
      realPath,
      sizeBytes: Number(st.size),
      identity: `file ${st.dev}:${st.ino}`,
      inUse: await loopUses(realPath, st.dev, st.ino, paths),
      systemDisk: [],
    };
  }
  return { path, kind: 'other', realPath, inUse: [], systemDisk: [] };
}

function invalid(facts: TargetFacts, message: string): LineError {
  return new LineError(ErrorCode.TARGET_INVALID, message, { details: { target: facts.path } });
}

/**
 * Pure: the reason to refuse a target for an image of `imageBytes`, or null. In order: missing or not a disk, the
 * running system's disk, mounted or in use, a partition, read-only, smaller than the image.
 */
export function refusal(facts: TargetFacts, imageBytes: number): LineError | null {
  const { path } = facts;
  if (facts.kind === 'missing') {
    return invalid(
      facts,
      path.startsWith('/dev/')
        ? `target ${path} does not exist: the unit's disk is not plugged in, or has another name. Check with lsblk.`
        : `target ${path} does not exist. A file target stands for a disk and is not created by the flash: create it first with \`truncate -s ${imageBytes} ${path}\`.`,
    );
  }
  if (facts.error !== undefined) return invalid(facts, `target ${path}: ${facts.error}. Check the name with lsblk.`);
  if (facts.kind === 'other') return invalid(facts, `target ${path} is neither a block device (a disk) nor a regular file. Check the name with lsblk.`);
  if (facts.kind === 'file' && (facts.realPath ?? path).startsWith('/dev/')) {
    return invalid(facts, `target ${path} is a regular file under /dev, not a disk: the disk is not plugged in or has another name (a mistyped name once created this file). Check with lsblk, then remove ${path}.`);
  }
  if (facts.systemDisk.length > 0) {
    return new LineError(
      ErrorCode.TARGET_SYSTEM_DISK,
      `target ${path} is the disk this computer runs from (${facts.systemDisk.join('; ')}): flashing it would destroy the running system. Nothing was written. Pick the unit's disk: the one lsblk shows appearing when it is plugged in.`,
      { details: { target: path, reasons: facts.systemDisk } },
    );
  }
  if (facts.inUse.length > 0 || facts.busy === true) {
    const why = facts.inUse.length > 0 ? facts.inUse.join('; ') : 'another program holds it open exclusively';
    return new LineError(
      ErrorCode.TARGET_MOUNTED,
      `target ${path} is in use: ${why}. Nothing was written. If it is the right disk, unmount it (umount, swapoff, or stop what holds it) and flash again; otherwise check the name with lsblk.`,
      { details: { target: path, reasons: facts.inUse, busy: facts.busy === true } },
    );
  }
  if (facts.partitionOf !== undefined) {
    return invalid(facts, `target ${path} is a partition of /dev/${facts.partitionOf}; the image holds a whole disk (partition table included). Flash /dev/${facts.partitionOf} instead.`);
  }
  if (facts.readOnly === true) {
    return invalid(facts, `target ${path} is read-only (a write-protect switch, or \`blockdev --setro\`): make it writable (\`blockdev --setrw ${path}\`) or use another disk.`);
  }
  const size = facts.sizeBytes ?? 0;
  if (size < imageBytes) {
    const fix = facts.kind === 'file' ? `grow the file with \`truncate -s ${imageBytes} ${path}\`` : `use a disk of at least ${formatBytes(imageBytes)}`;
    return new LineError(
      ErrorCode.TARGET_TOO_SMALL,
      `target ${path} holds ${size} bytes (${formatBytes(size)}), less than the image's ${imageBytes} bytes (${formatBytes(imageBytes)}). Nothing was written: ${fix}.`,
      { details: { target: path, sizeBytes: size, imageBytes } },
    );
  }
  return null;
}
