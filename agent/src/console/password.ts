// The console password: the stored form is lib/password-hash.ts (shared with the production line); here the file's
// parsing with the console's error, and the rules for a new one.
import { MAX_SCRYPT_MEMORY, MAX_SCRYPT_N, normalisePassword, type PasswordHash } from '../../../lib/password-hash.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { Text } from './i18n.js';

export { DEFAULT_SCRYPT, formatPasswordHash, hashPassword, normalisePassword, verifyPassword, type PasswordHash, type ScryptParams } from '../../../lib/password-hash.js';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
const MAX_N = MAX_SCRYPT_N;
const MAX_MEMORY = MAX_SCRYPT_MEMORY;

function badFile(why: string): AgentError {
  return new AgentError(
    ErrorCode.CONSOLE_PASSWORD_FILE,
    `the console password file is not valid (${why}); it must hold one line "scrypt$N$r$p$saltBase64$hashBase64". Write it again from the production line or with \`plugsrv console hash-password\`.`,
  );
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses the file's content; throws E_CONSOLE_PASSWORD_FILE with the reason when it is not a usable hash. */
export function parsePasswordHash(text: string): PasswordHash {
  const parts = text.trim().split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw badFile('expected 6 fields separated by $, the first being "scrypt"');
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  const [N, r, p] = [nText, rText, pText].map((v) => (/^\d{1,8}$/.test(v) ? Number(v) : NaN)) as [number, number, number];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) throw badFile(`N must be a power of two up to ${MAX_N}`);
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) throw badFile('r must be 1 to 32 and p 1 to 16');
  if (128 * N * r * p > MAX_MEMORY) throw badFile('the parameters need more than 256 MiB');
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) throw badFile('salt and hash must be base64');
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8 || salt.length > 64) throw badFile('the salt must be 8 to 64 bytes');
  if (hash.length < 16 || hash.length > 64) throw badFile('the hash must be 16 to 64 bytes');
  return { N, r, p, salt, hash };
}

function length(s: string): number {
  return [...normalisePassword(s)].length;
}

/** The rules for a new password, checked before the current one is verified; undefined when they hold. */
export function checkNewPassword(current: string, next: string, confirm: string): Text | undefined {
  if (current === '') return (m) => m.pwCurrentEmpty;
  if (length(next) < MIN_PASSWORD_LENGTH) return (m) => m.pwTooShort(MIN_PASSWORD_LENGTH);
  if (length(next) > MAX_PASSWORD_LENGTH) return (m) => m.pwTooLong(MAX_PASSWORD_LENGTH);
  if (next !== confirm) return (m) => m.pwMismatch;
  if (normalisePassword(next) === normalisePassword(current)) return (m) => m.pwSame;
  return undefined;
}
