// Test helper: runs the real `plugsrv` CLI as a child process (serve on 127.0.0.1, port 0) and cleans up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { spawnServing } from './serving-process.js';

export const CLI = resolve(packageRoot(), 'dist', 'agent', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Env for child processes: no PLUGSRV_* from the developer's shell, no self-check against the carmaker's
 * real hosts and no DNS-SD multicast on the machine's LAN (tests reach loopback and their own network
 * namespaces only); a test that wants self-checks or advertising passes its own values.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PLUGSRV_')) env[k] = v;
  return { ...env, PLUGSRV_SELFCHECK_AT_STARTUP: 'false', PLUGSRV_SELFCHECK_INTERVAL_HOURS: '0', PLUGSRV_SERVE_ADVERTISE: 'false', ...extra };
}

export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Everything the process printed on stdout so far. */
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `plugsrv serve` on 127.0.0.1:0 and resolves once it logs the port it got. */
export async function startServer(dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const args = [CLI, '--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs];
  const p = await spawnServing('plugsrv serve', args, cleanEnv(env), 20_000);
  return { child: p.child, port: p.port, url: `http://127.0.0.1:${p.port}`, output: p.output, stop: p.stop, kill: p.kill };
}

/** A fresh temp directory, removed at the end of the test. */
export async function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'plugsrv-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
