// Crash-safe file writes (temp file, fsync, rename, fsync of the directory) and hashing copies for targets.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { systemErrorCode } from '../../../../lib/errors.js';
import { AgentError, ErrorCode } from '../../errors.js';
import { fsyncDir, tempPathIn, writeFileDurable } from '../../../../lib/fs-durable.js';

/** Replaces `path` with `data` so that a reader or a crash sees the old file or the new one, never a mix. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  try {
    await writeFileDurable(path, data, mode);
  } catch (err) {
    throw ioError(`cannot write ${path}`, err);
  }
}

export async function writeJsonAtomic(path: string, value: unknown, mode?: number): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** The parsed JSON of a repository file; a missing or unreadable file is a configuration error. */
export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const hint = systemErrorCode(err) === 'ENOENT' ? ' (is this a repository made by `plugsrv catalog init`?)' : '';
    throw new AgentError(ErrorCode.CONFIG, `cannot read the ${what} ${path}${hint}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `the ${what} ${path} is not valid JSON`, { cause: err });
  }
}

export interface HashedFile {
  readonly sha256: string;
  readonly length: number;
}

/** sha256 and length of a file, streamed. */
export async function hashFile(path: string): Promise<HashedFile> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    hash.update(buf);
    length += buf.length;
  }
  return { sha256: hash.digest('hex'), length };
}

/**
 * Copies `source` into `destDir` under the name `nameOf(hash)`, hashing the bytes as they are written,
 * so the name always matches what was written even if the source changes meanwhile.
 */
export async function copyHashed(source: string, destDir: string, nameOf: (file: HashedFile) => string): Promise<HashedFile & { path: string }> {
  await mkdir(destDir, { recursive: true });
  const temp = tempPathIn(destDir, basename(source));
  const hash = createHash('sha256');
  let length = 0;
  try {
    const out = await open(temp, 'wx', 0o644);
    try {
      for await (const chunk of createReadStream(source)) {
        const buf = chunk as Buffer;
        hash.update(buf);
        length += buf.length;
        await out.write(buf);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    const file = { sha256: hash.digest('hex'), length };
    const path = join(destDir, nameOf(file));
    await rename(temp, path);
    await fsyncDir(destDir);
    return { ...file, path };
  } catch (err) {
    await rm(temp, { force: true });
    throw ioError(`cannot copy ${source} into ${destDir}`, err);
  }
}

function ioError(message: string, err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const code = systemErrorCode(err) === 'ENOSPC' ? ErrorCode.DISK_FULL : ErrorCode.STORE_IO;
  return new AgentError(code, `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
