// The line's HTTPS client for the fleet API (scope provision, plus read for device lookups and reports): mint and
// revoke bootstrap tokens, find a unit's device by serial, retire a device, fetch the licence report. The API key
// comes from PLUGSRV_FLEET_API_KEY only and never appears in a message.
import { apiRequest, ApiTransportError, type ApiAnswer } from '../../../lib/https-api.js';
import { ErrorCode, LineError } from '../errors.js';

export interface LineFleetOptions {
  url: string;
  ca?: string | undefined;
  apiKey: string | undefined;
  timeoutMs?: number;
}

export interface MintedToken {
  id: string;
  token: string;
  dealerCode: string;
  serial: string | null;
  expiresAt: string;
}

export interface FleetDevice {
  id: string;
  serial: string;
  dealerCode: string;
  status: string;
}

type Answer = ApiAnswer;

export class LineFleet {
  constructor(private readonly opts: LineFleetOptions) {}

  private send(method: string, path: string, body?: unknown): Promise<Answer> {
    const key = this.opts.apiKey;
    if (!key) {
      return Promise.reject(
        new LineError(ErrorCode.CONFIG, 'no fleet API key: set PLUGSRV_FLEET_API_KEY to a key of scope provision made with "plugsrv-fleet keys create --scope provision" (never on the command line).'),
      );
    }
    let url: URL;
    try {
      url = new URL(path, this.opts.url);
    } catch {
      return Promise.reject(new LineError(ErrorCode.CONFIG, `--fleet-url must be the fleet's https URL such as https://fleet.example.com:8443, not ${JSON.stringify(this.opts.url)}.`));
    }
    if (url.protocol !== 'https:') return Promise.reject(new LineError(ErrorCode.CONFIG, `the fleet is reached over https only; ${this.opts.url} is not https.`));
    return apiRequest({ method, url, ca: this.opts.ca, bearer: key, body, accept: 'application/json, text/csv', timeoutMs: this.opts.timeoutMs ?? 30_000 }).catch((err: unknown) => {
      if (!(err instanceof ApiTransportError)) throw err;
      if (err.kind === 'tls') throw new LineError(ErrorCode.FLEET_UNREACHABLE, `the fleet at ${this.opts.url} is not trusted (${err.code}): pass the fleet's root CA with --fleet-ca.`, { cause: err.cause });
      throw new LineError(ErrorCode.FLEET_UNREACHABLE, `cannot reach the fleet at ${this.opts.url} (${err.code}); check the URL and the line's network, then run the step again.`, { cause: err.cause });
    });
  }

  /** The fleet's own error (`{code, message}`) for an answer >= 400, as E_FLEET; `what` names the request. */
  private static refusal(res: Answer, what: string): LineError {
    let err: { code?: string; message?: string } = {};
    try {
      err = JSON.parse(res.text) as typeof err;
    } catch {
      /* not the API's JSON */
    }
    const hint = res.status === 401 || res.status === 403 ? ' Check PLUGSRV_FLEET_API_KEY: the line needs a key of scope provision.' : '';
    return new LineError(ErrorCode.FLEET, `the fleet refused ${what}: ${err.code ?? `HTTP ${res.status}`} ${err.message ?? ''}${hint}`.trim(), { details: { status: res.status, fleetCode: err.code } });
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    if (res.status >= 400) throw LineFleet.refusal(res, `${method} ${path}`);
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new LineError(ErrorCode.FLEET, `the fleet answered ${method} ${path} with HTTP ${res.status} and no JSON; is ${this.opts.url} the fleet?`);
    }
  }

  /** A single-use bootstrap token for this dealer and serial (its secret is returned once). */
  mintToken(dealerCode: string, serial: string, note: string, expiresInHours?: number): Promise<MintedToken> {
    return this.json<MintedToken>('POST', '/v1/tokens', { dealerCode, serial, note, ...(expiresInHours !== undefined ? { expiresInHours } : {}) });
  }

  /** Revokes a token that was minted but is not going to be used (a personalisation redone). */
  async revokeToken(id: string): Promise<void> {
    await this.json('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  /** The fleet device enrolled with this serial, if any (looked up among the dealer's devices). */
  async deviceBySerial(dealerCode: string, serial: string): Promise<FleetDevice | null> {
    const { devices } = await this.json<{ devices: FleetDevice[] }>('GET', `/v1/devices?dealerCode=${encodeURIComponent(dealerCode)}`);
    return devices.find((d) => d.serial === serial && d.status !== 'retired') ?? devices.find((d) => d.serial === serial) ?? null;
  }

  /** Asks the fleet to retire the device: wiped and locked out when it next connects (202), or at once if offline-retirable. */
  retire(deviceId: string): Promise<{ status: string }> {
    return this.json<{ status: string }>('POST', `/v1/devices/${encodeURIComponent(deviceId)}/retire`, {});
  }

  /** The monthly licence report as the fleet's CSV. */
  async activeUnitsCsv(from: string, to: string): Promise<string> {
    const res = await this.send('GET', `/v1/reports/active-units?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=csv`);
    if (res.status >= 400) throw LineFleet.refusal(res, 'the licence report');
    return res.text;
  }
}
