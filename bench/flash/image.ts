// The flash bench's image: a sparse GPT disk image with random (incompressible) data in many extents over several
// partitions, its bmap from `bmaptool create`, and a manifest.json like image/build.sh's; or the built image.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseBmap, type Bmap } from '../../provisioning/src/flash/index.js';

export const MiB = 1024 * 1024;
const ALIGN = 4096;

export interface BenchImage {
  image: string;
  bmapPath: string;
  manifest: string;
  bytes: number;
  bmap: Bmap;
  sha256: string;
  /** 'generated' or 'built' (image/out). */
  source: string;
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Deterministic extents: one per slot of the disk (a random share around `fraction`), plus small scattered blobs. */
function extentsFor(bytes: number, fraction: number, seed: number): [number, number][] {
  let state = seed >>> 0;
  const rand = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const align = (n: number): number => Math.floor(n / ALIGN) * ALIGN;
  const start = 2 * MiB;
  const end = bytes - 2 * MiB;
  const slots = 48;
  const slot = align((end - start) / slots);
  const out: [number, number][] = [];
  for (let i = 0; i < slots; i++) {
    const len = align(slot * Math.min(0.95, fraction * (0.5 + rand())));
    const off = start + i * slot + align((slot - len) * rand());
    out.push([off, len]);
  }
  // Metadata-like small blobs (4-64 KiB) between the big extents.
  for (let i = 0; i < 200; i++) out.push([align(start + rand() * (end - start - 64 * 1024)), ALIGN * (1 + Math.floor(rand() * 16))]);
  return out;
}

async function writeExtents(path: string, extents: [number, number][]): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(4 * MiB);
  const h = await open(path, 'r+');
  try {
    for (const [offset, length] of extents) {
      for (let done = 0; done < length; ) {
        const n = Math.min(zeros.length, length - done);
        const block = cipher.update(zeros.subarray(0, n));
        await h.write(block, 0, block.length, offset + done);
        done += n;
      }
    }
  } finally {
    await h.close();
  }
}

/** Builds the bench image in `dir`: `bytes` with about `fraction` mapped. */
export async function generateImage(dir: string, bytes: number, fraction: number): Promise<BenchImage> {
  const image = join(dir, 'bench-disk.raw');
  await writeFile(image, '');
  await truncate(image, bytes);
  const mib = Math.floor(bytes / MiB);
  // EFI 64 MiB, root ~60 %, data the rest: as the appliance image is laid out.
  execFileSync('sgdisk', ['-o', '-n', '1:2048:+64M', '-t', '1:ef00', '-n', `2:0:+${Math.floor(mib * 0.6)}M`, '-n', '3:0:0', image], { stdio: 'ignore' });
  await writeExtents(image, extentsFor(bytes, fraction, 20240601));
  return withBmapAndManifest(image, 'generated');
}

async function withBmapAndManifest(image: string, source: string): Promise<BenchImage> {
  const bmapPath = `${image}.bmap`;
  const xml = execFileSync('bmaptool', ['create', image], { maxBuffer: 64 * MiB });
  await writeFile(bmapPath, xml);
  const sha256 = await sha256Of(image);
  const bytes = (await stat(image)).size;
  const manifest = join(dirname(image), 'manifest.json');
  await writeFile(manifest, JSON.stringify({ outputs: [{ file: basename(image), sha256, bytes }, { file: basename(bmapPath), sha256: createHash('sha256').update(xml).digest('hex') }] }, null, 2));
  return { image, bmapPath, manifest, bytes, sha256, bmap: parseBmap(xml, { imageBytes: bytes }), source };
}

/** The built appliance image (image/out), with its own bmap and manifest; undefined when not built. */
export async function builtImage(outDir: string): Promise<BenchImage | undefined> {
  const manifest = join(outDir, 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const json = JSON.parse(await readFile(manifest, 'utf8')) as { outputs?: { file: string; sha256: string; bytes?: number }[] };
  const raw = json.outputs?.find((o) => o.file.endsWith('.raw'));
  if (!raw || raw.bytes === undefined) return undefined;
  const image = join(outDir, raw.file);
  const bmapPath = `${image}.bmap`;
  if (!existsSync(image) || !existsSync(bmapPath)) return undefined;
  return { image, bmapPath, manifest, bytes: raw.bytes, sha256: raw.sha256, bmap: parseBmap(await readFile(bmapPath), { imageBytes: raw.bytes }), source: 'built' };
}
