// Bootstrap tokens `pbt_<id>_<secret>` (pure): minting, parsing, and what an enrollment attempt with one amounts to.
import { bootstrapToken } from '../../../lib/fleet/protocol.js';
import { formatCredential, newCredential, parseCredential, type Credential } from '../auth/index.js';
import { ErrorCode, FleetError } from '../errors.js';

export const TOKEN_PREFIX = 'pbt';

export function newBootstrapToken(random?: (n: number) => Buffer): { credential: Credential; text: string } {
  const credential = random ? newCredential(random) : newCredential();
  return { credential, text: formatCredential(TOKEN_PREFIX, credential) };
}

export function parseBootstrapToken(text: string): Credential | undefined {
  return bootstrapToken.safeParse(text).success ? parseCredential(TOKEN_PREFIX, text) : undefined;
}

/** What the fleet knows of a token when a device presents it. */
export interface TokenRecord {
  readonly dealerCode: string;
  readonly serial: string | null;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export const UNKNOWN_TOKEN_MESSAGE =
  'the bootstrap token is not known to this fleet; check it was copied whole, or ask the fleet operator for a new one (plugsrv-fleet tokens create).';

/**
 * Decides an enrollment attempt from the token's record (undefined: unknown id or wrong secret). Order: unknown,
 * used (even if also expired: "used" tells the operator more), expired, serial mismatch. Throws the contract's code.
 */
export function checkToken(record: TokenRecord | undefined, serial: string, now: number): void {
  if (!record) throw new FleetError(ErrorCode.TOKEN_UNKNOWN, UNKNOWN_TOKEN_MESSAGE);
  if (record.usedAt !== null) {
    throw new FleetError(ErrorCode.TOKEN_USED, `this bootstrap token was already used on ${new Date(record.usedAt).toISOString()}; a token enrolls one device once. Ask the fleet operator for a new token.`);
  }
  if (record.expiresAt <= now) {
    throw new FleetError(ErrorCode.TOKEN_EXPIRED, `this bootstrap token expired on ${new Date(record.expiresAt).toISOString()}; ask the fleet operator for a new token.`);
  }
  if (record.serial !== null && record.serial !== serial) {
    throw new FleetError(ErrorCode.SERIAL_MISMATCH, `this bootstrap token is for the unit with serial ${record.serial}, not ${serial}; use the token printed for this unit.`);
  }
}

/** Lifetime of a new token: the requested one, or the default, never beyond the maximum. */
export function tokenExpiry(now: number, requestedHours: number | undefined, defaults: { defaultHours: number; maxDays: number }): number {
  const hours = requestedHours ?? defaults.defaultHours;
  if (!(hours > 0) || hours > defaults.maxDays * 24) {
    throw new FleetError(ErrorCode.BAD_REQUEST, `a token lifetime must be more than 0 and at most ${defaults.maxDays * 24} hours (enroll.tokenMaxDays), not ${hours}.`);
  }
  return now + Math.round(hours * 3_600_000);
}
