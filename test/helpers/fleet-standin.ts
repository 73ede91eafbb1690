// Test helper: a small protocol-faithful fleet (lib/fleet/protocol.ts) on 127.0.0.1:0: real node:https with its own CA
// (@peculiar/x509), single-use bootstrap tokens, a device CA issuing client certificates, a `ws` device socket requiring
// them (mTLS), per-device command queues with seq and expiry, commands signed with lib/fleet/signing.ts.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  deviceMessage,
  enrollRequest,
  FleetPaths,
  policyDocument,
  renewRequest,
  SocketClose,
  type CommandKind,
  type CommandPayload,
  type DeviceMessage,
  type PolicyDocument,
  type SignedCommand,
} from '../../lib/fleet/protocol.js';
import { signCommand } from '../../lib/fleet/signing.js';
import { x509 } from '../../agent/src/fleet/x509.js';

type Result = Extract<DeviceMessage, { type: 'result' }>;
type Heartbeat = Extract<DeviceMessage, { type: 'heartbeat' }>;
type Hello = Extract<DeviceMessage, { type: 'hello' }>;

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
type Keys = Awaited<ReturnType<typeof webcrypto.subtle.generateKey>> & { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };

function b64pem(label: string, der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** Certificate serial numbers as hex without leading zeros, whoever printed them. */
const norm = (serial: string): string => serial.toLowerCase().replace(/^0+/, '');

const rand = (n: number): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
};

async function ecKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as Keys;
}

export interface StandinToken {
  token: string;
  dealerCode: string;
  /** When set, only this serial may use the token. */
  serial?: string;
  used: boolean;
  expiresAt: number;
}

export interface StandinDevice {
  deviceId: string;
  dealerCode: string;
  serial: string;
  /** Serial numbers (hex) of the certificates issued to it; the current one last. */
  certSerials: string[];
  status: 'active' | 'revoked' | 'retired';
  nextSeq: number;
  /** Last seq the agent reported in its hello. */
  helloSeq: number;
  /** Commands not answered yet, redelivered after each hello (seq > the hello's lastSeq). */
  pending: Map<string, { seq: number; signed: SignedCommand }>;
  hellos: Hello[];
  heartbeats: Heartbeat[];
  results: Result[];
  connections: number;
  protocolErrors: string[];
}

