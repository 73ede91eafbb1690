// Pure: the unit's temporary console password, printed only in the dealer's letter.
//
// 16 characters drawn uniformly (rejection sampling, no modulo bias) from 17 lowercase letters: "bcdfghjknprstuvx",
// about 65 bits of entropy, ample for a console that only a person at the box's keyboard can reach and that locks
// out after a few tries. No separator: the console's keymap is US while many dealers type on AZERTY, where the key
// printed "-" gives "6" under a US keymap; a password of these letters types the same on either.
//
// The alphabet leaves out what reads ambiguously (no 0/O, 1/l/I, no digits at all) and also what moves between the
// keyboards dealers use: a, q, z, w, m (AZERTY) and y (QWERTZ), and digits (shifted on AZERTY), so the letters
// typed are the letters printed whichever of these layouts the keyboard has and the console assumes.
import { randomBytes } from 'node:crypto';
import { ErrorCode, LineError } from '../errors.js';

export const PASSWORD_ALPHABET = 'bcdefghjknprstuvx';
export const PASSWORD_GROUPS = 1;
export const PASSWORD_GROUP_LENGTH = 16;
/** The drawn characters. */
export const PASSWORD_RANDOM_CHARS = PASSWORD_GROUPS * PASSWORD_GROUP_LENGTH;
/** The whole password (one group: no separator). */
export const PASSWORD_LENGTH = PASSWORD_RANDOM_CHARS + PASSWORD_GROUPS - 1;
/** What a generated password looks like. */
export const PASSWORD_PATTERN = new RegExp(`^[${PASSWORD_ALPHABET}]{${PASSWORD_GROUP_LENGTH}}(?:-[${PASSWORD_ALPHABET}]{${PASSWORD_GROUP_LENGTH}}){${PASSWORD_GROUPS - 1}}$`);

/** Bytes at or above this are rejected: below it, every symbol has the same number of byte values (256 = 15 x 17 + 1). */
const ACCEPT_BELOW = 256 - (256 % PASSWORD_ALPHABET.length);
/** A working source rejects 1 byte in 256; this many draws without enough accepted bytes means it is broken. */
const MAX_DRAWS = 64;

/** A new temporary password like "bcdfghjknprstuvx"; `random` is node:crypto's randomBytes unless a test injects one. */
export function generateTemporaryPassword(random: (size: number) => Buffer = randomBytes): string {
  const chars: string[] = [];
  for (let draw = 0; draw < MAX_DRAWS && chars.length < PASSWORD_RANDOM_CHARS; draw++) {
    // Exactly as many bytes as characters still missing: none is drawn and thrown away unseen.
    const missing = PASSWORD_RANDOM_CHARS - chars.length;
    for (const byte of random(missing).subarray(0, missing)) {
      if (byte < ACCEPT_BELOW) chars.push(PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length]!);
    }
  }
  if (chars.length < PASSWORD_RANDOM_CHARS) {
    throw new LineError(ErrorCode.INTERNAL, 'the random source gave no usable bytes: cannot generate a temporary password');
  }
  const groups: string[] = [];
  for (let i = 0; i < PASSWORD_RANDOM_CHARS; i += PASSWORD_GROUP_LENGTH) groups.push(chars.slice(i, i + PASSWORD_GROUP_LENGTH).join(''));
  return groups.join('-');
}
