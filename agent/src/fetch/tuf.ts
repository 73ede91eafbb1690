// Verifies the box's signed catalog metadata (GET <server>/tuf/metadata/...) with tuf-js from the root.json the dealer PC trusts.
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { systemErrorCode } from '../../../lib/errors.js';
import { AgentError, ErrorCode } from '../errors.js';
import { tufErrorCode } from '../sync/index.js';
import type { ServerPackage } from './index.js';
import { signedRefusals, targetsOf, type SignedRefusal } from './signed.js';

export interface SignedCatalogOptions {
  /** The box's base URL. */
  server: URL;
  /** The catalog's root.json this PC trusts (--trusted-root, fetch.trustedRoot). */
  trustedRootFile: string;
  /** Where verified metadata is kept between runs (fetch.cacheDir, else defaultCacheDir()). */
  cacheDir: string;
  timeoutMs: number;
}

export interface SignedCheck {
  /** Version of the verified targets metadata. */
  version: number;
  /** The chosen packages that do not match a signed target (empty: all are signed as listed). */
  refusals: SignedRefusal[];
}

/** Where `plugsrv fetch` keeps verified metadata by default: the user's cache folder (%LOCALAPPDATA% on Windows). Pure. */
export function defaultCacheDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'plugsrv', 'tuf');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'plugsrv', 'tuf');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'plugsrv', 'tuf');
}

export function cacheDirOf(configured: string): string {
  return configured || defaultCacheDir(process.platform, process.env, homedir());
}

/** One folder per (trusted root, box): what this PC verified from that box before, so an older catalog is a rollback. Pure. */
export function cacheKey(rootBytes: Buffer, server: URL): string {
  return createHash('sha256').update(rootBytes).update('\0').update(`${server.origin}${server.pathname}`).digest('hex').slice(0, 24);
}

const WHAT: Record<string, string> = {
  [ErrorCode.TUF_SIGNATURE]: 'is not signed by the keys of the trusted root (tampered on the box or on the way, or --trusted-root is the root of another catalog)',
  [ErrorCode.TUF_EXPIRED]: "has expired (the box has not synced for too long, or this PC's clock is wrong)",
  [ErrorCode.TUF_ROLLBACK]: 'is older than what this PC verified from this box before (a rolled-back or tampered box)',
  [ErrorCode.TUF_LENGTH]: 'is larger than allowed (endless-data attack or a broken proxy)',
  [ErrorCode.TUF_METADATA]: 'is inconsistent or malformed (mixed versions, or corruption)',
  [ErrorCode.ORIGIN]: 'could not be fetched from the box',
};

/** A tuf-js failure as our error: the sync's classification (tufErrorCode), with what it means for a dealer PC. */
export function fetchTufError(err: unknown, server: URL): AgentError {
  if (err instanceof AgentError) return err;
  const code = tufErrorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  return new AgentError(
    code,
    `the signed catalog metadata of the box at ${server.origin} ${WHAT[code] ?? 'was refused'} (${detail}). Nothing was downloaded. Tell the after-sales support; do not use packages from this box meanwhile.`,
    { cause: err },
  );
}

async function readTrustedRoot(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `cannot read the trusted root ${file} (${systemErrorCode(err) ?? (err as Error).message}); give the catalog's root.json with --trusted-root FILE (or PLUGSRV_FETCH_TRUSTED_ROOT).`, { cause: err });
  }
  let type: unknown;
  try {
    type = (JSON.parse(bytes.toString('utf8')) as { signed?: { _type?: unknown } }).signed?._type;
  } catch {
    type = undefined;
  }
  if (type !== 'root') throw new AgentError(ErrorCode.CONFIG, `${file} is not a TUF root.json (no signed._type "root"); give the catalog's root.json with --trusted-root.`);
  return bytes;
}

