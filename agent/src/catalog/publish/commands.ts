// The publisher's operations: init, add, remove, publish and rotate-keys on a repository directory.
import { chmod, mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AgentError, ErrorCode } from '../../errors.js';
import { parseExpiries, type Expiries } from './expiry.js';
import { copyHashed } from './fs-atomic.js';
import { generateKey, writeKeyFile, type RoleKey } from './keys.js';
import { keyFile, layoutOf, pendingKeyFile, ROLES, targetFile, type RepoLayout, type RoleName } from './layout.js';
import { buildRoot, signRoot, type RoleKeys } from './metadata.js';
import {
  checkTargetFiles,
  defaultConfig,
  loadRoleKeys,
  readConfig,
  readPublishedState,
  writeConfig,
  writeRoot,
  writeTopLevel,
  type PublishedState,
  type PublishedVersions,
  type RepoConfig,
} from './repository.js';
import { readStaging, validateCustom, validateTargetPath, writeStaging, type StagedTarget, type TargetInput } from './staging.js';

export interface InitOptions {
  /** `root=365d,targets=90d,...` or the full set; roles left out keep their defaults. */
  readonly expires?: string | Expiries;
}

export interface InitResult {
  readonly dir: string;
  readonly keyIds: Record<RoleName, string>;
  readonly expires: Expiries;
}

/** Creates keys, configuration, an empty staging list and version 1 of every role's metadata. */
export async function initRepo(dir: string, options: InitOptions, now: Date): Promise<InitResult> {
  const layout = layoutOf(dir);
  const expires = typeof options.expires === 'object' ? options.expires : parseExpiries(options.expires);
  if (await stat(layout.configFile).then(() => true, () => false)) {
    throw new AgentError(ErrorCode.CONFIG, `${dir} is already a catalog repository (${layout.configFile} exists)`);
  }
  // The repository tree must stay readable by whoever serves it; only keys/ is private.
  await mkdir(layout.dir, { recursive: true });
  await mkdir(layout.keysDir, { recursive: true, mode: 0o700 });
  await chmod(layout.keysDir, 0o700);
  await mkdir(layout.metadataDir, { recursive: true });
  await mkdir(layout.targetsDir, { recursive: true });
  const keys = Object.fromEntries(ROLES.map((role) => [role, generateKey()])) as RoleKeys;
  for (const role of ROLES) await writeKeyFile(keyFile(layout, role), role, keys[role]);
  const config = defaultConfig(expires);
  await writeStaging(layout.stagingFile, { targets: {} });
  await writeRoot(layout, signRoot(buildRoot(1, keys, now, config.expires), keys.root));
  await writeTopLevel(layout, { targetsVersion: 1, snapshotVersion: 1, timestampVersion: 1 }, {}, keys, now, config.expires);
  // Written last: its presence is what marks the repository as initialised.
  await writeConfig(layout, config);
  return { dir, keyIds: Object.fromEntries(ROLES.map((role) => [role, keys[role].keyid])) as Record<RoleName, string>, expires };
}

export interface AddedTarget {
  readonly path: string;
  readonly sha256: string;
  readonly length: number;
  /** Where the bytes were copied: `repository/targets/<dir>/<sha256>.<name>`. */
  readonly file: string;
  /** The path was already staged (with these or other bytes) and now points at this file. */
  readonly replaced: boolean;
}

