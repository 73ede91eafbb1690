// One run of our flash engine in its own process (so that it is timed like bmaptool and dd: wall clock, CPU, peak RSS
// under GNU time), printing one JSON line with the engine's own timings.
//   node dist/bench/flash/ours.js check|write|write-verify|flash|flash-cached IMAGE BMAP MANIFEST TARGET [drop-caches]
// flash-cached: flashTargets with an image-check cache that knows the image (the line's usual run after its first unit).
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { checkImage, flashTargets, parseBmap, readImageManifest, writeTarget } from '../../provisioning/src/flash/index.js';

export type OursMode = 'check' | 'write' | 'write-verify' | 'flash' | 'flash-cached';

export interface OursOutput {
  mode: OursMode;
  bytesWritten: number;
  writeSeconds: number;
  verifySeconds: number;
  checkSeconds: number;
}

/** sync, then drop the page cache, so that a read-back comes from the disk; false when not allowed (not root). */
export async function dropCaches(): Promise<boolean> {
  spawnSync('sync');
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const [mode, image, bmapPath, manifest, target, drop] = process.argv.slice(2) as [OursMode, string, string, string, string, string | undefined];
  const beforeVerify = drop === 'drop-caches' ? async (): Promise<void> => void (await dropCaches()) : undefined;
  const imageBytes = (await stat(image)).size;
  let out: OursOutput;
  if (mode === 'flash' || mode === 'flash-cached') {
    const cache = mode === 'flash-cached' ? { get: async () => true, set: async () => {} } : undefined;
    const r = await flashTargets({ image, bmap: bmapPath, manifest, targets: [target], confirm: async () => true, ...(cache ? { cache } : {}), ...(beforeVerify ? { beforeVerify } : {}) });
    const t = r.results[0];
    if (!t?.ok) throw t?.error ?? new Error('no result');
    out = { mode, bytesWritten: t.bytesWritten, writeSeconds: t.writeSeconds, verifySeconds: t.verifySeconds, checkSeconds: r.image.checkSeconds };
  } else {
    const bmap = parseBmap(await readFile(bmapPath), { name: bmapPath, imageBytes });
    if (mode === 'check') {
      const expected = await readImageManifest(manifest, image, imageBytes, bmapPath);
      const c = await checkImage({ image, expected, bmap });
      out = { mode, bytesWritten: 0, writeSeconds: 0, verifySeconds: 0, checkSeconds: c.seconds };
    } else {
      const r = await writeTarget({ image, imageBytes, target, bmap, verify: mode === 'write-verify', ...(beforeVerify ? { beforeVerify } : {}) });
      out = { mode, bytesWritten: r.bytesWritten, writeSeconds: r.writeSeconds, verifySeconds: r.verifySeconds, checkSeconds: 0 };
    }
  }
  console.log(JSON.stringify(out));
}

if (process.argv[1]?.endsWith('/ours.js')) {
  main().catch((err: unknown) => {
    console.error(`ours: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
