// The fleet role wired to real running parts (serve role, self-check and sync schedulers) in one process, against the
// stand-in fleet: set-policy applied live, selfcheck-now, sync-now, reboot through fleet.rebootCommand, retire.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { FleetRole, LogRing, pendingWipe } from '../../../agent/src/fleet/index.js';
import { latestRuns, planFromConfig, SelfcheckScheduler } from '../../../agent/src/selfcheck/index.js';
import { startServeRole } from '../../../agent/src/serve/index.js';
import { SyncScheduler } from '../../../agent/src/sync/index.js';
import { http, json } from '../../helpers/agent-fixture.js';
import { tempDir } from '../../helpers/agent-process.js';
import { startFleetStandin } from '../../helpers/fleet-standin.js';

const fleet = await startFleetStandin(t, { heartbeatSeconds: 5 });
const dir = await tempDir(t);
const tokenFile = join(dir, 'bootstrap-token');
const flowsFile = join(dir, 'flows.yaml');
const rebooted = join(dir, 'rebooted');
await writeFile(tokenFile, `${fleet.addToken({ serial: 'SN-ROLE-1' })}\n`);
await writeFile(flowsFile, 'version: 1\nflows:\n  - { host: lan, port: 8080, protocol: tcp, purpose: lan }\n');
const config = loadConfig({
  env: {},
  flags: {
    dataDir: join(dir, 'data'),
    'serve.host': '127.0.0.1',
    'serve.port': 0,
    'serve.advertise': false,
    'selfcheck.flowsFile': flowsFile,
    'selfcheck.ntpServers': ['127.0.0.1:9'],
    'selfcheck.dnsServers': ['127.0.0.1:9'],
    'selfcheck.timeoutMs': 300,
    'selfcheck.intervalHours': 0,
    'fleet.url': fleet.url,
    'fleet.caFile': fleet.caFile,
    'fleet.tokenFile': tokenFile,
    'fleet.serial': 'SN-ROLE-1',
    'fleet.rebootCommand': ['touch', rebooted],
  },
});
const logs = new LogRing();
const agent = await openAgent(config, logs.wrap(silentLogger()), { recover: true });
const role = await FleetRole.open(agent, { logs, tokenPollMs: 100 });
const running = await startServeRole(agent);
const selfcheck = new SelfcheckScheduler({
  db: agent.state.db,
  log: agent.log,
  historySize: 10,
  plan: () => role.selfcheckPlan({ ...planFromConfig(config), servePort: running.port }),
  env: async () => ({ clock: Date.now, env: {} }),
});
const sync = new SyncScheduler(agent, Date.now, { paused: () => running.lock.current.locked });
const exits: number[] = [];
role.start({ lock: running.lock, sync, selfcheck, exit: (code) => void exits.push(code) });
t.teardown(async () => {
  await Promise.all([role.stop(), running.stop(), selfcheck.stop(), sync.stop()]);
  agent.close();
});

const dev = await fleet.waitFor('the enrolled device', () => [...fleet.devices.values()].find((d) => d.heartbeats.length > 0), 20_000);
const run = async (kind: Parameters<typeof fleet.command>[1], args: Record<string, unknown> = {}) => fleet.resultOf(fleet.command(dev.deviceId, kind, args).id, 20_000);

t.test('set-policy: stored, applied to the running parts, reported in heartbeats', async (t) => {
  const r = await run('set-policy', { policy: { version: 2, heartbeatSeconds: 6, selfcheckIntervalMinutes: 30, sync: { window: '01:00-02:00', nightRateBytesPerSec: 1000 }, requiredHosts: ['localhost'] } });
  t.match(r, { status: 'ok', data: { policyVersion: 2 }, detail: /policy version 2: applied now: heartbeat every 6 s, self-check every 30 min; from the next sync run: window 01:00-02:00/ });
  t.equal(config.sync.window, '01:00-02:00', 'the sync reads the new window from its next tick');
  t.equal(config.sync.nightRateBytesPerSec, 1000);
  t.equal(config.selfcheck.intervalHours, 0.5);
  t.ok(role.selfcheckPlan(planFromConfig(config)).flows.some((f) => f.host === 'localhost' && f.purpose === 'management'), 'required hosts join the self-check plan');
  const seen = dev.heartbeats.length;
  await fleet.waitFor('a heartbeat with the new version', () => dev.heartbeats.slice(seen).find((h) => h.policyVersion === 2), 10_000);
  t.equal((await run('set-policy', { policy: { version: 1 } })).status, 'failed', 'an older version is refused');
});

t.test('selfcheck-now: runs the self-check (with the policy\'s required hosts), its summary is the result data', async (t) => {
  const r = await run('selfcheck-now');
  t.match(r, { status: 'ok', detail: /^self-check (ok|warn|fail)/, data: { status: /ok|warn|fail/, trigger: 'command', counts: {} } });
  const [latest] = await latestRuns(agent.state.db, 1);
  t.equal(latest?.trigger, 'command', 'recorded like any run');
  t.ok(latest?.results.some((p) => p.target.includes('localhost')), 'the required host was probed');
  t.match(json(await http(`http://127.0.0.1:${running.port}/v1/status`)), { selfcheck: { trigger: 'command' }, enrollment: { enrolled: true, deviceId: dev.deviceId, connected: true } });
});

t.test('sync-now: refused while locked, failed with the reason when sync is not set up', async (t) => {
  t.match(await run('sync-now'), { status: 'failed', detail: /^E_CONFIG: sync is not set up/ });
  await run('lock', { reason: 'audit' });
  t.match(await run('sync-now'), { status: 'failed', detail: /^E_LOCKED/ });
  await run('unlock');
});

t.test('reboot: runs fleet.rebootCommand; its failure is reported', async (t) => {
  t.match(await run('reboot'), { status: 'ok', detail: 'reboot requested' });
  t.equal(await readFile(rebooted, 'utf8'), '', 'the command ran');
  config.fleet.rebootCommand = ['false'];
  t.match(await run('reboot'), { status: 'failed', detail: /^E_COMMAND_FAILED: false failed/ });
});

t.test('retire: result ok, then the wipe marker and the exit with code 10', async (t) => {
  t.match(await run('retire'), { status: 'ok' });
  await fleet.waitFor('the exit request', () => exits.length > 0);
  t.same(exits, [10]);
  t.match(await pendingWipe(agent.dataDir), { why: 'retire' });
  t.equal(running.lock.current.locked, true, 'stopped serving at once');
});
