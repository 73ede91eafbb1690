// Opens the agent's SQLite state DB (libsql file), sets WAL and a busy timeout, and applies pending migrations.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { packageRoot } from '../../../lib/package-root.js';
import { AgentError, ErrorCode } from '../errors.js';
import * as schema from './schema.js';

export type AgentDb = LibSQLDatabase<typeof schema>;

export interface StateDb {
  readonly db: AgentDb;
  readonly client: Client;
  close(): void;
}

/** agent/drizzle, where drizzle-kit writes the SQL migrations. */
export function migrationsFolder(): string {
  return join(packageRoot(), 'agent', 'drizzle');
}

export async function openStateDb(file: string): Promise<StateDb> {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  const client = createClient({ url: pathToFileURL(resolve(file)).href });
  try {
    // WAL lets the server read while `plugsrv import` or `plugsrv lock` write; the busy timeout
    // makes a second process wait for a writer instead of failing at once.
    await client.execute('PRAGMA busy_timeout = 10000');
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = FULL');
    await client.execute('PRAGMA foreign_keys = ON');
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: migrationsFolder() });
    return { db, client, close: () => client.close() };
  } catch (err) {
    client.close();
    throw new AgentError(ErrorCode.DB, `cannot open the state database ${file}: ${(err as Error).message}. Check that the data directory is writable and not used by an older plugsrv version.`, { cause: err });
  }
}
