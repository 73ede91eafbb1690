// The device channel: one outbound WebSocket over mTLS to the fleet; hello, heartbeats, commands in, results out; reconnects forever.
import WebSocket from 'ws';
import { FLEET_PROTOCOL_VERSION, fleetMessage, SocketClose, type DeviceMessage } from '../../../lib/fleet/protocol.js';
import type { Logger } from '../../../lib/log/index.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { HeartbeatMessage } from './heartbeat.js';
import { fleetTrustAnchors } from './https.js';
import type { DeviceIdentity } from './identity.js';
import type { LinkRecord } from './state.js';

export interface FleetClientDeps {
  identity: () => DeviceIdentity;
  /** Certificates of fleet.caFile (empty = OS trust store); the fleet root pinned at enrollment is added. */
  caFileCerts: string[];
  log: Logger;
  clock: () => number;
  random: () => number;
  agentVersion: string;
  /** What goes into `hello`. */
  hello: () => Promise<{ lastSeq: number; policyVersion: number }>;
  /** The next heartbeat; `first` = the first of this connection (carries the inventory). */
  heartbeat: (first: boolean) => Promise<HeartbeatMessage>;
  /** The `command` field of a command message, unverified. */
  onCommand: (command: unknown) => void;
  /** After `welcome`: re-send results the fleet may not have. */
  onWelcome: () => Promise<void>;
  /** Link state changes, for `fleet status` and /v1/status (persisted by the caller). */
  onLink: (link: LinkRecord) => void;
  /** Close code 4001: the fleet retired this device. */
  onRetired: () => void;
  /** Close code 4003: the certificate is revoked or the device unknown. */
  onRevoked: () => void;
  heartbeatSeconds: number;
  backoff?: BackoffOptions;
  /** A connection that lasted this long resets the backoff. */
  stableMs?: number;
  /** WebSocket ping period; a missing pong by the next one drops the connection. */
  pingMs?: number;
  /** Time allowed between the TLS upgrade and `welcome`. */
  welcomeTimeoutMs?: number;
}

/** Attempts skipped when the fleet says another connection replaced this one (first delay up to 2^5 s). */
const REPLACED_ATTEMPTS = 5;

export class FleetClient {
  private ws: WebSocket | undefined;
  private stopped = true;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private welcomeTimer: NodeJS.Timeout | undefined;
  private heartbeatSeconds: number;
  private welcomed = false;
  private firstHeartbeatSent = false;
  private link: LinkRecord;
  private lastError = '';

