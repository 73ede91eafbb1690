// Pure analysis of a presented TLS chain: walk it, name its CAs, and judge it (interception, private CA, pins, issuers, name, dates).
import { X509Certificate, createHash } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';

/** OpenSSL verify codes meaning "the chain does not lead to a CA this box trusts". */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);
const DATE_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** One certificate of the presented chain, as the evidence shows it. */
export interface ChainEntry {
  /** `CN, O` of the subject. */
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint of the DER certificate, `AB:CD:...`. */
  readonly sha256: string;
}

/** Splits a PEM bundle (e.g. /etc/ssl/certs/ca-certificates.crt) into one PEM string per certificate. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Parses PEM certificates, skipping those that do not parse (a bad entry must not hide the others). */
export function parseCerts(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const one of splitPem(pem)) {
      try {
        out.push(new X509Certificate(one));
      } catch {
        // skipped: not a certificate
      }
    }
  }
  return out;
}

/**
 * The presented chain from `getPeerCertificate(true)`, leaf first, following `issuerCertificate` until it
 * refers to itself, is missing, or loops. Node appends the trust-store root when it found one.
 */
export function walkPeerChain(leaf: DetailedPeerCertificate | undefined): PeerCertificate[] {
  const out: PeerCertificate[] = [];
  const seen = new Set<string>();
  let cur: DetailedPeerCertificate | undefined = leaf;
  while (cur?.raw && !seen.has(cur.fingerprint256)) {
    out.push(cur);
    seen.add(cur.fingerprint256);
    const next: DetailedPeerCertificate | undefined = cur.issuerCertificate;
    if (!next || next === cur) break;
    cur = next;
  }
  return out;
}

function field(name: object | undefined, key: string): string | undefined {
  const v: unknown = name ? (name as Record<string, unknown>)[key] : undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(String).join(' + ');
  return undefined;
}

/** A person's name for a certificate subject or issuer: CN, with O added when the CN does not already say it. */
export function displayName(name: object | undefined): string {
  const cn = field(name, 'CN');
  const o = field(name, 'O');
  if (cn && o && !cn.toLowerCase().includes(o.toLowerCase())) return `${cn}, ${o}`;
  return cn ?? o ?? field(name, 'OU') ?? '(unnamed)';
}

