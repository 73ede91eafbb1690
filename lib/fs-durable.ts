// Durability helpers shared by everything that writes files that must survive a power cut.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsyncs a directory, so a rename or a new file in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A unique dot-named temp path in `dir` for a file about to become `name` (same filesystem, so the rename is atomic). */
export function tempPathIn(dir: string, name: string): string {
  return join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Replaces `path` with `data` so that a reader or a power cut sees the old file or the new one, never a mix:
 * a dot-named temp file in the same directory (ignored by tools that read `*.network`, `*.json` ...), written,
 * chmod-ed to `mode`, fsynced, renamed over `path`, then the directory fsynced. The temp file is removed on failure.
 */
export async function writeFileDurable(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const temp = tempPathIn(dir, basename(path));
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}
