// Metadata lifetimes: parsing "root=365d,targets=90d" specs and turning a duration into a TUF expiry date.
import { AgentError, ErrorCode } from '../../errors.js';
import { ROLES, type RoleName } from './layout.js';

export type Expiries = Record<RoleName, string>;

export const DEFAULT_EXPIRIES: Expiries = { root: '365d', targets: '90d', snapshot: '7d', timestamp: '1d' };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^([1-9][0-9]{0,5})([smhdw])$/;

/** A duration such as `90d`, `12h`, `2w` in milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new AgentError(ErrorCode.CONFIG, `"${text}" is not a duration: write a positive number and a unit s, m, h, d or w, such as 90d`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

function isRole(name: string): name is RoleName {
  return (ROLES as readonly string[]).includes(name);
}

/** `root=365d,timestamp=1d`: the roles given override the defaults. */
export function parseExpiries(spec: string | undefined, base: Expiries = DEFAULT_EXPIRIES): Expiries {
  const out: Expiries = { ...base };
  if (spec === undefined || spec.trim() === '') return out;
  for (const part of spec.split(',')) {
    const [role, duration, extra] = part.split('=').map((s) => s.trim());
    if (role === undefined || duration === undefined || extra !== undefined || !isRole(role)) {
      throw new AgentError(ErrorCode.CONFIG, `--expires: "${part}" should be ROLE=DURATION with ROLE one of ${ROLES.join(', ')}`);
    }
    parseDuration(duration);
    out[role] = duration;
  }
  return out;
}

/** The TUF `expires` value (ISO 8601, whole seconds, UTC) `duration` after `now`. */
export function expiresAt(now: Date, duration: string): string {
  return new Date(now.getTime() + parseDuration(duration)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
