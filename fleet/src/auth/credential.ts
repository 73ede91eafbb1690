// Prefixed credentials `<prefix>_<id>_<secret>` (API keys, bootstrap tokens) and random ids: made, parsed, hashed, compared.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters of [a-z0-9], uniformly (rejection sampling keeps the 36 letters equally likely). */
export function randomId(length: number, random: (n: number) => Buffer = randomBytes): string {
  let out = '';
  while (out.length < length) {
    for (const b of random(length * 2)) {
      if (b >= 252) continue; // 252 = 7 * 36: above it, b % 36 would favour the first letters
      out += ID_ALPHABET[b % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

export interface Credential {
  readonly id: string;
  readonly secret: string;
}

/** A fresh credential: a 16-character id and a 256-bit secret (base64url, 43 characters). */
export function newCredential(random: (n: number) => Buffer = randomBytes): Credential {
  return { id: randomId(16, random), secret: random(32).toString('base64url') };
}

export function formatCredential(prefix: string, c: Credential): string {
  return `${prefix}_${c.id}_${c.secret}`;
}

/** Splits `<prefix>_<id>_<secret>`; undefined when the text does not have that shape. The id has no underscore, the secret may. */
export function parseCredential(prefix: string, text: string): Credential | undefined {
  const m = new RegExp(`^${prefix}_([a-z0-9]{12,32})_([A-Za-z0-9_-]{32,64})$`).exec(text.trim());
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

/**
 * sha256 of the secret, hex. The secrets are 256-bit random values (never passwords chosen by people), so a
 * fast hash is enough: there is nothing to brute-force, and a slow KDF would only cost CPU on every request.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
