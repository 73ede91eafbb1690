// Small-file helpers for the console and the network set-up: durable writes (lib/fs-durable) into a created directory, reads, durable removal.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir, writeFileDurable as writeDurable } from '../../../lib/fs-durable.js';

/** Writes `content` to `path` atomically with `mode` (lib/fs-durable), creating the directory if needed. */
export async function writeFileDurable(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeDurable(path, content, mode);
}

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes a file (absent is fine) and makes the removal durable. */
export async function removeDurable(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncDir(dirname(path)).catch((err: unknown) => {
    if (systemErrorCode(err) !== 'ENOENT') throw err;
  });
}
