// Operator API keys in the DB: create (secret shown once), list, revoke, and authenticate a bearer header.
import { desc, eq } from 'drizzle-orm';
import { apiKey as apiKeySchema, type Scope } from '../../../lib/fleet/protocol.js';
import type { FleetDb } from '../db/index.js';
import { tables } from '../db/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { formatCredential, hashSecret, newCredential, parseCredential, secretMatches } from './credential.js';
import { scopeAllows } from './scopes.js';

export const API_KEY_PREFIX = 'pak';

export interface ApiKeyInfo {
  id: string;
  name: string;
  scope: Scope;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

/** Who made a request: the key's id (never its secret) and scope. */
export interface Principal {
  readonly keyId: string;
  readonly scope: Scope;
}

export async function createApiKey(db: FleetDb, opts: { scope: Scope; name?: string; createdBy: string; now: number }): Promise<{ key: string; info: ApiKeyInfo }> {
  const cred = newCredential();
  const info: ApiKeyInfo = { id: cred.id, name: opts.name ?? '', scope: opts.scope, createdAt: opts.now, createdBy: opts.createdBy, revokedAt: null };
  await db.insert(tables.apiKeys).values({ ...info, secretHash: hashSecret(cred.secret) });
  return { key: formatCredential(API_KEY_PREFIX, cred), info };
}

export async function listApiKeys(db: FleetDb): Promise<ApiKeyInfo[]> {
  const rows = await db.select().from(tables.apiKeys).orderBy(desc(tables.apiKeys.createdAt));
  return rows.map(({ secretHash: _s, ...info }) => info);
}

/** Revokes a key; false when no such key (or already revoked). */
export async function revokeApiKey(db: FleetDb, id: string, now: number): Promise<boolean> {
  const rows = await db.update(tables.apiKeys).set({ revokedAt: now }).where(eq(tables.apiKeys.id, id)).returning({ id: tables.apiKeys.id, revokedAt: tables.apiKeys.revokedAt });
  return rows.length > 0;
}

/** The key id a header names, if it has the key's shape (for the audit of refused requests). */
export function keyIdOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return m ? parseCredential(API_KEY_PREFIX, m[1] as string)?.id : undefined;
}

/**
 * Checks `Authorization: Bearer pak_...` and the scope the route needs. E_UNAUTHORIZED for a missing,
 * malformed, unknown or revoked key (one message for all, so a caller learns nothing about which ids exist),
 * E_FORBIDDEN when the key's scope is too low.
 */
export async function authenticate(db: FleetDb, authorization: string | undefined, need: Scope): Promise<Principal> {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  const text = m?.[1]?.trim() ?? '';
  const cred = apiKeySchema.safeParse(text).success ? parseCredential(API_KEY_PREFIX, text) : undefined;
  const refused = new FleetError(
    ErrorCode.UNAUTHORIZED,
    'a valid API key is required: send "Authorization: Bearer pak_..." (the CLI reads it from PLUGSRV_FLEET_API_KEY; an admin makes one with "plugsrv-fleet keys create").',
  );
  if (!cred) throw refused;
  const row = (await db.select().from(tables.apiKeys).where(eq(tables.apiKeys.id, cred.id)).limit(1))[0];
  if (!row || row.revokedAt !== null || !secretMatches(cred.secret, row.secretHash)) throw refused;
  if (!scopeAllows(row.scope, need)) {
    throw new FleetError(ErrorCode.FORBIDDEN, `this API key has the ${row.scope} scope; this action needs ${need}. Ask an admin for a key with that scope.`);
  }
  return { keyId: row.id, scope: row.scope };
}
