// Test helpers on files: an independent sha256 of a file, directory listings that tolerate a missing folder, whether O_DIRECT can be shown.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** sha256 of a file, computed here rather than by the code under test. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Entries of a directory, or [] when it does not exist (a kill can land before the store is created). */
export async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/**
 * Why `dir` cannot show what O_DIRECT does (bytes on disk, not in memory), or undefined when it can: a platform
 * without O_DIRECT, a filesystem that refuses it, or a tmpfs (its files live in memory, whatever the flag).
 */
export async function noDirectIo(dir: string): Promise<string | undefined> {
  if (constants.O_DIRECT === undefined) return 'no O_DIRECT on this platform';
  if ((await statfs(dir)).type === TMPFS_MAGIC) return `${dir} is on a tmpfs: its files are in memory whatever O_DIRECT says`;
  try {
    const h = await open(join(dir, 'direct-probe'), constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT);
    await h.close();
    return undefined;
  } catch (err) {
    return `the filesystem of ${dir} refuses O_DIRECT (${(err as Error).message})`;
  }
}

const TMPFS_MAGIC = 0x01021994;
