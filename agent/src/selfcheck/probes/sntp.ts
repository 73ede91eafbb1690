// The NTP self-check: one SNTP client exchange over UDP with node:dgram, turned into a ProbeResult (never throws).
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeResult, Remediation } from '../probe.js';
import {
  checkReply,
  clockSample,
  decodePacket,
  encodeRequest,
  msToNtp,
  ntpToMs,
  refIdText,
  type NtpPacket,
  type NtpTimestamp,
} from './sntp-packet.js';

export interface LookupAddress {
  readonly address: string;
  readonly family: number;
}

export interface SntpOptions {
  /** Host name or address of the NTP server. */
  server: string;
  /** UDP port, 123 by default. */
  port?: number;
  /** Bound on the whole probe, name resolution included (5000 ms by default). */
  timeoutMs?: number;
  /** Wall clock, ms since the Unix epoch; injected so tests can skew it (Date.now by default). */
  clock?: () => number;
  /** |offset| above this is a warning (1000 ms by default). */
  warnOffsetMs?: number;
  /** |offset| above this is a failure (60 000 ms by default). */
  failOffsetMs?: number;
  /** Name resolution, `dns.promises.lookup` by default. */
  lookup?: (host: string) => Promise<LookupAddress>;
}

const DEFAULT_PORT = 123;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_WARN_OFFSET_MS = 1000;
const DEFAULT_FAIL_OFFSET_MS = 60_000;

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ENODATA', 'ESERVFAIL', 'EAI_ADDRFAMILY']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN']);

/** Why an exchange stopped early: our own deadline or the caller's signal. */
type Stop = { readonly kind: 'timeout' } | { readonly kind: 'aborted' };

type Exchange =
  | { readonly kind: 'reply'; readonly reply: NtpPacket; readonly unsynchronised: boolean; readonly t1: number; readonly t4: number }
  | { readonly kind: 'kiss'; readonly code: string; readonly reply: NtpPacket }
  | { readonly kind: 'error'; readonly error: NodeJS.ErrnoException }
  | { readonly kind: 'stopped'; readonly stop: Stop; readonly bogus: string | undefined };

function defaultLookup(host: string): Promise<LookupAddress> {
  return dnsPromises.lookup(host);
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function errnoOf(err: unknown): NodeJS.ErrnoException {
  if (err instanceof Error) return err;
  return new Error(String(err));
}

function unreachable(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function seconds(ms: number): string {
  const s = Math.abs(ms) / 1000;
  return s >= 10 ? s.toFixed(0) : s.toFixed(1);
}

/** Resolves when the stop signal fires; never rejects. */
function whenStopped(stop: AbortSignal): Promise<Stop> {
  return new Promise((resolve) => {
    const done = (): void => resolve((stop.reason as Stop | undefined) ?? { kind: 'aborted' });
    if (stop.aborted) done();
    else stop.addEventListener('abort', done, { once: true });
  });
}

/** One request, then wait for a reply that passes the checks; bogus replies are noted and ignored until the deadline. */
function exchange(address: string, family: number, port: number, clock: () => number, stop: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    let settled = false;
    let sent: NtpTimestamp | undefined;
    let t1 = 0;
    let bogus: string | undefined;

    const finish = (outcome: Exchange): void => {
      if (settled) return;
      settled = true;
      stop.removeEventListener('abort', onStop);
      socket.removeAllListeners('message');
      // Keep an error listener: a late ICMP error must not become an uncaught 'error' event.
      socket.on('error', () => undefined);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(outcome);
    };
    const onStop = (): void => finish({ kind: 'stopped', stop: (stop.reason as Stop | undefined) ?? { kind: 'aborted' }, bogus });

    socket.on('error', (err) => finish({ kind: 'error', error: err }));
    socket.on('message', (msg) => {
      const t4 = clock();
      if (sent === undefined) return;
      const reply = decodePacket(msg);
      if (reply === undefined) {
        bogus = `short reply (${msg.length} bytes)`;
        return;
      }
      const check = checkReply(reply, sent);
      if (check.kind === 'bogus') bogus = check.why;
      else if (check.kind === 'kiss') finish({ kind: 'kiss', code: check.code, reply });
      else finish({ kind: 'reply', reply, unsynchronised: check.unsynchronised, t1, t4 });
    });

    if (stop.aborted) {
      onStop();
      return;
    }
    stop.addEventListener('abort', onStop, { once: true });

    // A connected socket: the kernel drops datagrams from other peers and reports ICMP port unreachable as ECONNREFUSED.
    try {
      socket.connect(port, address, () => {
        if (settled) return;
        t1 = clock();
        sent = msToNtp(t1);
        socket.send(encodeRequest(sent), (err) => {
          if (err) finish({ kind: 'error', error: err });
        });
      });
    } catch (err) {
      finish({ kind: 'error', error: errnoOf(err) });
    }
  });
}

