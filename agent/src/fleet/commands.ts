// Runs the fleet's signed commands: verify (pure) -> persist the seq (with the command's own state change) -> act -> result.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { DeviceMessage, PolicyDocument } from '../../../lib/fleet/protocol.js';
import type { Logger } from '../../../lib/log/index.js';
import type { AgentDb } from '../db/index.js';
import { checkCommand, type AcceptedCommand } from './command-check.js';
import type { DeviceIdentity } from './identity.js';
import {
  acceptedQuery,
  finishCommand,
  finishedQuery,
  findCommand,
  lastSeqQuery,
  lockQuery,
  markResultSent,
  policyQuery,
  pruneCommands,
  readLastSeq,
  readPolicy,
  runningCommands,
  unlockQuery,
  unsentResults,
  type CommandRow,
} from './state.js';
import { markWipePending, type WipeRequest } from './wipe.js';

export type ResultMessage = Extract<DeviceMessage, { type: 'result' }>;

export interface CommandOutcome {
  status: 'ok' | 'failed';
  detail: string;
  data?: unknown;
}

/** What commands act on: the agent's running parts, injected so tests can drive them. */
export interface CommandAdapters {
  /** Re-reads the lock from the DB at once (the serve role's watcher), so package routes answer 423 without waiting a poll. */
  refreshLock(): Promise<void>;
  /** Stops a sync run in flight (the lock pauses the sync). */
  pauseSync(reason: string): void;
  /** A sync run now, whatever the window; resolves when it ends. */
  syncNow(): Promise<CommandOutcome>;
  /** A self-check now; its data is the summary /v1/status shows. */
  selfcheckNow(): Promise<CommandOutcome>;
  /** Runs fleet.rebootCommand; rejects when it cannot be run or exits non-zero. */
  reboot(): Promise<void>;
  /** Applies a policy to the running parts; returns what it changed, for the result's detail. */
  applyPolicy(policy: PolicyDocument): string;
  collectLogs(lines: number): Promise<CommandOutcome>;
  /** After a wipe or retire result went out: stop serving, erase, exit (the marker is already durable). */
  wipeNow(request: WipeRequest): void;
  /** This boot's id (/proc/sys/kernel/random/boot_id), to tell a reboot that happened from one that was interrupted. */
  bootId(): string | undefined;
}

export interface CommandRunnerDeps {
  db: AgentDb;
  dataDir: string;
  log: Logger;
  clock: () => number;
  identity: () => DeviceIdentity;
  /** Sends a message on the device socket; true once it was written, false when there is no connection. */
  send(msg: DeviceMessage): Promise<boolean>;
  adapters: CommandAdapters;
}

