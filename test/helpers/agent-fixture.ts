// Test helper: an in-process agent on a temp data dir, with packages imported and the serve role on 127.0.0.1:0.
import { request } from 'node:http';
import { Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../lib/log/index.js';
import { openAgent, type Agent } from '../../agent/src/app.js';
import { loadConfig } from '../../agent/src/config/index.js';
import type { PackageMeta } from '../../agent/src/catalog/index.js';
import { importPackages, type ImportResult } from '../../agent/src/import/index.js';
import { startServeRole, type RunningServer } from '../../agent/src/serve/index.js';
import { tempDir } from './agent-process.js';

export interface Fixture {
  agent: Agent;
  server: RunningServer;
  base: string;
  dataDir: string;
  files: Map<string, Buffer>;
  imported: ImportResult[];
}

export async function startFixture(
  t: { teardown(fn: () => unknown): void },
  packages: Array<{ meta: PackageMeta; size: number }>,
  configFlags: Record<string, unknown> = {},
): Promise<Fixture> {
  const dataDir = await tempDir(t);
  const config = loadConfig({ env: {}, flags: { dataDir, 'serve.host': '127.0.0.1', 'serve.port': 0, 'store.reserveBytes': 0, ...configFlags } });
  const agent = await openAgent(config, silentLogger(), { recover: true });
  const files = new Map<string, Buffer>();
  const items = [];
  for (const p of packages) {
    const bytes = randomBytes(p.size);
    const path = join(dataDir, `src-${p.meta.name}`);
    await writeFile(path, bytes);
    items.push({ path, meta: p.meta });
    files.set(p.meta.name, bytes);
  }
  const imported = await importPackages(items, { store: agent.store, packages: agent.packages });
  const server = await startServeRole(agent);
  t.teardown(async () => {
    await server.stop();
    agent.close();
  });
  return { agent, server, base: `http://127.0.0.1:${server.port}`, dataDir, files, imported };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One plain HTTP request (node:http, no client-side magic such as automatic decompression or range handling). */
export function http(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export function json<T = Record<string, unknown>>(r: HttpResult): T {
  return JSON.parse(r.body.toString('utf8')) as T;
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server sends back before closing. */
export function rawRequest(port: number, data: string | Buffer, options: { endAfterWrite?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, options.timeoutMs ?? 5000);
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(err);
    });
    socket.connect(port, '127.0.0.1', () => {
      socket.write(data);
      if (options.endAfterWrite) socket.end();
    });
  });
}
