// A real `plugsrv serve` process managed by the stand-in fleet: enrollment from the token file, heartbeats, remote lock
// (423 within 2 s), lock across a restart, replayed and forged commands refused, a command queued while the agent is
// down, reconnection after the fleet restarts, and the wipe (exit code, identity gone, un-enrolled, enrolls again).
import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignedCommand } from '../../lib/fleet/protocol.js';
import { http, json } from '../helpers/agent-fixture.js';
import { runCli, startServer, tempDir, type ServerProcess } from '../helpers/agent-process.js';
import { startFleetStandin } from '../helpers/fleet-standin.js';

const SERIAL = 'SN-E2E-0001';
const REASON = 'unit reported stolen from dealer 12345678';

const fleet = await startFleetStandin(t, { heartbeatSeconds: 5 });
const root = await tempDir(t);
const dataDir = join(root, 'data');
const tokenFile = join(root, 'bootstrap-token');
const env = {
  PLUGSRV_FLEET_URL: fleet.url,
  PLUGSRV_FLEET_CA_FILE: fleet.caFile,
  PLUGSRV_FLEET_TOKEN_FILE: tokenFile,
  PLUGSRV_FLEET_SERIAL: SERIAL,
  // A lock from the fleet must not wait for the poll: with a minute here, only the immediate refresh can give 423 in time.
  PLUGSRV_SERVE_LOCK_POLL_MS: '60000',
  PLUGSRV_SERVE_ADVERTISE: 'false',
};

const pkgFile = join(root, 'IVI_SOFT_1.bin');
await writeFile(pkgFile, Buffer.alloc(20_000, 3));
const imp = await runCli(['--data-dir', dataDir, 'import', pkgFile, '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1', '--json'], { env: { PLUGSRV_STORE_RESERVE_BYTES: '0' } });
t.equal(imp.code, 0, imp.stderr);
const sha256 = (JSON.parse(imp.stdout.split('\n').find((l) => l.includes('"imported"')) ?? '{}') as { sha256: string }).sha256;
const pkgUrl = (s: ServerProcess) => `${s.url}/v1/packages/${sha256}`;

let server: ServerProcess | undefined;
async function start(): Promise<ServerProcess> {
  server = await startServer(dataDir, [], env);
  return server;
}
t.teardown(() => server?.kill());
let deviceId = '';
const device = () => fleet.devices.get(deviceId)!;

t.test('first start with a token file: enrolls, connects, heartbeats; the token file is deleted', async (t) => {
  await writeFile(tokenFile, `${fleet.addToken({ serial: SERIAL })}\n`);
  const s = await start();
  const dev = await fleet.waitFor('a heartbeat from the enrolled agent', () => [...fleet.devices.values()].find((d) => d.heartbeats.length > 0), 20_000);
  deviceId = dev.deviceId;
  t.equal(dev.serial, SERIAL);
  t.match(dev.hellos[0], { lastSeq: 0, policyVersion: 1 });
  t.match(dev.heartbeats[0], { lock: { locked: false }, policyVersion: 1, sync: { state: 'never', packagesReady: 1 }, inventory: { agentVersion: /^\d+\.\d+\.\d+/, hardware: { dmi: {}, cpu: {} } } });
  await t.rejects(stat(tokenFile), { code: 'ENOENT' }, 'the spent token is deleted');
  t.equal((await stat(join(dataDir, 'identity', 'key.pem'))).mode & 0o777, 0o600);
  const status = json<{ enrollment: Record<string, unknown> }>(await http(`${s.url}/v1/status`));
  t.match(status.enrollment, { managed: true, enrolled: true, deviceId, dealerCode: '12345678', connected: true, lastContactAt: /^\d{4}-/ });
  t.equal((await http(pkgUrl(s))).status, 200);
  t.notMatch(s.output(), /pbt_/, 'the token is never logged');
  t.notMatch(s.output(), /PRIVATE KEY/, 'nor the key');
});

let lockCommand: { id: string; seq: number; signed: SignedCommand };

