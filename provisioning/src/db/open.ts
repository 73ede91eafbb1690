// Opens the line's SQLite DB (lib/db: WAL, busy timeout, synchronous=FULL, migrations from provisioning/drizzle).
import { join } from 'node:path';
import type { Client } from '@libsql/client';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { openLibsql } from '../../../lib/db/open-libsql.js';
import { packageRoot } from '../../../lib/package-root.js';
import { ErrorCode, LineError } from '../errors.js';
import * as schema from './schema.js';

export type LineDb = LibSQLDatabase<typeof schema>;

export interface LineState {
  readonly db: LineDb;
  readonly client: Client;
  close(): void;
}

export function openLineDb(file: string): Promise<LineState> {
  return openLibsql(file, {
    schema,
    migrationsFolder: join(packageRoot(), 'provisioning', 'drizzle'),
    concurrency: 1,
    error: (err) => new LineError(ErrorCode.DB, `cannot open the line database ${file}: ${(err as Error).message}. Check that its folder is writable (or pass --data-dir).`, { cause: err }),
  });
}
