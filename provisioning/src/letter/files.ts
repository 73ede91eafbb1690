// Writing the dealer letter: mode 0600 (it holds the password) from the first byte, durably, in a folder created
// 0700 if missing; a file name from the unit id, checked so it cannot leave the folder.
import { join } from 'node:path';
import { ErrorCode, LineError } from '../errors.js';
import { fileSafeUnitId, writeOutput } from '../output.js';
import { renderDealerLetter, type LetterInput } from './render.js';

export type LetterFormat = 'html' | 'txt';
export const LETTER_FILE_MODE = 0o600;

/** `<dir>/<unitId>-letter-<lang>.<format>`. */
export function letterPath(dir: string, unitId: string, lang: LetterInput['lang'], format: LetterFormat): string {
  return join(dir, `${fileSafeUnitId(unitId)}-letter-${lang}.${format}`);
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
  for (const [i, format] of wanted.entries()) await writeOutput(paths[i]!, format === 'html' ? letter.html : letter.text, LETTER_FILE_MODE, 'dealer letter');
  return paths;
}
