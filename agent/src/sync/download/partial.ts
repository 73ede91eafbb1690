// The partial file: one preallocated file per target that every segment writes into at its own offsets.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ByteSpan } from './policy.js';
import { readHint, readSidecar, removeSidecar, sidecarPath, writeSidecar, type Sidecar } from './sidecar.js';

export interface PartialTarget {
  url: string;
  sha256: string;
  size: number;
  partialPath: string;
}

export interface OpenedPartial {
  handle: FileHandle;
  /** The same file opened with O_DIRECT (when asked and the filesystem allows it); closed with `handle`. */
  direct?: FileHandle;
  sidecar: Sidecar;
  resumed: boolean;
  /** Per segment, how far the write hint says the bytes were written (>= durable); only when resuming with a valid hint. */
  hinted?: number[];
}

async function openExisting(target: PartialTarget): Promise<FileHandle | undefined> {
  const handle = await open(target.partialPath, 'r+').catch(() => undefined);
  if (!handle) return undefined;
  if ((await handle.stat()).size === target.size) return handle;
  await handle.close();
  return undefined;
}

/**
 * Opens the partial file to resume it when a matching sidecar says how much of it is durable, or
 * creates it afresh (preallocated to the target size, sidecar with nothing durable) following `plan`.
 * Bytes past a segment's durable offset are overwritten by the resumed request, except those the write
 * hint vouches for (a killed process's page cache; see sidecar.ts).
 */
export async function openPartial(target: PartialTarget, plan: ByteSpan[], direct = false): Promise<OpenedPartial> {
  const opened = await openPartialFile(target, plan);
  return direct ? { ...opened, ...(await openDirect(target.partialPath)) } : opened;
}

/**
 * The partial file opened a second time with O_DIRECT, or nothing where the platform or the filesystem has no
 * direct I/O (tmpfs before Linux 6.6, Windows): writes then all go through the page cache.
 */
async function openDirect(path: string): Promise<{ direct?: FileHandle }> {
  const flag = constants.O_DIRECT;
  if (flag === undefined) return {};
  try {
    return { direct: await open(path, constants.O_RDWR | flag) };
  } catch {
    return {};
  }
}

async function openPartialFile(target: PartialTarget, plan: ByteSpan[]): Promise<OpenedPartial> {
  const side = sidecarPath(target.partialPath);
  await mkdir(dirname(target.partialPath), { recursive: true, mode: 0o750 });
  const previous = await readSidecar(side, target);
  const existing = previous ? await openExisting(target) : undefined;
  if (previous && existing) {
    const sameUrl = previous.url === target.url;
    const sidecar: Sidecar = { ...previous, url: target.url, ...(sameUrl ? {} : { validator: undefined }) };
    const hinted = await readHint(side, previous);
    return { handle: existing, sidecar, resumed: true, ...(hinted ? { hinted } : {}) };
  }
  await removeSidecar(side);
  const handle = await open(target.partialPath, 'w', 0o640);
  try {
    await handle.truncate(target.size);
    const sidecar: Sidecar = { sha256: target.sha256, size: target.size, url: target.url, segments: plan.map((s) => ({ ...s, durable: s.start })) };
    // Nothing durable yet, so nothing to lose: no fsync (a lost or torn sidecar means the same fresh start).
    await writeSidecar(side, sidecar, { durable: false });
    return { handle, sidecar, resumed: false };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Deletes the partial file and its sidecar (wrong content: nothing of it may be reused). */
export async function discardPartial(partialPath: string): Promise<void> {
  await rm(partialPath, { force: true });
  await removeSidecar(sidecarPath(partialPath));
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
