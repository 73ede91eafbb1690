// The resume record `<partial>.json`: which bytes of the partial file are durable, written atomically after an fsync of the data.
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Validator } from './policy.js';

/** A segment of the partial file: bytes [start, durable) are fsynced and correct so far; `end` is exclusive. */
export interface SegmentRecord {
  start: number;
  end: number;
  durable: number;
}

export interface Sidecar {
  sha256: string;
  size: number;
  url: string;
  segments: SegmentRecord[];
  /** The origin's ETag / Last-Modified from the first response, sent as If-Range on resumes. */
  validator?: Validator;
}

export function sidecarPath(partialPath: string): string {
  return `${partialPath}.json`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseValidator(v: unknown): Validator | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { etag, lastModified } = v as Record<string, unknown>;
  if (typeof etag === 'string') return { etag };
  if (typeof lastModified === 'string') return { lastModified };
  return undefined;
}

function parseSegments(v: unknown, size: number): SegmentRecord[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: SegmentRecord[] = [];
  let next = 0;
  for (const item of v as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { start, end, durable } = item as Record<string, unknown>;
    if (!isCount(start) || !isCount(end) || !isCount(durable)) return undefined;
    if (start !== next || end < start || durable < start || durable > end) return undefined;
    out.push({ start, end, durable });
    next = end;
  }
  return next === size ? out : undefined;
}

/**
 * The sidecar's content when it is well-formed and describes this target (same sha256 and size, segments
 * covering [0, size) in order); undefined otherwise, which means "start over". Pure.
 */
export function parseSidecar(text: string, target: { sha256: string; size: number }): Sidecar | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.sha256 !== target.sha256 || r.size !== target.size || typeof r.url !== 'string') return undefined;
  const segments = parseSegments(r.segments, target.size);
  if (!segments) return undefined;
  const validator = parseValidator(r.validator);
  return { sha256: target.sha256, size: target.size, url: r.url, segments, ...(validator ? { validator } : {}) };
}

export async function readSidecar(path: string, target: { sha256: string; size: number }): Promise<Sidecar | undefined> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : parseSidecar(text, target);
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the sidecar atomically: write a temp file, fsync it, rename over, fsync the directory.
 * `durable: false` skips both fsyncs, for a sidecar that claims no durable byte (a fresh partial): losing it
 * to a power cut only means starting that target over, and a torn one parses as "start over" too. Each fsync
 * waits for a journal commit of the whole file system (a few ms here), which for small targets cost more than
 * their download.
 */
export async function writeSidecar(path: string, sidecar: Sidecar, opts: { durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', 0o640);
  try {
    await handle.writeFile(`${JSON.stringify(sidecar)}\n`);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  // Windows cannot fsync a directory (a read-only directory handle is refused with EPERM): `plugsrv fetch` runs there.
  if (durable && process.platform !== 'win32') await fsyncPath(dirname(path), 'r');
}

export async function removeSidecar(path: string): Promise<void> {
  await rm(`${path}.tmp`, { force: true });
  await rm(path, { force: true });
  await removeHint(path);
}

/**
 * The write hint `<partial>.json.hint`: how far each segment was written (not fsynced), replaced often and
 * cheaply. After a killed process the kernel still holds those bytes, so a resume starts from the hint
 * instead of the last checkpoint; after a power cut they may be lost, which the final hash check catches
 * (the download then rewinds to the durable offsets). Never trusted beyond that: it only saves refetching.
 */
export function hintPath(sidecarFile: string): string {
  return `${sidecarFile}.hint`;
}

/** The written offsets per segment when the hint matches this sidecar (same target and segment count, none past its end); else undefined. Pure. */
export function parseHint(text: string, sidecar: Sidecar): number[] | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.sha256 !== sidecar.sha256 || !Array.isArray(r.written) || r.written.length !== sidecar.segments.length) return undefined;
  const written = r.written as unknown[];
  const out: number[] = [];
  for (const [i, seg] of sidecar.segments.entries()) {
    const w = written[i];
    if (!isCount(w) || w > seg.end) return undefined;
    out.push(Math.max(w, seg.durable)); // a hint older than the last checkpoint says less than the sidecar
  }
  return out;
}

export async function readHint(sidecarFile: string, sidecar: Sidecar): Promise<number[] | undefined> {
  const text = await readFile(hintPath(sidecarFile), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseHint(text, sidecar);
}

/**
 * Writes the hint in place: the file is opened once per transfer and each hint is one positional write at offset 0,
 * padded with spaces to the file's length (JSON allows trailing white space). No new file, no rename: nothing that
 * waits behind the file system journal while other files are fsynced, which on a busy disk delayed hints by 100s of
 * ms (each one the bytes a kill then refetches). A write of a few hundred bytes inside the first page is not torn by
 * a killed process; after a power cut a torn hint does not parse and the resume starts at the checkpoint.
 */
export class HintWriter {
  private handle: FileHandle | undefined;
  private length = 0;

  constructor(private readonly sidecarFile: string) {}

  async write(sha256: string, written: number[]): Promise<void> {
    const text = JSON.stringify({ sha256, written });
    if (!this.handle) {
      // Not truncated on open: until the first write lands, the previous run's hint still says what it said.
      const path = hintPath(this.sidecarFile);
      this.handle = await open(path, 'r+').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return open(path, 'w', 0o640);
        throw err;
      });
      this.length = (await this.handle.stat()).size;
    }
    const body = `${text}\n`.padEnd(this.length, ' ');
    this.length = Math.max(this.length, body.length);
    await this.handle.write(body, 0, 'utf8');
  }

  /** Closes the file (kept as it is); the next write opens it again. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

export async function removeHint(sidecarFile: string): Promise<void> {
  await rm(`${hintPath(sidecarFile)}.tmp`, { force: true });
  await rm(hintPath(sidecarFile), { force: true });
}
