// Finds the project's root (the folder with package.json) so data files are found from sources and from dist/ alike.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`plugsrv is installed without its package.json (searched up from ${fileURLToPath(import.meta.url)}); reinstall it.`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
