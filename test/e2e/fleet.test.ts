// End to end with every part real: one `plugsrv-fleet serve` and three `plugsrv serve` agents as child processes on
// loopback. Enrollment from the production line's token files, heartbeats seen at the fleet, remote lock (423 within
// 2 s), lock kept across a restart, unlock, a command queued while an agent is down, token reuse refused, sockets
// without a device certificate refused, replayed and forged commands refused (by a rogue endpoint that holds the
// fleet's TLS identity but not its command key), and wipe leaving the agent un-enrolled.
import t from 'tap';
import { createClient } from '@libsql/client';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import type { DeviceMessage, SignedCommand } from '../../lib/fleet/protocol.js';
import { http } from '../helpers/agent-fixture.js';
import { runCli, startServer, tempDir, type ServerProcess } from '../helpers/agent-process.js';
import { api, createKey, eventually, runFleetCli, startFleet, type FleetProcess } from '../helpers/fleet-process.js';

const DEALER = '12345678';
const root = await tempDir(t, 'plugsrv-e2e-fleet-');
const fleetDir = join(root, 'fleet');
const adminKey = await createKey(fleetDir, 'admin', 'e2e');
let fleet: FleetProcess = await startFleet(fleetDir);
t.teardown(() => fleet.kill());
const caFile = join(fleetDir, 'ca', 'root.pem');

/** The operator CLI against the running fleet, with the key in the environment as the CLI requires. */
const operator = (args: string[]) => runFleetCli(['--url', fleet.url, '--ca', caFile, ...args], { env: { PLUGSRV_FLEET_API_KEY: adminKey } });
const fleetApi = (method: string, path: string, body?: unknown) => api(fleet, method, path, { key: adminKey, body });

// Heartbeats every 5 s instead of the default 30, as the fleet's default policy for every unit.
const policy = await fleetApi('POST', '/v1/policies', { policy: { heartbeatSeconds: 5 }, assign: 'all' });
// (No root-level assertion before the last top-level await: tap would end the root test early.)
if (policy.status !== 201) throw new Error(`policy not created: ${policy.status} ${policy.text}`);
const policyVersion = (policy.json as { version: number }).version;

interface Agent {
  name: string;
  serial: string;
  dataDir: string;
  tokenFile: string;
  token: string;
  env: Record<string, string>;
  server?: ServerProcess;
  deviceId: string;
  pkgUrl(): string;
}

async function makeAgent(name: string): Promise<Agent> {
  const dir = join(root, name);
  const serial = `SN-E2E-${name.toUpperCase()}`;
  const tokenFile = join(dir, 'bootstrap-token');
  const minted = await fleetApi('POST', '/v1/tokens', { dealerCode: DEALER, serial, expiresInHours: 1 });
  if (minted.status !== 201) throw new Error(`token for ${name}: ${minted.status} ${minted.text}`);
  const token = (minted.json as { token: string }).token;
  await mkdir(dir, { recursive: true });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const env = {
    PLUGSRV_FLEET_URL: fleet.url,
    PLUGSRV_FLEET_CA_FILE: caFile,
    PLUGSRV_FLEET_TOKEN_FILE: tokenFile,
    PLUGSRV_FLEET_SERIAL: serial,
    // With a minute between lock polls, only the fleet client's immediate refresh can give a 423 within 2 s.
    PLUGSRV_SERVE_LOCK_POLL_MS: '60000',
    PLUGSRV_STORE_RESERVE_BYTES: '0',
  };
  const dataDir = join(dir, 'data');
  const pkg = join(dir, `${name}.bin`);
  await writeFile(pkg, Buffer.alloc(50_000, name.charCodeAt(0)));
  const imp = await runCli(['--data-dir', dataDir, 'import', pkg, '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1', '--json'], { env });
  if (imp.code !== 0) throw new Error(`import for ${name}: ${imp.stderr}`);
  const sha256 = (JSON.parse(imp.stdout.split('\n').find((l) => l.includes('"imported"')) ?? '{}') as { sha256: string }).sha256;
  const agent: Agent = { name, serial, dataDir, tokenFile, token, env, deviceId: '', pkgUrl: () => `${agent.server!.url}/v1/packages/${sha256}` };
  t.teardown(() => agent.server?.kill());
  return agent;
}