  constructor(private readonly deps: FleetClientDeps) {
    this.backoff = new Backoff(deps.random, deps.backoff ?? DEFAULT_BACKOFF);
    this.heartbeatSeconds = deps.heartbeatSeconds;
    this.link = { state: 'disconnected', deviceId: deps.identity().deviceId, lastContactAt: null, lastHeartbeatAt: null, connectedAt: null, lastError: null };
  }

  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
  }

  get linkState(): LinkRecord {
    return { ...this.link };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000);
        ws.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'agent stopping');
      });
    }
    this.setLink({ state: this.link.state === 'revoked' || this.link.state === 'retired' ? this.link.state : 'disconnected' });
  }

  /** Drops the connection and reconnects at once (after a certificate renewal). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.backoff.reset();
    const ws = this.ws;
    if (ws) ws.close(1000, 'reconnecting with a renewed certificate');
    else this.connect();
  }

  setHeartbeatSeconds(seconds: number): void {
    if (seconds === this.heartbeatSeconds) return;
    this.heartbeatSeconds = seconds;
    if (this.heartbeatTimer) this.armHeartbeat();
  }

  /** Sends a message; true once written to the socket, false when not connected (the caller keeps it for later). */
  send(msg: DeviceMessage): Promise<boolean> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        ws.send(JSON.stringify(msg), (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  }

  private setLink(patch: Partial<LinkRecord>): void {
    this.link = { ...this.link, ...patch, deviceId: this.deps.identity().deviceId };
    try {
      this.deps.onLink({ ...this.link });
    } catch (err) {
      this.deps.log.warn('fleet: cannot record the link state', { error: err });
    }
  }

  private clearTimers(): void {
    for (const t of [this.heartbeatTimer, this.pingTimer, this.welcomeTimer]) if (t) clearInterval(t);
    this.heartbeatTimer = this.pingTimer = this.welcomeTimer = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    this.reconnectTimer = undefined;
    const id = this.deps.identity();
    const root = id.caChain[id.caChain.length - 1];
    this.welcomed = false;
    this.firstHeartbeatSent = false;
    this.setLink({ state: 'connecting' });
    let ws: WebSocket;
    try {
      ws = new WebSocket(id.socketUrl, {
        // The device CA travels with the leaf so the fleet can build the chain from its root.
        cert: id.certPem + (id.caChain.length > 1 ? (id.caChain[0] as string) : ''),
        key: id.keyPem,
        ca: fleetTrustAnchors(this.deps.caFileCerts, root),
        handshakeTimeout: 15_000,
        perMessageDeflate: false,
        maxPayload: 8 * 1024 * 1024,
        headers: { 'user-agent': `plugsrv/${this.deps.agentVersion}` },
      });
    } catch (err) {
      this.failed(`cannot open the device socket: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    const openedAt = { at: 0 };

    ws.on('open', () => {
      openedAt.at = this.deps.clock();
      this.onOpen(ws).catch((err: unknown) => {
        this.deps.log.warn('fleet: hello failed', { error: err });
        ws.terminate();
      });
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      this.link.lastContactAt = this.deps.clock();
      if (isBinary) return;
      this.onMessage(ws, data.toString());
    });
    ws.on('pong', () => {
      this.link.lastContactAt = this.deps.clock();
      (ws as WebSocket & { alive?: boolean }).alive = true;
    });
    ws.on('error', (err) => {
      this.lastError = err.message;
    });
    ws.on('close', (code, reasonBuf) => {
      if (ws !== this.ws && this.ws !== undefined) return;
      this.clearTimers();
      this.ws = undefined;
      const reason = reasonBuf.toString().slice(0, 200);
      const lasted = openedAt.at ? this.deps.clock() - openedAt.at : 0;
      if (this.stopped) return;
      if (code === SocketClose.RETIRED) {
        this.stopped = true;
        this.setLink({ state: 'retired', lastError: `retired by the fleet${reason ? `: ${reason}` : ''}` });
        this.deps.log.warn('fleet: this device was retired by fleet operations; wiping it', { reason });
        this.deps.onRetired();
        return;
      }
      if (code === SocketClose.REVOKED) {
        this.stopped = true;
        this.setLink({ state: 'revoked', lastError: `certificate revoked or device unknown${reason ? `: ${reason}` : ''}` });
        this.deps.log.error(
          'fleet: the fleet refuses this device (certificate revoked or device unknown); the fleet client stops. The unit keeps serving; to manage it again, ask the fleet operator for a new bootstrap token and run `plugsrv fleet enroll --force --token-file FILE`',
          { reason, deviceId: this.link.deviceId },
        );
        this.deps.onRevoked();
        return;
      }
      if (lasted >= (this.deps.stableMs ?? 60_000)) this.backoff.reset();
      if (code === SocketClose.REPLACED) {
        this.backoff.atLeast(REPLACED_ATTEMPTS);
        this.deps.log.warn('fleet: another connection of this device replaced this one; backing off', { reason });
      }
      const why = code === 1006 || code === 1005 ? this.lastError || 'connection lost' : `closed by the fleet (${code}${reason ? `: ${reason}` : ''})`;
      this.failed(why);
    });
  }

  private async onOpen(ws: WebSocket): Promise<void> {
    const { lastSeq, policyVersion } = await this.deps.hello();
    if (ws !== this.ws) return;
    ws.send(JSON.stringify({ type: 'hello', protocol: FLEET_PROTOCOL_VERSION, agentVersion: this.deps.agentVersion, lastSeq, policyVersion } satisfies DeviceMessage));
    this.welcomeTimer = setTimeout(() => {
      this.lastError = 'no welcome from the fleet';
      ws.terminate();
    }, this.deps.welcomeTimeoutMs ?? 15_000);
    this.welcomeTimer.unref();
    this.pingTimer = setInterval(() => {
      const w = ws as WebSocket & { alive?: boolean };
      if (w.alive === false) {
        this.lastError = 'no pong from the fleet';
        ws.terminate();
        return;
      }
      w.alive = false;
      ws.ping();
    }, this.deps.pingMs ?? 30_000);
    this.pingTimer.unref();
  }

  private onMessage(ws: WebSocket, text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.deps.log.warn('fleet: a message from the fleet is not JSON; ignored');
      return;
    }
    // A command whose envelope is malformed still gets a `rejected` result: the command check reports it.
    if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'command') {
      this.deps.onCommand((raw as { command?: unknown }).command);
      return;
    }
    const msg = fleetMessage.safeParse(raw);
    if (!msg.success) {
      this.deps.log.warn('fleet: a message from the fleet does not follow the protocol; ignored', { type: String((raw as { type?: unknown })?.type ?? '') });
      return;
    }
    if (msg.data.type !== 'welcome') return;
    const w = msg.data;
    if (w.deviceId !== this.deps.identity().deviceId) {
      this.deps.log.error('fleet: the fleet greeted another device id; dropping the connection', { expected: this.deps.identity().deviceId, got: w.deviceId });
      this.lastError = `welcome for ${w.deviceId}`;
      ws.close(SocketClose.PROTOCOL, 'welcome for another device');
      return;
    }
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = undefined;
    this.welcomed = true;
    const now = this.deps.clock();
    if (Math.abs(w.serverTime - now) > 60_000) {
      this.deps.log.warn('fleet: this device\'s clock differs from the fleet\'s by more than a minute; commands may be judged expired. Check NTP (UDP 123).', { skewMs: now - w.serverTime });
    }
    this.lastError = '';
    this.setLink({ state: 'connected', connectedAt: now, lastContactAt: now, lastError: null });
    this.deps.log.info('fleet: connected', { deviceId: w.deviceId, heartbeatSeconds: this.heartbeatSeconds });
    if (w.heartbeatSeconds !== this.heartbeatSeconds && w.heartbeatSeconds >= 5) this.heartbeatSeconds = w.heartbeatSeconds;
    this.armHeartbeat();
    void this.beat();
    this.deps.onWelcome().catch((err: unknown) => this.deps.log.warn('fleet: cannot re-send stored results', { error: err }));
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.beat(), this.heartbeatSeconds * 1000);
    this.heartbeatTimer.unref();
  }

  private async beat(): Promise<void> {
    if (!this.connected) return;
    try {
      const first = !this.firstHeartbeatSent;
      const msg = await this.deps.heartbeat(first);
      if (await this.send(msg)) {
        this.firstHeartbeatSent = true;
        this.setLink({ lastHeartbeatAt: msg.at });
      }
    } catch (err) {
      this.deps.log.warn('fleet: cannot build or send a heartbeat', { error: err });
    }
  }

  private failed(why: string): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.setLink({ state: 'disconnected', lastError: why });
    this.deps.log.warn('fleet: device socket down; reconnecting', { reason: why, attempt: this.backoff.attempts, retryInMs: delay });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
