// Which blobs are being served right now, visible to every process on the data dir: one lease file per blob and serving process.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../../../lib/process-alive.js';

const LEASE = /^([0-9a-f]{64})\.(\d+)$/;

/**
 * The serve role holds a lease on a blob while it streams it, so that a sync in this or another process
 * (`plugsrv sync now` beside the main job) never evicts or collects it mid-download. The lease is the file
 * `<dir>/<sha256>.<pid>`: created when the first stream of the blob starts in this process, removed when the last
 * one ends. A process that died leaves its files behind; they count for nothing once its pid is gone.
 */
export class ServingLeases {
  private readonly held = new Map<string, { streams: number; op: Promise<void> }>();
  private dirReady: Promise<unknown> | undefined;

  constructor(readonly dir: string) {}

  /** Takes a lease on `sha256` for one stream; the returned function gives it back (call it exactly once). */
  async hold(sha256: string): Promise<() => Promise<void>> {
    let entry = this.held.get(sha256);
    if (!entry) {
      entry = { streams: 0, op: Promise.resolve() };
      this.held.set(sha256, entry);
    }
    const e = entry;
    e.streams++;
    if (e.streams === 1) e.op = e.op.catch(() => undefined).then(() => this.create(sha256));
    try {
      await e.op;
    } catch (err) {
      // Not held: the next stream tries again from scratch.
      e.streams--;
      if (e.streams === 0 && this.held.get(sha256) === e) this.held.delete(sha256);
      throw err;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      e.streams--;
      if (e.streams > 0) return;
      e.op = e.op
        .catch(() => undefined)
        .then(async () => {
          if (e.streams === 0) await rm(this.file(sha256), { force: true });
        });
      await e.op;
      if (e.streams === 0 && this.held.get(sha256) === e) this.held.delete(sha256);
    };
  }

  private file(sha256: string): string {
    return join(this.dir, `${sha256}.${process.pid}`);
  }

  private async create(sha256: string): Promise<void> {
    this.dirReady ??= mkdir(this.dir, { recursive: true, mode: 0o750 }).catch((err: unknown) => {
      this.dirReady = undefined; // tried again by the next hold
      throw err;
    });
    await this.dirReady;
    await writeFile(this.file(sha256), '', { mode: 0o640 });
  }

  /** The blobs some live process is serving now, from the lease files (none when the folder does not exist). */
  async servedNow(): Promise<Set<string>> {
    const alive = new Map<number, boolean>();
    const out = new Set<string>();
    for (const lease of await this.leaseFiles()) {
      if (!alive.has(lease.pid)) alive.set(lease.pid, lease.pid === process.pid || processAlive(lease.pid));
      if (alive.get(lease.pid)) out.add(lease.sha256);
    }
    return out;
  }

  /** Deletes the lease files of processes that are gone (a crashed server's), so the folder does not grow. */
  async clearStale(): Promise<number> {
    let removed = 0;
    for (const lease of await this.leaseFiles()) {
      if (lease.pid === process.pid || processAlive(lease.pid)) continue;
      await rm(join(this.dir, lease.name), { force: true });
      removed++;
    }
    return removed;
  }

  private async leaseFiles(): Promise<Array<{ name: string; sha256: string; pid: number }>> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return names.flatMap((name) => {
      const m = LEASE.exec(name);
      return m ? [{ name, sha256: m[1] as string, pid: Number(m[2]) }] : [];
    });
  }
}