/** HEAD of the box's timestamp.json: a box without /tuf/ is told apart from a failing one. */
async function checkPublished(server: URL, base: string, timeoutMs: number): Promise<void> {
  let status: number;
  try {
    status = (await fetch(`${base}/tuf/metadata/timestamp.json`, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) })).status;
  } catch {
    return; // unreachable: tuf-js reports it with the rest
  }
  if (status === 404) {
    throw new AgentError(
      ErrorCode.TUF_UNAVAILABLE,
      `the box at ${server.origin} publishes no signed catalog metadata under /tuf/ (its sync from a signed catalog is not set up or has not completed), so its packages cannot be checked against the trusted root. Have the box's sync set up, or fetch without --trusted-root (sha256 only) if you trust this box.`,
    );
  }
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/**
 * Refreshes the box's metadata with tuf-js in a work copy of what this PC verified from it before (or the
 * trusted root alone, the first time), checks each chosen package against the verified targets, then keeps
 * the work copy as the new verified state. A refusal of the metadata leaves the previous state as it was.
 * Throws AgentError with the sync's E_TUF_* codes; mismatching packages are returned, not thrown.
 */
export async function checkSignedCatalog(o: SignedCatalogOptions, chosen: readonly ServerPackage[]): Promise<SignedCheck> {
  const rootBytes = await readTrustedRoot(o.trustedRootFile);
  const base = o.server.href.replace(/\/+$/, '');
  await checkPublished(o.server, base, o.timeoutMs);
  const kept = join(o.cacheDir, cacheKey(rootBytes, o.server));
  let work: string;
  try {
    await mkdir(o.cacheDir, { recursive: true });
    work = await mkdtemp(join(o.cacheDir, '.work-'));
  } catch (err) {
    throw new AgentError(ErrorCode.STORE_IO, `cannot use the folder ${o.cacheDir} for the verified catalog metadata (${systemErrorCode(err) ?? (err as Error).message}); set another with PLUGSRV_FETCH_CACHE_DIR.`, { cause: err });
  }
  try {
    const updaterFor = (): Updater =>
      new Updater({ metadataDir: work, metadataBaseUrl: `${base}/tuf/metadata`, targetBaseUrl: `${base}/tuf/targets`, config: { fetchTimeout: o.timeoutMs } });
    let updater: Updater | undefined;
    // The kept state, or the one set aside when a run stopped between the two renames of keep().
    const previous = (await exists(join(kept, 'root.json'))) ? kept : (await exists(join(`${kept}.old`, 'root.json'))) ? `${kept}.old` : undefined;
    if (previous) {
      await cp(previous, work, { recursive: true });
      try {
        updater = updaterFor();
      } catch {
        // The kept state is unreadable (a crash while it was replaced): start again from the trusted root.
        await rm(work, { recursive: true, force: true });
        await mkdir(work);
      }
    }
    if (!updater) {
      await writeFile(join(work, 'root.json'), rootBytes);
      updater = updaterFor();
    }
    try {
      await updater.refresh();
    } catch (err) {
      throw fetchTufError(err, o.server);
    }
    const doc = JSON.parse(await readFile(join(work, 'targets.json'), 'utf8')) as { signed?: { version?: unknown } };
    const version = typeof doc.signed?.version === 'number' ? doc.signed.version : 0;
    const targets = targetsOf(doc);
    const refusals = signedRefusals(chosen, targets);
    // A second look at each match through tuf-js's own verified view (the file above is what it persisted).
    for (const pkg of chosen) {
      if (refusals.some((r) => r.pkg === pkg)) continue;
      const matches = targets.filter((t) => t.sha256 === pkg.id && t.length === pkg.size);
      let confirmed = false;
      for (const t of matches) {
        const info = await updater.getTargetInfo(t.path);
        if (info && info.length === pkg.size && info.hashes.sha256?.toLowerCase() === pkg.id) confirmed = true;
      }
      if (!confirmed) refusals.push({ pkg, code: ErrorCode.TUF_TARGET_MISMATCH, reason: `tuf-js does not confirm ${pkg.name} (sha256 ${pkg.id.slice(0, 12)}..., ${pkg.size} bytes) as a verified target` });
    }
    await keep(work, kept);
    return { version, refusals };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Replaces the kept state by the work copy: rename the old one aside, the new one in (Windows cannot rename over a folder). */
async function keep(work: string, kept: string): Promise<void> {
  const old = `${kept}.old`;
  try {
    await rm(old, { recursive: true, force: true });
    if (await exists(kept)) await rename(kept, old);
    await rename(work, kept);
    await rm(old, { recursive: true, force: true });
  } catch {
    // The verification stands; put the older state back if it was moved, and the next run starts from it.
    if (!(await exists(kept)) && (await exists(old))) await rename(old, kept).catch(() => {});
  }
}