/** `C=US\nO=Org\nCN=Name` (X509Certificate.subject) as a field object like PeerCertificate.subject. */
function parseDn(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function chainEvidence(chain: readonly PeerCertificate[]): ChainEntry[] {
  return chain.map((c) => ({ subject: displayName(c.subject), issuer: displayName(c.issuer), sha256: c.fingerprint256 }));
}

/** HPKP-style pin: base64 of the SHA-256 of the DER SubjectPublicKeyInfo. */
export function spkiPin(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

function sameKeyAndName(a: X509Certificate, b: X509Certificate): boolean {
  return a.subject === b.subject && a.publicKey.equals(b.publicKey);
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Whether the chain, read from the leaf up with every link's signature checked, reaches a public root: a
 * certificate with the name and key of a public root (which also covers cross-signed copies of it), or one
 * signed by a public root. Returns that root, or undefined for a chain anchored elsewhere (a private CA).
 */
export function publicAnchor(chain: readonly X509Certificate[], publicRoots: readonly X509Certificate[]): X509Certificate | undefined {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const same = publicRoots.find((r) => sameKeyAndName(cert, r));
    if (same) return same;
    const issuer = publicRoots.find((r) => signedBy(cert, r));
    if (issuer) return issuer;
    const next = chain[i + 1];
    if (!next || !signedBy(cert, next)) return undefined;
  }
  return undefined;
}

function names(cert: PeerCertificate): string[] {
  return [field(cert.subject, 'O'), field(cert.subject, 'CN')].filter((s): s is string => s !== undefined);
}

export type Verdict =
  | { readonly reason: 'ok' }
  /** `unknown-ca`: the chain leads to no CA this box trusts; `private-ca`: to a trusted CA that is not public. */
  | { readonly reason: 'intercepted'; readonly interceptor: string; readonly via: 'unknown-ca' | 'private-ca' }
  /** The chain is signed by a public CA this box's trust store lacks: the store is outdated, not intercepted. */
  | { readonly reason: 'trust-store-outdated'; readonly publicCa: string }
  | { readonly reason: 'expired'; readonly cert: string; readonly notBefore: string; readonly notAfter: string; readonly notYetValid: boolean }
  | { readonly reason: 'name-mismatch'; readonly presented: string }
  | { readonly reason: 'pin-mismatch'; readonly issuer: string }
  | { readonly reason: 'unexpected-issuer'; readonly issuer: string }
  | { readonly reason: 'tls-error'; readonly detail: string };

export interface JudgeInput {
  /** The name that must be on the certificate. */
  readonly host: string;
  /** Leaf first, as from walkPeerChain. */
  readonly chain: readonly PeerCertificate[];
  /** OpenSSL's verify result code against the trust store; undefined when the chain verified. */
  readonly authorizationError: string | undefined;
  readonly publicRoots: readonly X509Certificate[];
  /** PEM CAs the box trusts; only read when OpenSSL reports a date error, which hides whether the chain was anchored. */
  readonly trustStore: readonly string[];
  readonly pins: readonly string[];
  readonly expectedIssuers: readonly string[];
  readonly now: Date;
}

/** The verdict on a completed handshake, most serious finding first: interception, then dates, name, pins, issuers. */
export function judgeChain(input: JudgeInput): Verdict {
  const { chain, authorizationError: authErr } = input;
  const leaf = chain[0];
  const top = chain[chain.length - 1];
  if (!leaf || !top) return { reason: 'tls-error', detail: 'the server presented no certificate' };
  let x509: X509Certificate[];
  try {
    x509 = chain.map((c) => new X509Certificate(c.raw));
  } catch (err) {
    return { reason: 'tls-error', detail: `unparsable certificate: ${(err as Error).message}` };
  }
  /** Who signed the top of the chain: the interceptor's CA when it is one. */
  const topIssuer = displayName(top.issuer);
  const anchor = publicAnchor(x509, input.publicRoots);

  if (authErr !== undefined && UNTRUSTED_CODES.has(authErr)) {
    if (anchor) return { reason: 'trust-store-outdated', publicCa: displayName(parseDn(anchor.subject)) };
    return { reason: 'intercepted', interceptor: topIssuer, via: 'unknown-ca' };
  }
  // OpenSSL reports its last error: a date error can hide an untrusted chain, so then check the anchor here.
  const dateError = authErr !== undefined && DATE_CODES.has(authErr);
  if (dateError && !anchor && !publicAnchor(x509, parseCerts(input.trustStore))) {
    return { reason: 'intercepted', interceptor: topIssuer, via: 'unknown-ca' };
  }
  if ((authErr === undefined || dateError) && !anchor) return { reason: 'intercepted', interceptor: topIssuer, via: 'private-ca' };

  if (dateError) {
    const t = input.now.getTime();
    const bad = chain.find((c) => Date.parse(c.valid_to) < t || Date.parse(c.valid_from) > t) ?? leaf;
    return {
      reason: 'expired',
      cert: displayName(bad.subject),
      notBefore: new Date(bad.valid_from).toISOString(),
      notAfter: new Date(bad.valid_to).toISOString(),
      notYetValid: authErr === 'CERT_NOT_YET_VALID',
    };
  }
  const identity = checkServerIdentity(input.host, leaf);
  if (identity) return { reason: 'name-mismatch', presented: leaf.subjectaltname || displayName(leaf.subject) };
  if (authErr !== undefined) return { reason: 'tls-error', detail: authErr };

  if (input.pins.length > 0) {
    const pins = new Set(input.pins);
    if (!x509.some((c) => pins.has(spkiPin(c)))) return { reason: 'pin-mismatch', issuer: displayName(leaf.issuer) };
  }
  if (input.expectedIssuers.length > 0) {
    const wanted = input.expectedIssuers.map((s) => s.toLowerCase());
    const caNames = [field(leaf.issuer, 'O'), field(leaf.issuer, 'CN'), ...chain.slice(1).flatMap(names)]
      .filter((s): s is string => s !== undefined)
      .map((s) => s.toLowerCase());
    if (!wanted.some((w) => caNames.some((n) => n.includes(w)))) return { reason: 'unexpected-issuer', issuer: displayName(leaf.issuer) };
  }
  return { reason: 'ok' };
}
