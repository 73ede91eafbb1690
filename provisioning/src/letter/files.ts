// Writing the dealer letter: mode 0600 (it holds the password) from the first byte, durably, in a folder created
// 0700 if missing; a file name from the unit id, checked so it cannot leave the folder.
// (The same small helpers as labels/files.ts: the two folders do not import each other.)
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir, writeFileDurable } from '../../../lib/fs-durable.js';
import { ErrorCode, LineError } from '../errors.js';
import { renderDealerLetter, type LetterInput } from './render.js';

export type LetterFormat = 'html' | 'txt';
export const LETTER_FILE_MODE = 0o600;
const LETTER_DIR_MODE = 0o700;

const FILE_SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function fileSafeUnitId(unitId: string): string {
  if (!FILE_SAFE_ID.test(unitId) || unitId.includes('..')) {
    throw new LineError(ErrorCode.INTERNAL, `the unit id ${JSON.stringify(unitId)} cannot be used in a file name (letters, digits, ".", "_", "-" only)`);
  }
  return unitId;
}

/** `<dir>/<unitId>-letter-<lang>.<format>`. */
export function letterPath(dir: string, unitId: string, lang: LetterInput['lang'], format: LetterFormat): string {
  return join(dir, `${fileSafeUnitId(unitId)}-letter-${lang}.${format}`);
}

async function ensureDir(dir: string): Promise<void> {
  const absolute = resolve(dir);
  const first = await mkdir(absolute, { recursive: true, mode: LETTER_DIR_MODE });
  if (first === undefined) return;
  for (let d = absolute; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

async function writeSecret(path: string, data: string): Promise<void> {
  try {
    await ensureDir(dirname(path));
    await writeFileDurable(path, data, LETTER_FILE_MODE);
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new LineError(ErrorCode.DISK_FULL, `no space left to write the dealer letter ${path}: free space on the line's disk, then run the step again`, { cause: err, details: { path } });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
      throw new LineError(ErrorCode.CONFIG, `cannot write the dealer letter ${path} (${code}): check that the output folder is a writable folder`, { cause: err, details: { path } });
    }
    throw err;
  }
}

/**
 * Renders the letter and writes each requested format to `<dir>/<unitId>-letter-<lang>.html|.txt`, mode 0600,
 * durably (temp file, fsync, rename, folder fsync); returns the paths in the order asked (duplicates dropped).
 * An existing letter of the same unit and language is replaced.
 */
export async function writeLetter(dir: string, input: LetterInput, formats: readonly LetterFormat[]): Promise<string[]> {
  const wanted = [...new Set(formats)];
  if (wanted.length === 0) throw new LineError(ErrorCode.USAGE, 'no letter format chosen: ask for html, txt or both');
  for (const f of wanted) if (f !== 'html' && f !== 'txt') throw new LineError(ErrorCode.USAGE, `unknown letter format ${JSON.stringify(f)}: html or txt`);
  const paths = wanted.map((f) => letterPath(dir, input.unitId, input.lang, f));
  const letter = renderDealerLetter(input);
  for (const [i, format] of wanted.entries()) await writeSecret(paths[i]!, format === 'html' ? letter.html : letter.text);
  return paths;
}
