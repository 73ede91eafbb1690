// Where a publishing repository keeps its keys, staging list, configuration and the static TUF tree it serves.
import { join } from 'node:path';

export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type RoleName = (typeof ROLES)[number];

/** The TUF spec version written into every metadata file. */
export const SPEC_VERSION = '1.0.31';

export interface RepoLayout {
  readonly dir: string;
  readonly keysDir: string;
  readonly configFile: string;
  readonly stagingFile: string;
  /** The static tree to serve: `metadata/` and `targets/`. */
  readonly repositoryDir: string;
  readonly metadataDir: string;
  readonly targetsDir: string;
}

export function layoutOf(dir: string): RepoLayout {
  const repositoryDir = join(dir, 'repository');
  return {
    dir,
    keysDir: join(dir, 'keys'),
    configFile: join(dir, 'config.json'),
    stagingFile: join(dir, 'staging.json'),
    repositoryDir,
    metadataDir: join(repositoryDir, 'metadata'),
    targetsDir: join(repositoryDir, 'targets'),
  };
}

export function keyFile(layout: RepoLayout, role: RoleName): string {
  return join(layout.keysDir, `${role}.json`);
}

/** A key being rotated in: it becomes `<role>.json` once a root listing it is written. */
export function pendingKeyFile(layout: RepoLayout, role: RoleName): string {
  return join(layout.keysDir, `${role}.next.json`);
}

/** `N.root.json`, `N.targets.json`, `N.snapshot.json`: the versioned names of consistent snapshots. */
export function versionedMetadataFile(layout: RepoLayout, role: Exclude<RoleName, 'timestamp'>, version: number): string {
  return join(layout.metadataDir, `${version}.${role}.json`);
}

export function latestMetadataFile(layout: RepoLayout, role: 'root' | 'timestamp'): string {
  return join(layout.metadataDir, `${role}.json`);
}

/** Where a target's bytes live: consistent-snapshot naming puts the sha256 before the base name, `dir/<sha256>.<name>`. */
export function targetFile(layout: RepoLayout, targetPath: string, sha256: string): string {
  const segments = targetPath.split('/');
  const name = segments.pop() as string;
  return join(layout.targetsDir, ...segments, `${sha256}.${name}`);
}