export interface FleetStandin {
  readonly url: string;
  readonly port: number;
  /** PEM file of the fleet root (signs the HTTPS server certificate): what the production line sets as fleet.caFile. */
  readonly caFile: string;
  readonly commandKey: KeyObject;
  readonly devices: Map<string, StandinDevice>;
  readonly enrollments: number;
  policy: PolicyDocument;
  /** Validity of the device certificates issued from now on (ms). */
  certValidityMs: number;
  addToken(opts?: { serial?: string; dealerCode?: string; expiresInMs?: number }): string;
  /** Queues a signed command and sends it at once if the device is connected (else after its next hello). */
  command(deviceId: string, kind: CommandKind, args?: Record<string, unknown>, opts?: { ttlMs?: number }): { id: string; seq: number; signed: SignedCommand };
  /** Sends any `command` field as is, outside the queue (replays, forgeries). */
  sendRaw(deviceId: string, command: unknown): boolean;
  connected(deviceId: string): boolean;
  /** Closes the device's socket with an application code. */
  closeDevice(deviceId: string, code: number, reason?: string): void;
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  resultOf(commandId: string, timeoutMs?: number): Promise<Result>;
  /** Stops listening and drops every socket, keeps all state, listens again on the same port after `downMs`. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFleetStandin(t: { teardown(fn: () => unknown): void }, opts: { heartbeatSeconds?: number; certValidityMs?: number } = {}): Promise<FleetStandin> {
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-fleet-standin-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const now = Date.now();
  const day = 24 * 3600_000;

  const rootKeys = await ecKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(7).toString('hex')}`,
    name: 'CN=Stand-in Fleet Root',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 30 * day),
    keys: rootKeys as never,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const caKeys = await ecKeys();
  const deviceCa = await x509.X509CertificateGenerator.create({
    serialNumber: `02${randomBytes(7).toString('hex')}`,
    subject: 'CN=Stand-in Device CA',
    issuer: root.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 30 * day),
    publicKey: caKeys.publicKey as never,
    signingKey: rootKeys.privateKey as never,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const serverKeys = await ecKeys();
  const serverCert = await x509.X509CertificateGenerator.create({
    serialNumber: `03${randomBytes(7).toString('hex')}`,
    subject: 'CN=fleet.standin.test',
    issuer: root.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 30 * day),
    publicKey: serverKeys.publicKey as never,
    signingKey: rootKeys.privateKey as never,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  const rootPem = root.toString('pem');
  const deviceCaPem = deviceCa.toString('pem');
  const caFile = join(dir, 'fleet-ca.pem');
  await writeFile(caFile, `${rootPem}\n`);
  const serverKeyPem = b64pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey));

  const { privateKey: commandPrivate, publicKey: commandPublic } = generateKeyPairSync('ed25519');
  const tokens = new Map<string, StandinToken>();
  const devices = new Map<string, StandinDevice>();
  const bySerial = new Map<string, string>();
  const sockets = new Map<string, WebSocket>();
  let enrollments = 0;

  async function issue(deviceId: string, csrPem: string, validityMs: number): Promise<{ pem: string; serial: string }> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('CSR signature does not verify');
    const serial = `4${randomBytes(9).toString('hex')}`;
    const issuedAt = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `CN=${deviceId}`,
      issuer: deviceCa.subject,
      notBefore: new Date(issuedAt - 60_000),
      notAfter: new Date(issuedAt - 60_000 + validityMs),
      publicKey: csr.publicKey,
      signingKey: caKeys.privateKey as never,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    return { pem: cert.toString('pem'), serial: norm(cert.serialNumber) };
  }

  const self: FleetStandin = {
    url: '',
    port: 0,
    caFile,
    commandKey: commandPrivate,
    devices,
    get enrollments() {
      return enrollments;
    },
    policy: policyDocument.parse({ version: 1, heartbeatSeconds: opts.heartbeatSeconds ?? 5 }),
    certValidityMs: opts.certValidityMs ?? 7 * day,
    addToken(o = {}) {
      const token = `pbt_${rand(16)}_${randomBytes(30).toString('base64url')}`;
      tokens.set(token, { token, dealerCode: o.dealerCode ?? '12345678', ...(o.serial ? { serial: o.serial } : {}), used: false, expiresAt: Date.now() + (o.expiresInMs ?? day) });
      return token;
    },
    command(deviceId, kind, args = {}, o = {}) {
      const dev = devices.get(deviceId);
      if (!dev) throw new Error(`no device ${deviceId}`);
      const issuedAt = Date.now();
      const payload: CommandPayload = { id: `cmd_${rand(24)}`, deviceId, seq: dev.nextSeq++, kind, args, issuedAt, expiresAt: issuedAt + (o.ttlMs ?? 3600_000) };
      const signed = signCommand(payload, commandPrivate);
      dev.pending.set(payload.id, { seq: payload.seq, signed });
      const ws = sockets.get(deviceId);
      if (ws && dev.hellos.length > 0) ws.send(JSON.stringify({ type: 'command', command: signed }));
      return { id: payload.id, seq: payload.seq, signed };
    },
    sendRaw(deviceId, command) {
      const ws = sockets.get(deviceId);
      if (!ws) return false;
      ws.send(JSON.stringify({ type: 'command', command }));
      return true;
    },
    connected: (deviceId) => sockets.has(deviceId),
    closeDevice(deviceId, code, reason = '') {
      sockets.get(deviceId)?.close(code, reason);
    },
    async waitFor(what, probe, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined && v !== false) return v as never;
        if (Date.now() > deadline) throw new Error(`stand-in fleet: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    resultOf(commandId, timeoutMs) {
      return self.waitFor(`the result of ${commandId}`, () => [...devices.values()].flatMap((d) => d.results).find((r) => r.commandId === commandId), timeoutMs);
    },
    restart: async (downMs = 200) => {
      await self.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await self.start();
    },
    stop: async () => undefined,
    start: async () => undefined,
    close: async () => undefined,
  };

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  }

  function peerDevice(socket: TLSSocket): StandinDevice | undefined {
    if (!socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    const serial = cert?.serialNumber ? norm(cert.serialNumber) : undefined;
    const id = serial ? bySerial.get(serial) : undefined;
    return id ? devices.get(id) : undefined;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST' && req.url === FleetPaths.enroll) {
      const parsed = enrollRequest.safeParse(await readBody(req));
      if (!parsed.success) return json(res, 400, { code: 'E_BAD_REQUEST', message: parsed.error.message });
      const tok = tokens.get(parsed.data.token);
      if (!tok) return json(res, 401, { code: 'E_TOKEN_UNKNOWN', message: 'unknown token' });
      if (tok.used) return json(res, 409, { code: 'E_TOKEN_USED', message: 'token already used' });
      if (tok.expiresAt < Date.now()) return json(res, 410, { code: 'E_TOKEN_EXPIRED', message: 'token expired' });
      if (tok.serial && tok.serial !== parsed.data.serial) return json(res, 403, { code: 'E_SERIAL_MISMATCH', message: `token for serial ${tok.serial}` });
      const deviceId = `dev_${rand(24)}`;
      let cert: { pem: string; serial: string };
      try {
        cert = await issue(deviceId, parsed.data.csr, self.certValidityMs);
      } catch (err) {
        return json(res, 400, { code: 'E_BAD_CSR', message: (err as Error).message });
      }
      tok.used = true;
      enrollments++;
      devices.set(deviceId, {
        deviceId,
        dealerCode: tok.dealerCode,
        serial: parsed.data.serial,
        certSerials: [cert.serial],
        status: 'active',
        nextSeq: 1,
        helloSeq: 0,
        pending: new Map(),
        hellos: [],
        heartbeats: [],
        results: [],
        connections: 0,
        protocolErrors: [],
      });
      bySerial.set(cert.serial, deviceId);
      return json(res, 200, {
        deviceId,
        dealerCode: tok.dealerCode,
        certificate: cert.pem,
        caChain: [deviceCaPem, rootPem],
        commandKey: commandPublic.export({ type: 'spki', format: 'pem' }).toString(),
        policy: self.policy,
        socketUrl: `wss://127.0.0.1:${self.port}${FleetPaths.deviceSocket}`,
      });
    }
    if (req.method === 'POST' && req.url === FleetPaths.renew) {
      const dev = peerDevice(req.socket as TLSSocket);
      if (!dev || dev.status !== 'active') return json(res, 401, { code: 'E_CERT_REQUIRED', message: 'device certificate required' });
      const parsed = renewRequest.safeParse(await readBody(req));
      if (!parsed.success) return json(res, 400, { code: 'E_BAD_CSR', message: 'bad renew request' });
      const cert = await issue(dev.deviceId, parsed.data.csr, self.certValidityMs);
      dev.certSerials.push(cert.serial);
      bySerial.set(cert.serial, dev.deviceId);
      return json(res, 200, { certificate: cert.pem, caChain: [deviceCaPem, rootPem] });
    }
    json(res, 404, { code: 'E_NOT_FOUND', message: 'no such route' });
  }

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const dev = req.url === FleetPaths.deviceSocket ? peerDevice(socket as TLSSocket) : undefined;
    if (!dev) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (dev.status === 'retired') return ws.close(SocketClose.RETIRED, 'device retired');
      if (dev.status === 'revoked') return ws.close(SocketClose.REVOKED, 'certificate revoked');
      sockets.get(dev.deviceId)?.close(SocketClose.REPLACED, 'replaced by a newer connection');
      sockets.set(dev.deviceId, ws);
      dev.connections++;
      ws.on('message', (data) => {
        let msg: DeviceMessage;
        try {
          msg = deviceMessage.parse(JSON.parse(data.toString()));
        } catch (err) {
          dev.protocolErrors.push((err as Error).message);
          ws.close(SocketClose.PROTOCOL, 'message does not follow the fleet protocol');
          return;
        }
        if (msg.type === 'hello') {
          dev.hellos.push(msg);
          dev.helloSeq = msg.lastSeq;
          const due = [...dev.pending.values()].filter((p) => p.seq > msg.lastSeq).sort((a, b) => a.seq - b.seq);
          for (const p of due) ws.send(JSON.stringify({ type: 'command', command: p.signed }));
        } else if (msg.type === 'heartbeat') dev.heartbeats.push(msg);
        else {
          dev.results.push(msg);
          if (msg.status === 'ok' && (dev.pending.get(msg.commandId)?.signed.payload ?? '').includes('"kind":"retire"')) dev.status = 'retired';
          // Any result settles a command (the real fleet keeps the first one); a rejected one is not sent again either.
          dev.pending.delete(msg.commandId);
        }
      });
      ws.on('close', () => {
        if (sockets.get(dev.deviceId) === ws) sockets.delete(dev.deviceId);
      });
      ws.on('error', () => undefined);
      ws.send(JSON.stringify({ type: 'welcome', deviceId: dev.deviceId, serverTime: Date.now(), heartbeatSeconds: self.policy.heartbeatSeconds }));
    });
  }

  let server: Server | undefined;
  self.start = async () => {
    const s = createServer({ key: serverKeyPem, cert: serverCert.toString('pem'), ca: [rootPem, deviceCaPem], requestCert: true, rejectUnauthorized: false });
    s.on('request', (req, res) => {
      onRequest(req, res).catch((err: unknown) => json(res, 500, { code: 'E_INTERNAL', message: (err as Error).message }));
    });
    s.on('upgrade', onUpgrade);
    s.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(self.port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
    const port = (s.address() as { port: number }).port;
    Object.assign(self, { port, url: `https://127.0.0.1:${port}` });
  };
  self.stop = async () => {
    const s = server;
    server = undefined;
    for (const ws of sockets.values()) ws.terminate();
    sockets.clear();
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  };
  self.close = async () => {
    await self.stop();
    wss.close();
  };
  await self.start();
  t.teardown(() => self.close());
  return self;
}
