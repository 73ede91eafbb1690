// The command queue: create (seq, sign, store, hand to live sockets), redeliver on hello, record results, expire.
import type { Client, InStatement } from '@libsql/client';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { CommandKind, DeviceMessage } from '../../../lib/fleet/protocol.js';
import { signCommand } from '../../../lib/fleet/signing.js';
import type { Logger } from '../../../lib/log/index.js';
import type { FleetDb, WriteQueue } from '../db/index.js';
import { tables } from '../db/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import type { CommandKey } from './command-key.js';
import { buildPayload, isPending, newCommandId, nextState, type CommandState } from './model.js';
import { Mutex } from './mutex.js';

/** A command ready for the socket: the WebSocket text frame is built once. */
export interface OutgoingCommand {
  readonly id: string;
  readonly seq: number;
  readonly frame: string;
}

export interface CommandRecord {
  id: string;
  deviceId: string;
  seq: number;
  kind: CommandKind;
  args: Record<string, unknown>;
  state: CommandState;
  issuedAt: number;
  expiresAt: number;
  deliveredAt: number | null;
  resultAt: number | null;
  detail: string | null;
  data: unknown;
  createdBy: string;
}

/** Which devices a command goes to: named ones (active or retiring), or every active device. */
export type CommandTarget = { deviceIds: string[] } | { allActive: true };

export interface CreateCommand {
  kind: CommandKind;
  args: Record<string, unknown>;
  target: CommandTarget;
  ttlMs: number;
  createdBy: string;
}

/** Hands commands to connected sockets (the hub); devices without one get them on their next hello. */
export interface Delivery {
  deliver(deviceId: string, cmds: OutgoingCommand[]): void;
}

/** What a result changes beyond the command row. */
export interface ResultEffects {
  retired(deviceId: string): Promise<void>;
  wiped(deviceId: string): Promise<void>;
  policyApplied(deviceId: string, version: number): Promise<void>;
}

const STATES: readonly CommandState[] = ['queued', 'delivered', 'ok', 'failed', 'rejected', 'expired'];
const sqlList = (states: readonly CommandState[]): string => states.map((st) => `'${st}'`).join(', ');
/** The SQL conditions come from the pure state machine (model.ts), so the two cannot drift apart. */
const ANSWERABLE = STATES.filter((st) => nextState(st, { type: 'result', status: 'ok' }) !== undefined);
const ANSWERABLE_PENDING = sqlList(ANSWERABLE.filter(isPending));
const ANSWERABLE_LATE = sqlList(ANSWERABLE.filter((st) => !isPending(st)));
const EXPIRABLE = sqlList(STATES.filter((st) => nextState(st, { type: 'expire' }) !== undefined));

const SIGN_CHUNK = 250;
const INSERT_ROWS = 200;
const MAX_DATA_BYTES = 1024 * 1024;
const COLUMNS = 'id, device_id, seq, kind, args, state, issued_at, expires_at, payload, signature, key_id, created_by';

function frameOf(payload: string, signature: string, keyId: string): string {
  return JSON.stringify({ type: 'command', command: { payload, signature, keyId } });
}

type Row = typeof tables.commands.$inferSelect;

function toRecord(r: Row): CommandRecord {
  return {
    id: r.id,
    deviceId: r.deviceId,
    seq: r.seq,
    kind: r.kind as CommandKind,
    args: JSON.parse(r.args) as Record<string, unknown>,
    state: r.state,
    issuedAt: r.issuedAt,
    expiresAt: r.expiresAt,
    deliveredAt: r.deliveredAt,
    resultAt: r.resultAt,
    detail: r.detail,
    data: r.data ? (JSON.parse(r.data) as unknown) : null,
    createdBy: r.createdBy,
  };
}

export interface CommandServiceDeps {
  db: FleetDb;
  client: Client;
  writes: WriteQueue;
  key: CommandKey;
  log: Logger;
  clock?: () => number;
}

