// The device lock: persisted in the state DB so it survives restarts; while set, packages are not served.
import { eq } from 'drizzle-orm';
import type { Logger } from '../../../lib/log/index.js';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';

/** `source` says who set the lock: `local` (`plugsrv lock`) or `fleet` (a signed lock command; only the fleet lifts it). */
export type LockState = { locked: false } | { locked: true; reason: string; since: number; source: 'local' | 'fleet' };

const KEY = 'lock';

export async function readLock(db: AgentDb): Promise<LockState> {
  const rows = await db.select().from(tables.deviceState).where(eq(tables.deviceState.key, KEY));
  const row = rows[0];
  if (!row) return { locked: false };
  const value = JSON.parse(row.value) as { reason?: unknown; source?: unknown };
  return { locked: true, reason: typeof value.reason === 'string' ? value.reason : '', since: row.updatedAt, source: value.source === 'fleet' ? 'fleet' : 'local' };
}

export async function setLock(db: AgentDb, reason: string, now: number): Promise<LockState> {
  const value = JSON.stringify({ reason });
  await db
    .insert(tables.deviceState)
    .values({ key: KEY, value, updatedAt: now })
    .onConflictDoUpdate({ target: tables.deviceState.key, set: { value, updatedAt: now } });
  return { locked: true, reason, since: now, source: 'local' };
}

export async function clearLock(db: AgentDb): Promise<void> {
  await db.delete(tables.deviceState).where(eq(tables.deviceState.key, KEY));
}

/**
 * Keeps the lock state of a running server in memory, re-read from the DB every `pollMs`, so that
 * `plugsrv lock` run from another process takes effect within that delay without a DB read per request.
 */
export class LockWatcher {
  private state: LockState = { locked: false };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: AgentDb,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  get current(): LockState {
    return this.state;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.warn('lock: cannot re-read the lock state', { error: err }));
    }, this.pollMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const next = await readLock(this.db);
    if (next.locked !== this.state.locked) {
      if (next.locked) this.log.warn('device locked: packages are no longer served', { reason: next.reason });
      else this.log.info('device unlocked: packages are served again');
    }
    this.state = next;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
