// Secret files: written 0600 atomically, and refused when another user could read them.
import { chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, FleetError } from '../errors.js';

/** Writes `text` to `file` (mode 0600, in a 0700 folder) through a temp file and a rename. */
export function writeSecretFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Writes a public file (a certificate) through a temp file and a rename. */
export function writePublicFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Throws E_KEY_PERMISSIONS when a private key file is readable or writable by its group or others. */
export function checkKeyFile(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new FleetError(ErrorCode.CA, `cannot read the key file ${file}: ${(err as Error).message}. Check the path and that the fleet's user owns it.`, { cause: err });
  }
  if ((mode & 0o077) !== 0) {
    throw new FleetError(
      ErrorCode.KEY_PERMISSIONS,
      `the private key ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${file}" and start again.`,
    );
  }
}
