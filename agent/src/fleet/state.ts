// The fleet client's rows in the state DB: last accepted seq, applied policy, link state (device_state) and commands (fleet_commands).
import { and, asc, desc, eq, lt, ne } from 'drizzle-orm';
import { policyDocument, type PolicyDocument } from '../../../lib/fleet/protocol.js';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';

/** The row agent/src/lock reads: the fleet's lock is the same lock as `plugsrv lock`, written in one batch with the seq. */
export const LOCK_KEY = 'lock';
export const LAST_SEQ_KEY = 'fleet.lastSeq';
export const POLICY_KEY = 'fleet.policy';
export const LINK_KEY = 'fleet.link';

/** Command rows kept (newest); older finished and sent ones are pruned. */
const KEEP_COMMANDS = 500;

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'revoked' | 'retired';

export interface LinkRecord {
  state: LinkState;
  deviceId: string;
  /** Last message from the fleet (ms). */
  lastContactAt: number | null;
  lastHeartbeatAt: number | null;
  connectedAt: number | null;
  lastError: string | null;
}

async function readValue(db: AgentDb, key: string): Promise<unknown> {
  const [row] = await db.select().from(tables.deviceState).where(eq(tables.deviceState.key, key));
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as unknown;
  } catch {
    return undefined;
  }
}

function upsert(db: AgentDb, key: string, value: unknown, now: number) {
  const text = JSON.stringify(value);
  return db
    .insert(tables.deviceState)
    .values({ key, value: text, updatedAt: now })
    .onConflictDoUpdate({ target: tables.deviceState.key, set: { value: text, updatedAt: now } });
}

/** Highest seq accepted from the fleet for this device id (0 for a new identity). */
export async function readLastSeq(db: AgentDb, deviceId: string): Promise<number> {
  const v = (await readValue(db, LAST_SEQ_KEY)) as { deviceId?: unknown; seq?: unknown } | undefined;
  return v && v.deviceId === deviceId && typeof v.seq === 'number' ? v.seq : 0;
}

export function lastSeqQuery(db: AgentDb, deviceId: string, seq: number, now: number) {
  return upsert(db, LAST_SEQ_KEY, { deviceId, seq }, now);
}

export async function readPolicy(db: AgentDb): Promise<PolicyDocument | undefined> {
  const parsed = policyDocument.safeParse(await readValue(db, POLICY_KEY));
  return parsed.success ? parsed.data : undefined;
}

export function policyQuery(db: AgentDb, policy: PolicyDocument, now: number) {
  return upsert(db, POLICY_KEY, policy, now);
}

export function lockQuery(db: AgentDb, reason: string, commandId: string, now: number) {
  return upsert(db, LOCK_KEY, { reason, source: 'fleet', commandId }, now);
}

export function unlockQuery(db: AgentDb) {
  return db.delete(tables.deviceState).where(eq(tables.deviceState.key, LOCK_KEY));
}

export async function readLink(db: AgentDb): Promise<LinkRecord | undefined> {
  return (await readValue(db, LINK_KEY)) as LinkRecord | undefined;
}

export async function writeLink(db: AgentDb, link: LinkRecord, now: number): Promise<void> {
  await upsert(db, LINK_KEY, link, now);
}

export async function clearFleetState(db: AgentDb): Promise<void> {
  await db.batch([
    db.delete(tables.deviceState).where(eq(tables.deviceState.key, LAST_SEQ_KEY)),
    db.delete(tables.deviceState).where(eq(tables.deviceState.key, LINK_KEY)),
  ]);
}

export type CommandRow = typeof tables.fleetCommands.$inferSelect;

export function acceptedQuery(db: AgentDb, row: { id: string; deviceId: string; seq: number; kind: string; receivedAt: number; detail?: string }) {
  return db.insert(tables.fleetCommands).values({ ...row, status: 'running', detail: row.detail ?? '' });
}

/** A command accepted and finished in the same batch (lock, unlock, set-policy: their effect is the row's own write). */
export function finishedQuery(
  db: AgentDb,
  row: { id: string; deviceId: string; seq: number; kind: string; receivedAt: number; status: 'ok' | 'failed'; detail: string; data?: unknown },
) {
  const { data, ...rest } = row;
  return db.insert(tables.fleetCommands).values({ ...rest, finishedAt: row.receivedAt, data: data === undefined ? null : JSON.stringify(data) });
}

export async function finishCommand(db: AgentDb, id: string, result: { status: 'ok' | 'failed'; detail: string; data?: unknown }, now: number): Promise<void> {
  await db
    .update(tables.fleetCommands)
    .set({ status: result.status, detail: result.detail, data: result.data === undefined ? null : JSON.stringify(result.data), finishedAt: now })
    .where(eq(tables.fleetCommands.id, id));
}

export async function markResultSent(db: AgentDb, id: string): Promise<void> {
  await db.update(tables.fleetCommands).set({ resultSent: true }).where(eq(tables.fleetCommands.id, id));
}

export async function findCommand(db: AgentDb, id: string): Promise<CommandRow | undefined> {
  const [row] = await db.select().from(tables.fleetCommands).where(eq(tables.fleetCommands.id, id));
  return row;
}

/** Finished commands of this device whose result has not gone out yet, oldest first. */
export async function unsentResults(db: AgentDb, deviceId: string): Promise<CommandRow[]> {
  return db
    .select()
    .from(tables.fleetCommands)
    .where(and(eq(tables.fleetCommands.deviceId, deviceId), eq(tables.fleetCommands.resultSent, false), ne(tables.fleetCommands.status, 'running')))
    .orderBy(asc(tables.fleetCommands.seq));
}

/** Commands left "running" by a process that stopped (killed, power cut, reboot) before they finished. */
export async function runningCommands(db: AgentDb): Promise<CommandRow[]> {
  return db.select().from(tables.fleetCommands).where(eq(tables.fleetCommands.status, 'running')).orderBy(asc(tables.fleetCommands.seq));
}

export async function countUnsent(db: AgentDb, deviceId: string): Promise<number> {
  return (await unsentResults(db, deviceId)).length;
}

export async function pruneCommands(db: AgentDb): Promise<void> {
  const [edge] = await db.select({ seq: tables.fleetCommands.seq }).from(tables.fleetCommands).orderBy(desc(tables.fleetCommands.seq)).limit(1).offset(KEEP_COMMANDS);
  if (!edge) return;
  await db.delete(tables.fleetCommands).where(and(lt(tables.fleetCommands.seq, edge.seq), eq(tables.fleetCommands.resultSent, true)));
}
