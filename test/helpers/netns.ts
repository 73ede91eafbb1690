// Test helper: two network namespaces joined by a veth pair with private addresses, for multicast (DNS-SD) tests; removed at teardown.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { cleanEnv } from './agent-process.js';

const run = promisify(execFile);

export interface Namespace {
  name: string;
  /** The veth end's IPv4 address inside this namespace. */
  address: string;
}

export interface NamespacePair {
  a: Namespace;
  b: Namespace;
}

const ip = (...args: string[]): Promise<unknown> => run('ip', args, { timeout: 10_000 });

/**
 * Two fresh namespaces `<prefix>a` and `<prefix>b` linked by a veth pair (10.233.7.1/24 and .2 inside them
 * only), multicast on, with a route for 224.0.0.0/4 so mDNS leaves through the veth. Only root can do it:
 * otherwise, or without `ip netns`, returns the reason to skip. Traffic never leaves these namespaces.
 */
export async function namespacePair(t: { teardown(fn: () => unknown): void }, prefix = `ps${process.pid}`): Promise<NamespacePair | { skip: string }> {
  if (process.platform !== 'linux') return { skip: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) return { skip: 'needs root to create network namespaces (CI runs as root)' };
  try {
    await ip('netns', 'list');
  } catch (err) {
    return { skip: `"ip netns" is not available here (${(err as Error).message.split('\n')[0]}); install iproute2` };
  }
  const a: Namespace = { name: `${prefix}a`, address: '10.233.7.1' };
  const b: Namespace = { name: `${prefix}b`, address: '10.233.7.2' };
  // Registered first, so a failure half way still removes what was made (deleting a namespace deletes its veth end).
  t.teardown(async () => {
    for (const ns of [a, b]) await ip('netns', 'del', ns.name).catch(() => {});
  });
  try {
    for (const ns of [a, b]) await ip('netns', 'add', ns.name);
    await ip('link', 'add', a.name, 'netns', a.name, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.name);
    for (const ns of [a, b]) {
      await ip('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', ns.name);
      await ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      await ip('-n', ns.name, 'link', 'set', ns.name, 'up', 'multicast', 'on');
      await ip('-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', ns.name);
    }
  } catch (err) {
    return { skip: `cannot set up network namespaces here (${(err as Error).message.split('\n')[0]})` };
  }
  return { a, b };
}

/** Spawns `node ARGS` inside a namespace, with the tests' clean environment plus `env`. */
export function spawnIn(ns: Namespace, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns.name, process.execPath, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Lines {
  /** Every stdout line so far. */
  all(): string[];
  /** Resolves with the first JSON line (past or future) that `match` accepts; rejects after `timeoutMs` with what was printed. */
  waitFor(match: (entry: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
}

/** Collects a child's stdout lines and lets a test wait for a JSON line. */
export function linesOf(child: ChildProcess): Lines {
  const seen: string[] = [];
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    seen.push(line);
    for (const w of [...waiters]) w();
  });
  const parse = (line: string): Record<string, unknown> | undefined => {
    if (!line.startsWith('{')) return undefined;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  return {
    all: () => [...seen],
    waitFor(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (const line of seen) {
            const entry = parse(line);
            if (entry && match(entry)) {
              finish();
              resolve(entry);
              return true;
            }
          }
          return false;
        };
        const onExit = (): void => {
          if (!check()) {
            finish();
            reject(new Error(`the process exited (code ${child.exitCode}) before the expected line\nstdout:\n${seen.join('\n')}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no expected line within ${timeoutMs} ms\nstdout:\n${seen.join('\n')}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const waiter = (): void => void check();
        const finish = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          child.off('exit', onExit);
        };
        if (check()) return;
        waiters.push(waiter);
        child.once('exit', onExit);
      });
    },
  };
}

/** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}
