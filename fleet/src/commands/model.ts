// Commands (pure): who may send which, argument checks, lifetime, the signed payload, and the state machine.
import { commandArgs, commandKind, type CommandKind, type CommandPayload, type Scope } from '../../../lib/fleet/protocol.js';
import { randomId } from '../auth/index.js';
import { ErrorCode, FleetError } from '../errors.js';

export type CommandState = 'queued' | 'delivered' | 'ok' | 'failed' | 'rejected' | 'expired';
export type ResultStatus = 'ok' | 'failed' | 'rejected';
export type CommandEvent = { type: 'delivered' } | { type: 'result'; status: ResultStatus } | { type: 'expire' };

/**
 * Scope each kind needs. Wipe destroys a dealer's store: admin. Retire is what the production line does
 * for a replaced (RMA) unit: provision. The rest is day-to-day operation.
 */
export const COMMAND_SCOPE: Record<CommandKind, Scope> = {
  lock: 'operate',
  unlock: 'operate',
  'sync-now': 'operate',
  'selfcheck-now': 'operate',
  reboot: 'operate',
  'collect-logs': 'operate',
  'set-policy': 'admin',
  wipe: 'admin',
  retire: 'provision',
};

/** Kinds sent through POST /v1/devices/:id/commands and /v1/commands; set-policy goes through /v1/policies, retire through /v1/devices/:id/retire. */
export const DIRECT_KINDS: readonly CommandKind[] = ['lock', 'unlock', 'wipe', 'sync-now', 'selfcheck-now', 'reboot', 'collect-logs'];

export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 90 * 86_400;

export function parseKind(kind: unknown, allowed: readonly CommandKind[] = DIRECT_KINDS): CommandKind {
  const parsed = commandKind.safeParse(kind);
  if (!parsed.success) throw new FleetError(ErrorCode.BAD_REQUEST, `unknown command kind ${JSON.stringify(kind)}; one of ${allowed.join(', ')}.`);
  if (!allowed.includes(parsed.data)) {
    const where = parsed.data === 'set-policy' ? 'POST /v1/policies/{version}/assign' : 'POST /v1/devices/{id}/retire';
    throw new FleetError(ErrorCode.BAD_REQUEST, `${parsed.data} is sent with ${where}, not as a plain command.`);
  }
  return parsed.data;
}

/** Checks a kind's arguments against the contract (both ends use the same schema); defaults filled in. */
export function parseArgs(kind: CommandKind, args: unknown): Record<string, unknown> {
  const parsed = commandArgs[kind].safeParse(args ?? {});
  if (!parsed.success) {
    throw new FleetError(ErrorCode.BAD_REQUEST, `invalid arguments for ${kind}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as Record<string, unknown>;
}

/** A command's lifetime in ms: the requested one (60 s to 90 days) or the configured default. */
export function commandTtlMs(requestedSeconds: unknown, defaultHours: number): number {
  if (requestedSeconds === undefined || requestedSeconds === null) return defaultHours * 3_600_000;
  if (typeof requestedSeconds !== 'number' || !Number.isInteger(requestedSeconds) || requestedSeconds < MIN_TTL_SECONDS || requestedSeconds > MAX_TTL_SECONDS) {
    throw new FleetError(ErrorCode.BAD_REQUEST, `ttlSeconds must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}, not ${JSON.stringify(requestedSeconds)}.`);
  }
  return requestedSeconds * 1000;
}

export function newCommandId(random?: (n: number) => Buffer): string {
  return `cmd_${random ? randomId(26, random) : randomId(26)}`;
}

export function buildPayload(p: { id: string; deviceId: string; seq: number; kind: CommandKind; args: Record<string, unknown>; issuedAt: number; ttlMs: number }): CommandPayload {
  return { id: p.id, deviceId: p.deviceId, seq: p.seq, kind: p.kind, args: p.args, issuedAt: p.issuedAt, expiresAt: p.issuedAt + p.ttlMs };
}

export function isFinal(state: CommandState): boolean {
  return state === 'ok' || state === 'failed' || state === 'rejected';
}

/** Counted as pending: still to be delivered or answered. */
export function isPending(state: CommandState): boolean {
  return state === 'queued' || state === 'delivered';
}

/**
 * The next state, or undefined when the event does not apply (a duplicate result, a delivery after expiry).
 * A result after expiry is accepted: the device took the command in time and its answer is the truth.
 */
export function nextState(state: CommandState, event: CommandEvent): CommandState | undefined {
  if (isFinal(state)) return undefined;
  switch (event.type) {
    case 'delivered':
      return state === 'queued' || state === 'delivered' ? 'delivered' : undefined;
    case 'expire':
      return state === 'expired' ? undefined : 'expired';
    case 'result':
      return event.status;
  }
}

/** Whether a pending command should be (re)sent to a device that said it accepted up to `ackedSeq`. */
export function shouldSend(cmd: { state: CommandState; seq: number; expiresAt: number }, ackedSeq: number, now: number): boolean {
  return isPending(cmd.state) && cmd.seq > ackedSeq && cmd.expiresAt > now;
}
