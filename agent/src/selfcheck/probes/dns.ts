// DNS probe: resolves a host through the configured resolver and tells NXDOMAIN, SERVFAIL, refusal and timeout apart.
import { Resolver } from 'node:dns/promises';
import type { ProbeResult } from '../probe.js';

export interface DnsProbeOptions {
  host: string;
  /** What the address is needed for, named in the remediation: `443/tcp`. */
  forPort?: string;
  /** Resolver servers (`ip` or `ip:port`); empty = the system's (/etc/resolv.conf). */
  servers?: readonly string[];
  timeoutMs?: number;
  clock?: () => number;
}

export interface DnsProbeResult extends ProbeResult {
  /** Resolved addresses (IPv4 first), empty on failure. */
  readonly addresses: readonly string[];
}

const REASONS: Record<string, string> = {
  ENOTFOUND: 'nxdomain',
  ENODATA: 'no-address',
  ESERVFAIL: 'servfail',
  EREFUSED: 'refused',
  ETIMEOUT: 'timeout',
  ECONNREFUSED: 'resolver-unreachable',
  ECANCELLED: 'timeout',
};

function remediation(host: string, reason: string, forPort: string): { fr: string; en: string } {
  switch (reason) {
    case 'nxdomain':
    case 'no-address':
      return {
        en: `The DNS server says ${host} does not exist (${reason === 'nxdomain' ? 'NXDOMAIN' : 'no address'}). Check the site's DNS forwarding: ${host} must resolve to its public address for ${forPort}.`,
        fr: `Le serveur DNS répond que ${host} n'existe pas (${reason === 'nxdomain' ? 'NXDOMAIN' : 'aucune adresse'}). Vérifiez la résolution DNS du site : ${host} doit être résolu vers son adresse publique pour ${forPort}.`,
      };
    case 'servfail':
      return {
        en: `The site's DNS server failed to resolve ${host} (SERVFAIL): its upstream DNS is unreachable or broken. Allow the DNS server to reach the internet, then ${host} for ${forPort}.`,
        fr: `Le serveur DNS du site n'a pas pu résoudre ${host} (SERVFAIL) : son DNS amont est injoignable ou en panne. Autorisez le serveur DNS à joindre internet, puis ${host} pour ${forPort}.`,
      };
    case 'refused':
      return {
        en: `The site's DNS server refuses to resolve ${host} for this box (REFUSED). Allow this box to use the DNS server, or give it one that answers (UDP/TCP 53).`,
        fr: `Le serveur DNS du site refuse de résoudre ${host} pour ce boîtier (REFUSED). Autorisez ce boîtier à l'utiliser ou indiquez-lui un serveur DNS qui répond (UDP/TCP 53).`,
      };
    default:
      return {
        en: `No answer from the DNS server for ${host} (${reason}). Check that this box can reach its DNS server on UDP/TCP 53 and that the server resolves internet names.`,
        fr: `Pas de réponse du serveur DNS pour ${host} (${reason}). Vérifiez que ce boîtier joint son serveur DNS en UDP/TCP 53 et que celui-ci résout les noms internet.`,
      };
  }
}

export async function probeDns(opts: DnsProbeOptions, signal?: AbortSignal): Promise<DnsProbeResult> {
  const clock = opts.clock ?? Date.now;
  const timeout = opts.timeoutMs ?? 3000;
  const resolver = new Resolver({ timeout: Math.max(200, Math.floor(timeout / 2)), tries: 2 });
  if (opts.servers && opts.servers.length > 0) resolver.setServers([...opts.servers]);
  const onAbort = (): void => resolver.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => resolver.cancel(), timeout);
  const start = clock();
  const base = { id: `dns:${opts.host}`, kind: 'dns' as const, target: `${opts.host}/dns` };
  try {
    let addresses: string[] = [];
    try {
      addresses = await resolver.resolve4(opts.host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENODATA') throw err;
      addresses = await resolver.resolve6(opts.host);
    }
    return { ...base, status: 'ok', latencyMs: clock() - start, reason: 'ok', evidence: { addresses }, addresses };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const reason = REASONS[code] ?? 'dns-error';
    return {
      ...base,
      status: 'fail',
      latencyMs: clock() - start,
      reason,
      evidence: { code, servers: resolver.getServers() },
      remediation: remediation(opts.host, reason, opts.forPort ?? 'HTTPS (TCP 443)'),
      addresses: [],
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
