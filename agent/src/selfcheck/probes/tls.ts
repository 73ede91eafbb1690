// TLS probe: handshakes with an outbound HTTPS host and reports interception (forbidden), bad chains, pins, names, dates and network failures.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect, rootCertificates, type TLSSocket } from 'node:tls';
import type { ProbeResult, Remediation } from '../probe.js';
import { chainEvidence, judgeChain, parseCerts, splitPem, walkPeerChain, type ChainEntry, type Verdict } from './tls-chain.js';

/** The OS trust store on Debian, used when no trustStore is given. */
export const OS_TRUST_STORE = '/etc/ssl/certs/ca-certificates.crt';
export const DEFAULT_TLS_TIMEOUT_MS = 10_000;

export interface TlsProbeOptions {
  /** SNI and the name the certificate must carry. */
  readonly host: string;
  readonly port?: number;
  /** Test hook: connect to this address instead of resolving host (e.g. 127.0.0.1). */
  readonly connectAddress?: string;
  /** Deadline for TCP connect + handshake, in ms. */
  readonly timeoutMs?: number;
  /** PEM CA certificates the box trusts; default: the OS store if readable, else Node's bundled Mozilla roots. */
  readonly trustStore?: readonly string[];
  /** PEM roots considered public CAs; default Node's bundled Mozilla roots. */
  readonly publicRoots?: readonly string[];
  /** base64 SHA-256 SPKI pins; when non-empty, one certificate of the presented chain must match. */
  readonly pins?: readonly string[];
  /** Substrings of the CA organisation names expected for this host (any one must match a CA of the chain). */
  readonly expectedIssuers?: readonly string[];
}

interface Handshake {
  readonly latencyMs: number;
  readonly chain: ChainEntry[];
  readonly verdict: Verdict;
  readonly protocol: string | null;
  readonly cipher: string;
  readonly authorizationError: string | undefined;
}

type Outcome =
  | { readonly kind: 'done'; readonly handshake: Handshake }
  | { readonly kind: 'timeout'; readonly latencyMs: number }
  | { readonly kind: 'aborted'; readonly latencyMs: number }
  | { readonly kind: 'error'; readonly latencyMs: number; readonly code: string | undefined; readonly message: string };

/** Handshakes with `opts.host` and judges what it presented. Never throws: every failure is a result. */
export async function probeTls(opts: TlsProbeOptions, signal?: AbortSignal): Promise<ProbeResult> {
  const port = opts.port ?? 443;
  try {
    const trustStore = opts.trustStore ? [...opts.trustStore] : await defaultTrustStore();
    const outcome = await handshake(opts, port, trustStore, signal);
    return toResult(opts, port, outcome);
  } catch (err) {
    return toResult(opts, port, { kind: 'error', latencyMs: 0, code: undefined, message: (err as Error).message });
  }
}

/** The OS trust store (Debian bundle), or Node's bundled roots when it cannot be read. */
export async function defaultTrustStore(): Promise<string[]> {
  try {
    const certs = splitPem(await readFile(OS_TRUST_STORE, 'utf8'));
    if (certs.length > 0) return certs;
  } catch {
    // not readable: fall back to Node's bundled roots
  }
  return [...rootCertificates];
}

function authErrorCode(socket: TLSSocket): string | undefined {
  const e: unknown = socket.authorizationError;
  if (typeof e === 'string') return e;
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message;
  return undefined;
}

function handshake(opts: TlsProbeOptions, port: number, trustStore: string[], signal: AbortSignal | undefined): Promise<Outcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (signal?.aborted) return Promise.resolve({ kind: 'aborted', latencyMs: 0 });
  const publicRoots = parseCerts(opts.publicRoots ?? rootCertificates);

  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const socket = connect({
      host: opts.connectAddress ?? opts.host,
      port,
      servername: isIP(opts.host) === 0 ? opts.host : undefined,
      ca: trustStore,
      rejectUnauthorized: false,
      // The name is checked by judgeChain, so authorizationError only speaks of the chain.
      checkServerIdentity: () => undefined,
    });
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: 'aborted', latencyMs: elapsed() });
    const timer = setTimeout(() => finish({ kind: 'timeout', latencyMs: elapsed() }), opts.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS);
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.once('secureConnect', () => {
      const latencyMs = elapsed();
      try {
        const authorizationError = socket.authorized ? undefined : authErrorCode(socket);
        const chain = walkPeerChain(socket.getPeerCertificate(true));
        const verdict = judgeChain({
          host: opts.host,
          chain,
          authorizationError,
          publicRoots,
          trustStore,
          pins: opts.pins ?? [],
          expectedIssuers: opts.expectedIssuers ?? [],
          now: new Date(),
        });
        finish({
          kind: 'done',
          handshake: {
            latencyMs,
            chain: chainEvidence(chain),
            verdict,
            protocol: socket.getProtocol(),
            cipher: socket.getCipher().name,
            authorizationError,
          },
        });
      } catch (err) {
        finish({ kind: 'error', latencyMs, code: undefined, message: (err as Error).message });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', latencyMs: elapsed(), code: err.code, message: err.message }));
    socket.once('close', () => finish({ kind: 'error', latencyMs: elapsed(), code: undefined, message: 'connection closed before the TLS handshake completed' }));
  });
}

