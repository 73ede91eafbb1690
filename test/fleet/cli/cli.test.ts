// The operator CLI against the real `plugsrv-fleet serve`: --json outputs, tables, --wait, exit codes and their E_* codes.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandPayload } from '../../../lib/fleet/protocol.js';
import { tempDir } from '../../helpers/agent-process.js';
import { DeviceSocket, enrollDevice } from '../../helpers/fleet-device.js';
import { api, eventually, runFleetCli, startFleet, type CliResult } from '../../helpers/fleet-process.js';

const dataDir = await tempDir(t, 'plugsrv-fleet-cli-');
const created = await runFleetCli(['--data-dir', dataDir, 'keys', 'create', '--scope', 'admin', '--name', 'ops', '--json']);
const adminKey = (JSON.parse(created.stdout) as { key: string; id: string }).key;
const adminId = (JSON.parse(created.stdout) as { key: string; id: string }).id;
const fleet = await startFleet(dataDir);
t.teardown(() => fleet.kill());
const env = { PLUGSRV_FLEET_URL: fleet.url, PLUGSRV_FLEET_API_KEY: adminKey };

function cli(args: string[], extraEnv: Record<string, string> = env): Promise<CliResult> {
  return runFleetCli(['--data-dir', dataDir, ...args], { env: extraEnv });
}

function jsonOf(r: CliResult): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

t.test('keys: created once with the secret, listed without it', async (t) => {
  t.match(JSON.parse(created.stdout), { id: /^[a-z0-9]{16}$/, scope: 'admin', name: 'ops', key: /^pak_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/ });
  const list = await cli(['keys', 'list']);
  t.equal(list.code, 0);
  t.match(list.stdout, new RegExp(`^ID\\s+SCOPE\\s+NAME.*\n${adminId}\\s+admin\\s+ops`, 's'));
  t.notOk(list.stdout.includes(adminKey.split('_').slice(2).join('_')), 'no secret in the list');
});

t.test('tokens, devices, device show, lock --wait, policy, audit, report, stats', async (t) => {
  const token = jsonOf(await cli(['tokens', 'create', '--dealer', '12345678', '--serial', 'SN-CLI', '--expires-in', '2d', '--json']));
  t.match(token, { dealerCode: '12345678', serial: 'SN-CLI', state: 'unused', token: /^pbt_/ });
  t.ok(token.expiresAt - Date.now() > 47 * 3_600_000 && token.expiresAt - Date.now() <= 48 * 3_600_000, '--expires-in 2d');

  const { res, enrolled, key } = await enrollDevice(fleet, token.token, 'SN-CLI');
  t.equal(res.status, 201);
  // A device that answers every command ok.
  const sock = new DeviceSocket(enrolled.socketUrl, { ca: fleet.rootCa, cert: enrolled.certificate, key: key.keyPem });
  sock.ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; command?: { payload: string } };
    if (msg.type !== 'command' || !msg.command) return;
    const p = commandPayload.parse(JSON.parse(msg.command.payload));
    sock.send({ type: 'result', commandId: p.id, seq: p.seq, status: 'ok', detail: '' });
  });
  await sock.next('welcome');
  sock.hello(0);
  sock.heartbeat();
  t.teardown(() => sock.close());

  const [devicesJson, table, show] = await Promise.all([cli(['devices', '--json']), cli(['devices']), cli(['device', 'show', enrolled.deviceId, '--json'])]);
  t.match(jsonOf(devicesJson).devices, [{ id: enrolled.deviceId, dealerCode: '12345678', serial: 'SN-CLI', status: 'active', online: true }]);
  t.match(table.stdout, /^DEVICE\s+DEALER\s+SERIAL\s+STATUS\s+ONLINE/);
  t.match(table.stdout, new RegExp(`${enrolled.deviceId}\\s+12345678\\s+SN-CLI\\s+active\\s+yes`));
  t.match(table.stdout, /1 device\(s\), 1 online/);
  t.match(jsonOf(show), { id: enrolled.deviceId, certificates: [{ revokedAt: null }] });

  const locked = jsonOf(await cli(['lock', enrolled.deviceId, '--reason', 'stolen unit', '--wait', '15', '--json']));
  t.match(locked, { deviceId: enrolled.deviceId, kind: 'lock', state: 'ok', args: { reason: 'stolen unit' } });
  const plain = await cli(['unlock', enrolled.deviceId]);
  t.equal(plain.code, 0);
  t.match(plain.stdout, /queued unlock cmd_\S+ \(seq 2\) for dev_\S+: the device is online/);
  const commands = jsonOf(await cli(['commands', '--device', enrolled.deviceId, '--json']));
  t.same(commands.commands.map((c: { kind: string }) => c.kind), ['unlock', 'lock'], 'newest first');

  const policyFile = join(dataDir, 'policy.yaml');
  await writeFile(policyFile, 'heartbeatSeconds: 60\nsync:\n  window: "23:00-05:00"\n  include: ["R-LINK2/**"]\nrequiredHosts: [cdn.example.com]\n');
  const policy = jsonOf(await cli(['policy', 'create', '--file', policyFile, '--note', 'night shift', '--assign', 'all', '--json']));
  t.match(policy, { version: 2, document: { version: 2, heartbeatSeconds: 60, sync: { window: '23:00-05:00' } }, assigned: { target: 'all', queued: 1 } });
  const asAdmin = { key: adminKey };
  await eventually(async () => {
    const d = (await api(fleet, 'GET', `/v1/devices/${enrolled.deviceId}`, asAdmin)).json;
    return d.policy.assigned === 2 && d.commands.some((c: { kind: string; state: string }) => c.kind === 'set-policy' && c.state === 'ok') ? true : undefined;
  }, 15_000, 'set-policy answered');
  t.equal((await api(fleet, 'GET', '/v1/policies', asAdmin)).json.defaultVersion, 2);
  await writeFile(policyFile, 'heartbeatSeconds: 2\n');
  const badPolicy = await cli(['policy', 'create', '--file', policyFile]);
  t.equal(badPolicy.code, 2);
  t.match(badPolicy.stderr, /E_BAD_REQUEST: invalid policy: heartbeatSeconds/);

  const audit = jsonOf(await cli(['audit', '--json']));
  const actions = audit.entries.map((e: { action: string }) => e.action);
  for (const a of ['key.create', 'token.create', 'device.enroll', 'command.lock', 'command.unlock', 'policy.create']) t.ok(actions.includes(a), `audit has ${a}`);
  t.match(audit.entries.find((e: { action: string }) => e.action === 'command.lock'), { actor: adminId, target: enrolled.deviceId, outcome: 'ok', detail: { kind: 'lock', args: { reason: 'stolen unit' } } });

  const month = new Date().toISOString().slice(0, 7);
  await eventually(async () => ((await api(fleet, 'GET', '/v1/reports/active-units', asAdmin)).json.rows.length > 0 ? true : undefined), 10_000, 'activity flushed');
  const [csv, stats] = await Promise.all([cli(['report', 'active-units', '--from', month, '--csv']), cli(['stats', '--json'])]);
  t.equal(csv.stdout, `month,dealer_code,active_units\r\n${month},12345678,1\r\n`);
  t.match(jsonOf(stats), { connected: 1, devices: { active: 1 } });
});

