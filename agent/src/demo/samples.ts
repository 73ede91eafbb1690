// Generates the demo's sample packages: deterministic pseudo-random bytes (AES-CTR keystream), never committed.
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ImportItem } from '../import/index.js';
import type { PackageMeta } from '../catalog/index.js';

const MiB = 1024 * 1024;

export interface SampleSpec {
  meta: PackageMeta;
  size: number;
}

/** About 216 MiB in all: enough to see LAN speed, small enough to generate in seconds. */
export const DEMO_SAMPLES: readonly SampleSpec[] = [
  { size: 64 * MiB, meta: { name: 'R-LINK2_SOFT_10.8.2.bin', kind: 'soft', headUnit: 'R-LINK2', models: ['BJA', 'HJB', 'XFK'], version: '10.8.2', releaseNotes: 'Fixes Bluetooth pairing after a battery disconnection (demo package).' } },
  { size: 80 * MiB, meta: { name: 'R-LINK2_MAP_EUROPE_2026-Q4.bin', kind: 'map', headUnit: 'R-LINK2', models: ['BJA', 'HJB', 'XFK'], version: '2026.4', releaseNotes: 'Europe map, fourth quarter 2026 (demo package).' } },
  { size: 32 * MiB, meta: { name: 'EASY-LINK_SOFT_6.2.1.bin', kind: 'soft', headUnit: 'EASY-LINK', models: ['BJA', 'LJL'], version: '6.2.1', releaseNotes: 'Recall campaign: rear camera display delay (demo package).' } },
  { size: 24 * MiB, meta: { name: 'OPENR-LINK_SOFT_2.4.0.bin', kind: 'soft', headUnit: 'OPENR-LINK', models: ['HHN', 'BCB'], version: '2.4.0' } },
  { size: 16 * MiB + 12345, meta: { name: 'IVI_SOFT_3.1.7.bin', kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '3.1.7' } },
];

function keyFor(name: string): Buffer {
  return createHash('sha256').update(`plugsrv demo sample ${name}`).digest();
}

/** Writes one sample file (via a temp name, so an interrupted run never leaves a short file under the real name). */
async function writeSample(path: string, spec: SampleSpec): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', keyFor(spec.meta.name), Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  const tmp = `${path}.part`;
  const out = createWriteStream(tmp);
  let left = spec.size;
  while (left > 0) {
    const n = Math.min(left, MiB);
    if (!out.write(cipher.update(n === MiB ? zeros : zeros.subarray(0, n)))) await once(out, 'drain');
    left -= n;
  }
  out.end();
  await once(out, 'finish');
  await rename(tmp, path);
}

/** Makes sure every sample exists in `dir` with its size, generating what is missing; returns import items. */
export async function ensureSamples(dir: string, specs: readonly SampleSpec[] = DEMO_SAMPLES): Promise<ImportItem[]> {
  await mkdir(dir, { recursive: true });
  const items: ImportItem[] = [];
  for (const spec of specs) {
    const path = join(dir, spec.meta.name);
    const existing = await stat(path).catch(() => undefined);
    if (!existing || existing.size !== spec.size) await writeSample(path, spec);
    items.push({ path, meta: spec.meta });
  }
  return items;
}
