// The wipe as a persisted state machine: a durable "wipe pending" marker first, then the erase, which the next start finishes.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir } from '../../../lib/fs-durable.js';
import type { Logger } from '../../../lib/log/index.js';
import { writeFileDurable } from './identity.js';

export const WIPE_MARKER = 'wipe-pending.json';

/** Exit code of `plugsrv serve` after a wipe or a retirement: systemd restarts it into a clean, un-enrolled agent. */
export const EXIT_WIPED = 10;

export interface WipeRequest {
  /** ms since the epoch. */
  requestedAt: number;
  why: 'wipe' | 'retire' | 'retired-by-fleet';
  commandId?: string;
}

export async function markWipePending(dataDir: string, request: WipeRequest): Promise<void> {
  await writeFileDurable(join(dataDir, WIPE_MARKER), `${JSON.stringify(request)}\n`, 0o600);
}

export async function pendingWipe(dataDir: string): Promise<WipeRequest | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, WIPE_MARKER), 'utf8')) as WipeRequest;
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined;
    // A marker cut by a crash is still a marker: wipe.
    return { requestedAt: 0, why: 'wipe' };
  }
}

/** In this order: the store (blobs, partial downloads, temp files), the catalog state, the DB, the identity, then the rest. */
const ORDER = ['blobs', 'partial', 'tmp', 'tuf', 'state.db', 'state.db-wal', 'state.db-shm', 'identity'];

/**
 * Erases everything in the data directory (store, partial files, DB, identity, whatever else the agent keeps there)
 * and the bootstrap token file, then removes the marker. Idempotent: a kill at any point leaves the marker, and the
 * next start runs this again. The DB must be closed (or never opened) by this process.
 */
export async function finishWipe(dataDir: string, tokenFile: string, log: Logger): Promise<void> {
  const entries = await readdir(dataDir).catch((err: unknown) => {
    if (systemErrorCode(err) === 'ENOENT') return [] as string[];
    throw err;
  });
  const rest = entries.filter((e) => e !== WIPE_MARKER && !ORDER.includes(e));
  for (const name of [...ORDER.filter((e) => entries.includes(e)), ...rest]) await rm(join(dataDir, name), { recursive: true, force: true });
  await fsyncDir(dataDir);
  if (tokenFile !== '') {
    await rm(tokenFile, { force: true }).catch((err: unknown) =>
      log.warn('wipe: cannot delete the bootstrap token file; delete it by hand (tokens are single-use, it is spent anyway)', { file: tokenFile, error: err }),
    );
  }
  await rm(join(dataDir, WIPE_MARKER), { force: true });
  await fsyncDir(dataDir);
}

/** At start, before the DB is opened: a wipe that a kill or power cut interrupted is finished first. */
export async function finishPendingWipe(dataDir: string, tokenFile: string, log: Logger): Promise<boolean> {
  const request = await pendingWipe(dataDir);
  if (!request) return false;
  log.warn('wipe: finishing a wipe ordered by fleet operations before anything else', { why: request.why, commandId: request.commandId, requestedAt: request.requestedAt ? new Date(request.requestedAt).toISOString() : undefined });
  await finishWipe(dataDir, tokenFile, log);
  log.warn('wipe: done; this device is not enrolled any more and waits for a new bootstrap token', { dataDir });
  return true;
}