async function start(a: Agent): Promise<ServerProcess> {
  a.server = await startServer(a.dataDir, [], a.env);
  return a.server;
}

interface DeviceView {
  id: string;
  serial: string;
  status: string;
  online: boolean;
  lastSeenAt: unknown;
  heartbeat?: { lock?: { locked: boolean; reason: string }; policyVersion?: number } | null;
}
const device = async (id: string) => (await fleetApi('GET', `/v1/devices/${id}`)).json as DeviceView & { commands?: Array<{ id: string; state: string; detail?: string }> };
const commandState = async (id: string) => ((await fleetApi('GET', `/v1/commands/${id}`)).json as { state: string; detail?: string }).state;

async function statusOf(url: string): Promise<number> {
  return (await http(url)).status;
}

const agents: Agent[] = [];
for (const name of ['alpha', 'bravo', 'charlie']) agents.push(await makeAgent(name));
const [alpha, bravo, charlie] = agents as [Agent, Agent, Agent];

t.test('three agents enroll from their token files and their heartbeats reach the fleet', async (t) => {
  await Promise.all(agents.map(start));
  for (const a of agents) {
    const enrolled = await eventually(async () => {
      const s = JSON.parse((await http(`${a.server!.url}/v1/status`)).body.toString()) as { enrollment?: { enrolled?: boolean; deviceId?: string; connected?: boolean } };
      return s.enrollment?.enrolled && s.enrollment.connected ? s.enrollment : undefined;
    }, 30_000, `${a.name} enrolled and connected`);
    a.deviceId = enrolled.deviceId!;
    t.match(a.deviceId, /^dev_/, `${a.name} is ${a.deviceId}`);
  }
  t.equal(new Set(agents.map((a) => a.deviceId)).size, 3, 'three distinct devices');
  for (const a of agents) {
    const seen = await eventually(async () => {
      const d = await device(a.deviceId);
      return d.online && d.heartbeat && d.heartbeat.policyVersion === policyVersion ? d : undefined;
    }, 30_000, `a heartbeat of ${a.name} with policy ${policyVersion} applied`);
    t.match(seen, { serial: a.serial, status: 'active', online: true, heartbeat: { lock: { locked: false } } }, `${a.name}: online, heartbeat seen, the fleet's policy applied`);
  }
  const list = await operator(['devices', '--json']);
  t.equal(list.code, 0, list.stderr);
  t.equal((JSON.parse(list.stdout) as { devices: unknown[] }).devices.length, 3, 'the operator CLI lists the three devices');
  for (const a of agents) t.equal(await statusOf(a.pkgUrl()), 200, `${a.name} serves its package`);
});

t.test('a spent token is refused: a second box cannot enroll with it', async (t) => {
  const dir = await tempDir(t);
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, alpha.token);
  const r = await runCli(['--data-dir', join(dir, 'data'), 'fleet', 'enroll', '--token-file', tokenFile], { env: { ...alpha.env, PLUGSRV_FLEET_TOKEN_FILE: tokenFile } });
  t.equal(r.code, 2, 'exit 2: the token is the problem');
  t.match(r.stderr, /E_TOKEN_USED/, r.stderr);
  t.notMatch(r.stderr + r.stdout, alpha.token.split('_')[2]!, 'the token secret is not echoed');
});

t.test('the device socket refuses a client without a device certificate, or with one the fleet did not issue', async (t) => {
  const socketUrl = `${fleet.url.replace(/^https/, 'wss')}/v1/device/ws`;
  const attempt = (opts: { cert?: string; key?: string }) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(socketUrl, { ca: fleet.rootCa, ...opts });
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(`http ${res.statusCode}`);
        ws.terminate();
      });
      ws.on('error', (err) => resolve(`error ${err.message}`));
    });
  const none = await attempt({});
  t.not(none, 'open', `no certificate: refused (${none})`);
  // A certificate made by the client itself, with a device-looking CN.
  const { execFileSync } = await import('node:child_process');
  const dir = await tempDir(t);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', `/CN=${alpha.deviceId}`], { stdio: 'ignore' });
  const forged = await attempt({ cert: await readFile(join(dir, 'c.pem'), 'utf8'), key: await readFile(join(dir, 'k.pem'), 'utf8') });
  t.not(forged, 'open', `self-made certificate claiming ${alpha.deviceId}: refused (${forged})`);
});

