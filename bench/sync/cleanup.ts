// Releases what the sync bench started: process groups (timed clients, nginx) and temp dirs, on exit, on error and on Ctrl-C.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { waitForExit } from '../serve/cleanup.js';

const STOP_GRACE_MS = 5_000;

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Signals the child's whole process group (it was spawned detached, so it leads one); false when it is gone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export class GroupCleanup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  private done = false;

  /**
   * Spawns `command` as the leader of a new process group and keeps it on the list to stop. A group, because
   * `/usr/bin/time` does not pass SIGTERM on to the command it runs; Ctrl-C reaches only the bench, which stops them.
   */
  spawn(command: string, args: string[], options: SpawnOptions): ChildProcess {
    if (this.done) throw new Error('bench: stopping; no new process started');
    const child = spawn(command, args, { ...options, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  removeDir(dir: string): void {
    this.dirs.push(dir);
  }

  /** Stops one group: SIGTERM, then SIGKILL after the grace period. */
  async stop(child: ChildProcess): Promise<void> {
    if (alive(child) && signalGroup(child, 'SIGTERM') && !(await waitForExit(child, STOP_GRACE_MS))) {
      signalGroup(child, 'SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    }
    this.children.delete(child);
  }

  /** Stops every group, then removes the directories; runs once. */
  async run(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await Promise.all([...this.children].map((child) => this.stop(child)));
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }

  /** Last resort from process 'exit', where nothing async can run: SIGKILL to every group and synchronous removal. */
  runSync(): void {
    if (this.done) return;
    this.done = true;
    for (const child of this.children) if (alive(child)) signalGroup(child, 'SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
