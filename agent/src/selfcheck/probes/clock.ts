// Clock sanity: the system time must be plausible and not behind the newest signed metadata the box has seen.
import type { ProbeResult } from '../probe.js';

/** Earliest plausible time: this software did not exist before. A clock before it has lost its RTC. */
export const EARLIEST_PLAUSIBLE = Date.UTC(2026, 0, 1);
const TOLERANCE_MS = 5 * 60_000;

export interface ClockProbeInput {
  now: number;
  /** Newest `signed` time seen in verified metadata (TUF timestamp), when the sync has run. */
  newestSignedAt?: number;
  /** Earliest expiry among the trusted metadata, when known. */
  metadataExpiresAt?: number;
}

export function probeClock(input: ClockProbeInput): ProbeResult {
  const base = { id: 'clock:system', kind: 'clock' as const, target: 'system clock', latencyMs: 0 };
  const evidence = {
    now: new Date(input.now).toISOString(),
    newestSignedAt: input.newestSignedAt ? new Date(input.newestSignedAt).toISOString() : null,
    metadataExpiresAt: input.metadataExpiresAt ? new Date(input.metadataExpiresAt).toISOString() : null,
  };
  if (input.now < EARLIEST_PLAUSIBLE) {
    return {
      ...base,
      status: 'fail',
      reason: 'clock-unset',
      evidence,
      remediation: {
        en: `The system clock says ${evidence.now}, which is impossible: the clock lost its time (RTC battery?). Let NTP (UDP 123) through so the box can set it.`,
        fr: `L'horloge indique ${evidence.now}, ce qui est impossible : elle a perdu l'heure (pile RTC ?). Laissez passer NTP (UDP 123) pour que le boîtier se remette à l'heure.`,
      },
    };
  }
  if (input.newestSignedAt !== undefined && input.now + TOLERANCE_MS < input.newestSignedAt) {
    return {
      ...base,
      status: 'fail',
      reason: 'clock-behind-metadata',
      evidence,
      remediation: {
        en: `The system clock (${evidence.now}) is behind signed metadata created at ${evidence.newestSignedAt}: the clock is wrong. Let NTP (UDP 123) through and check the time source.`,
        fr: `L'horloge (${evidence.now}) est en retard sur des métadonnées signées le ${evidence.newestSignedAt} : elle est fausse. Laissez passer NTP (UDP 123) et vérifiez la source de temps.`,
      },
    };
  }
  if (input.metadataExpiresAt !== undefined && input.now > input.metadataExpiresAt) {
    return {
      ...base,
      status: 'warn',
      reason: 'metadata-expired',
      evidence,
      remediation: {
        en: `The signed catalog expired at ${evidence.metadataExpiresAt}: new updates cannot be verified until the next sync succeeds. Check the HTTPS (TCP 443) flows and the clock.`,
        fr: `Le catalogue signé a expiré le ${evidence.metadataExpiresAt} : les nouvelles mises à jour ne peuvent pas être vérifiées avant la prochaine synchronisation. Vérifiez les flux HTTPS (TCP 443) et l'horloge.`,
      },
    };
  }
  return { ...base, status: 'ok', reason: input.newestSignedAt ? 'ok' : 'no-signed-metadata-yet', evidence };
}