t.test('lock from the fleet: 423 within 2 s, a local unlock cannot lift it, a restart keeps it, unlock restores', async (t) => {
  const reason = 'unit reported stolen: call the fleet desk';
  // Timed from the operator's API request (the CLI is used for unlock below; its start-up is not the fleet's delay).
  const sentAt = performance.now();
  const lock = await fleetApi('POST', `/v1/devices/${alpha.deviceId}/commands`, { kind: 'lock', args: { reason } });
  t.equal(lock.status, 201, lock.text);
  let code = 0;
  while (performance.now() - sentAt < 5000 && (code = await statusOf(alpha.pkgUrl())) !== 423) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - sentAt;
  t.equal(code, 423, `the package route answers 423 after ${ms.toFixed(0)} ms`);
  t.ok(ms < 2000, `within 2 s of the operator's request (${ms.toFixed(0)} ms)`);
  const body = JSON.parse((await http(alpha.pkgUrl())).body.toString()) as { code: string; message: string };
  t.match(body, { code: 'E_LOCKED', message: new RegExp(reason.slice(0, 20)) }, 'the dealer sees the reason');
  t.equal(await statusOf(bravo.pkgUrl()), 200, 'the other units keep serving');

  const local = await runCli(['--data-dir', alpha.dataDir, 'unlock'], { env: alpha.env });
  t.not(local.code, 0, 'a local `plugsrv unlock` refuses to lift the fleet lock');
  t.match(local.stderr, /locked by the fleet/);
  t.equal(await statusOf(alpha.pkgUrl()), 423, 'still locked');

  t.equal(await alpha.server!.stop(), 0, 'alpha stops cleanly');
  await start(alpha);
  t.equal(await statusOf(alpha.pkgUrl()), 423, 'locked from the first request after a restart');
  const seen = await eventually(async () => {
    const d = await device(alpha.deviceId);
    return d.online && d.heartbeat?.lock?.locked ? d : undefined;
  }, 30_000, 'the locked heartbeat');
  t.match(seen.heartbeat, { lock: { locked: true, reason } }, 'the fleet sees the lock in the heartbeat');

  const unlock = await operator(['unlock', alpha.deviceId, '--wait', '20', '--json']);
  t.equal(unlock.code, 0, `unlock answered ok (${unlock.stderr})`);
  t.equal(await statusOf(alpha.pkgUrl()), 200, 'serving again');
});

t.test('a command sent while an agent is down is delivered when it comes back', async (t) => {
  t.equal(await bravo.server!.stop(), 0);
  await eventually(async () => ((await device(bravo.deviceId)).online ? undefined : true), 15_000, 'the fleet to see bravo offline');
  const lock = await fleetApi('POST', `/v1/devices/${bravo.deviceId}/commands`, { kind: 'lock', args: { reason: 'queued while offline' } });
  t.equal(lock.status, 201, lock.text);
  const id = (lock.json as { command: { id: string } }).command.id;
  t.equal(await commandState(id), 'queued', 'queued while the device is offline');
  await start(bravo);
  t.equal(await eventually(async () => ((await commandState(id)) === 'ok' ? 'ok' : undefined), 30_000, 'the queued lock answered'), 'ok', 'delivered and answered ok after the reconnection');
  t.equal(await statusOf(bravo.pkgUrl()), 423, 'bravo is locked');
  const unlock = await operator(['unlock', bravo.deviceId, '--wait', '20']);
  t.equal(unlock.code, 0, unlock.stderr);
});

