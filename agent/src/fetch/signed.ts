// Pure: does each chosen package of the box's list match a target of the signed catalog (same sha256, length and file name)?
import { ErrorCode } from '../errors.js';
import type { ServerPackage } from './index.js';

/** A target of the verified targets metadata (top-level; the publisher uses no delegations). */
export interface SignedTarget {
  /** The TUF target path, `/`-separated (`maps/eu/EU.bin`); a package's name is its last part. */
  path: string;
  length: number;
  sha256: string | undefined;
}

export interface SignedRefusal {
  pkg: ServerPackage;
  code: typeof ErrorCode.TUF_UNSIGNED_TARGET | typeof ErrorCode.TUF_TARGET_MISMATCH;
  reason: string;
}

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const short = (sha: string | undefined): string => (sha ? `${sha.slice(0, 12)}...` : 'none');

/** Why `pkg` cannot be trusted from `signed`, or undefined when a signed target has its sha256, length and name. */
export function signedRefusal(pkg: ServerPackage, signed: readonly SignedTarget[]): SignedRefusal | undefined {
  const sameHash = signed.filter((t) => t.sha256 === pkg.id);
  if (sameHash.some((t) => t.length === pkg.size && baseName(t.path) === pkg.name)) return undefined;
  const listed = `the box lists ${pkg.name} as ${pkg.size} bytes with sha256 ${short(pkg.id)}`;
  const first = sameHash[0];
  if (first) {
    return { pkg, code: ErrorCode.TUF_TARGET_MISMATCH, reason: `${listed}, but the signed catalog has that sha256 as ${first.path}, ${first.length} bytes` };
  }
  const sameName = signed.find((t) => baseName(t.path) === pkg.name);
  if (sameName) {
    return { pkg, code: ErrorCode.TUF_TARGET_MISMATCH, reason: `${listed}, but the signed catalog has ${sameName.path} as ${sameName.length} bytes with sha256 ${short(sameName.sha256)}` };
  }
  return { pkg, code: ErrorCode.TUF_UNSIGNED_TARGET, reason: `${listed}, but no target of the signed catalog has that sha256 (a package imported on the box, or one it got outside the catalog)` };
}

/** The refusals for every chosen package (empty when all of them are signed as listed). */
export function signedRefusals(chosen: readonly ServerPackage[], signed: readonly SignedTarget[]): SignedRefusal[] {
  return chosen.map((p) => signedRefusal(p, signed)).filter((r): r is SignedRefusal => r !== undefined);
}

/**
 * The signed targets of a targets metadata document (its `signed.targets`), those with a sha256; malformed
 * entries are left out (tuf-js has already checked the document's schema and signatures).
 */
export function targetsOf(doc: unknown): SignedTarget[] {
  const targets = (doc as { signed?: { targets?: unknown } })?.signed?.targets;
  if (typeof targets !== 'object' || targets === null) return [];
  const out: SignedTarget[] = [];
  for (const [path, info] of Object.entries(targets as Record<string, unknown>)) {
    const { length, hashes } = (info ?? {}) as { length?: unknown; hashes?: { sha256?: unknown } };
    if (typeof length !== 'number') continue;
    const sha256 = typeof hashes?.sha256 === 'string' ? hashes.sha256.toLowerCase() : undefined;
    out.push({ path, length, sha256 });
  }
  return out;
}
