// Side-loads package files into the store and records them as ready: the offline seeding path for a site.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { systemErrorCode } from '../../../lib/errors.js';
import type { PackageRepository } from '../catalog/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { BlobStore } from '../store/index.js';
import type { ImportItem } from './manifest.js';

export interface ImportResult {
  path: string;
  name: string;
  sha256: string;
  size: number;
  /** The bytes were already in the store (only the metadata was recorded). */
  existed: boolean;
}

export interface ImportProgress {
  start(item: ImportItem, size: number): void;
  advance(bytes: number): void;
  finish(result: ImportResult): void;
}

async function statFile(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new AgentError(ErrorCode.IMPORT_INPUT, `${path} is not a regular file; give package files (or a manifest listing them).`);
    return st.size;
  } catch (err) {
    if (err instanceof AgentError) throw err;
    const code = systemErrorCode(err);
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : (err as Error).message;
    throw new AgentError(ErrorCode.IMPORT_INPUT, `cannot import ${path}: it ${why}.`, { cause: err });
  }
}

/**
 * Imports items one by one. All inputs are checked before any is written, so a typo in the last
 * path does not leave a half-done import. A package becomes listed only once its blob is durable.
 */
export async function importPackages(
  items: ImportItem[],
  deps: { store: BlobStore; packages: PackageRepository; clock?: () => number; progress?: ImportProgress },
): Promise<ImportResult[]> {
  const clock = deps.clock ?? Date.now;
  const sizes = await Promise.all(items.map((i) => statFile(i.path)));
  const results: ImportResult[] = [];
  for (const [n, item] of items.entries()) {
    const size = sizes[n] as number;
    deps.progress?.start(item, size);
    const blob = await deps.store.put(
      createReadStream(item.path, { highWaterMark: 1024 * 1024 }),
      { size, ...(item.sha256 ? { sha256: item.sha256 } : {}) },
      (bytes) => deps.progress?.advance(bytes),
    );
    await deps.packages.upsert(blob.sha256, item.meta, 'import', clock());
    const result = { path: item.path, name: item.meta.name, sha256: blob.sha256, size: blob.size, existed: blob.existed };
    deps.progress?.finish(result);
    results.push(result);
  }
  return results;
}
