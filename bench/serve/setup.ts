// Prepares the serve bench: required tools, a temp work dir, a random test file, its import into a plugsrv store, free ports.
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import type { Cleanup } from './cleanup.js';

export const NGINX = '/usr/sbin/nginx';
export const CURL = '/usr/bin/curl';
export const CLI = resolve(packageRoot(), 'dist', 'agent', 'src', 'cli', 'main.js');

const WRITE_CHUNK = 4 * 1024 * 1024;

/** Installs nginx-light when nginx is missing; throws with a clear message when that is impossible. */
export function ensureNginx(): void {
  if (existsSync(NGINX)) return;
  console.log(`bench: ${NGINX} not found; installing nginx-light with apt-get ...`);
  // RUNLEVEL=1 keeps invoke-rc.d from starting the distribution's nginx service on port 80.
  const result = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y nginx-light'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' },
  });
  if (result.status !== 0 || !existsSync(NGINX)) {
    throw new Error(`nginx is required and could not be installed (apt-get exit ${result.status ?? result.signal}); install nginx-light as root and run the bench again.`);
  }
}

export function ensureCurl(): void {
  if (!existsSync(CURL)) throw new Error(`${CURL} is required for the download scenarios; install it with: apt-get install -y curl`);
}

export async function makeWorkDir(cleanup: Cleanup): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-bench-'));
  cleanup.removeDir(dir);
  return dir;
}

/** Writes `size` bytes of AES-256-CTR keystream (incompressible, about 1 GB/s) to `path`. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(WRITE_CHUNK);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(WRITE_CHUNK, size - written);
      const block = cipher.update(n === WRITE_CHUNK ? zeros : zeros.subarray(0, n));
      await file.write(block, 0, block.length);
      written += block.length;
    }
  } finally {
    await file.close();
  }
}

/** Runs a plugsrv CLI command to completion and returns its stdout; throws on a non-zero exit. */
function runCli(args: string[], cleanup: Cleanup): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = cleanup.track(spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`plugsrv ${args.join(' ')} exited with ${code}\n${stdout}${stderr}`));
    });
  });
}

export interface ImportedBlob {
  sha256: string;
  size: number;
}

/**
 * Imports `file` with the real CLI, then deletes the source (the store holds its own copy).
 * The metadata goes in a manifest: the flag for the package version is being renamed (--version clashes with the program's).
 */
export async function importFile(dataDir: string, file: string, cleanup: Cleanup): Promise<ImportedBlob> {
  const manifest = join(dirname(file), 'manifest.json');
  const entry = { path: basename(file), kind: 'soft', headUnit: 'R-LINK2', models: ['BJA'], version: '1.0' };
  await writeFile(manifest, JSON.stringify({ packages: [entry] }));
  const stdout = await runCli(['--data-dir', dataDir, 'import', '--manifest', manifest, '--json'], cleanup);
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { event?: string; sha256?: unknown; size?: unknown };
    if (event.event === 'imported' && typeof event.sha256 === 'string' && typeof event.size === 'number') {
      await rm(file, { force: true });
      return { sha256: event.sha256, size: event.size };
    }
  }
  throw new Error(`plugsrv import printed no "imported" event:\n${stdout}`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Reads the whole file once so every server starts from a warm page cache. */
export async function warmPageCache(path: string): Promise<void> {
  const file = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(WRITE_CHUNK);
  try {
    while ((await file.read(buffer, 0, buffer.length, null)).bytesRead > 0);
  } finally {
    await file.close();
  }
}

/** First line of a tool's version output, for the results file. */
export function toolVersion(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}
