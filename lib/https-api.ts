// One HTTPS request to an operator API with a bearer key and a pinned CA (the fleet CLI and the production line
// both talk to the fleet this way); connection and TLS failures come back classified, each caller words its error.
import { request } from 'node:https';

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface ApiRequest {
  method: string;
  url: URL;
  /** PEM of the CA to trust; the system's CAs when absent. */
  ca?: string | undefined;
  bearer: string;
  body?: unknown;
  accept?: string;
  timeoutMs?: number;
}

/** A failure before any answer: `tls` when the server's certificate is not trusted, `network` otherwise. */
export class ApiTransportError extends Error {
  constructor(
    readonly kind: 'tls' | 'network',
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(`${kind} error ${code}`, options);
    this.name = 'ApiTransportError';
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|ERR_SSL|ERR_TLS/;

export function apiRequest(r: ApiRequest): Promise<ApiAnswer> {
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  return new Promise((resolve, reject) => {
    const req = request(
      r.url,
      {
        method: r.method,
        ca: r.ca,
        headers: {
          Authorization: `Bearer ${r.bearer}`,
          Accept: r.accept ?? 'application/json',
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
        timeout: r.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      reject(new ApiTransportError(TLS_CODES.test(code) ? 'tls' : 'network', code, { cause: err }));
    });
    req.end(payload);
  });
}
