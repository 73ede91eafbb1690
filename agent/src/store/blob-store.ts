// Content-addressed blob store: files named by sha256, written to a temp file, hashed while written, fsynced, then renamed.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { systemErrorCode } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/log/index.js';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { fsyncDir } from '../../../lib/fs-durable.js';
import { processAlive } from '../../../lib/process-alive.js';
import { ServingLeases } from './serving.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

export interface BlobStoreOptions {
  /** The data directory; blobs go to `<root>/blobs/sha256/<2 hex>/<64 hex>`, temp files to `<root>/tmp`. */
  root: string;
  db: AgentDb;
  log: Logger;
  clock?: () => number;
  /** Bytes to keep free on the store's filesystem; a write that would go below fails with E_DISK_FULL. */
  reserveBytes?: number;
}

export interface PutExpectation {
  sha256?: string;
  size?: number;
}

export interface StoredBlob {
  sha256: string;
  size: number;
  /** True when the blob was already in the store and nothing was written. */
  existed: boolean;
}

export interface RecoveryReport {
  tempFilesRemoved: number;
  adopted: number;
  discarded: number;
  missing: number;
}

export type ProgressListener = (bytesWritten: number) => void;

export class BlobStore {
  readonly blobDir: string;
  readonly tmpDir: string;
  /** Leases of the blobs being served: this process's holds, and every live process's through servedNow(). */
  readonly leases: ServingLeases;
  private readonly clock: () => number;

