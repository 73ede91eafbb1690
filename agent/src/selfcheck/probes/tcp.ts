// TCP connect probe: tells a refused port, a reset, an unreachable network and a silent drop (timeout) apart.
import { connect } from 'node:net';
import type { ProbeResult } from '../probe.js';

export interface TcpProbeOptions {
  host: string;
  /** Where to connect (an address from the DNS probe); defaults to `host`. */
  address?: string;
  port: number;
  timeoutMs?: number;
  clock?: () => number;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EACCES: 'blocked-locally',
  EPERM: 'blocked-locally',
};

function remediation(host: string, port: number, reason: string): { fr: string; en: string } {
  const what = {
    refused: ['the connection is refused (a firewall rejects it, or nothing listens)', 'la connexion est refusée (un pare-feu la rejette, ou rien n’écoute)'],
    reset: ['the connection is reset (a firewall cuts it)', 'la connexion est coupée (reset) par un pare-feu'],
    timeout: ['no answer (a firewall silently drops it)', 'aucune réponse (un pare-feu la bloque silencieusement)'],
    unreachable: ['the network is unreachable (no route: check the gateway)', 'le réseau est injoignable (pas de route : vérifiez la passerelle)'],
    'blocked-locally': ['this box’s own firewall blocks it', 'le pare-feu de ce boîtier la bloque'],
  }[reason] ?? [`it fails (${reason})`, `elle échoue (${reason})`];
  return {
    en: `Outbound TCP ${port} to ${host}: ${what[0]}. Allow outbound HTTPS (TCP ${port}) from this box to ${host} on the site firewall.`,
    fr: `Sortie TCP ${port} vers ${host} : ${what[1]}. Autorisez en sortie HTTPS (TCP ${port}) de ce boîtier vers ${host} sur le pare-feu du site.`,
  };
}

export function probeTcp(opts: TcpProbeOptions, signal?: AbortSignal): Promise<ProbeResult> {
  const clock = opts.clock ?? Date.now;
  const timeout = opts.timeoutMs ?? 3000;
  const base = { id: `tcp:${opts.host}:${opts.port}`, kind: 'tcp' as const, target: `${opts.host}:${opts.port}/tcp` };
  const address = opts.address ?? opts.host;
  const start = clock();
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: opts.port });
    let settled = false;
    const finish = (reason: string, code?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      const latencyMs = clock() - start;
      const evidence = { address, ...(code ? { code } : {}) };
      if (reason === 'ok') resolve({ ...base, status: 'ok', latencyMs, reason, evidence });
      else resolve({ ...base, status: 'fail', latencyMs, reason, evidence, remediation: remediation(opts.host, opts.port, reason) });
    };
    const onAbort = (): void => finish('timeout');
    const timer = setTimeout(() => finish('timeout'), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    socket.once('connect', () => finish('ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(REASONS[err.code ?? ''] ?? 'tcp-error', err.code));
  });
}
