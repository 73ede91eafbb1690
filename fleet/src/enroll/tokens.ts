// Bootstrap tokens in the DB: minted for a dealer (and a serial), shown once, stored hashed, used once.
import { and, desc, eq, gt, isNull, type SQL } from 'drizzle-orm';
import type { FleetDb, WriteQueue } from '../db/index.js';
import { statement, tables } from '../db/index.js';
import { hashSecret } from '../auth/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { newBootstrapToken } from './token.js';

export type TokenState = 'unused' | 'used' | 'expired';

export interface TokenInfo {
  id: string;
  dealerCode: string;
  serial: string | null;
  note: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  usedAt: number | null;
  usedSerial: string | null;
  deviceId: string | null;
  state: TokenState;
}

type Row = typeof tables.bootstrapTokens.$inferSelect;

function info(r: Row, now: number): TokenInfo {
  const { secretHash: _s, ...rest } = r;
  return { ...rest, state: r.usedAt !== null ? 'used' : r.expiresAt <= now ? 'expired' : 'unused' };
}

export async function createToken(
  db: FleetDb,
  writes: WriteQueue,
  opts: { dealerCode: string; serial: string | null; note: string; expiresAt: number; createdBy: string; now: number },
): Promise<{ token: string; info: TokenInfo }> {
  const { credential, text } = newBootstrapToken();
  const row: Row = {
    id: credential.id,
    secretHash: hashSecret(credential.secret),
    dealerCode: opts.dealerCode,
    serial: opts.serial,
    note: opts.note,
    createdAt: opts.now,
    createdBy: opts.createdBy,
    expiresAt: opts.expiresAt,
    usedAt: null,
    usedSerial: null,
    deviceId: null,
  };
  await writes.write([statement(db.insert(tables.bootstrapTokens).values(row))]);
  return { token: text, info: info(row, opts.now) };
}

export async function listTokens(db: FleetDb, q: { dealerCode?: string | undefined; unusedOnly?: boolean; limit?: number | undefined }, now: number): Promise<TokenInfo[]> {
  const where: SQL[] = [];
  if (q.dealerCode) where.push(eq(tables.bootstrapTokens.dealerCode, q.dealerCode));
  if (q.unusedOnly) where.push(isNull(tables.bootstrapTokens.usedAt), gt(tables.bootstrapTokens.expiresAt, now));
  const rows = await db
    .select()
    .from(tables.bootstrapTokens)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(tables.bootstrapTokens.createdAt))
    .limit(Math.min(Math.max(q.limit ?? 1000, 1), 10_000));
  return rows.map((r) => info(r, now));
}

export async function getTokenRow(db: FleetDb, id: string): Promise<Row | undefined> {
  return (await db.select().from(tables.bootstrapTokens).where(eq(tables.bootstrapTokens.id, id)).limit(1))[0];
}

/** Makes an unused token unusable at once (a label printed by mistake, a unit not shipped). */
export async function revokeToken(db: FleetDb, id: string, now: number): Promise<TokenInfo> {
  const row = await getTokenRow(db, id);
  if (!row) throw new FleetError(ErrorCode.NOT_FOUND, `no bootstrap token ${id}; list them with GET /v1/tokens.`);
  if (row.usedAt !== null) throw new FleetError(ErrorCode.CONFLICT, `token ${id} was already used by ${row.deviceId ?? 'a device'}; retire the device instead.`);
  const expiresAt = Math.min(row.expiresAt, now);
  await db.update(tables.bootstrapTokens).set({ expiresAt }).where(eq(tables.bootstrapTokens.id, id));
  return info({ ...row, expiresAt }, now);
}
