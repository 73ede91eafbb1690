// Opens the agent's SQLite state DB (lib/db: WAL, busy timeout, migrations from agent/drizzle). WAL lets the server
// read while `plugsrv import` or `plugsrv lock` write in another process.
import { join } from 'node:path';
import type { Client } from '@libsql/client';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { openLibsql } from '../../../lib/db/open-libsql.js';
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

export function openStateDb(file: string): Promise<StateDb> {
  return openLibsql(file, {
    schema,
    migrationsFolder: migrationsFolder(),
    error: (err) => new AgentError(ErrorCode.DB, `cannot open the state database ${file}: ${(err as Error).message}. Check that the data directory is writable and not used by an older plugsrv version.`, { cause: err }),
  });
}
