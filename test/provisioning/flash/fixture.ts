// Test fixture for the flash engine: a small sparse GPT disk image with random data in a few places, its bmap made by
// the real bmaptool, a manifest like image/build.sh's, file targets filled with a pattern, hashes of files and ranges.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { parseBmap, type Bmap } from '../../../provisioning/src/flash/index.js';

export const execFileP = promisify(execFile);
export const MiB = 1024 * 1024;
export const FILL = 0xa5;

export async function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'plugsrv-flash-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The reason a tool is missing, or undefined when it runs. */
export function missingTool(name: string, args: string[] = ['--version']): string | undefined {
  try {
    execFileSync(name, args, { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `${name} is not usable here (${(err as Error).message.split('\n')[0]})`;
  }
}

export interface TestImage {
  readonly dir: string;
  readonly image: string;
  readonly bmapPath: string;
  readonly manifest: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly bmapSha256: string;
  readonly bmap: Bmap;
}

export async function sha256File(path: string, start = 0, end?: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB, start, ...(end === undefined ? {} : { end: end - 1 }) })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const h = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await h.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
}

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.write(data, 0, data.length, offset);
  } finally {
    await h.close();
  }
}

export interface ImageSpec {
  /** Image size in bytes (64 MiB by default). */
  readonly bytes?: number;
  /** Where random data goes: [offset, length] pairs (defaults: a few MiB at a few places, one unaligned end). */
  readonly data?: readonly (readonly [number, number])[];
  /** Partition the image with sgdisk (true by default). */
  readonly gpt?: boolean;
  readonly name?: string;
}

/** Builds a sparse image with sgdisk and random data, its bmap with `bmaptool create`, and a manifest.json. */
export async function makeImage(dir: string, spec: ImageSpec = {}): Promise<TestImage> {
  const bytes = spec.bytes ?? 64 * MiB;
  const image = join(dir, spec.name ?? 'plugsrv-test.raw');
  await writeFile(image, '');
  await truncate(image, bytes);
  if (spec.gpt ?? true) {
    await execFileP('sgdisk', ['-o', '-n', '1:2048:+8M', '-t', '1:ef00', '-n', '2:0:+24M', '-n', '3:0:0', image]);
  }
  const data = spec.data ?? [
    [1 * MiB, 3 * MiB],
    [12 * MiB + 4096, 5 * MiB],
    [40 * MiB, 1.5 * MiB + 123],
    [60 * MiB, 4096],
  ];
  for (const [offset, length] of data) await writeAt(image, offset, randomBytes(length));
  const { stdout } = await execFileP('bmaptool', ['create', image], { maxBuffer: 16 * MiB });
  const bmapPath = `${image}.bmap`;
  await writeFile(bmapPath, stdout);
  const sha256 = await sha256File(image);
  const bmapSha256 = createHash('sha256').update(stdout).digest('hex');
  const manifest = join(dir, 'manifest.json');
  await writeFile(
    manifest,
    JSON.stringify({ name: 'plugsrv', version: '0.1.0', outputs: [{ file: basename(image), sha256, bytes, allocatedBytes: bytes }, { file: basename(bmapPath), sha256: bmapSha256 }] }, null, 2),
  );
  return { dir, image, bmapPath, manifest, bytes, sha256, bmapSha256, bmap: parseBmap(await readFile(bmapPath), { imageBytes: bytes }) };
}

/** A file target of `bytes` filled with FILL (a disk with old content). */
export async function makeTarget(path: string, bytes: number, fill = FILL): Promise<string> {
  const h = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(Math.min(bytes, 4 * MiB), fill);
    for (let at = 0; at < bytes; at += chunk.length) await h.write(chunk, 0, Math.min(chunk.length, bytes - at), at);
  } finally {
    await h.close();
  }
  return path;
}

/** The byte extents of `bytes` that no bmap range covers. */
export function unmapped(bmap: Bmap, bytes: number): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  let at = 0;
  for (const r of bmap.ranges) {
    if (r.offset > at) out.push({ offset: at, length: r.offset - at });
    at = r.offset + r.length;
  }
  if (at < bytes) out.push({ offset: at, length: bytes - at });
  return out;
}

/** True when every byte of `buf` is `value`. */
export function allBytes(buf: Buffer, value: number): boolean {
  for (const b of buf) if (b !== value) return false;
  return true;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Always yes, counting the calls and keeping the plan. */
export function yes(): { confirm: (plan: unknown) => Promise<boolean>; calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    confirm: async (plan) => {
      calls.push(plan);
      return true;
    },
  };
}