const MAX_DETAIL = 4000;
const clip = (s: string): string => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 1)}…` : s);

export function resultOf(row: CommandRow): ResultMessage {
  return {
    type: 'result',
    commandId: row.id,
    seq: row.seq,
    status: row.status === 'ok' ? 'ok' : 'failed',
    detail: clip(row.detail),
    ...(row.data !== null ? { data: JSON.parse(row.data) as unknown } : {}),
  };
}

export class CommandRunner {
  private queue: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private keyCache: { pem: string; key: KeyObject } | undefined;

  constructor(private readonly deps: CommandRunnerDeps) {}

  private commandKey(): KeyObject {
    const pem = this.deps.identity().commandKeyPem;
    if (this.keyCache?.pem !== pem) this.keyCache = { pem, key: createPublicKey(pem) };
    return this.keyCache.key;
  }

  /** Handles one `command` message. Commands are accepted one at a time in arrival order; long ones then run alongside. */
  handle(raw: unknown): Promise<void> {
    const next = this.queue.then(() => this.accept(raw));
    this.queue = next.catch((err: unknown) => this.deps.log.error('fleet: a command could not be handled', { error: err }));
    return this.queue;
  }

  /** Resolves when every command received so far was accepted and every long one finished (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queue;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async accept(raw: unknown): Promise<void> {
    const { db, log } = this.deps;
    const identity = this.deps.identity();
    const now = this.deps.clock();
    const lastSeq = await readLastSeq(db, identity.deviceId);
    const verdict = checkCommand({ command: raw, commandKey: this.commandKey(), deviceId: identity.deviceId, lastSeq, now });
    if (!verdict.accepted) {
      let detail = `${verdict.code}: ${verdict.message}`;
      if (verdict.code === 'E_COMMAND_REPLAY' && verdict.commandId) {
        const seen = await findCommand(db, verdict.commandId);
        if (seen) detail += ` (command ${seen.id} was already run: ${seen.status})`;
      }
      log.warn('fleet: command rejected', { code: verdict.code, commandId: verdict.commandId, seq: verdict.seq, reason: verdict.message });
      await this.deps.send({ type: 'result', commandId: verdict.commandId, seq: verdict.seq, status: 'rejected', detail: clip(detail) });
      return;
    }
    const cmd = verdict.command;
    log.info('fleet: command accepted', { commandId: cmd.id, seq: cmd.seq, kind: cmd.kind });
    const base = { id: cmd.id, deviceId: identity.deviceId, seq: cmd.seq, kind: cmd.kind, receivedAt: now };
    const seqQ = lastSeqQuery(db, identity.deviceId, cmd.seq, now);

    switch (cmd.kind) {
      case 'lock': {
        const reason = cmd.args.reason as string;
        await db.batch([seqQ, lockQuery(db, reason, cmd.id, now), finishedQuery(db, { ...base, status: 'ok', detail: 'locked', data: { locked: true, reason } })]);
        await this.deps.adapters.refreshLock();
        this.deps.adapters.pauseSync('device locked by fleet operations');
        break;
      }
      case 'unlock':
        await db.batch([seqQ, unlockQuery(db), finishedQuery(db, { ...base, status: 'ok', detail: 'unlocked', data: { locked: false } })]);
        await this.deps.adapters.refreshLock();
        break;
      case 'set-policy': {
        const policy = cmd.args.policy as PolicyDocument;
        const current = await readPolicy(db);
        if (current && policy.version < current.version) {
          await db.batch([seqQ, finishedQuery(db, { ...base, status: 'failed', detail: `E_POLICY_VERSION: policy version ${policy.version} is older than the applied version ${current.version}; publish a new version instead.` })]);
          break;
        }
        await db.batch([seqQ, policyQuery(db, policy, now), finishedQuery(db, { ...base, status: 'ok', detail: `policy version ${policy.version} stored`, data: { policyVersion: policy.version } })]);
        let applied: string;
        try {
          applied = this.deps.adapters.applyPolicy(policy);
        } catch (err) {
          applied = `stored; applying it live failed (${(err as Error).message}), it applies at the next start`;
          log.error('fleet: policy stored but not applied live', { version: policy.version, error: err });
        }
        await finishCommand(db, cmd.id, { status: 'ok', detail: clip(`policy version ${policy.version}: ${applied}`), data: { policyVersion: policy.version } }, this.deps.clock());
        break;
      }
      case 'wipe':
      case 'retire': {
        // The marker first: whatever happens from here (kill, power cut), the next start finishes the wipe.
        const request: WipeRequest = { requestedAt: now, why: cmd.kind, commandId: cmd.id };
        await markWipePending(this.deps.dataDir, request);
        await db.batch([seqQ, lockQuery(db, `${cmd.kind} ordered by fleet operations`, cmd.id, now), finishedQuery(db, { ...base, status: 'ok', detail: `${cmd.kind}: erasing store, state and identity` })]);
        await this.deps.adapters.refreshLock();
        this.deps.adapters.pauseSync(`${cmd.kind} ordered by fleet operations`);
        await this.sendStored(cmd.id);
        this.deps.adapters.wipeNow(request);
        return;
      }
      default: {
        const bootId = cmd.kind === 'reboot' ? this.deps.adapters.bootId() : undefined;
        await db.batch([seqQ, acceptedQuery(db, { ...base, ...(bootId ? { detail: `boot:${bootId}` } : {}) })]);
        const run = this.execute(cmd)
          .catch((err: unknown): CommandOutcome => ({ status: 'failed', detail: `${(err as { code?: string }).code ?? 'E_COMMAND_FAILED'}: ${(err as Error).message}` }))
          .then(async (outcome) => {
            await finishCommand(db, cmd.id, { ...outcome, detail: clip(outcome.detail) }, this.deps.clock());
            log.info('fleet: command finished', { commandId: cmd.id, kind: cmd.kind, status: outcome.status });
            await this.sendStored(cmd.id);
          })
          .catch((err: unknown) => log.error('fleet: command result not recorded', { commandId: cmd.id, error: err }))
          .finally(() => this.inFlight.delete(run));
        this.inFlight.add(run);
        return;
      }
    }
    await this.sendStored(cmd.id);
    await pruneCommands(db).catch(() => undefined);
  }

  private async execute(cmd: AcceptedCommand): Promise<CommandOutcome> {
    const a = this.deps.adapters;
    switch (cmd.kind) {
      case 'sync-now':
        return a.syncNow();
      case 'selfcheck-now':
        return a.selfcheckNow();
      case 'collect-logs':
        return a.collectLogs(cmd.args.lines as number);
      case 'reboot':
        await a.reboot();
        return { status: 'ok', detail: 'reboot requested' };
      default:
        return { status: 'failed', detail: `E_COMMAND_ARGS: ${cmd.kind} is not run this way` };
    }
  }

  /** Sends the stored result of a command; marks it sent once it is written to the socket. */
  private async sendStored(id: string): Promise<void> {
    const row = await findCommand(this.deps.db, id);
    if (!row || row.status === 'running') return;
    if (await this.deps.send(resultOf(row))) await markResultSent(this.deps.db, id);
  }

  /** After a (re)connection: every finished result the fleet may not have, oldest first. */
  async resendUnsent(): Promise<number> {
    const rows = await unsentResults(this.deps.db, this.deps.identity().deviceId);
    let sent = 0;
    for (const row of rows) {
      if (!(await this.deps.send(resultOf(row)))) break;
      await markResultSent(this.deps.db, row.id);
      sent++;
    }
    return sent;
  }

  /**
   * At start: commands a previous process accepted but never finished. A reboot whose boot id changed did its job;
   * anything else was cut short and is reported failed (the fleet may send it again as a new command).
   */
  async recoverInterrupted(): Promise<void> {
    const bootId = this.deps.adapters.bootId();
    for (const row of await runningCommands(this.deps.db)) {
      const before = /^boot:(.+)$/.exec(row.detail)?.[1];
      const outcome: CommandOutcome =
        row.kind === 'reboot' && before && bootId && before !== bootId
          ? { status: 'ok', detail: 'the device rebooted' }
          : { status: 'failed', detail: `E_COMMAND_INTERRUPTED: the agent stopped before ${row.kind} finished (restart, power cut or crash); send it again if still needed.` };
      await finishCommand(this.deps.db, row.id, outcome, this.deps.clock());
      this.deps.log.warn('fleet: a command was interrupted by a restart', { commandId: row.id, kind: row.kind, status: outcome.status });
    }
  }

  async policyVersion(): Promise<number> {
    return (await readPolicy(this.deps.db))?.version ?? 0;
  }

  async lastSeq(): Promise<number> {
    return readLastSeq(this.deps.db, this.deps.identity().deviceId);
  }
}
