// The line's documents (letters, labels): file names from a unit id that cannot leave their folder, folders created
// with their parents synced, durable writes with the file's mode from the first byte, and errors that say what to do.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { systemErrorCode } from '../../lib/errors.js';
import { fsyncDir, writeFileDurable } from '../../lib/fs-durable.js';
import { ErrorCode, LineError } from './errors.js';

const FILE_SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The unit id as a file-name part; E_INTERNAL if it could name another folder or a hidden file. */
export function fileSafeUnitId(unitId: string): string {
  if (!FILE_SAFE_ID.test(unitId) || unitId.includes('..')) {
    throw new LineError(ErrorCode.INTERNAL, `the unit id ${JSON.stringify(unitId)} cannot be used in a file name (letters, digits, ".", "_", "-" only)`);
  }
  return unitId;
}

/** Creates `dir` (and missing parents, with `mode`) and fsyncs the parents of what it created. */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  const absolute = resolve(dir);
  const first = await mkdir(absolute, { recursive: true, mode });
  if (first === undefined) return;
  for (let d = absolute; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

/** `writeFileDurable` with the line's error codes: E_DISK_FULL when the disk is full, E_CONFIG when it cannot write there. */
export async function writeOutput(path: string, data: string | Buffer, mode: number, what: string): Promise<void> {
  try {
    await ensureDir(dirname(path), mode === 0o600 ? 0o700 : 0o755);
    await writeFileDurable(path, data, mode);
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new LineError(ErrorCode.DISK_FULL, `no space left to write the ${what} ${path}: free space on the line's disk, then run the step again`, { cause: err, details: { path } });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
      throw new LineError(ErrorCode.CONFIG, `cannot write the ${what} ${path} (${code}): check that the output folder is a writable folder`, { cause: err, details: { path } });
    }
    throw err;
  }
}
