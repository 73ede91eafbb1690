// Opens the fleet's SQLite DB (libsql file) with WAL on a single connection, and applies pending migrations.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { packageRoot } from '../../../lib/package-root.js';
import { ErrorCode, FleetError } from '../errors.js';
import * as schema from './schema.js';

export type FleetDb = LibSQLDatabase<typeof schema>;

export interface StateDb {
  readonly db: FleetDb;
  readonly client: Client;
  close(): void;
}

/** fleet/drizzle, where drizzle-kit writes the SQL migrations. */
export function migrationsFolder(): string {
  return join(packageRoot(), 'fleet', 'drizzle');
}

export async function openFleetDb(file: string): Promise<StateDb> {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  // One connection: the pragmas below are per connection, and every statement runs synchronously on it
  // anyway (libsql's local driver). Writes that must be atomic together go through client.batch; no
  // interactive transaction is ever opened (it would hold the only connection across awaits).
  const client = createClient({ url: pathToFileURL(resolve(file)).href, concurrency: 1 });
  try {
    await client.execute('PRAGMA busy_timeout = 10000');
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = FULL');
    await client.execute('PRAGMA foreign_keys = ON');
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: migrationsFolder() });
    return { db, client, close: () => client.close() };
  } catch (err) {
    client.close();
    throw new FleetError(ErrorCode.DB, `cannot open the fleet database ${file}: ${(err as Error).message}. Check that the data directory is writable and not used by a newer plugsrv-fleet.`, { cause: err });
  }
}