async function checkSourceFile(file: string): Promise<void> {
  const info = await stat(file).catch((err: unknown) => {
    throw new AgentError(ErrorCode.IMPORT_INPUT, `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  if (!info.isFile()) throw new AgentError(ErrorCode.IMPORT_INPUT, `${file} is not a regular file`);
}

/** Target paths for the files: `input.path` for a single file, else each file's base name. */
function targetPathsFor(files: readonly string[], input: TargetInput): string[] {
  if (files.length === 0) throw new AgentError(ErrorCode.IMPORT_INPUT, 'nothing to add: give one or more package files');
  if (input.path !== undefined && files.length > 1) throw new AgentError(ErrorCode.IMPORT_INPUT, '--path names one target: give a single file with it');
  const paths = input.path !== undefined ? [validateTargetPath(input.path)] : files.map((f) => validateTargetPath(basename(f)));
  const dup = paths.find((p, i) => paths.indexOf(p) !== i);
  if (dup !== undefined) throw new AgentError(ErrorCode.IMPORT_INPUT, `two files would both be the target "${dup}": add them separately with --path`);
  const self = paths.find((p) => p === input.custom.supersedes);
  if (self !== undefined) throw new AgentError(ErrorCode.IMPORT_INPUT, `--supersedes names the target being added ("${self}")`);
  return paths;
}

/** Copies files into the targets tree under their hash and stages them with their custom metadata. */
export async function addTargets(dir: string, files: readonly string[], input: TargetInput): Promise<AddedTarget[]> {
  const layout = layoutOf(dir);
  await readConfig(layout);
  const custom = validateCustom(input.custom);
  const paths = targetPathsFor(files, { ...input, custom });
  for (const file of files) await checkSourceFile(file);
  const staging = await readStaging(layout.stagingFile);
  const added: AddedTarget[] = [];
  for (const [i, file] of files.entries()) {
    const path = paths[i] as string;
    const destDir = dirname(targetFile(layout, path, '0'));
    const copy = await copyHashed(file, destDir, (h) => basename(targetFile(layout, path, h.sha256)));
    const entry: StagedTarget = { length: copy.length, hashes: { sha256: copy.sha256 }, custom };
    added.push({ path, sha256: copy.sha256, length: copy.length, file: copy.path, replaced: path in staging.targets });
    staging.targets[path] = entry;
  }
  await writeStaging(layout.stagingFile, staging);
  return added;
}

/** Drops a target from the staging list; its bytes stay, as published metadata may still point at them. */
export async function removeTarget(dir: string, targetPath: string): Promise<void> {
  const layout = layoutOf(dir);
  await readConfig(layout);
  const path = validateTargetPath(targetPath);
  const staging = await readStaging(layout.stagingFile);
  if (!(path in staging.targets)) throw new AgentError(ErrorCode.IMPORT_INPUT, `"${path}" is not staged (see ${layout.stagingFile})`);
  delete staging.targets[path];
  await writeStaging(layout.stagingFile, staging);
}

interface OpenRepo {
  readonly layout: RepoLayout;
  readonly config: RepoConfig;
  readonly state: PublishedState;
  readonly keys: RoleKeys;
}

async function openRepo(dir: string): Promise<OpenRepo> {
  const layout = layoutOf(dir);
  const config = await readConfig(layout);
  const state = await readPublishedState(layout);
  return { layout, config, state, keys: await loadRoleKeys(layout, state.root) };
}

export interface PublishResult extends PublishedVersions {
  readonly rootVersion: number;
  readonly targets: number;
}

async function publishWith(repo: OpenRepo, keys: RoleKeys, rootVersion: number, now: Date): Promise<PublishResult> {
  const staging = await readStaging(repo.layout.stagingFile);
  await checkTargetFiles(repo.layout, staging.targets);
  const versions: PublishedVersions = {
    targetsVersion: repo.state.targetsVersion + 1,
    snapshotVersion: repo.state.snapshotVersion + 1,
    timestampVersion: repo.state.timestampVersion + 1,
  };
  await writeTopLevel(repo.layout, versions, staging.targets, keys, now, repo.config.expires);
  return { ...versions, rootVersion, targets: Object.keys(staging.targets).length };
}

/** Signs the staged targets as new targets, snapshot and timestamp versions, expiring relative to `now`. */
export async function publish(dir: string, now: Date): Promise<PublishResult> {
  const repo = await openRepo(dir);
  return publishWith(repo, repo.keys, repo.state.root.version, now);
}

export interface RotateResult extends PublishResult {
  readonly role: RoleName;
  readonly oldKeyId: string;
  readonly newKeyId: string;
}

/**
 * Replaces a role's key: root N+1 lists the new key and is signed by the previous root key (so clients
 * trusting root N accept it) and by the current root key; then everything is republished with current keys.
 */
export async function rotateKeys(dir: string, role: RoleName, now: Date): Promise<RotateResult> {
  if (!(ROLES as readonly string[]).includes(role)) throw new AgentError(ErrorCode.IMPORT_INPUT, `--role must be one of ${ROLES.join(', ')}, not "${String(role)}"`);
  const repo = await openRepo(dir);
  const next: RoleKey = generateKey();
  const keys: RoleKeys = { ...repo.keys, [role]: next };
  // Pending until the root that lists it is on disk; a crash in between is settled by the next command.
  await writeKeyFile(pendingKeyFile(repo.layout, role), role, next);
  const rootVersion = repo.state.root.version + 1;
  await writeRoot(repo.layout, signRoot(buildRoot(rootVersion, keys, now, repo.config.expires), keys.root, [repo.keys.root]));
  await rename(pendingKeyFile(repo.layout, role), keyFile(repo.layout, role));
  const published = await publishWith(repo, keys, rootVersion, now);
  return { ...published, role, oldKeyId: repo.keys[role].keyid, newKeyId: next.keyid };
}
