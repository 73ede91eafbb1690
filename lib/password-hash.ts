// The console password's stored form, one definition for the console (agent) and the production line (provisioning):
// `scrypt$N$r$p$saltB64$hashB64` (node:crypto scrypt), verified in constant time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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
export const MAX_SCRYPT_N = 2 ** 20;
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** Passwords are compared after Unicode NFC normalisation, so "é" typed either way is the same password. */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

function scryptAsync(password: string, salt: Buffer, keyLen: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(normalisePassword(password), salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
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
