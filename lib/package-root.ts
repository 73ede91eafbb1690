// Finds the project's root (the folder with package.json) so data files are found from sources and from dist/ alike;
// and its version, read without loading anything else (the CLIs print it before they load their commands).
import { existsSync, readFileSync } from 'node:fs';
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

/** The version in the project's package.json (the agent's, the fleet's and the line's: one package). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