  constructor(private readonly opts: BlobStoreOptions) {
    this.blobDir = join(opts.root, 'blobs', 'sha256');
    this.tmpDir = join(opts.root, 'tmp');
    this.leases = new ServingLeases(join(opts.root, 'serving'));
    this.clock = opts.clock ?? Date.now;
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true, mode: 0o750 });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o750 });
  }

  /** The file of a blob. Only a validated hash ever becomes a path. */
  blobPath(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new AgentError(ErrorCode.BAD_REQUEST, `"${sha256.slice(0, 80)}" is not a sha256 (64 lowercase hex digits).`);
    return join(this.blobDir, sha256.slice(0, 2), sha256);
  }

  /** The recorded size of a stored blob, or undefined when the store does not hold it. */
  async sizeOf(sha256: string): Promise<number | undefined> {
    const rows = await this.opts.db.select({ size: tables.blobs.size }).from(tables.blobs).where(eq(tables.blobs.sha256, sha256));
    return rows[0]?.size;
  }

  /** Bytes free for unprivileged writers on the store's filesystem. */
  async freeBytes(): Promise<{ free: number; total: number }> {
    const s = await statfs(this.opts.root);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  /**
   * Writes `source` into the store. The bytes land in a temp file that is hashed while written and
   * fsynced; only then is it renamed to its hash's path, the directory fsynced, and the DB row added.
   * A crash at any point leaves either nothing, a temp file, or an unrecorded blob: recover() handles each.
   */
  async put(source: AsyncIterable<Buffer | Uint8Array>, expect: PutExpectation = {}, onProgress?: ProgressListener): Promise<StoredBlob> {
    if (expect.sha256 !== undefined && !isSha256Hex(expect.sha256)) {
      throw new AgentError(ErrorCode.BAD_REQUEST, `expected sha256 "${expect.sha256}" is not 64 lowercase hex digits.`);
    }
    await this.ensureRoom(expect.size ?? 0);
    if (expect.sha256) {
      const size = await this.sizeOf(expect.sha256);
      if (size !== undefined) return { sha256: expect.sha256, size, existed: true };
    }

    // The writer's pid in the name lets recovery in another process tell a live write from a dead one.
    const tmp = join(this.tmpDir, `${process.pid}-${randomUUID()}.part`);
    const file = await open(tmp, 'wx', 0o640);
    const hash = createHash('sha256');
    let size = 0;
    let closed = false;
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await file.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
        size += chunk.length;
        if (expect.size !== undefined && size > expect.size) {
          throw new AgentError(ErrorCode.SIZE_MISMATCH, `the data is longer than the expected ${expect.size} bytes; it is not the package it claims to be.`);
        }
        onProgress?.(size);
      }
      await file.sync();
      await file.close();
      closed = true;
      const sha256 = hash.digest('hex');
      if (expect.size !== undefined && size !== expect.size) {
        throw new AgentError(ErrorCode.SIZE_MISMATCH, `got ${size} bytes where ${expect.size} were expected; the data is truncated or not the expected package.`);
      }
      if (expect.sha256 !== undefined && sha256 !== expect.sha256) {
        throw new AgentError(ErrorCode.HASH_MISMATCH, `the data hashes to sha256 ${sha256}, not the expected ${expect.sha256}; it is corrupt or tampered and was not stored.`);
      }
      const existed = (await this.sizeOf(sha256)) !== undefined;
      const final = this.blobPath(sha256);
      const dir = join(this.blobDir, sha256.slice(0, 2));
      await mkdir(dir, { recursive: true, mode: 0o750 });
      // When the blob is already recorded, the fresh verified copy still replaces the file (atomically):
      // re-importing a package is how a blob damaged on disk (same size, flipped bits) gets repaired.
      await rename(tmp, final);
      await fsyncDir(dir);
      const now = this.clock();
      await this.opts.db
        .insert(tables.blobs)
        .values({ sha256, size, storedAt: now, verifiedAt: now })
        .onConflictDoUpdate({ target: tables.blobs.sha256, set: { verifiedAt: now } });
      return { sha256, size, existed };
    } catch (err) {
      if (!closed) await file.close().catch(() => {});
      await rm(tmp, { force: true });
      throw translateIoError(err, this.opts.root);
    }
  }

  /**
   * Moves a complete file that the caller has written, fsynced and verified (e.g. a resumed
   * download) into the store under `sha256`. The file must be on the store's filesystem. The
   * hash is checked again here unless the caller hashed every byte it wrote (`hashedByCaller`),
   * which saves a second read of multi-GB files.
   */
  async adopt(path: string, expect: { sha256: string; size: number }, options: { hashedByCaller?: boolean } = {}): Promise<StoredBlob> {
    if (!isSha256Hex(expect.sha256)) throw new AgentError(ErrorCode.BAD_REQUEST, `"${expect.sha256}" is not a sha256.`);
    const known = await this.sizeOf(expect.sha256);
    if (known !== undefined) {
      await rm(path, { force: true });
      return { sha256: expect.sha256, size: known, existed: true };
    }
    const actual = options.hashedByCaller ? { sha256: expect.sha256, size: (await stat(path)).size } : await hashFile(path);
    if (actual.size !== expect.size || actual.sha256 !== expect.sha256) {
      await rm(path, { force: true });
      throw new AgentError(
        actual.size !== expect.size ? ErrorCode.SIZE_MISMATCH : ErrorCode.HASH_MISMATCH,
        `the downloaded file is ${actual.size} bytes with sha256 ${actual.sha256}, not the expected ${expect.size} bytes with ${expect.sha256}; it was discarded.`,
      );
    }
    const dir = join(this.blobDir, expect.sha256.slice(0, 2));
    await mkdir(dir, { recursive: true, mode: 0o750 });
    try {
      await rename(path, this.blobPath(expect.sha256));
      await fsyncDir(dir);
    } catch (err) {
      throw translateIoError(err, this.opts.root);
    }
    const now = this.clock();
    await this.opts.db
      .insert(tables.blobs)
      .values({ sha256: expect.sha256, size: expect.size, storedAt: now, verifiedAt: now })
      .onConflictDoUpdate({ target: tables.blobs.sha256, set: { verifiedAt: now } });
    return { sha256: expect.sha256, size: expect.size, existed: false };
  }

  /** Forgets a blob (its package goes with it), then deletes the file: nothing can be served from it once the row is gone. */
  async remove(sha256: string): Promise<void> {
    const path = this.blobPath(sha256);
    await this.opts.db.delete(tables.blobs).where(eq(tables.blobs.sha256, sha256));
    await rm(path, { force: true });
  }

  private async ensureRoom(size: number): Promise<void> {
    const { free } = await this.freeBytes();
    const reserve = this.opts.reserveBytes ?? 0;
    if (size + reserve > free) {
      throw new AgentError(
        ErrorCode.DISK_FULL,
        `not enough space in ${this.opts.root}: ${size} bytes needed plus a ${reserve}-byte reserve, ${free} free. Free some space (or lower store.reserveBytes) and retry.`,
        { details: { needed: size, reserve, free } },
      );
    }
  }

  /**
   * Start-up recovery: removes temp files, re-hashes blob files that the DB does not know (adopting
   * those whose content matches their name, deleting the others), and forgets DB rows whose file is
   * gone or has the wrong size, so nothing partial or unverified is ever served.
   */
  async recover(): Promise<RecoveryReport> {
    await this.init();
    const report: RecoveryReport = { tempFilesRemoved: 0, adopted: 0, discarded: 0, missing: 0 };
    await this.leases.clearStale();
    for (const name of await readdir(this.tmpDir)) {
      const writer = Number(/^(\d+)-/.exec(name)?.[1]);
      // An import running in another process right now keeps its temp file.
      if (writer && writer !== process.pid && processAlive(writer)) continue;
      await rm(join(this.tmpDir, name), { force: true, recursive: true });
      report.tempFilesRemoved++;
    }

    const rows = await this.opts.db.select().from(tables.blobs);
    const known = new Map(rows.map((r) => [r.sha256, r.size]));
    const seen = new Set<string>();

    for (const prefix of await readdir(this.blobDir)) {
      const dir = join(this.blobDir, prefix);
      const entries = await readdir(dir).catch(() => null);
      if (entries === null) {
        await rm(dir, { force: true });
        report.discarded++;
        continue;
      }
      for (const name of entries) {
        const path = join(dir, name);
        if (!isSha256Hex(name) || name.slice(0, 2) !== prefix) {
          this.opts.log.warn('store: removing a stray file from the blob directory', { path });
          await rm(path, { force: true, recursive: true });
          report.discarded++;
          continue;
        }
        const size = known.get(name);
        if (size !== undefined) {
          const st = await stat(path);
          if (st.size === size) {
            seen.add(name);
            continue;
          }
          this.opts.log.warn('store: blob has the wrong size, re-verifying it', { sha256: name, expected: size, actual: st.size });
        }
        const actual = await hashFile(path);
        if (actual.sha256 === name) {
          const now = this.clock();
          await this.opts.db
            .insert(tables.blobs)
            .values({ sha256: name, size: actual.size, storedAt: now, verifiedAt: now })
            .onConflictDoUpdate({ target: tables.blobs.sha256, set: { size: actual.size, verifiedAt: now } });
          seen.add(name);
          if (size === undefined) report.adopted++;
        } else {
          this.opts.log.warn('store: removing a blob whose content does not match its name', { sha256: name, actual: actual.sha256 });
          await rm(path, { force: true });
          report.discarded++;
        }
      }
    }

    for (const row of rows) {
      if (seen.has(row.sha256)) continue;
      this.opts.log.warn('store: a recorded blob is missing from disk; its package is no longer served', { sha256: row.sha256 });
      await this.opts.db.delete(tables.blobs).where(eq(tables.blobs.sha256, row.sha256));
      report.missing++;
    }
    return report;
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}


function translateIoError(err: unknown, root: string): unknown {
  const code = systemErrorCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AgentError(ErrorCode.DISK_FULL, `the disk holding ${root} is full; nothing was stored. Free some space and retry.`, { cause: err });
  }
  if (code && code.startsWith('E') && !(err instanceof AgentError)) {
    return new AgentError(ErrorCode.STORE_IO, `store I/O error in ${root}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}
