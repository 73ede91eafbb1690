// The device hub: admits mTLS WebSocket upgrades, keeps one socket per device, relays commands, heartbeats and results.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { deviceMessage, FLEET_PROTOCOL_VERSION, SocketClose, type DeviceMessage } from '../../../lib/fleet/protocol.js';
import type { Logger } from '../../../lib/log/index.js';
import { normalizeSerial } from '../ca/index.js';
import type { CommandService, Delivery, OutgoingCommand } from '../commands/index.js';
import type { WriteQueue } from '../db/index.js';
import type { DeviceRegistry } from '../devices/index.js';
import type { PolicyService } from '../policy/index.js';
import { checkPeer, decideAdmission, type PeerCertificate } from './admission.js';
import { DeviceConnection } from './connection.js';
import { LiveState, type LiveView } from './live-state.js';

export interface HubDeps {
  registry: DeviceRegistry;
  commands: CommandService;
  policies: PolicyService;
  writes: WriteQueue;
  deviceCaFingerprint: string;
  log: Logger;
  clock?: () => number;
  pingIntervalMs: number;
  flushIntervalMs: number;
  maxMessageBytes: number;
}

/** Close code sent to every device when the fleet stops (they reconnect with backoff). */
export const GOING_AWAY = 1001;

function rejectUpgrade(socket: Duplex, status: number, reason: string, body: { code: string; message: string }): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

export class Hub implements Delivery {
  private readonly wss: WebSocketServer;
  private readonly live = new Map<string, DeviceConnection>();
  readonly state = new LiveState();
  private readonly clock: () => number;
  private pingTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopping = false;
  readonly stats = { upgrades: 0, accepted: 0, refused: 0, closedByPolicy: 0, replaced: 0, protocolErrors: 0, messages: 0, deadSockets: 0 };

  constructor(private readonly deps: HubDeps) {
    this.clock = deps.clock ?? Date.now;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  }

  start(): void {
    this.pingTimer = setInterval(() => this.pingAll(), this.deps.pingIntervalMs);
    this.pingTimer.unref();
    this.flushTimer = setInterval(() => void this.flush(), this.deps.flushIntervalMs);
    this.flushTimer.unref();
  }

  get connectedCount(): number {
    return this.live.size;
  }

  isOnline(deviceId: string): boolean {
    return this.live.has(deviceId);
  }

  view(deviceId: string): LiveView | undefined {
    return this.state.view(deviceId);
  }

  /** Delivery: hands new commands to the device's socket, if it has one. */
  deliver(deviceId: string, cmds: OutgoingCommand[]): void {
    const conn = this.live.get(deviceId);
    if (!conn) return;
    this.deps.commands.markDelivered(conn.enqueue(cmds));
  }

  /** Closes a device's socket with an application code (retired 4001, revoked 4003). */
  disconnect(deviceId: string, code: number, reason: string): void {
    const conn = this.live.get(deviceId);
    if (conn) conn.ws.close(code, reason);
  }

