// The operator CLI's HTTPS client for the fleet API: bearer key, pinned root CA, errors mapped to stable codes.
import { apiRequest, ApiTransportError, type ApiAnswer } from '../../../lib/https-api.js';
import { ErrorCode, FleetError, isErrorCode } from '../errors.js';

export interface ClientOptions {
  /** https://host:port of the fleet. */
  url: string;
  /** PEM of the CA that issued the fleet's server certificate; the system's CAs when absent. */
  ca?: string | undefined;
  /** `pak_...`; read from PLUGSRV_FLEET_API_KEY by the CLI. */
  apiKey?: string | undefined;
  timeoutMs?: number;
}

export type ApiResponse = ApiAnswer;

export class FleetClient {
  constructor(private readonly opts: ClientOptions) {}

  private send(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    if (!this.opts.apiKey) {
      return Promise.reject(
        new FleetError(ErrorCode.UNAUTHORIZED, 'no API key: set PLUGSRV_FLEET_API_KEY to a key made with "plugsrv-fleet keys create" (never pass it as a flag: other users would see it in ps).'),
      );
    }
    let url: URL;
    try {
      url = new URL(path, this.opts.url);
    } catch {
      return Promise.reject(new FleetError(ErrorCode.CONFIG, `--url must be the fleet's https URL such as https://fleet.example.com:8443, not ${JSON.stringify(this.opts.url)}.`));
    }
    if (url.protocol !== 'https:') return Promise.reject(new FleetError(ErrorCode.CONFIG, `the fleet is reached over https only; --url ${this.opts.url} is not https.`));
    const apiKey = this.opts.apiKey;
    return apiRequest({ method, url, ca: this.opts.ca, bearer: apiKey, body, timeoutMs: this.opts.timeoutMs ?? 30_000 }).catch((err: unknown) => {
      if (!(err instanceof ApiTransportError)) throw err;
      if (err.kind === 'tls') {
        throw new FleetError(ErrorCode.TLS, `the fleet at ${url.origin} presented a certificate this machine does not trust (${err.code}); pass the fleet's root CA with --ca FILE (it is <dataDir>/ca/root.pem on the fleet).`, { cause: err.cause });
      }
      throw new FleetError(ErrorCode.UNREACHABLE, `cannot reach the fleet at ${url.origin} (${err.code}); check --url or PLUGSRV_FLEET_URL and that plugsrv-fleet serve runs.`, { cause: err.cause });
    });
  }

  /** Throws the API's own error (same code and message) for any status >= 400. */
  private static check(res: ApiResponse): ApiResponse {
    if (res.status < 400) return res;
    let body: { code?: unknown; message?: unknown } | undefined;
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      body = undefined;
    }
    const code = typeof body?.code === 'string' && isErrorCode(body.code) ? body.code : ErrorCode.API;
    const message = typeof body?.message === 'string' ? body.message : `the fleet answered ${res.status} with a body that is not an API error: ${res.text.slice(0, 200)}`;
    throw new FleetError(code, message, { details: { status: res.status } });
  }

  async json<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = FleetClient.check(await this.send(method, path, body));
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new FleetError(ErrorCode.API, `the fleet answered ${method} ${path} with something that is not JSON; is --url the fleet's API?`);
    }
  }

  async text(path: string): Promise<string> {
    return FleetClient.check(await this.send('GET', path)).text;
  }
}
