// Reading and writing a publishing repository: configuration, current metadata versions, keys, published files.
import { rename, rm, stat } from 'node:fs/promises';
import { Metadata, MetadataKind, Root, Snapshot, Timestamp } from '@tufjs/models';
import { z } from 'zod';
import { systemErrorCode } from '../../../../lib/errors.js';
import { AgentError, ErrorCode } from '../../errors.js';
import { DEFAULT_EXPIRIES, parseDuration, type Expiries } from './expiry.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from './fs-atomic.js';
import { readKeyFile, type RoleKey } from './keys.js';
import { keyFile, latestMetadataFile, pendingKeyFile, ROLES, targetFile, versionedMetadataFile, type RepoLayout, type RoleName } from './layout.js';
import { signSnapshot, signTargets, signTimestamp, type RoleKeys, type SignedFile } from './metadata.js';
import type { StagedTarget } from './staging.js';

const durationSchema = z.string().refine((d) => {
  try {
    parseDuration(d);
    return true;
  } catch {
    return false;
  }
}, 'a duration such as 90d');

const configSchema = z
  .object({
    expires: z.object({ root: durationSchema, targets: durationSchema, snapshot: durationSchema, timestamp: durationSchema }).strict(),
    threshold: z.literal(1),
  })
  .strict();
export type RepoConfig = z.infer<typeof configSchema>;

export function defaultConfig(expires: Expiries = DEFAULT_EXPIRIES): RepoConfig {
  return { expires, threshold: 1 };
}

export async function readConfig(layout: RepoLayout): Promise<RepoConfig> {
  const parsed = configSchema.safeParse(await readJson(layout.configFile, 'repository configuration'));
  if (!parsed.success) throw new AgentError(ErrorCode.CONFIG, `${layout.configFile} is invalid: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export async function writeConfig(layout: RepoLayout, config: RepoConfig): Promise<void> {
  await writeJsonAtomic(layout.configFile, config);
}

type JsonObject = Parameters<typeof Root.fromJSON>[0];

async function readMetadata<T>(path: string, what: string, parse: (json: JsonObject) => T): Promise<T> {
  const json = await readJson(path, what);
  try {
    return parse(json as JsonObject);
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `${path} is not valid ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The versions currently published, read from the repository itself (it is the only record). */
export interface PublishedState {
  readonly root: Root;
  readonly targetsVersion: number;
  readonly snapshotVersion: number;
  readonly timestampVersion: number;
}

export async function readPublishedState(layout: RepoLayout): Promise<PublishedState> {
  const root = await readMetadata(latestMetadataFile(layout, 'root'), 'root metadata', (j) => Metadata.fromJSON(MetadataKind.Root, j).signed);
  const timestamp: Timestamp = await readMetadata(latestMetadataFile(layout, 'timestamp'), 'timestamp metadata', (j) => Metadata.fromJSON(MetadataKind.Timestamp, j).signed);
  const snapshotVersion = timestamp.snapshotMeta.version;
  const snapshot: Snapshot = await readMetadata(versionedMetadataFile(layout, 'snapshot', snapshotVersion), 'snapshot metadata', (j) => Metadata.fromJSON(MetadataKind.Snapshot, j).signed);
  const targetsMeta = snapshot.meta['targets.json'];
  if (!targetsMeta) throw new AgentError(ErrorCode.CONFIG, `snapshot version ${snapshotVersion} lists no targets.json`);
  return { root, targetsVersion: targetsMeta.version, snapshotVersion, timestampVersion: timestamp.version };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Finishes or undoes a rotation a crash interrupted: a pending key the root already lists becomes the role's key,
 * one it does not list is dropped (the rotation never reached the root).
 */
async function settlePendingKey(layout: RepoLayout, role: RoleName, root: Root): Promise<void> {
  const pending = pendingKeyFile(layout, role);
  if (!(await exists(pending))) return;
  const key = await readKeyFile(pending, role);
  if (root.roles[role]?.keyIDs.includes(key.keyid)) await rename(pending, keyFile(layout, role));
  else await rm(pending);
}

/** The current signing key of each role, checked against the keys the published root trusts. */
export async function loadRoleKeys(layout: RepoLayout, root: Root): Promise<RoleKeys> {
  const entries: [RoleName, RoleKey][] = [];
  for (const role of ROLES) {
    await settlePendingKey(layout, role, root);
    const key = await readKeyFile(keyFile(layout, role), role);
    if (!root.roles[role]?.keyIDs.includes(key.keyid)) {
      throw new AgentError(ErrorCode.CONFIG, `the ${role} key ${key.keyid.slice(0, 12)}… is not the one root version ${root.version} trusts for ${role}`);
    }
    entries.push([role, key]);
  }
  return Object.fromEntries(entries) as RoleKeys;
}

/** Writes `N.root.json`, then `root.json` as a copy of it. */
export async function writeRoot(layout: RepoLayout, root: SignedFile<Root>): Promise<void> {
  await writeFileAtomic(versionedMetadataFile(layout, 'root', root.metadata.signed.version), root.bytes);
  await writeFileAtomic(latestMetadataFile(layout, 'root'), root.bytes);
}

export interface PublishedVersions {
  readonly targetsVersion: number;
  readonly snapshotVersion: number;
  readonly timestampVersion: number;
}

/** A staged target whose bytes are missing or resized would be signed but never downloadable: refuse it. */
export async function checkTargetFiles(layout: RepoLayout, staged: Record<string, StagedTarget>): Promise<void> {
  for (const [path, t] of Object.entries(staged)) {
    const file = targetFile(layout, path, t.hashes.sha256);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size !== t.length) {
      throw new AgentError(ErrorCode.MANIFEST, `target ${path}: ${file} is ${size === undefined ? 'missing' : `${size} bytes, not ${t.length}`}; add it again or remove it`);
    }
  }
}

/**
 * Signs and writes targets, then snapshot, then timestamp, each a new file: a client reading timestamp.json
 * always finds every file it points to, and older versions stay for clients mid-update.
 */
export async function writeTopLevel(layout: RepoLayout, versions: PublishedVersions, staged: Record<string, StagedTarget>, keys: RoleKeys, now: Date, expiries: Expiries): Promise<void> {
  const targets = signTargets(versions.targetsVersion, staged, keys.targets, now, expiries);
  await writeFileAtomic(versionedMetadataFile(layout, 'targets', versions.targetsVersion), targets.bytes);
  const snapshot = signSnapshot(versions.snapshotVersion, versions.targetsVersion, targets.bytes, keys.snapshot, now, expiries);
  await writeFileAtomic(versionedMetadataFile(layout, 'snapshot', versions.snapshotVersion), snapshot.bytes);
  const timestamp = signTimestamp(versions.timestampVersion, versions.snapshotVersion, snapshot.bytes, keys.timestamp, now, expiries);
  await writeFileAtomic(latestMetadataFile(layout, 'timestamp'), timestamp.bytes);
}
