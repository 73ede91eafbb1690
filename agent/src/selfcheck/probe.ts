// What every self-check probe returns: a status, the measured latency, the evidence, and what to do, in French and English.

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The probe families, also the names `plugsrv selfcheck --only` takes. */
export const PROBE_KINDS = ['dns', 'tcp', 'tls', 'proxy', 'ntp', 'clock', 'lan', 'disk'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface Remediation {
  readonly fr: string;
  readonly en: string;
}

export interface ProbeResult {
  /** Stable id of the check, e.g. `tls:storage.googleapis.com:443`. */
  readonly id: string;
  readonly kind: ProbeKind;
  /** What was checked, for a person: `storage.googleapis.com:443/tcp`. */
  readonly target: string;
  readonly status: CheckStatus;
  /** Time the probe took (or the protocol's own figure, e.g. the NTP round trip), in ms. */
  readonly latencyMs: number;
  /** Short machine-stable reason: `ok`, `nxdomain`, `servfail`, `timeout`, `refused`, `reset`, `intercepted`, ... */
  readonly reason: string;
  /** What was observed, for the IT contact and the helpdesk (addresses, issuer, offset ...). */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Present when status is not ok: the sentence that says what to open or fix, naming host, port and protocol. */
  readonly remediation?: Remediation;
}

/** A probe is a function of its inputs (injected clock, resolver, sockets) that never throws: failures are results. */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  if (statuses.includes('fail')) return 'fail';
  if (statuses.includes('warn')) return 'warn';
  return 'ok';
}
