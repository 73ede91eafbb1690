// Group commit: writes queued from many connections are committed together in one transaction per turn of the event loop.
import type { Client, InStatement, InValue, ResultSet } from '@libsql/client';
import type { Logger } from '../../../lib/log/index.js';

/** A drizzle query as a statement for the queue (drizzle has already mapped the values for the driver). */
export function statement(query: { toSQL(): { sql: string; params: unknown[] } }): InStatement {
  const { sql, params } = query.toSQL();
  return { sql, args: params as InValue[] };
}

interface Pending {
  readonly stmts: InStatement[];
  resolve(results: ResultSet[]): void;
  reject(err: unknown): void;
}

/**
 * Each statement committed on its own would cost an fsync, and libsql's local driver runs on the main
 * thread: 5,000 command results in a second would stall every socket. Queued writes are flushed in one
 * batch (one transaction, one fsync) as soon as the previous batch is done; each caller's statements
 * stay together and in order. A failing batch is retried caller by caller, so one bad write fails alone.
 */
export class WriteQueue {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  /** Batches committed and statements written, for /v1/stats. */
  readonly stats = { batches: 0, statements: 0, lastBatchMs: 0, failures: 0 };

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  /** Resolves with one result set per statement once they are committed. */
  write(stmts: InStatement[]): Promise<ResultSet[]> {
    if (this.closed) return Promise.reject(new Error('the write queue is closed'));
    if (stmts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ stmts, resolve, reject });
      this.schedule();
    });
  }

  /** Statements queued and not yet committed. */
  get depth(): number {
    let n = 0;
    for (const p of this.pending) n += p.stmts.length;
    return n;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const stmts = batch.flatMap((p) => p.stmts);
    const started = performance.now();
    try {
      const results = await this.client.batch(stmts, 'write');
      this.stats.batches++;
      this.stats.statements += stmts.length;
      this.stats.lastBatchMs = performance.now() - started;
      let i = 0;
      for (const p of batch) {
        p.resolve(results.slice(i, i + p.stmts.length));
        i += p.stmts.length;
      }
    } catch (err) {
      if (batch.length === 1) {
        this.stats.failures++;
        (batch[0] as Pending).reject(err);
        return;
      }
      this.log.warn('db: a write batch failed; retrying its writes one caller at a time', { error: err, writers: batch.length });
      for (const p of batch) {
        try {
          p.resolve(await this.client.batch(p.stmts, 'write'));
        } catch (e) {
          this.stats.failures++;
          p.reject(e);
        }
      }
    }
  }

  /** Waits until everything queued so far is committed (or failed). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.pending.length > 0 || this.scheduled) await new Promise((r) => setImmediate(r));
      else return;
    }
  }

  /** Refuses new writes and waits for the queued ones. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }
}