t.test('lock: the package route answers 423 within 2 s; result ok', async (t) => {
  const s = server!;
  const sentAt = performance.now();
  lockCommand = fleet.command(deviceId, 'lock', { reason: REASON });
  let status = 0;
  while (performance.now() - sentAt < 2000) {
    status = (await http(pkgUrl(s))).status;
    if (status === 423) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = performance.now() - sentAt;
  t.equal(status, 423, `423 after ${elapsed.toFixed(0)} ms`);
  t.ok(elapsed < 2000);
  t.match(json(await http(`${s.url}/v1/packages`)), { code: 'E_LOCKED', message: new RegExp(REASON) });
  t.match(await fleet.resultOf(lockCommand.id), { status: 'ok', seq: 1 });
  t.equal((await http(`${s.url}/healthz`)).status, 200, 'health still answers');
});

t.test('restart: still locked before and after the fleet reconnects; heartbeats report the lock', async (t) => {
  t.equal(await server!.stop(), 0, 'clean stop');
  const s = await start();
  t.equal((await http(pkgUrl(s))).status, 423, 'locked from the first request');
  await fleet.waitFor('the reconnection', () => device().hellos.length >= 2, 15_000);
  t.match(device().hellos[1], { lastSeq: 1 }, 'hello carries the last accepted seq');
  const beat = await fleet.waitFor('the first heartbeat of the new connection', () => device().heartbeats.find((h) => h.inventory && h.lock.locked));
  t.match(beat, { lock: { locked: true, reason: REASON } }, 'heartbeats report the lock');
  t.equal((await http(pkgUrl(s))).status, 423);
  t.match(json(await http(`${s.url}/v1/status`)), { locked: true, lockReason: REASON });
});

t.test('a replayed command is rejected and not run', async (t) => {
  const before = device().results.length;
  t.ok(fleet.sendRaw(deviceId, lockCommand.signed));
  const r = await fleet.waitFor('the rejection', () => device().results.slice(before).find((x) => x.commandId === lockCommand.id));
  t.match(r, { status: 'rejected', detail: /^E_COMMAND_REPLAY/ });
});

t.test('forged commands (wrong key, tampered payload) are rejected; the device stays locked', async (t) => {
  const s = server!;
  const genuine = fleet.command(deviceId, 'unlock');
  // A genuine unlock works; its signed form is then tampered with below.
  await fleet.resultOf(genuine.id);
  t.equal((await http(pkgUrl(s))).status, 200, 'the genuine unlock works');
  const relock = fleet.command(deviceId, 'lock', { reason: REASON });
  await fleet.resultOf(relock.id);

  const attacker = generateKeyPairSync('ed25519');
  const payload = JSON.stringify({ id: 'cmd_forgedforgedforgedforged', deviceId, seq: 1000, kind: 'unlock', args: {}, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 });
  const forged = { payload, signature: sign(null, Buffer.from(payload), attacker.privateKey).toString('base64'), keyId: lockCommand.signed.keyId };
  fleet.sendRaw(deviceId, forged);
  t.match(await fleet.resultOf('cmd_forgedforgedforgedforged'), { status: 'rejected', seq: 1000, detail: /^E_COMMAND_SIGNATURE/ });

  const tampered = { ...genuine.signed, payload: genuine.signed.payload.replace(`"seq":${genuine.seq}`, '"seq":2000') };
  const before = device().results.length;
  fleet.sendRaw(deviceId, tampered);
  t.match(await fleet.waitFor('the tampered rejection', () => device().results.slice(before).find((x) => x.seq === 2000)), { status: 'rejected', detail: /^E_COMMAND_SIGNATURE/ });
  t.equal((await http(pkgUrl(s))).status, 423, 'still locked');
});

t.test('a command queued while the agent is down is delivered when it comes back', async (t) => {
  await server!.stop();
  const queued = fleet.command(deviceId, 'unlock');
  t.notOk(fleet.connected(deviceId));
  const s = await start();
  t.match(await fleet.resultOf(queued.id, 20_000), { status: 'ok', seq: queued.seq });
  t.equal((await http(pkgUrl(s))).status, 200, 'unlocked by the queued command');
});

t.test('the fleet restarts: the agent reconnects and commands flow again', async (t) => {
  const connections = device().connections;
  await fleet.restart(500);
  await fleet.waitFor('the reconnection', () => device().connections > connections && fleet.connected(deviceId), 20_000);
  const logs = fleet.command(deviceId, 'collect-logs', { lines: 200 });
  const r = await fleet.resultOf(logs.id);
  t.match(r, { status: 'ok', data: { source: 'memory' } });
  const lines = (r.data as { lines: string[] }).lines;
  t.ok(lines.some((l) => l.includes('fleet: connected')), 'the agent\'s own recent log lines');
  t.notOk(lines.some((l) => l.includes('pbt_')), 'no token in the collected logs');
});

t.test('wipe: result ok, the service exits 10, store, state and identity are gone, un-enrolled; a new token enrolls it again', async (t) => {
  const s = server!;
  const wipe = fleet.command(deviceId, 'wipe');
  t.match(await fleet.resultOf(wipe.id), { status: 'ok' });
  const code = await fleet.waitFor('the agent to exit', () => s.child.exitCode ?? undefined, 15_000);
  t.equal(code, 10, 'exit code 10: systemd restarts it into a clean agent');
  const left = await readdir(dataDir);
  t.same(left, [], `the data directory is empty (${left.join(', ')})`);

  const status = await runCli(['--data-dir', dataDir, 'fleet', 'status', '--json'], { env });
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { enrolled: false, deviceId: null, locked: false, policyVersion: 0, wipePending: false });

  const fresh = await start();
  t.match(json(await http(`${fresh.url}/v1/status`)), { enrollment: { managed: true, enrolled: false, deviceId: null }, locked: false, packages: { ready: 0 } });
  t.match(json(await http(`${fresh.url}/v1/packages`)), { packages: [] }, 'nothing left to serve');

  // The production line (or the helpdesk) puts a new token: the waiting agent enrolls with it, as a new device.
  await writeFile(tokenFile, `${fleet.addToken({ serial: SERIAL })}\n`);
  const dev = await fleet.waitFor('a new enrollment', () => [...fleet.devices.values()].find((d) => d.deviceId !== deviceId && d.heartbeats.length > 0), 20_000);
  t.match(dev.hellos[0], { lastSeq: 0 }, 'a new identity starts its sequence again');
  t.match(json(await http(`${fresh.url}/v1/status`)), { enrollment: { enrolled: true, deviceId: dev.deviceId } });
});
