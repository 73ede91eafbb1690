// Decides whether a signed command from the fleet may run on this device (pure: values in, a verdict out).
import type { KeyObject } from 'node:crypto';
import { commandArgs, commandPayload, signedCommand, type CommandKind, type CommandPayload } from '../../../lib/fleet/protocol.js';
import { commandKeyId, verifyCommandSignature } from '../../../lib/fleet/signing.js';

export type CommandRejectCode = 'E_COMMAND_SIGNATURE' | 'E_COMMAND_REPLAY' | 'E_COMMAND_EXPIRED' | 'E_COMMAND_DEVICE' | 'E_COMMAND_ARGS';

/** A command that passed every check, with its arguments parsed (defaults applied) for its kind. */
export interface AcceptedCommand extends CommandPayload {
  readonly args: Record<string, unknown>;
}

export type CommandVerdict =
  | { readonly accepted: true; readonly command: AcceptedCommand }
  | {
      readonly accepted: false;
      readonly code: CommandRejectCode;
      readonly message: string;
      /** From the payload when it could be read (even unverified), so the fleet can match the rejection; else ''. */
      readonly commandId: string;
      readonly seq: number;
    };

export interface CommandCheckInput {
  /** The `command` field of a fleet `command` message, as received. */
  readonly command: unknown;
  /** The pinned Ed25519 command key (from enrollment). */
  readonly commandKey: KeyObject;
  readonly deviceId: string;
  /** Highest seq this device accepted (0 before the first command). */
  readonly lastSeq: number;
  /** ms since the epoch. */
  readonly now: number;
}

/** What a payload says about itself, read without trusting it: only to label a rejection. */
function label(payloadText: string | undefined): { commandId: string; seq: number } {
  if (payloadText === undefined) return { commandId: '', seq: 0 };
  try {
    const raw = JSON.parse(payloadText) as { id?: unknown; seq?: unknown };
    return {
      commandId: typeof raw.id === 'string' ? raw.id.slice(0, 64) : '',
      seq: typeof raw.seq === 'number' && Number.isInteger(raw.seq) && raw.seq >= 0 ? raw.seq : 0,
    };
  } catch {
    return { commandId: '', seq: 0 };
  }
}

/**
 * Checks, in this order: envelope shape, key id and Ed25519 signature over the exact payload text (E_COMMAND_SIGNATURE),
 * payload shape (E_COMMAND_ARGS), addressee (E_COMMAND_DEVICE), sequence (seq <= lastSeq: a replay or a reordering,
 * E_COMMAND_REPLAY), expiry (E_COMMAND_EXPIRED), then the arguments of its kind (E_COMMAND_ARGS).
 * Nothing unverified is trusted: the signature is checked before the payload is even parsed as a command.
 */
export function checkCommand(input: CommandCheckInput): CommandVerdict {
  const envelope = signedCommand.safeParse(input.command);
  const payloadText =
    typeof input.command === 'object' && input.command !== null && typeof (input.command as { payload?: unknown }).payload === 'string'
      ? ((input.command as { payload: string }).payload)
      : undefined;
  const reject = (code: CommandRejectCode, message: string): CommandVerdict => ({ accepted: false, code, message, ...label(payloadText) });

  if (!envelope.success) return reject('E_COMMAND_SIGNATURE', 'not a signed command (payload, signature, keyId expected)');
  const expectedKeyId = commandKeyId(input.commandKey);
  if (envelope.data.keyId !== expectedKeyId) {
    return reject('E_COMMAND_SIGNATURE', `signed with key ${envelope.data.keyId}, but this device trusts command key ${expectedKeyId} only (a key rotation needs a re-enrollment)`);
  }
  if (!verifyCommandSignature(envelope.data, input.commandKey)) return reject('E_COMMAND_SIGNATURE', 'the signature does not match the payload under the pinned command key');

  let json: unknown;
  try {
    json = JSON.parse(envelope.data.payload);
  } catch {
    return reject('E_COMMAND_ARGS', 'the signed payload is not JSON');
  }
  const payload = commandPayload.safeParse(json);
  if (!payload.success) {
    const issues = payload.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return reject('E_COMMAND_ARGS', `the signed payload is not a command: ${issues}`);
  }
  const p = payload.data;
  if (p.deviceId !== input.deviceId) return reject('E_COMMAND_DEVICE', `addressed to ${p.deviceId}, this device is ${input.deviceId}`);
  if (p.seq <= input.lastSeq) return reject('E_COMMAND_REPLAY', `seq ${p.seq} is not above the last accepted seq ${input.lastSeq} (a replayed or reordered command)`);
  if (input.now > p.expiresAt) return reject('E_COMMAND_EXPIRED', `expired at ${new Date(p.expiresAt).toISOString()}; this device's clock says ${new Date(input.now).toISOString()}`);
  const args = commandArgs[p.kind as CommandKind].safeParse(p.args);
  if (!args.success) {
    const issues = args.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ');
    return reject('E_COMMAND_ARGS', `bad arguments for ${p.kind}: ${issues}`);
  }
  return { accepted: true, command: { ...p, args: args.data as Record<string, unknown> } };
}
