// Burn-in tools run as child processes in their own process group, so a time limit or Ctrl-C stops the tool and
// every worker it forked (stress-ng forks one per CPU), and a terminal's Ctrl-C reaches only plugsrv, which decides.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { HardwareError, HwErrorCode } from '../errors.js';
import { applyBackspaces } from './parse.js';

/** The Debian package of each tool, for the message when it is missing. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'stress-ng': 'stress-ng',
  memtester: 'memtester',
  fio: 'fio',
  smartctl: 'smartmontools',
  iperf3: 'iperf3',
};

/** Where tools are looked for: PATH, plus the sbin folders Debian puts memtester and smartctl in (not in a user's PATH). */
export function defaultSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

export async function findTool(name: string, searchPath: readonly string[]): Promise<string | undefined> {
  for (const dir of searchPath) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

export function missingToolMessage(name: string): string {
  const pkg = TOOL_PACKAGES[name] ?? name;
  return `${name} is not installed: install the Debian package ${pkg} (apt-get install ${pkg}) and run the burn-in again.`;
}

/** The tool's path, or a HardwareError E_HW_TOOL_MISSING naming the Debian package. */
export async function requireTool(name: string, searchPath: readonly string[]): Promise<string> {
  const path = await findTool(name, searchPath);
  if (!path) throw new HardwareError(HwErrorCode.TOOL_MISSING, missingToolMessage(name), { details: { tool: name, package: TOOL_PACKAGES[name] ?? name } });
  return path;
}

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Stopped through the signal (time limit or interruption) rather than by itself. */
  aborted: boolean;
}

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Called with each chunk of stdout, for progress. */
  onStdout?: (chunk: string) => void;
  cwd?: string;
  /** Output kept in memory per stream; older output is dropped (memtester prints a lot of spinner characters). */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL to the process group when stopping. */
  killGraceMs?: number;
  /** Told the tool's pid (= its process group) when it starts and when it is gone, so a caller exiting at once can kill it. */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
}

/** Sends a signal to a tool's whole process group (its pid is the group id); a group already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Runs a tool to completion or until the signal aborts; never rejects for a non-zero exit (the caller judges). */
export function runTool(path: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolRun> {
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const grace = options.killGraceMs ?? 3000;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    if (options.signal?.aborted) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', durationMs: 0, aborted: true });
      return;
    }
    const child = spawn(path, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env: { ...process.env, LC_ALL: 'C' } });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const keep = (buf: string, add: string): string => {
      const next = buf + add;
      return next.length > max ? next.slice(next.length - max) : next;
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout = keep(stdout, d);
      options.onStdout?.(d);
    });
    child.stderr.on('data', (d: string) => (stderr = keep(stderr, d)));
    const onAbort = (): void => {
      if (child.pid === undefined || aborted) return;
      aborted = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), grace);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      if (child.pid !== undefined) options.onExit?.(child.pid);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new HardwareError(HwErrorCode.TOOL_MISSING, `cannot run ${path}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Workers that outlived their parent (or ignored SIGTERM) go too.
      if (aborted && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      if (child.pid !== undefined) options.onExit?.(child.pid);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, aborted });
    });
  });
}

/** The last lines of a tool's output, for the report when it failed. */
export function tail(text: string, lines = 12): string {
  const clean = applyBackspaces(text.replace(/\r/g, '\n'));
  return clean.split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n');
}

/** Resolves after ms, or early (without rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