function toResult(opts: TlsProbeOptions, port: number, outcome: Outcome): ProbeResult {
  const { host } = opts;
  const where = `${host}:${port}`;
  const base = { id: `tls:${where}`, kind: 'tls' as const, target: `${where}/tcp` };
  const fail = (reason: string, latencyMs: number, evidence: Record<string, unknown>, remediation: Remediation): ProbeResult => ({
    ...base,
    status: 'fail',
    latencyMs,
    reason,
    evidence: { host, port, ...(opts.connectAddress ? { connectAddress: opts.connectAddress } : {}), ...evidence },
    remediation,
  });

  if (outcome.kind === 'aborted') {
    return fail('aborted', outcome.latencyMs, {}, {
      en: `The TLS check of ${where} (TCP) was cancelled before it finished; run the self-check again.`,
      fr: `La vérification TLS de ${where} (TCP) a été interrompue avant la fin ; relancez l'autodiagnostic.`,
    });
  }
  if (outcome.kind === 'timeout') {
    const ms = opts.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS;
    return fail('timeout', outcome.latencyMs, { timeoutMs: ms }, {
      en: `The TLS handshake with ${where} did not complete within ${ms} ms. Allow outbound TCP port ${port} to ${host} and make sure no firewall silently drops TLS for this name (SNI ${host}).`,
      fr: `La négociation TLS avec ${where} n'a pas abouti en ${ms} ms. Autorisez le port TCP ${port} sortant vers ${host} et vérifiez qu'aucun pare-feu ne bloque silencieusement le TLS pour ce nom (SNI ${host}).`,
    });
  }
  if (outcome.kind === 'error') {
    const evidence = { code: outcome.code, error: outcome.message };
    if (outcome.code === 'ECONNREFUSED') {
      return fail('refused', outcome.latencyMs, evidence, {
        en: `The TCP connection to ${where} was refused. Allow outbound TCP port ${port} to ${host} (HTTPS/TLS) on the firewall.`,
        fr: `La connexion TCP vers ${where} a été refusée. Autorisez le port TCP ${port} sortant vers ${host} (HTTPS/TLS) sur le pare-feu.`,
      });
    }
    if (outcome.code === 'ECONNRESET' || outcome.code === 'EPIPE') {
      return fail('reset', outcome.latencyMs, evidence, {
        en: `The TLS handshake with ${where} was reset, often by a firewall that cuts TLS by server name (SNI ${host}). Allow ${host} on outbound TCP port ${port} in URL/application filtering.`,
        fr: `La négociation TLS avec ${where} a été coupée (reset), souvent par un pare-feu qui filtre le TLS par nom de serveur (SNI ${host}). Autorisez ${host} sur le port TCP ${port} sortant dans le filtrage d'URL/applicatif.`,
      });
    }
    if (outcome.code === 'ETIMEDOUT') {
      return fail('timeout', outcome.latencyMs, evidence, {
        en: `The TCP connection to ${where} timed out. Allow outbound TCP port ${port} to ${host} on the firewall.`,
        fr: `La connexion TCP vers ${where} a expiré. Autorisez le port TCP ${port} sortant vers ${host} sur le pare-feu.`,
      });
    }
    return fail('tls-error', outcome.latencyMs, evidence, tlsErrorText(where, host, port, outcome.code ?? outcome.message));
  }

  const h = outcome.handshake;
  const leaf = h.chain[0];
  const top = h.chain[h.chain.length - 1];
  const evidence: Record<string, unknown> = {
    subject: leaf?.subject,
    issuer: leaf?.issuer,
    rootIssuer: top?.issuer,
    chain: h.chain.map((c) => ({ subject: c.subject, sha256: c.sha256 })),
    protocol: h.protocol,
    cipher: h.cipher,
    ...(h.authorizationError ? { authorizationError: h.authorizationError } : {}),
  };
  const v = h.verdict;
  const exempt = {
    en: 'Exempt this host from TLS inspection (no TLS bridging or SSL forward proxy is allowed) or exempt this box entirely.',
    fr: "Exemptez cet hôte de l'inspection TLS (aucun pontage TLS ni proxy SSL sortant n'est autorisé) ou exemptez entièrement ce boîtier.",
  };
  switch (v.reason) {
    case 'ok':
      return { ...base, status: 'ok', latencyMs: h.latencyMs, reason: 'ok', evidence: { host, port, ...evidence } };
    case 'intercepted':
      return fail('intercepted', h.latencyMs, { ...evidence, interceptor: v.interceptor, via: v.via }, v.via === 'unknown-ca'
        ? {
            en: `TLS to ${where} is intercepted by '${v.interceptor}'. ${exempt.en}`,
            fr: `La connexion TLS vers ${where} est interceptée par « ${v.interceptor} ». ${exempt.fr}`,
          }
        : {
            en: `TLS to ${where} is intercepted by '${v.interceptor}', a private CA installed in this box's trust store, not a public CA. ${exempt.en} Then remove that CA from the box.`,
            fr: `La connexion TLS vers ${where} est interceptée par « ${v.interceptor} », une autorité privée installée dans le magasin de confiance de ce boîtier, pas une autorité publique. ${exempt.fr} Retirez ensuite cette autorité du boîtier.`,
          });
    case 'trust-store-outdated':
      return fail('trust-store-outdated', h.latencyMs, { ...evidence, publicCa: v.publicCa }, {
        en: `TLS to ${where} is signed by the public CA '${v.publicCa}', which this box's trust store lacks: the box's CA certificates are out of date. Update the box (ca-certificates); this is not interception.`,
        fr: `La connexion TLS vers ${where} est signée par l'autorité publique « ${v.publicCa} », absente du magasin de confiance de ce boîtier : ses certificats d'autorité sont périmés. Mettez le boîtier à jour (ca-certificates) ; ce n'est pas une interception.`,
      });
    case 'expired': {
      const now = new Date().toISOString();
      const d = { ...evidence, cert: v.cert, notBefore: v.notBefore, notAfter: v.notAfter, boxTime: now };
      return fail('expired', h.latencyMs, d, v.notYetValid
        ? {
            en: `TLS to ${where} presents a certificate ('${v.cert}') that is not valid before ${v.notBefore}, while this box's clock says ${now}: the box clock is probably wrong. Let the box reach its NTP servers (UDP port 123) and check again.`,
            fr: `La connexion TLS vers ${where} présente un certificat (« ${v.cert} ») valable seulement à partir du ${v.notBefore}, alors que l'horloge du boîtier indique ${now} : l'horloge du boîtier est probablement fausse. Laissez le boîtier joindre ses serveurs NTP (port UDP 123) et relancez la vérification.`,
          }
        : {
            en: `TLS to ${where} presents a certificate ('${v.cert}') that expired on ${v.notAfter}, while this box's clock says ${now}. First check the box clock (NTP, UDP port 123): a wrong date makes valid certificates look expired. If the clock is right, a device on the path (proxy, firewall) is presenting a stale certificate: exempt ${host} from TLS inspection.`,
            fr: `La connexion TLS vers ${where} présente un certificat (« ${v.cert} ») expiré depuis le ${v.notAfter}, alors que l'horloge du boîtier indique ${now}. Vérifiez d'abord l'horloge du boîtier (NTP, port UDP 123) : une date fausse fait paraître expirés des certificats valides. Si l'horloge est juste, un équipement sur le chemin (proxy, pare-feu) présente un certificat périmé : exemptez ${host} de l'inspection TLS.`,
          });
    }
    case 'name-mismatch':
      return fail('name-mismatch', h.latencyMs, { ...evidence, presented: v.presented }, {
        en: `TLS to ${where} presents a certificate for '${v.presented}', not for ${host}: a proxy, firewall block page or captive portal is probably answering in its place. Allow ${host} on outbound TCP port ${port} without redirection or TLS inspection.`,
        fr: `La connexion TLS vers ${where} présente un certificat pour « ${v.presented} » et non pour ${host} : un proxy, une page de blocage de pare-feu ou un portail captif répond probablement à sa place. Autorisez ${host} sur le port TCP ${port} sortant sans redirection ni inspection TLS.`,
      });
    case 'pin-mismatch':
      return fail('pin-mismatch', h.latencyMs, { ...evidence, pins: opts.pins }, {
        en: `TLS to ${where} presents a certificate issued by '${v.issuer}' whose keys match none of the pinned keys for this host: something on the path is replacing the certificate. ${exempt.en}`,
        fr: `La connexion TLS vers ${where} présente un certificat émis par « ${v.issuer} » dont les clés ne correspondent à aucune des clés épinglées pour cet hôte : un équipement sur le chemin remplace le certificat. ${exempt.fr}`,
      });
    case 'unexpected-issuer': {
      const expected = (opts.expectedIssuers ?? []).join("' or '");
      return fail('unexpected-issuer', h.latencyMs, { ...evidence, expectedIssuers: opts.expectedIssuers }, {
        en: `TLS to ${where} presents a certificate issued by '${v.issuer}' instead of '${expected}': something on the path is probably replacing the certificate. ${exempt.en}`,
        fr: `La connexion TLS vers ${where} présente un certificat émis par « ${v.issuer} » au lieu de « ${expected} » : un équipement sur le chemin remplace probablement le certificat. ${exempt.fr}`,
      });
    }
    case 'tls-error':
      return fail('tls-error', h.latencyMs, { ...evidence, error: v.detail }, tlsErrorText(where, host, port, v.detail));
  }
}

function tlsErrorText(where: string, host: string, port: number, detail: string): Remediation {
  return {
    en: `TLS to ${where} failed (${detail}). Make sure outbound TCP port ${port} to ${host} is allowed and that nothing on the path alters TLS.`,
    fr: `La connexion TLS vers ${where} a échoué (${detail}). Vérifiez que le port TCP ${port} sortant vers ${host} est autorisé et que rien sur le chemin ne modifie le TLS.`,
  };
}
