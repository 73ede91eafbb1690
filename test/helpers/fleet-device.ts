// Test helper: a scripted device for the fleet: P-256 key and CSR (@peculiar/x509), enrollment, and the mTLS WebSocket.
import { createPrivateKey, webcrypto } from 'node:crypto';
import { WebSocket } from 'ws';
import { EC_ALG, x509 } from '../../fleet/src/ca/index.js';
import type { EnrollResponse, FleetMessage } from '../../lib/fleet/protocol.js';
import { api, type ApiResult } from './fleet-process.js';

export interface DeviceKey {
  /** PKCS#8 PEM of the device's private key. */
  readonly keyPem: string;
  /** PEM PKCS#10 request signed with it. */
  readonly csrPem: string;
}

/** A fresh key and CSR; `alg` other than P-256 makes requests the fleet must refuse. */
export async function makeDeviceKey(alg: 'P-256' | 'P-384' | 'RSA' = 'P-256'): Promise<DeviceKey> {
  const params =
    alg === 'RSA'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : alg === 'P-384'
        ? { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }
        : EC_ALG;
  const keys = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=device', keys, signingAlgorithm: params });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: csr.toString('pem') };
}

export function inventoryOf(serial: string): Record<string, unknown> {
  return { agentVersion: '0.1.0-test', hostname: `box-${serial}`, os: 'Debian 12', macs: ['52:54:00:12:34:56'] };
}

export async function enrollDevice(fleet: { url: string; rootCa: string }, token: string, serial: string, key?: DeviceKey): Promise<{ res: ApiResult; key: DeviceKey; enrolled: EnrollResponse }> {
  const k = key ?? (await makeDeviceKey());
  const res = await api(fleet, 'POST', '/v1/enroll', { body: { token, serial, csr: k.csrPem, inventory: inventoryOf(serial) } });
  return { res, key: k, enrolled: res.json as EnrollResponse };
}

export interface Closed {
  code: number;
  reason: string;
}

/** A device socket that records every message and its close. */
export class DeviceSocket {
  readonly messages: FleetMessage[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];
  readonly ws: WebSocket;

  constructor(url: string, opts: { ca: string; cert?: string; key?: string }) {
    this.ws = new WebSocket(url, { ca: opts.ca, cert: opts.cert, key: opts.key });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), { status: res.statusCode })));
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as FleetMessage);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The next message of this type not yet taken (messages are taken in order), within `ms`. */
  async next<T extends FleetMessage['type']>(type: T, ms = 10_000): Promise<Extract<FleetMessage, { type: T }>> {
    const until = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.messages.splice(i, 1)[0] as Extract<FleetMessage, { type: T }>;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no ${type} message within ${ms} ms (have: ${JSON.stringify(this.messages).slice(0, 300)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  hello(lastSeq = 0, policyVersion = 1): void {
    this.send({ type: 'hello', protocol: 1, agentVersion: '0.1.0-test', lastSeq, policyVersion });
  }

  heartbeat(extra: Record<string, unknown> = {}): void {
    this.send({
      type: 'heartbeat',
      at: Date.now(),
      agentVersion: '0.1.0-test',
      catalogVersion: 7,
      lock: { locked: false, reason: '' },
      policyVersion: 1,
      sync: { state: 'idle', bytesDone: 0, bytesTotal: 0, lastRunAt: null, lastResult: null, packagesReady: 12 },
      storage: { totalBytes: 1000, freeBytes: 600, usedBytes: 400 },
      selfcheck: { at: null, status: 'ok', failed: [] },
      ...extra,
    });
  }

  close(): Promise<Closed> {
    this.ws.close(1000);
    return this.closed;
  }
}
