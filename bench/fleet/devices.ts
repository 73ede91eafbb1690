// Bench worker: light simulated devices. Each holds one real mTLS WebSocket to the fleet, says hello, heartbeats,
// verifies every command's Ed25519 signature and answers it. Driven by the parent over IPC.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { commandPayload, fleetMessage, FLEET_PROTOCOL_VERSION, type DeviceMessage } from '../../lib/fleet/protocol.js';
import { verifyCommandSignature } from '../../lib/fleet/signing.js';

export interface DeviceCredentials {
  deviceId: string;
  certificate: string;
  key: string;
}

export interface WorkerSpec {
  socketUrl: string;
  ca: string;
  commandKey: string;
  heartbeatSeconds: number;
  /** Handshakes in flight at once while connecting. */
  connectConcurrency: number;
  devicesFile: string;
}

/** Messages to the parent. */
export type WorkerReport =
  | { type: 'connected'; count: number; failed: number; ms: number }
  | { type: 'command'; deviceId: string; commandId: string; kind: string; at: number; valid: boolean }
  | { type: 'heartbeats'; worker: number; sent: number }
  | { type: 'closed'; deviceId: string; code: number };

const send = (m: WorkerReport): void => void process.send?.(m);

function heartbeat(): DeviceMessage {
  return {
    type: 'heartbeat',
    at: Date.now(),
    agentVersion: 'bench',
    catalogVersion: 1,
    lock: { locked: false, reason: '' },
    policyVersion: 1,
    sync: { state: 'idle', bytesDone: 0, bytesTotal: 0, lastRunAt: null, lastResult: 'ok', packagesReady: 12 },
    storage: { totalBytes: 512e9, freeBytes: 300e9, usedBytes: 212e9 },
    selfcheck: { at: Date.now(), status: 'ok', failed: [] },
  };
}

class Device {
  private ws: WebSocket | undefined;
  private lastSeq = 0;

  constructor(
    private readonly creds: DeviceCredentials,
    private readonly spec: WorkerSpec,
    private readonly commandKey: KeyObject,
    private readonly counters: { heartbeats: number },
  ) {}

  connect(): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.spec.socketUrl, { cert: this.creds.certificate, key: this.creds.key, ca: this.spec.ca, handshakeTimeout: 60_000 });
      this.ws = ws;
      let opened = false;
      ws.once('open', () => {
        opened = true;
        ws.send(JSON.stringify({ type: 'hello', protocol: FLEET_PROTOCOL_VERSION, agentVersion: 'bench', lastSeq: this.lastSeq, policyVersion: 1 } satisfies DeviceMessage));
        // Heartbeats spread over the interval, as 5,000 real boxes booted at different times would be.
        const first = Math.random() * this.spec.heartbeatSeconds * 1000;
        setTimeout(() => {
          this.beat();
          setInterval(() => this.beat(), this.spec.heartbeatSeconds * 1000).unref();
        }, first).unref();
        resolve(true);
      });
      ws.on('message', (data) => this.onMessage(data.toString()));
      ws.once('error', () => {
        if (!opened) resolve(false);
      });
      ws.once('close', (code) => {
        if (opened) send({ type: 'closed', deviceId: this.creds.deviceId, code });
      });
    });
  }

  private beat(): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(heartbeat()));
    this.counters.heartbeats++;
  }

  private onMessage(text: string): void {
    const at = Date.now();
    const parsed = fleetMessage.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.type !== 'command') return;
    const signed = parsed.data.command;
    const valid = verifyCommandSignature(signed, this.commandKey);
    const payload = commandPayload.parse(JSON.parse(signed.payload));
    const fresh = valid && payload.deviceId === this.creds.deviceId && payload.seq > this.lastSeq;
    if (fresh) this.lastSeq = payload.seq;
    send({ type: 'command', deviceId: this.creds.deviceId, commandId: payload.id, kind: payload.kind, at, valid: fresh });
    const result: DeviceMessage = { type: 'result', commandId: payload.id, seq: payload.seq, status: fresh ? 'ok' : 'rejected', detail: fresh ? '' : 'E_COMMAND_SIGNATURE: bench device refused it' };
    this.ws?.send(JSON.stringify(result));
  }

  close(): void {
    this.ws?.close(1001);
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  const creds = JSON.parse(await readFile(spec.devicesFile, 'utf8')) as DeviceCredentials[];
  const commandKey = createPublicKey(spec.commandKey);
  const counters = { heartbeats: 0 };
  const devices = creds.map((c) => new Device(c, spec, commandKey, counters));
  const start = Date.now();
  let failed = 0;
  const queue = [...devices];
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d; d = queue.shift()) if (!(await d.connect())) failed++;
  };
  await Promise.all(Array.from({ length: spec.connectConcurrency }, worker));
  send({ type: 'connected', count: devices.length - failed, failed, ms: Date.now() - start });
  setInterval(() => send({ type: 'heartbeats', worker: process.pid, sent: counters.heartbeats }), 2_000);
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'stop') return;
    for (const d of devices) d.close();
    setTimeout(() => process.exit(0), 500);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
