// Opens a component's SQLite file through libsql + drizzle the one way the project does it: directory created,
// WAL, a busy timeout (a second process waits for a writer instead of failing), synchronous=FULL, foreign keys,
// then the component's pending drizzle-kit migrations.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// The local-file entry points: the default ones also load the remote (HTTP, WebSocket) clients, ~80 modules
// the agent never uses, which cost every CLI start.
import { createClient, type Client } from '@libsql/client/sqlite3';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { drizzle } from 'drizzle-orm/libsql/sqlite3';
import { migrate } from 'drizzle-orm/libsql/migrator';

export interface OpenedDb<S extends Record<string, unknown>> {
  readonly db: LibSQLDatabase<S>;
  readonly client: Client;
  close(): void;
}

export interface OpenOptions<S extends Record<string, unknown>> {
  schema: S;
  migrationsFolder: string;
  /** libsql client concurrency; 1 = one connection (the pragmas are per connection). */
  concurrency?: number;
  /** The component's DB error for a file that cannot be opened or migrated. */
  error(err: unknown): Error;
}

export async function openLibsql<S extends Record<string, unknown>>(file: string, opts: OpenOptions<S>): Promise<OpenedDb<S>> {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  const client = createClient({ url: pathToFileURL(resolve(file)).href, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) });
  try {
    await client.execute('PRAGMA busy_timeout = 10000');
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = FULL');
    await client.execute('PRAGMA foreign_keys = ON');
    const db = drizzle(client, { schema: opts.schema });
    await migrate(db, { migrationsFolder: opts.migrationsFolder });
    return { db, client, close: () => client.close() };
  } catch (err) {
    client.close();
    throw opts.error(err);
  }
}