  /** Writes what heartbeats changed since the last flush, in one transaction. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const stmts = this.state.takeStatements();
    if (stmts.length === 0) return Promise.resolve();
    this.flushing = this.deps.writes
      .write(stmts)
      .then(() => undefined)
      .catch((err: unknown) => this.deps.log.error('hub: writing heartbeats failed', { error: err, statements: stmts.length }))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** The HTTPS server's `upgrade` event for the device socket path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.stats.upgrades++;
    if (this.stopping) {
      rejectUpgrade(socket, 503, 'Service Unavailable', { code: 'E_STOPPING', message: 'the fleet is stopping; reconnect in a moment.' });
      return;
    }
    const tls = socket as TLSSocket;
    const cert = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate(true) : undefined;
    const peer: PeerCertificate = {
      authorized: tls.authorized === true,
      serial: cert?.serialNumber ? normalizeSerial(cert.serialNumber) : undefined,
      commonName: typeof cert?.subject?.CN === 'string' ? cert.subject.CN : undefined,
      issuerFingerprint: cert?.issuerCertificate?.fingerprint256,
    };
    const first = checkPeer(peer, this.deps.deviceCaFingerprint);
    if ('kind' in first) {
      this.stats.refused++;
      rejectUpgrade(socket, first.status, 'Unauthorized', { code: first.code, message: first.message });
      return;
    }
    socket.on('error', () => socket.destroy());
    this.deps.registry.admission(first.serial).then(
      (found) => {
        if (socket.destroyed) return;
        const decision = decideAdmission(peer, found);
        if (decision.kind === 'refuse') {
          this.stats.refused++;
          rejectUpgrade(socket, decision.status, 'Unauthorized', { code: decision.code, message: decision.message });
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (decision.kind === 'close') {
            this.stats.closedByPolicy++;
            ws.close(decision.code, decision.reason);
            return;
          }
          this.accept(ws, decision.deviceId, decision.dealerCode, decision.policyVersion);
        });
      },
      (err: unknown) => {
        this.deps.log.error('hub: admission lookup failed', { error: err });
        rejectUpgrade(socket, 503, 'Service Unavailable', { code: 'E_DB', message: 'the fleet cannot check the certificate now; reconnect later.' });
      },
    );
  }

  private accept(ws: WebSocket, deviceId: string, dealerCode: string, policyVersion: number | null): void {
    const now = this.clock();
    this.stats.accepted++;
    const previous = this.live.get(deviceId);
    const conn = new DeviceConnection(deviceId, dealerCode, ws, now);
    this.live.set(deviceId, conn);
    if (previous) {
      this.stats.replaced++;
      previous.closed = true;
      previous.ws.close(SocketClose.REPLACED, 'replaced by a newer connection');
    }
    this.state.seen(deviceId, dealerCode, now);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.alive = true;
      this.stats.messages++;
      this.onMessage(conn, data, isBinary);
    });
    ws.on('error', (err) => this.deps.log.debug('hub: socket error', { deviceId, error: err }));
    ws.on('close', () => {
      conn.closed = true;
      if (this.live.get(deviceId) === conn) {
        this.live.delete(deviceId);
        if (!this.stopping) this.state.seen(deviceId, dealerCode, this.clock());
      }
    });
    const heartbeatSeconds = this.deps.policies.effective(policyVersion).heartbeatSeconds;
    ws.send(JSON.stringify({ type: 'welcome', deviceId, serverTime: now, heartbeatSeconds }));
  }

  private onMessage(conn: DeviceConnection, data: RawData, isBinary: boolean): void {
    let msg: DeviceMessage;
    try {
      if (isBinary) throw new Error('binary frame');
      msg = deviceMessage.parse(JSON.parse(data.toString()));
    } catch {
      this.stats.protocolErrors++;
      conn.ws.close(SocketClose.PROTOCOL, 'message does not follow the fleet protocol');
      return;
    }
    const now = this.clock();
    switch (msg.type) {
      case 'hello': {
        if (msg.protocol > FLEET_PROTOCOL_VERSION) {
          conn.ws.close(SocketClose.PROTOCOL, `protocol ${msg.protocol} is newer than this fleet's ${FLEET_PROTOCOL_VERSION}`);
          return;
        }
        conn.ackedSeq = msg.lastSeq;
        this.state.seen(conn.deviceId, conn.dealerCode, now, { agentVersion: msg.agentVersion, policyVersion: msg.policyVersion, ackedSeq: msg.lastSeq });
        this.deps.commands.pendingFor(conn.deviceId, msg.lastSeq).then(
          (pending) => {
            if (conn.closed) return;
            conn.enqueue(pending);
            conn.ready = true;
            this.deps.commands.markDelivered(conn.flush());
          },
          (err: unknown) => {
            this.deps.log.error('hub: reading pending commands failed', { deviceId: conn.deviceId, error: err });
            conn.ws.close(1011, 'fleet error; reconnect later');
          },
        );
        return;
      }
      case 'heartbeat':
        this.state.heartbeat(conn.deviceId, conn.dealerCode, now, msg);
        return;
      case 'result':
        this.state.seen(conn.deviceId, conn.dealerCode, now);
        this.deps.commands.recordResult(conn.deviceId, msg).catch((err: unknown) => this.deps.log.error('hub: recording a result failed', { deviceId: conn.deviceId, error: err }));
        return;
    }
  }

  private pingAll(): void {
    for (const conn of this.live.values()) {
      if (!conn.alive) {
        this.stats.deadSockets++;
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Closes every device socket (1001), then writes the last heartbeats. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    const now = this.clock();
    const closing: Array<Promise<void>> = [];
    for (const conn of this.live.values()) {
      this.state.seen(conn.deviceId, conn.dealerCode, now);
      closing.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            conn.ws.terminate();
            resolve();
          }, 2000);
          conn.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          conn.ws.close(GOING_AWAY, 'fleet stopping');
        }),
      );
    }
    await Promise.all(closing);
    this.live.clear();
    if (this.flushing) await this.flushing;
    await this.flush();
    this.wss.close();
  }
}
