// The console password: `scrypt$N$r$p$saltB64$hashB64` (node:crypto scrypt), constant-time verification, the rules for a new one.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AgentError, ErrorCode } from '../errors.js';
import type { Text } from './i18n.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export interface PasswordHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** 2^15 x 8 x 128 B = 32 MiB and about 0.1 s per check on the appliance: slow enough for guessing, fine for a person. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds on what a password file may ask for, so a corrupt file cannot make the console allocate gigabytes. */
const MAX_N = 2 ** 20;
const MAX_MEMORY = 256 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;

/** Passwords are compared after Unicode NFC normalisation, so "é" typed either way is the same password. */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

function scryptAsync(password: string, salt: Buffer, keyLen: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: MAX_MEMORY + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(normalisePassword(password), salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

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

export function formatPasswordHash(h: PasswordHash): string {
  return `scrypt$${h.N}$${h.r}$${h.p}$${h.salt.toString('base64')}$${h.hash.toString('base64')}`;
}

/** Hashes a password with a fresh random salt; returns the file's one line (without newline). */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT, random: (n: number) => Buffer = randomBytes): Promise<string> {
  const salt = random(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, params);
  return formatPasswordHash({ ...params, salt, hash });
}

/** Whether the password matches, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await scryptAsync(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(candidate, stored.hash);
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
