// JSON over HTTPS to the fleet (enrollment, renewal): node:https with the fleet's CA pinned, optional client certificate.
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { systemErrorCode } from '../../../lib/errors.js';
import { AgentError, ErrorCode } from '../errors.js';
import { splitPemChain } from './identity.js';

export interface FleetTls {
  /** Trust anchors for the fleet's server certificate (PEM). */
  ca: string[];
  /** Client certificate chain (PEM) and key, for mTLS. */
  cert?: string;
  key?: string;
}

export interface JsonResponse {
  status: number;
  /** Parsed JSON, or undefined when the body was not JSON. */
  body: unknown;
  retryAfterSeconds?: number;
}

const MAX_BODY = 1024 * 1024;

/** `https://fleet.example/base` + `/v1/enroll`, keeping any base path. */
export function fleetEndpoint(fleetUrl: string, path: string): string {
  const url = new URL(fleetUrl);
  if (url.protocol !== 'https:') {
    throw new AgentError(ErrorCode.CONFIG, `fleet.url must be an https:// URL (the bootstrap token and certificates travel on it), not "${fleetUrl}".`);
  }
  return `${fleetUrl.replace(/\/+$/, '')}${path}`;
}

/** The certificates of fleet.caFile; empty when no file is set (the OS trust store is used then). */
export async function readCaFile(caFile: string): Promise<string[]> {
  if (caFile === '') return [];
  let text: string;
  try {
    text = await readFile(caFile, 'utf8');
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `cannot read fleet.caFile ${caFile}: ${(err as Error).message}. It holds the fleet CA given at provisioning; fix the path or the file's permissions.`, { cause: err });
  }
  const certs = splitPemChain(text);
  if (certs.length === 0) throw new AgentError(ErrorCode.CONFIG, `fleet.caFile ${caFile} holds no PEM certificate; it must hold the fleet CA given at provisioning.`);
  return certs;
}

/** Trust anchors for the fleet's servers: the provisioning CA file (or the OS store without one) plus the fleet root pinned at enrollment. */
export function fleetTrustAnchors(caFileCerts: readonly string[], pinnedRoot?: string): string[] {
  const base = caFileCerts.length > 0 ? [...caFileCerts] : [...rootCertificates];
  return pinnedRoot ? [...base, pinnedRoot] : base;
}

const TLS_TRUST_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);

/** A network failure, said so the operator knows whether to look at the network or at fleet.caFile. */
export function unreachable(url: string, err: unknown): AgentError {
  const code = systemErrorCode(err) ?? '';
  const why = TLS_TRUST_ERRORS.has(code)
    ? `the fleet's server certificate is not trusted (${code}): check fleet.caFile holds the fleet CA given at provisioning, and the clock`
    : `${code || (err as Error).message}: check the network, DNS and that outbound HTTPS (TCP 443) to the fleet is allowed`;
  return new AgentError(ErrorCode.FLEET_UNREACHABLE, `cannot reach the fleet at ${new URL(url).host}: ${why}.`, { cause: err, details: { errno: code } });
}

export function postJson(url: string, payload: unknown, tls: FleetTls, timeoutMs = 30_000): Promise<JsonResponse> {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        headers: { 'content-type': 'application/json', 'content-length': body.length, accept: 'application/json' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            req.destroy(new AgentError(ErrorCode.FLEET_PROTOCOL, `the fleet's answer from ${url} is larger than ${MAX_BODY} bytes.`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const retryAfter = Number(res.headers['retry-after']);
          resolve({ status: res.statusCode ?? 0, body: parsed, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}) });
        });
        res.on('error', (err) => reject(unreachable(url, err)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => reject(err instanceof AgentError ? err : unreachable(url, err)));
    req.end(body);
  });
}