interface RemediationFacts {
  readonly server: string;
  readonly port: number;
  readonly offsetMs?: number;
  readonly kissCode?: string;
}

function remediationFor(reason: string, x: RemediationFacts): Remediation {
  const { server, port } = x;
  const en = `NTP (UDP ${port})`;
  const fr = `le NTP (UDP ${port})`;
  switch (reason) {
    case 'dns':
      return {
        en: `The NTP server name ${server} does not resolve: check the DNS settings of this box, or set the NTP server (UDP ${port}) by a name or address that resolves.`,
        fr: `Le nom du serveur NTP ${server} ne se résout pas : vérifiez les réglages DNS de ce boîtier, ou indiquez un serveur NTP (UDP ${port}) dont le nom ou l'adresse se résout.`,
      };
    case 'refused':
      return {
        en: `Nothing answers ${en} at ${server} (port unreachable): allow outbound ${en} from this box to ${server}, or set a reachable NTP server.`,
        fr: `Rien ne répond sur ${fr} chez ${server} (port injoignable) : autorisez ${fr} sortant de ce boîtier vers ${server}, ou configurez un serveur NTP joignable.`,
      };
    case 'kiss-o-death': {
      const code = x.kissCode ?? '';
      if (code === 'RATE')
        return {
          en: `${server} asks this box to query ${en} less often (kiss code RATE): wait before checking again, or set another NTP server.`,
          fr: `${server} demande à ce boîtier d'interroger ${fr} moins souvent (code RATE) : attendez avant de revérifier, ou configurez un autre serveur NTP.`,
        };
      return {
        en: `${server} refuses to serve ${en} to this box (kiss code ${code}): ask its administrator to allow this box, or set another NTP server.`,
        fr: `${server} refuse de servir ${fr} à ce boîtier (code ${code}) : demandez à son administrateur d'autoriser ce boîtier, ou configurez un autre serveur NTP.`,
      };
    }
    case 'bogus-reply':
      return {
        en: `${server} answered ${en} with a reply that does not match the request (spoofed, stale or intercepted): check for a firewall that rewrites NTP (UDP ${port}) to ${server}, or set another NTP server.`,
        fr: `${server} a répondu sur ${fr} par une réponse qui ne correspond pas à la requête (usurpée, périmée ou interceptée) : cherchez un pare-feu qui réécrit le NTP (UDP ${port}) vers ${server}, ou configurez un autre serveur NTP.`,
      };
    case 'unsynchronised':
      return {
        en: `${server} answers ${en} but is not synchronised itself: set a synchronised NTP server, or fix the time source of ${server}.`,
        fr: `${server} répond sur ${fr} mais n'est pas lui-même synchronisé : configurez un serveur NTP synchronisé, ou réparez la source de temps de ${server}.`,
      };
    case 'clock-offset': {
      const off = x.offsetMs ?? 0;
      const side = off > 0 ? { en: 'behind', fr: 'en retard' } : { en: 'ahead', fr: 'en avance' };
      return {
        en: `The clock is off by ${seconds(off)} s (${side.en} of ${server}): check that ${en} reaches ${server}; the signed update metadata will be rejected if the clock is wrong.`,
        fr: `L'horloge est décalée de ${seconds(off)} s (${side.fr} sur ${server}) : vérifiez que ${fr} atteint ${server} ; les métadonnées signées des mises à jour seront rejetées si l'horloge est fausse.`,
      };
    }
    case 'aborted':
      return {
        en: `The check of ${en} to ${server} was interrupted before it finished: run the self-check again.`,
        fr: `La vérification du NTP (UDP ${port}) vers ${server} a été interrompue avant la fin : relancez l'auto-diagnostic.`,
      };
    case 'timeout':
    case 'unreachable':
    default:
      return {
        en: `Allow outbound ${en} from this box to ${server}, or set a reachable NTP server.`,
        fr: `Autorisez ${fr} sortant de ce boîtier vers ${server}, ou configurez un serveur NTP joignable.`,
      };
  }
}

