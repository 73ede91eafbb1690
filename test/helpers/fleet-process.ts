// Test helper: runs the real `plugsrv-fleet` CLI as a child process (serve on 127.0.0.1, port 0), and talks HTTPS to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { spawnServing } from './serving-process.js';

export const FLEET_CLI = resolve(packageRoot(), 'dist', 'fleet', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Env for child processes: nothing PLUGSRV_* from the developer's shell. */
export function cleanFleetEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PLUGSRV_')) env[k] = v;
  return { ...env, ...extra };
}

export function runFleetCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [FLEET_CLI, ...args], { env: cleanFleetEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** `keys create --scope S --json` on the data dir; returns the key text (pak_...). */
export async function createKey(dataDir: string, scope: 'read' | 'operate' | 'provision' | 'admin' = 'admin', name = 'test'): Promise<string> {
  const r = await runFleetCli(['--data-dir', dataDir, 'keys', 'create', '--scope', scope, '--name', name, '--json']);
  if (r.code !== 0) throw new Error(`keys create failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { key: string }).key;
}

export interface FleetProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** PEM of the generated root CA (what clients pass as `ca`). */
  readonly rootCa: string;
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `plugsrv-fleet serve` on 127.0.0.1:0 and resolves once it logs the port it got. */
export async function startFleet(dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<FleetProcess> {
  const args = [FLEET_CLI, '--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs];
  const p = await spawnServing('plugsrv-fleet serve', args, cleanFleetEnv(env), 30_000);
  const rootCa = await readFile(join(dataDir, 'ca', 'root.pem'), 'utf8');
  const url = typeof p.entry.url === 'string' ? p.entry.url : `https://127.0.0.1:${p.port}`;
  return { child: p.child, port: p.port, url, dataDir, rootCa, output: p.output, stop: p.stop, kill: p.kill };
}

export interface ApiResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTPS request to the fleet, trusting its root CA; `key` is sent as a bearer API key, `cert`/`certKey` as client certificate. */
export function api(
  fleet: { url: string; rootCa: string },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; cert?: string; certKey?: string; ca?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return new Promise((resolvePromise, reject) => {
    const req = request(
      new URL(path, fleet.url),
      {
        method,
        ca: options.ca ?? fleet.rootCa,
        cert: options.cert,
        key: options.certKey,
        agent: false,
        headers: {
          ...(options.key ? { Authorization: `Bearer ${options.key}` } : {}),
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls `check` every 50 ms until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
