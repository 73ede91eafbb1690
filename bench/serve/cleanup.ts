// Releases what the serve bench started (child processes, temp dirs) on normal exit, on error and on Ctrl-C.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';

const STOP_GRACE_MS = 5_000;

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves when the child has exited, or false after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!alive(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Sends `signal`, then SIGKILL if the child is still there after the grace period. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(child)) return;
  child.kill(signal);
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, STOP_GRACE_MS);
}

export class Cleanup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  private done = false;

  /** Keeps `child` on the list of processes to stop until it exits by itself. */
  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  removeDir(dir: string): void {
    this.dirs.push(dir);
  }

  /** Stops every tracked child (SIGTERM, then SIGKILL) and removes the directories; runs once. */
  async run(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await Promise.all([...this.children].map((child) => stopChild(child)));
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }

  /** Last resort from process 'exit', where nothing async can run: SIGKILL and synchronous removal. */
  runSync(): void {
    if (this.done) return;
    this.done = true;
    for (const child of this.children) if (alive(child)) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a bench's main with its cleanup on every way out: normal end, error (exit code 2), Ctrl-C
 * (130) or SIGTERM (143). `what` says what a signal stops, for the message.
 */
export function runBench<C extends { run(): Promise<void>; runSync(): void }>(cleanup: C, main: (cleanup: C) => Promise<number>, what: string): void {
  process.on('exit', () => cleanup.runSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}; stopping ${what} ...`);
      void cleanup.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  main(cleanup)
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
    })
    .finally(() => cleanup.run());
}
