// Builds the sync bench's origin: generated targets of planned sizes, signed and published with our publisher into a temp dir.
import { statfs, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { addTargets, initRepo, publish, type TargetCustom } from '../../agent/src/catalog/publish/index.js';
import { writeRandomFile } from '../serve/setup.js';

export const MiB = 1048576;
export const GiB = 1024 * MiB;

export interface PlannedTarget {
  name: string;
  size: number;
}

export interface PublishedTarget extends PlannedTarget {
  sha256: string;
  /** Path of the target's bytes under the served repository, `/`-separated (`targets/<sha256>.<name>`). */
  urlPath: string;
  /** The file nginx serves. */
  file: string;
}

export interface Catalog {
  dir: string;
  repository: string;
  trustedRoot: string;
  targets: PublishedTarget[];
  totalBytes: number;
}

/** The reference mix for 4096 MiB: 1 x 2 GiB, 2 x 512 MiB, 12 x 64 MiB, 32 x 8 MiB (sizes in MiB). */
const MIX: ReadonlyArray<{ count: number; mib: number }> = [
  { count: 1, mib: 2048 },
  { count: 2, mib: 512 },
  { count: 12, mib: 64 },
  { count: 32, mib: 8 },
];
const MIX_TOTAL_MIB = MIX.reduce((n, m) => n + m.count * m.mib, 0);

/**
 * The mixed catalog scaled to `totalMiB` (same counts, sizes scaled). Every other file is a few odd bytes short of
 * a whole MiB, so segment boundaries and short last chunks are exercised as with real packages.
 */
export function mixedPlan(totalMiB: number): PlannedTarget[] {
  const scale = totalMiB / MIX_TOTAL_MIB;
  const plan: PlannedTarget[] = [];
  for (const { count, mib } of MIX) {
    const base = Math.max(MiB, Math.round(mib * scale * MiB));
    for (let i = 0; i < count; i++) {
      const n = plan.length;
      plan.push({ name: `PKG_${String(n).padStart(2, '0')}_${(base / MiB).toFixed(0)}M.bin`, size: n % 2 === 1 ? base - (n * 4099 + 1) : base });
    }
  }
  return plan;
}

export function planBytes(plan: readonly PlannedTarget[]): number {
  return plan.reduce((n, t) => n + t.size, 0);
}

/** Bytes available to an unprivileged writer on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

const CUSTOM: TargetCustom = { kind: 'soft', headUnit: 'R-LINK2', models: ['BJA'], version: '1.0' };

/**
 * Initialises a publishing repository in `dir`, generates each planned target (AES-256-CTR keystream), adds it with
 * addTargets (which copies and hashes it into repository/targets), deletes the source, then signs and publishes.
 */
export async function buildCatalog(dir: string, plan: readonly PlannedTarget[], onTarget?: (done: number, total: number) => void): Promise<Catalog> {
  await initRepo(dir, {}, new Date());
  const repository = join(dir, 'repository');
  const targets: PublishedTarget[] = [];
  for (const t of plan) {
    const source = join(dir, `source-${t.name}`);
    await writeRandomFile(source, t.size);
    const [added] = await addTargets(dir, [source], { custom: CUSTOM, path: t.name });
    await rm(source, { force: true });
    if (!added || added.length !== t.size) throw new Error(`addTargets did not add ${t.name} with ${t.size} bytes`);
    targets.push({ ...t, sha256: added.sha256, file: added.file, urlPath: relative(repository, added.file).split(sep).join('/') });
    onTarget?.(targets.length, plan.length);
  }
  await publish(dir, new Date());
  return { dir, repository, trustedRoot: join(repository, 'metadata', '1.root.json'), targets, totalBytes: planBytes(plan) };
}