t.test('replayed and forged commands are refused, even from an endpoint holding the fleet TLS identity', async (t) => {
  // The signed lock alpha already ran, as the fleet stored it (the exact bytes it sent).
  const db = createClient({ url: `file:${join(fleetDir, 'fleet.db')}` });
  const rows = await db.execute({ sql: "SELECT id, payload, signature, key_id FROM commands WHERE device_id = ? AND kind = 'lock' ORDER BY seq LIMIT 1", args: [alpha.deviceId] });
  db.close();
  const row = rows.rows[0] as unknown as { id: string; payload: string; signature: string; key_id: string } | undefined;
  t.ok(row, 'the fleet DB holds the signed lock');
  if (!row) return;
  const replay: SignedCommand = { payload: row.payload, signature: row.signature, keyId: row.key_id };
  const forgedPayload = JSON.stringify({ ...JSON.parse(row.payload), id: 'cmd_forgedforgedforgedforged', seq: 1000, issuedAt: Date.now(), expiresAt: Date.now() + 600_000 });
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const forged: SignedCommand = { payload: forgedPayload, signature: sign(null, Buffer.from(forgedPayload), stranger).toString('base64'), keyId: row.key_id };

  const port = fleet.port;
  t.equal(await fleet.stop(), 0, 'the real fleet stops');
  const results: DeviceMessage[] = [];
  const rogue = await startRogue(port, fleetDir, alpha.deviceId, [replay, forged], results);
  t.teardown(() => rogue.close());
  try {
    const answers = await eventually(async () => (results.length >= 2 ? results : undefined), 60_000, 'two answers from alpha');
    t.match(answers[0], { type: 'result', status: 'rejected', detail: /^E_COMMAND_REPLAY/ }, 'the replayed lock is rejected as a replay');
    t.match(answers[1], { type: 'result', status: 'rejected', detail: /^E_COMMAND_SIGNATURE/ }, 'the forged lock is rejected: bad signature');
    t.equal(await statusOf(alpha.pkgUrl()), 200, 'and alpha still serves: neither ran');
  } finally {
    await rogue.close();
  }
  fleet = await startFleet(fleetDir, ['--port', String(port)]);
  await eventually(async () => ((await device(alpha.deviceId)).online ? true : undefined), 60_000, 'alpha back on the real fleet');
});

t.test('wipe: the agent erases its data and identity, exits, and starts un-enrolled', async (t) => {
  const exited = new Promise<number | null>((resolve) => charlie.server!.child.once('exit', (code) => resolve(code)));
  const wipe = await operator(['wipe', charlie.deviceId, '--yes', '--json']);
  t.equal(wipe.code, 0, wipe.stderr);
  t.equal(await exited, 10, 'serve exits with 10 after the wipe (systemd restarts it clean)');
  charlie.server = undefined;
  const status = await runCli(['--data-dir', charlie.dataDir, 'fleet', 'status', '--json'], { env: charlie.env });
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { enrolled: false }, 'un-enrolled');
  t.equal(await eventually(async () => ((await device(charlie.deviceId)).status === 'wiped' ? 'wiped' : undefined), 15_000, 'the fleet marks it wiped'), 'wiped');
  const s = await start(charlie);
  t.same((JSON.parse((await http(`${s.url}/v1/packages`)).body.toString()) as { packages: unknown[] }).packages, [], 'no package left');
});

/**
 * A rogue device endpoint on the fleet's port with the fleet's own server certificate and device CA (as if both
 * leaked), but not the command key: it sends `commands` to `deviceId` after its hello and records the answers.
 */
async function startRogue(port: number, dir: string, deviceId: string, commands: SignedCommand[], results: DeviceMessage[]): Promise<{ close(): Promise<void> }> {
  const [cert, key, deviceCa, rootCa] = await Promise.all(['server.pem', 'server.key', 'device-ca.pem', 'root.pem'].map((f) => readFile(join(dir, 'ca', f), 'utf8')));
  const server = createServer({ cert, key, ca: [deviceCa!, rootCa!], requestCert: true, rejectUnauthorized: true });
  const wss = new WebSocketServer({ server, path: '/v1/device/ws' });
  wss.on('connection', (ws, req) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    const id = peer.subject?.CN;
    ws.send(JSON.stringify({ type: 'welcome', deviceId: id, serverTime: Date.now(), heartbeatSeconds: 5 }));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as DeviceMessage;
      if (m.type === 'hello' && id === deviceId) for (const command of commands) ws.send(JSON.stringify({ type: 'command', command }));
      if (m.type === 'result') results.push(m);
    });
  });
  await new Promise<void>((resolve, reject) => server.listen(port, '127.0.0.1', resolve).once('error', reject));
  let closed: Promise<void> | undefined;
  return {
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