t.test('errors: stable codes and exit codes', async (t) => {
  const noDevice = `dev_${'a'.repeat(26)}`;
  const [noKey, badDealer, unknown, noYes, untrusted, down, help] = await Promise.all([
    cli(['devices'], { PLUGSRV_FLEET_URL: fleet.url }),
    cli(['tokens', 'create', '--dealer', '42']),
    cli(['device', 'show', noDevice]),
    cli(['wipe', noDevice]),
    cli(['--ca', join(dataDir, 'ca', 'device-ca.pem'), 'devices']),
    cli(['devices'], { ...env, PLUGSRV_FLEET_URL: 'https://127.0.0.1:1' }),
    cli(['--help']),
  ]);
  t.equal(noKey.code, 4);
  t.match(noKey.stderr, /E_UNAUTHORIZED: .*PLUGSRV_FLEET_API_KEY/);
  t.equal(badDealer.code, 2);
  t.match(badDealer.stderr, /E_BAD_REQUEST/);
  t.equal(unknown.code, 6);
  t.match(unknown.stderr, /E_NOT_FOUND/);
  t.equal(noYes.code, 2);
  t.match(noYes.stderr, /--yes/);
  t.equal(untrusted.code, 5, 'a CA that did not issue the server certificate');
  t.match(untrusted.stderr, /E_TLS: .*--ca/);
  t.equal(down.code, 5);
  t.match(down.stderr, /E_FLEET_UNREACHABLE/);
  t.match(help.stdout, /PLUGSRV_FLEET_API_KEY only/);
});

t.test('serve refuses a key file others can read', async (t) => {
  const dir = await tempDir(t, 'plugsrv-fleet-perm-');
  await mkdir(join(dir, 'keys'), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(join(dir, 'keys', 'command.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o644 });
  const err = await startFleet(dir).then(
    () => undefined,
    (e: { exitCode?: number; stderr?: string }) => e,
  );
  t.ok(err, 'serve did not start');
  t.equal(err?.exitCode, 3);
  t.match(err?.stderr, /E_KEY_PERMISSIONS: .*chmod 600/);
});
