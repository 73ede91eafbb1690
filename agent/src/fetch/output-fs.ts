// The output folder's file system (FAT32 USB keys cannot hold a file of 4 GiB or more) and durability steps that differ on Windows.
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { win32 } from 'node:path';
import { fsyncDir } from '../../../lib/fs-durable.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { ServerPackage } from './index.js';

/** FAT12/16/32 store a file's size in 32 bits: 4 GiB - 1 byte at most. */
export const FAT_MAX_FILE_BYTES = 2 ** 32 - 1;

/** Linux statfs f_type magic numbers (linux/magic.h) of the file systems a USB key or a PC's disk may have. */
const LINUX_FS_MAGIC: ReadonlyMap<number, string> = new Map([
  [0x4d44, 'vfat'], // MSDOS_SUPER_MAGIC: msdos and vfat (FAT12/16/32)
  [0x2011bab0, 'exfat'],
  [0x5346544e, 'ntfs'], // ntfs3
  [0x65735546, 'fuseblk'], // ntfs-3g, exfat-fuse
  [0xef53, 'ext4'], // ext2/3/4
  [0x9123683e, 'btrfs'],
  [0x58465342, 'xfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlay'],
  [0x6969, 'nfs'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0xf15f, 'ecryptfs'],
  [0x2fc12fc1, 'zfs'],
]);

/** The name of a Linux file system from its statfs type, or `0x<hex>` when it is not one we know. Pure. */
export function linuxFsName(type: number): string {
  return LINUX_FS_MAGIC.get(type) ?? `0x${type.toString(16)}`;
}

/** Whether a file system name (Linux's, or Windows' FAT32 / FAT / exFAT / NTFS) is a FAT with the 4 GiB file limit. Pure. */
export function isFat(fsName: string | undefined): boolean {
  return fsName !== undefined && /^(?:v?fat(?:12|16|32)?|msdos)$/i.test(fsName.trim());
}

/** The chosen packages a file system cannot hold (FAT: 4 GiB or more). Pure. */
export function tooLargeFor(fsName: string | undefined, pkgs: readonly Pick<ServerPackage, 'name' | 'size'>[]): Array<Pick<ServerPackage, 'name' | 'size'>> {
  return isFat(fsName) ? pkgs.filter((p) => p.size > FAT_MAX_FILE_BYTES) : [];
}

/** The drive of a Windows path (`E:`), or undefined for a UNC path (\\server\share). Pure. */
export function windowsDrive(path: string): string | undefined {
  const root = win32.parse(win32.resolve(path)).root;
  return /^[A-Za-z]:\\$/.test(root) ? root.slice(0, 2).toUpperCase() : undefined;
}

/** Windows: the drive's file system from WMI (no administrator rights needed), or undefined. */
function windowsFsName(dir: string): Promise<string | undefined> {
  const drive = windowsDrive(dir);
  if (!drive) return Promise.resolve(undefined);
  const command = `(Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID='${drive}'").FileSystem`;
  return new Promise((resolve) => {
    execFile('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', command], { timeout: 15_000, windowsHide: true }, (err, stdout) => {
      const name = String(stdout ?? '').trim();
      resolve(err || name === '' ? undefined : name);
    });
  });
}

/**
 * The file system holding `dir`: Linux from statfs, Windows from WMI; undefined where it cannot be told
 * (then a file too large for it fails on its first write with EFBIG, reported as E_FILE_TOO_LARGE).
 */
export async function fileSystemOf(dir: string, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  if (platform === 'win32') return windowsFsName(dir);
  if (platform !== 'linux') return undefined;
  try {
    return linuxFsName((await statfs(dir)).type);
  } catch {
    return undefined;
  }
}

const GiB = 1024 ** 3;

/** Refuses, before any byte is written, the packages that the output folder's file system cannot hold. */
export function checkFileSizes(fsName: string | undefined, pkgs: readonly Pick<ServerPackage, 'name' | 'size'>[], outDir: string): void {
  const big = tooLargeFor(fsName, pkgs);
  if (big.length === 0) return;
  const list = big.map((p) => `${p.name} (${(p.size / GiB).toFixed(2)} GiB)`).join(', ');
  throw new AgentError(
    ErrorCode.FILE_TOO_LARGE,
    `${outDir} is on a FAT32 file system (${fsName}), which cannot hold a file of 4 GiB or more: ${list}. Reformat the USB key as exFAT (or NTFS) and run again, or leave ${big.length === 1 ? 'this package' : 'these packages'} out (--id). Nothing was written.`,
    { details: { fileSystem: fsName, packages: big.map((p) => p.name) } },
  );
}

/**
 * fsyncs a directory so a rename in it survives a power cut. Windows cannot open a directory for fsync
 * (and NTFS/FAT journal or flush metadata on their own terms), so there it does nothing.
 */
export async function syncDir(dir: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  await fsyncDir(dir);
}
