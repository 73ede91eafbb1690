// Role signing keys: ed25519 generation with node:crypto, TUF key ids, key files (0600) and metadata signers.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { Key, Signature } from '@tufjs/models';
import { z } from 'zod';
import { AgentError, ErrorCode } from '../../errors.js';
import { readJson, writeJsonAtomic } from './fs-atomic.js';
import { ROLES, type RoleName } from './layout.js';

/** A role's key pair: the public half as TUF writes it (raw 32 bytes, hex), the private half as PKCS8 PEM. */
export interface RoleKey {
  readonly keyid: string;
  readonly publicHex: string;
  readonly privatePem: string;
}

const KEY_TYPE = 'ed25519';
/** An ed25519 SubjectPublicKeyInfo is this 12-byte DER prefix followed by the 32-byte key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [key: string]: CanonicalValue };

/** The OLPC canonical JSON TUF signs and hashes: sorted keys, no whitespace, only `"` and `\` escaped. */
export function canonicalJson(value: CanonicalValue): string {
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${canonicalJson(k)}:${canonicalJson(value[k] as CanonicalValue)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) throw new TypeError('canonical JSON has no floats');
  return JSON.stringify(value);
}

/** The public key object TUF puts under `keys` in root.json. */
export function publicKeyJson(publicHex: string): { keytype: string; scheme: string; keyval: { public: string } } {
  return { keytype: KEY_TYPE, scheme: KEY_TYPE, keyval: { public: publicHex } };
}

/** TUF key id: sha256 of the canonical JSON of the public key object. */
export function keyIdOf(publicHex: string): string {
  return createHash('sha256').update(canonicalJson(publicKeyJson(publicHex))).digest('hex');
}

export function generateKey(): RoleKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const publicHex = der.subarray(ED25519_SPKI_PREFIX.length).toString('hex');
  return { keyid: keyIdOf(publicHex), publicHex, privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

export function tufKey(key: RoleKey): Key {
  return new Key({ keyID: key.keyid, keyType: KEY_TYPE, scheme: KEY_TYPE, keyVal: { public: key.publicHex } });
}

/** A signer for `Metadata.sign`: ed25519 over the canonical bytes it is given. */
export function signerOf(key: RoleKey): (data: Buffer) => Signature {
  const privateKey = createPrivateKey(key.privatePem);
  return (data) => new Signature({ keyID: key.keyid, sig: sign(null, data, privateKey).toString('hex') });
}

const keyFileSchema = z
  .object({
    role: z.enum(ROLES),
    keyid: z.string().regex(/^[0-9a-f]{64}$/),
    keytype: z.literal(KEY_TYPE),
    scheme: z.literal(KEY_TYPE),
    keyval: z.object({ public: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    private: z.string().startsWith('-----BEGIN PRIVATE KEY-----'),
  })
  .strict();

export async function writeKeyFile(path: string, role: RoleName, key: RoleKey): Promise<void> {
  await writeJsonAtomic(path, { role, keyid: key.keyid, ...publicKeyJson(key.publicHex), private: key.privatePem }, 0o600);
}

/** Reads a key file, checking its key id and that the private half matches the public one. */
export async function readKeyFile(path: string, role: RoleName): Promise<RoleKey> {
  const parsed = keyFileSchema.safeParse(await readJson(path, `${role} key file`));
  if (!parsed.success) throw new AgentError(ErrorCode.CONFIG, `the key file ${path} is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const f = parsed.data;
  if (f.role !== role) throw new AgentError(ErrorCode.CONFIG, `the key file ${path} holds the ${f.role} key, not the ${role} key`);
  const publicHex = f.keyval.public;
  if (keyIdOf(publicHex) !== f.keyid) throw new AgentError(ErrorCode.CONFIG, `the key file ${path} has a key id that does not match its public key`);
  const derived = createPublicKey(createPrivateKey(f.private)).export({ format: 'der', type: 'spki' });
  if (derived.subarray(ED25519_SPKI_PREFIX.length).toString('hex') !== publicHex) {
    throw new AgentError(ErrorCode.CONFIG, `the key file ${path} has a private key that does not match its public key`);
  }
  return { keyid: f.keyid, publicHex, privatePem: f.private };
}