/** Queries one NTP server once and rates the local clock against it. Never throws. */
export async function probeSntp(opts: SntpOptions, signal?: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  const server = opts.server;
  const port = opts.port ?? DEFAULT_PORT;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = opts.clock ?? Date.now;
  const warnOffsetMs = opts.warnOffsetMs ?? DEFAULT_WARN_OFFSET_MS;
  const failOffsetMs = opts.failOffsetMs ?? DEFAULT_FAIL_OFFSET_MS;
  const lookup = opts.lookup ?? defaultLookup;
  const where = hostPort(server, port);
  const base = { id: `ntp:${where}`, kind: 'ntp' as const, target: `${where}/udp` };
  const elapsed = (): number => round3(performance.now() - started);
  const texts = { server, port };

  const failed = (reason: string, evidence: Record<string, unknown>, extra?: { kissCode?: string }): ProbeResult => ({
    ...base,
    status: 'fail',
    latencyMs: elapsed(),
    reason,
    evidence: { server, port, ...evidence },
    remediation: remediationFor(reason, { ...texts, ...extra }),
  });

  // One stop signal for the whole probe: our deadline or the caller's abort, whichever comes first.
  const stopper = new AbortController();
  const timer = setTimeout(() => stopper.abort({ kind: 'timeout' } satisfies Stop), timeoutMs);
  const onAbort = (): void => stopper.abort({ kind: 'aborted' } satisfies Stop);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  try {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return failed('invalid', { error: `bad port ${port}` });

    let resolved: LookupAddress;
    if (isIP(server) !== 0) {
      resolved = { address: server, family: isIP(server) };
    } else {
      const looked = await Promise.race([
        lookup(server).then(
          (a) => ({ kind: 'ok' as const, a }),
          (e: unknown) => ({ kind: 'err' as const, e: errnoOf(e) }),
        ),
        whenStopped(stopper.signal),
      ]);
      if (looked.kind === 'timeout' || looked.kind === 'aborted') return failed(looked.kind, { stage: 'dns' });
      if (looked.kind === 'err') return failed('dns', { error: looked.e.code ?? looked.e.message });
      resolved = looked.a;
    }
    const address = resolved.address;

    const outcome = await exchange(address, resolved.family, port, clock, stopper.signal);
    switch (outcome.kind) {
      case 'stopped':
        if (outcome.bogus !== undefined) return failed('bogus-reply', { address, rejected: outcome.bogus });
        return failed(outcome.stop.kind, { address });
      case 'error': {
        const code = outcome.error.code ?? '';
        const reason = code === 'ECONNREFUSED' ? 'refused' : UNREACHABLE_CODES.has(code) ? 'unreachable' : DNS_CODES.has(code) ? 'dns' : 'error';
        return failed(reason, { address, error: code || outcome.error.message });
      }
      case 'kiss':
        return failed(
          'kiss-o-death',
          { address, kissCode: outcome.code, stratum: 0, leap: outcome.reply.leap },
          { kissCode: outcome.code },
        );
      case 'reply': {
        const { reply, unsynchronised, t1, t4 } = outcome;
        const sample = clockSample(t1, ntpToMs(reply.receive), ntpToMs(reply.transmit), t4);
        const offsetMs = round3(sample.offsetMs);
        const delayMs = round3(Math.max(0, sample.delayMs));
        const evidence = {
          server,
          port,
          address,
          offsetMs,
          delayMs,
          stratum: reply.stratum,
          leap: reply.leap,
          version: reply.version,
          refId: refIdText(reply.stratum, reply.refId),
        };
        const abs = Math.abs(sample.offsetMs);
        let status: ProbeResult['status'] = 'ok';
        let reason = 'ok';
        if (unsynchronised) {
          status = 'warn';
          reason = 'unsynchronised';
        } else if (abs > failOffsetMs) {
          status = 'fail';
          reason = 'clock-offset';
        } else if (abs > warnOffsetMs) {
          status = 'warn';
          reason = 'clock-offset';
        }
        const result: ProbeResult = { ...base, status, latencyMs: delayMs, reason, evidence };
        return status === 'ok' ? result : { ...result, remediation: remediationFor(reason, { ...texts, offsetMs: sample.offsetMs }) };
      }
      default:
        return unreachable(outcome);
    }
  } catch (err) {
    const e = errnoOf(err);
    return failed('error', { error: e.code ?? e.message });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