export class CommandService {
  private readonly mutex = new Mutex();
  /** Commands queued or delivered (not answered, not expired) per device: a hello reads the DB only when there are some. */
  private readonly pending = new Map<string, number>();
  private delivery: Delivery = { deliver() {} };
  private effects: ResultEffects | undefined;
  private readonly clock: () => number;
  readonly stats = { created: 0, results: 0, duplicates: 0, expired: 0 };

  constructor(private readonly deps: CommandServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  setDelivery(delivery: Delivery): void {
    this.delivery = delivery;
  }

  setEffects(effects: ResultEffects): void {
    this.effects = effects;
  }

  async init(): Promise<void> {
    const rs = await this.deps.client.execute("SELECT device_id, count(*) AS n FROM commands WHERE state IN ('queued', 'delivered') GROUP BY device_id");
    for (const row of rs.rows) this.pending.set(String(row.device_id), Number(row.n));
  }

  /** Commands waiting for delivery or an answer, fleet-wide. */
  get pendingTotal(): number {
    let n = 0;
    for (const v of this.pending.values()) n += v;
    return n;
  }

  private bump(deviceId: string, by: number): void {
    const n = (this.pending.get(deviceId) ?? 0) + by;
    if (n > 0) this.pending.set(deviceId, n);
    else this.pending.delete(deviceId);
  }

  /**
   * Allocates one seq per target device in one statement, signs each payload, stores them all in one
   * transaction, then hands them to live sockets. Creations run one at a time, so each device receives
   * its commands in seq order (the agent refuses a seq lower than one it accepted).
   */
  create(req: CreateCommand): Promise<CommandRecord[]> {
    return this.mutex.run(async () => {
      const now = this.clock();
      const allocated = await this.allocate(req.target, now);
      if (allocated.length === 0) return [];
      const records: CommandRecord[] = [];
      const stmts: InStatement[] = [];
      const outgoing: Array<[string, OutgoingCommand]> = [];
      let rowsSql: string[] = [];
      let rowsArgs: Array<string | number> = [];
      const flushRows = (): void => {
        if (rowsSql.length === 0) return;
        stmts.push({ sql: `INSERT INTO commands (${COLUMNS}) VALUES ${rowsSql.join(', ')}`, args: rowsArgs });
        rowsSql = [];
        rowsArgs = [];
      };
      const argsText = JSON.stringify(req.args);
      for (let i = 0; i < allocated.length; i++) {
        // Signing 5,000 payloads takes a few hundred ms: yield now and then so heartbeats keep flowing.
        if (i > 0 && i % SIGN_CHUNK === 0) await new Promise((r) => setImmediate(r));
        const { deviceId, seq } = allocated[i] as { deviceId: string; seq: number };
        const payload = buildPayload({ id: newCommandId(), deviceId, seq, kind: req.kind, args: req.args, issuedAt: now, ttlMs: req.ttlMs });
        const signed = signCommand(payload, this.deps.key.privateKey);
        rowsSql.push('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
        rowsArgs.push(payload.id, deviceId, seq, req.kind, argsText, 'queued', now, payload.expiresAt, signed.payload, signed.signature, signed.keyId, req.createdBy);
        if (rowsSql.length === INSERT_ROWS) flushRows();
        outgoing.push([deviceId, { id: payload.id, seq, frame: frameOf(signed.payload, signed.signature, signed.keyId) }]);
        records.push({
          id: payload.id,
          deviceId,
          seq,
          kind: req.kind,
          args: req.args,
          state: 'queued',
          issuedAt: now,
          expiresAt: payload.expiresAt,
          deliveredAt: null,
          resultAt: null,
          detail: null,
          data: null,
          createdBy: req.createdBy,
        });
      }
      flushRows();
      await this.deps.writes.write(stmts);
      this.stats.created += records.length;
      for (const [deviceId, cmd] of outgoing) {
        this.bump(deviceId, 1);
        this.delivery.deliver(deviceId, [cmd]);
      }
      return records;
    });
  }

  private async allocate(target: CommandTarget, now: number): Promise<Array<{ deviceId: string; seq: number }>> {
    const out: Array<{ deviceId: string; seq: number }> = [];
    const collect = (rows: Array<Record<string, unknown>>): void => {
      for (const r of rows) out.push({ deviceId: String(r.id), seq: Number(r.last_seq) });
    };
    if ('allActive' in target) {
      const rs = await this.deps.client.execute({ sql: "UPDATE devices SET last_seq = last_seq + 1, updated_at = ? WHERE status = 'active' RETURNING id, last_seq", args: [now] });
      collect(rs.rows as unknown as Array<Record<string, unknown>>);
    } else {
      const ids = [...new Set(target.deviceIds)];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rs = await this.deps.client.execute({
          sql: `UPDATE devices SET last_seq = last_seq + 1, updated_at = ? WHERE id IN (${chunk.map(() => '?').join(', ')}) AND status IN ('active', 'retiring') RETURNING id, last_seq`,
          args: [now, ...chunk],
        });
        collect(rs.rows as unknown as Array<Record<string, unknown>>);
      }
    }
    return out.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  /**
   * Commands to (re)send to a device that said it accepted up to `ackedSeq`, in seq order. Runs under the
   * creation mutex so a creation cannot slip between this read and the socket's first send.
   */
  pendingFor(deviceId: string, ackedSeq: number): Promise<OutgoingCommand[]> {
    if ((this.pending.get(deviceId) ?? 0) === 0) return Promise.resolve([]);
    return this.mutex.run(async () => {
      const rs = await this.deps.client.execute({
        sql: "SELECT id, seq, payload, signature, key_id FROM commands WHERE device_id = ? AND state IN ('queued', 'delivered') AND seq > ? AND expires_at > ? ORDER BY seq",
        args: [deviceId, ackedSeq, this.clock()],
      });
      return rs.rows.map((r) => ({ id: String(r.id), seq: Number(r.seq), frame: frameOf(String(r.payload), String(r.signature), String(r.key_id)) }));
    });
  }

  /** Marks commands sent on a socket as delivered (batched with other writes; nobody waits for it). */
  markDelivered(ids: string[]): void {
    if (ids.length === 0) return;
    const now = this.clock();
    const stmts: InStatement[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      stmts.push({ sql: `UPDATE commands SET state = 'delivered', delivered_at = ? WHERE state = 'queued' AND id IN (${chunk.map(() => '?').join(', ')})`, args: [now, ...chunk] });
    }
    this.deps.writes.write(stmts).catch((err: unknown) => this.deps.log.warn('commands: marking delivered failed', { error: err, count: ids.length }));
  }

  /**
   * Records a device's answer. Ignored (with a log line) when the command is unknown, belongs to another
   * device, or is already answered: a device cannot overwrite an outcome. No state is read first: the
   * conditional UPDATEs run in the write queue's order, after any pending "delivered" mark or expiry, so
   * a fast answer is never lost and the pending count stays exact.
   */
  async recordResult(deviceId: string, msg: Extract<DeviceMessage, { type: 'result' }>): Promise<boolean> {
    let data: string | null = null;
    if (msg.data !== undefined) {
      data = JSON.stringify(msg.data);
      if (Buffer.byteLength(data) > MAX_DATA_BYTES) data = JSON.stringify({ truncated: true, bytes: Buffer.byteLength(data) });
    }
    const args = [msg.status, this.clock(), msg.detail, data, msg.commandId, deviceId];
    const set = 'UPDATE commands SET state = ?, result_at = ?, detail = ?, data = ? WHERE id = ? AND device_id = ?';
    const [pending, late] = await this.deps.writes.write([
      { sql: `${set} AND state IN (${ANSWERABLE_PENDING}) RETURNING kind, args`, args },
      // A late answer to an expired command is still the truth (the device took it in time).
      { sql: `${set} AND state IN (${ANSWERABLE_LATE}) RETURNING kind, args`, args },
    ]);
    const row = pending?.rows[0] ?? late?.rows[0];
    if (!row) {
      this.stats.duplicates++;
      const known = (await this.deps.client.execute({ sql: 'SELECT device_id, state FROM commands WHERE id = ?', args: [msg.commandId] })).rows[0];
      if (!known || String(known.device_id) !== deviceId) this.deps.log.warn('commands: a result for a command this device does not have', { deviceId, commandId: msg.commandId.slice(0, 64) });
      else this.deps.log.debug('commands: a second result ignored', { deviceId, commandId: msg.commandId, state: String(known.state) });
      return false;
    }
    this.stats.results++;
    if (pending?.rows[0]) this.bump(deviceId, -1);
    if (msg.status === 'ok' && this.effects) {
      const kind = String(row.kind) as CommandKind;
      if (kind === 'retire') await this.effects.retired(deviceId);
      else if (kind === 'wipe') await this.effects.wiped(deviceId);
      else if (kind === 'set-policy') {
        const version = (JSON.parse(String(row.args)) as { policy?: { version?: number } }).policy?.version;
        if (typeof version === 'number') await this.effects.policyApplied(deviceId, version);
      }
    }
    return true;
  }

  /** Marks commands past their expiry; returns how many. */
  async sweepExpired(): Promise<number> {
    const [res] = await this.deps.writes.write([
      {
        sql: `UPDATE commands SET state = 'expired', detail = coalesce(detail, 'E_COMMAND_EXPIRED: not answered before its expiry') WHERE state IN (${EXPIRABLE}) AND expires_at <= ? RETURNING device_id`,
        args: [this.clock()],
      },
    ]);
    const rows = res?.rows ?? [];
    for (const r of rows) this.bump(String(r.device_id), -1);
    this.stats.expired += rows.length;
    return rows.length;
  }

  /** Ends every pending command of a device that will never answer (retired). */
  async cancelPending(deviceId: string, detail: string): Promise<number> {
    const [res] = await this.deps.writes.write([
      { sql: `UPDATE commands SET state = 'expired', detail = ? WHERE device_id = ? AND state IN (${EXPIRABLE})`, args: [detail, deviceId] },
    ]);
    this.pending.delete(deviceId);
    return res?.rowsAffected ?? 0;
  }

  async get(id: string): Promise<CommandRecord> {
    const row = (await this.deps.db.select().from(tables.commands).where(eq(tables.commands.id, id)).limit(1))[0];
    if (!row) throw new FleetError(ErrorCode.NOT_FOUND, `no command ${id}; list commands with GET /v1/commands?deviceId=...`);
    return toRecord(row);
  }

  /** Newest first; `before` is an issuedAt/seq cursor-free simple bound on issue time. */
  async list(q: { deviceId?: string | undefined; state?: CommandState | undefined; kind?: string | undefined; limit?: number | undefined; before?: number | undefined } = {}): Promise<CommandRecord[]> {
    const where: SQL[] = [];
    if (q.deviceId) where.push(eq(tables.commands.deviceId, q.deviceId));
    if (q.state) where.push(eq(tables.commands.state, q.state));
    if (q.kind) where.push(eq(tables.commands.kind, q.kind));
    if (q.before !== undefined) where.push(lt(tables.commands.issuedAt, q.before));
    const rows = await this.deps.db
      .select()
      .from(tables.commands)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(tables.commands.issuedAt), desc(tables.commands.seq))
      .limit(Math.min(Math.max(q.limit ?? 100, 1), 10_000));
    return rows.map(toRecord);
  }

  async countByState(): Promise<Record<CommandState, number>> {
    const out: Record<CommandState, number> = { queued: 0, delivered: 0, ok: 0, failed: 0, rejected: 0, expired: 0 };
    const rs = await this.deps.client.execute('SELECT state, count(*) AS n FROM commands GROUP BY state');
    for (const r of rs.rows) out[String(r.state) as CommandState] = Number(r.n);
    return out;
  }
}
