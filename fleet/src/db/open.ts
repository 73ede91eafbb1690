// Opens the fleet's SQLite DB (lib/db: WAL, busy timeout, migrations from fleet/drizzle) on a single connection.
import { join } from 'node:path';
import type { Client } from '@libsql/client';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { openLibsql } from '../../../lib/db/open-libsql.js';
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

export function openFleetDb(file: string): Promise<StateDb> {
  // One connection: the pragmas are per connection, and every statement runs synchronously on it anyway
  // (libsql's local driver). Writes that must be atomic together go through client.batch; no interactive
  // transaction is ever opened (it would hold the only connection across awaits).
  return openLibsql(file, {
    schema,
    migrationsFolder: migrationsFolder(),
    concurrency: 1,
    error: (err) => new FleetError(ErrorCode.DB, `cannot open the fleet database ${file}: ${(err as Error).message}. Check that the data directory is writable and not used by a newer plugsrv-fleet.`, { cause: err }),
  });
}
