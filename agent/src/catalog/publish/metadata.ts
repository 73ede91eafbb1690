// Builds and signs the four top-level TUF metadata documents from keys, staged targets, versions and a clock.
import { createHash } from 'node:crypto';
import { Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import type { Expiries } from './expiry.js';
import { expiresAt } from './expiry.js';
import { signerOf, tufKey, type RoleKey } from './keys.js';
import { ROLES, SPEC_VERSION, type RoleName } from './layout.js';
import type { StagedTarget } from './staging.js';

export type RoleKeys = Record<RoleName, RoleKey>;

/** A signed document and the exact bytes published for it. */
export interface SignedFile<T extends Root | Targets | Snapshot | Timestamp> {
  readonly metadata: Metadata<T>;
  readonly bytes: Buffer;
}

function serialize<T extends Root | Targets | Snapshot | Timestamp>(metadata: Metadata<T>): SignedFile<T> {
  return { metadata, bytes: Buffer.from(`${JSON.stringify(metadata.toJSON(), null, 2)}\n`) };
}

function signWith<T extends Root | Targets | Snapshot | Timestamp>(signed: T, keys: readonly RoleKey[]): SignedFile<T> {
  const metadata = new Metadata(signed);
  for (const key of keys) metadata.sign(signerOf(key));
  return serialize(metadata);
}

/** A MetaFile pointing at published bytes: version, length and sha256, so a client can check it before parsing. */
function metaFileOf(version: number, bytes: Buffer): MetaFile {
  return new MetaFile({ version, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } });
}

/**
 * The root listing one key per role, consistent snapshots. @tufjs/models does not export Role, so the roles are
 * its defaults (no keys, threshold 1) filled with addKey.
 */
export function buildRoot(version: number, keys: RoleKeys, now: Date, expiries: Expiries): Root {
  const root = new Root({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, expiries.root), consistentSnapshot: true, keys: {} });
  for (const role of ROLES) root.addKey(tufKey(keys[role]), role);
  return root;
}

/**
 * Signs a root. `previousRootKeys` are the keys the previous root trusts for the root role:
 * a client only accepts root N+1 signed by a threshold of root N's keys and of its own.
 */
export function signRoot(root: Root, rootKey: RoleKey, previousRootKeys: readonly RoleKey[] = []): SignedFile<Root> {
  const others = previousRootKeys.filter((k) => k.keyid !== rootKey.keyid);
  return signWith(root, [...others, rootKey]);
}

export function signTargets(version: number, staged: Record<string, StagedTarget>, key: RoleKey, now: Date, expiries: Expiries): SignedFile<Targets> {
  const targets = new Targets({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, expiries.targets) });
  for (const [path, t] of Object.entries(staged)) {
    // sha256 alone: tuf-js names consistent-snapshot targets after the first hash listed.
    targets.addTarget(new TargetFile({ path, length: t.length, hashes: { sha256: t.hashes.sha256 }, unrecognizedFields: { custom: t.custom } }));
  }
  return signWith(targets, [key]);
}

export function signSnapshot(version: number, targetsVersion: number, targetsBytes: Buffer, key: RoleKey, now: Date, expiries: Expiries): SignedFile<Snapshot> {
  const snapshot = new Snapshot({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, expiries.snapshot), meta: { 'targets.json': metaFileOf(targetsVersion, targetsBytes) } });
  return signWith(snapshot, [key]);
}

export function signTimestamp(version: number, snapshotVersion: number, snapshotBytes: Buffer, key: RoleKey, now: Date, expiries: Expiries): SignedFile<Timestamp> {
  const timestamp = new Timestamp({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, expiries.timestamp), snapshotMeta: metaFileOf(snapshotVersion, snapshotBytes) });
  return signWith(timestamp, [key]);
}
