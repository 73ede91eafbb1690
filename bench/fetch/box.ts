// The fetch bench's box: generated packages imported into a plugsrv data dir, then `plugsrv serve` on 127.0.0.1 (the real server).
import { createInterface } from 'node:readline';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuSeconds } from '../serve/procfs.js';
import { CLI, writeRandomFile } from '../serve/setup.js';
import { planBytes, type Catalog, type PlannedTarget, type PublishedTarget } from '../sync/catalog.js';
import type { GroupCleanup } from '../sync/cleanup.js';
import type { Origin } from '../sync/nginx.js';

/** The bench's environment for plugsrv: no self-check, no sync, no DNS-SD, no reserve; PLUGSRV_SERVE_* from the caller go through. */
export function boxEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) delete env[name];
  return { ...env, PLUGSRV_SELFCHECK_AT_STARTUP: 'false', PLUGSRV_SELFCHECK_INTERVAL_HOURS: '0', PLUGSRV_SYNC_ORIGIN_URL: '', PLUGSRV_SERVE_ADVERTISE: 'false', PLUGSRV_STORE_RESERVE_BYTES: '0', ...extra };
}

function runToEnd(cleanup: GroupCleanup, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = cleanup.spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: boxEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`plugsrv ${args.join(' ')} exited with ${code}\n${stdout.slice(-2000)}${stderr.slice(-2000)}`))));
  });
}

/**
 * Generates each planned package (AES-CTR keystream), imports them all with `plugsrv import --manifest` (which
 * hashes and copies them into the store), and deletes the sources. The result has the shape of the sync bench's
 * catalog, so its curl and sha256sum runs apply as they are: urlPath is the package route of `plugsrv serve`.
 */
export async function buildBox(dir: string, plan: readonly PlannedTarget[], cleanup: GroupCleanup): Promise<Catalog & { dataDir: string }> {
  const sources = join(dir, 'sources');
  const dataDir = join(dir, 'box');
  await mkdir(sources, { recursive: true });
  for (const t of plan) await writeRandomFile(join(sources, t.name), t.size);
  const manifest = join(sources, 'manifest.json');
  await writeFile(manifest, JSON.stringify({ packages: plan.map((t) => ({ path: t.name, kind: 'soft', headUnit: 'R-LINK2', models: ['BJA'], version: '1.0' })) }));
  const stdout = await runToEnd(cleanup, ['--data-dir', dataDir, 'import', '--manifest', manifest, '--json']);
  await rm(sources, { recursive: true, force: true });
  const imported = new Map<string, { sha256: string; size: number }>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { event?: string; name?: string; sha256?: string; size?: number };
    if (e.event === 'imported' && e.name && e.sha256 && typeof e.size === 'number') imported.set(e.name, { sha256: e.sha256, size: e.size });
  }
  const targets: PublishedTarget[] = plan.map((t) => {
    const got = imported.get(t.name);
    if (!got || got.size !== t.size) throw new Error(`plugsrv import did not report ${t.name} with ${t.size} bytes`);
    return { ...t, sha256: got.sha256, urlPath: `v1/packages/${got.sha256}/${encodeURIComponent(t.name)}`, file: join(dataDir, 'blobs', 'sha256', got.sha256.slice(0, 2), got.sha256) };
  });
  return { dir, dataDir, repository: '', trustedRoot: '', targets, totalBytes: planBytes(plan) };
}

/** `plugsrv serve` on 127.0.0.1, any port, in its own process group; an Origin like the sync bench's nginx (CPU of the server). */
export async function serveBox(dataDir: string, cleanup: GroupCleanup): Promise<Origin> {
  const child = cleanup.spawn(process.execPath, [CLI, '--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: boxEnv() });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plugsrv serve did not start within 30 s\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`plugsrv serve exited with ${code}\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const e = JSON.parse(line) as { msg?: string; port?: unknown };
      if (e.msg === 'serving' && typeof e.port === 'number') {
        clearTimeout(timer);
        resolve(e.port);
      }
    });
  });
  const pid = child.pid as number;
  return { url: `http://127.0.0.1:${port}`, cpuSeconds: () => cpuSeconds(pid), stop: () => cleanup.stop(child) };
}
