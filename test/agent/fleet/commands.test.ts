// The command runner on a real state DB with recording adapters: persistence order, replays, results kept while offline,
// interrupted commands, policy versions, and the wipe (marker, lock, result, then the erase).
import t, { type Test } from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { deviceMessage, type CommandKind, type DeviceMessage } from '../../../lib/fleet/protocol.js';
import { signCommand } from '../../../lib/fleet/signing.js';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent, type Agent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { tables } from '../../../agent/src/db/index.js';
import { CommandRunner, pendingWipe, readLastSeq, readPolicy, markWipePending, WIPE_MARKER, type CommandAdapters, type DeviceIdentity } from '../../../agent/src/fleet/index.js';
import { readLock } from '../../../agent/src/lock/index.js';
import { tempDir } from '../../helpers/agent-process.js';

const fleetKey = generateKeyPairSync('ed25519');
const DEVICE = 'dev_aaaaaaaaaaaaaaaaaaaaaaaa';
const identity = { deviceId: DEVICE, commandKeyPem: fleetKey.publicKey.export({ type: 'spki', format: 'pem' }).toString() } as DeviceIdentity;

type Result = Extract<DeviceMessage, { type: 'result' }>;

interface Harness {
  agent: Agent;
  runner: CommandRunner;
  sent: Result[];
  calls: string[];
  online: { value: boolean };
  cmd(seq: number, kind: CommandKind, args?: Record<string, unknown>): ReturnType<typeof signCommand>;
  newRunner(adapters?: Partial<CommandAdapters>): CommandRunner;
}

let ids = 0;
async function harness(t: Test, adapters: Partial<CommandAdapters> = {}, agentIn?: Agent): Promise<Harness> {
  const agent = agentIn ?? (await openAgent(loadConfig({ env: {}, flags: { dataDir: join(await tempDir(t), 'data') } }), silentLogger()));
  if (!agentIn) t.teardown(() => agent.close());
  const sent: Result[] = [];
  const calls: string[] = [];
  const online = { value: true };
  const base: CommandAdapters = {
    refreshLock: async () => void calls.push('refreshLock'),
    pauseSync: (reason) => void calls.push(`pauseSync:${reason}`),
    syncNow: async () => (calls.push('syncNow'), { status: 'ok', detail: 'sync ok' }),
    selfcheckNow: async () => (calls.push('selfcheckNow'), { status: 'ok', detail: 'self-check ok', data: { status: 'ok' } }),
    reboot: async () => void calls.push('reboot'),
    applyPolicy: (p) => (calls.push(`applyPolicy:${p.version}`), 'applied'),
    collectLogs: async (n) => (calls.push(`collectLogs:${n}`), { status: 'ok', detail: 'lines', data: { lines: ['a'] } }),
    wipeNow: () => void calls.push(`wipeNow:sent=${sent.length}`),
    bootId: () => 'boot-A',
  };
  const newRunner = (over: Partial<CommandAdapters> = {}): CommandRunner =>
    new CommandRunner({
      db: agent.state.db,
      dataDir: agent.dataDir,
      log: silentLogger(),
      clock: Date.now,
      identity: () => identity,
      send: async (msg) => {
        if (!online.value) return false;
        // Everything the agent sends must pass the fleet's strict schema (the fleet closes the socket otherwise).
        sent.push(deviceMessage.parse(msg) as Result);
        return true;
      },
      adapters: { ...base, ...adapters, ...over },
    });
  const cmd = (seq: number, kind: CommandKind, args: Record<string, unknown> = {}) =>
    signCommand({ id: `cmd_${String(++ids).padStart(24, '0')}`, deviceId: DEVICE, seq, kind, args, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 }, fleetKey.privateKey);
  return { agent, runner: newRunner(), sent, calls, online, cmd, newRunner };
}

t.test('lock: seq, lock and command row written together before the result; the watcher is refreshed and the sync paused', async (t) => {
  const h = await harness(t);
  const lock = h.cmd(1, 'lock', { reason: 'stolen unit' });
  await h.runner.handle(lock);
  t.same(await readLock(h.agent.state.db), { locked: true, reason: 'stolen unit', source: 'fleet', since: (await readLock(h.agent.state.db) as { since: number }).since });
  t.equal(await readLastSeq(h.agent.state.db, DEVICE), 1);
  t.same(h.calls, ['refreshLock', 'pauseSync:device locked by fleet operations']);
  t.match(h.sent, [{ type: 'result', seq: 1, status: 'ok', data: { locked: true, reason: 'stolen unit' } }]);
  const [row] = await h.agent.state.db.select().from(tables.fleetCommands);
  t.match(row, { kind: 'lock', status: 'ok', resultSent: true });

  h.calls.length = 0;
  await h.runner.handle(lock);
  t.match(h.sent[1], { status: 'rejected', seq: 1, detail: /^E_COMMAND_REPLAY: .*already run: ok/ }, 'a replay is rejected, saying it already ran');
  t.same(h.calls, [], 'and not executed again');

  await h.runner.handle(h.cmd(2, 'unlock'));
  t.same(await readLock(h.agent.state.db), { locked: false });
  t.equal(await readLastSeq(h.agent.state.db, DEVICE), 2);
  await h.runner.handle(h.cmd(1, 'unlock'));
  t.match(h.sent[3], { status: 'rejected', detail: /^E_COMMAND_REPLAY/ }, 'an older seq after a newer one (reordering)');
  t.equal(await readLastSeq(h.agent.state.db, DEVICE), 2, 'a rejection does not move the seq');
});

t.test('offline: results are kept in the DB and sent after the reconnection, once', async (t) => {
  const h = await harness(t);
  h.online.value = false;
  await h.runner.handle(h.cmd(1, 'lock', { reason: 'r' }));
  await h.runner.handle(h.cmd(2, 'collect-logs', { lines: 10 }));
  await h.runner.idle();
  t.same(h.sent, []);
  t.same(h.calls, ['refreshLock', 'pauseSync:device locked by fleet operations', 'collectLogs:10'], 'commands act whether or not the result can go out');
  const unsent = await h.agent.state.db.select().from(tables.fleetCommands).where(eq(tables.fleetCommands.resultSent, false));
  t.equal(unsent.length, 2);
  h.online.value = true;
  // A new process (restart) re-sends them after the welcome.
  t.equal(await h.newRunner().resendUnsent(), 2);
  t.same(h.sent.map((r) => [r.seq, r.status]), [[1, 'ok'], [2, 'ok']], 'in seq order');
  t.same(h.sent[1]?.data, { lines: ['a'] });
  t.equal(await h.runner.resendUnsent(), 0, 'nothing twice');
});

t.test('long commands run alongside: a lock is not held behind a sync', async (t) => {
  let release: () => void = () => undefined;
  const h = await harness(t, { syncNow: () => new Promise((r) => (release = () => r({ status: 'ok', detail: 'sync ok' }))) });
  await h.runner.handle(h.cmd(1, 'sync-now'));
  await h.runner.handle(h.cmd(2, 'lock', { reason: 'now' }));
  t.match(h.sent, [{ seq: 2, status: 'ok' }], 'the lock answered while the sync still runs');
  release();
  await h.runner.idle();
  t.match(h.sent, [{ seq: 2 }, { seq: 1, status: 'ok', detail: 'sync ok' }]);
});

t.test('a command whose action fails is answered failed with the code', async (t) => {
  const h = await harness(t, {
    reboot: async () => {
      throw Object.assign(new Error('systemctl reboot failed: Access denied'), { code: 'E_COMMAND_FAILED' });
    },
  });
  await h.runner.handle(h.cmd(1, 'reboot'));
  await h.runner.idle();
  t.match(h.sent, [{ seq: 1, status: 'failed', detail: /^E_COMMAND_FAILED: systemctl reboot failed: Access denied/ }]);
});

t.test('after a restart: an interrupted command is reported failed, a reboot that happened ok', async (t) => {
  const h = await harness(t, { reboot: () => new Promise(() => undefined), syncNow: () => new Promise(() => undefined) });
  await h.runner.handle(h.cmd(1, 'reboot'));
  await h.runner.handle(h.cmd(2, 'sync-now'));
  t.same(h.sent, [], 'both still running when the process dies');
  const next = h.newRunner({ bootId: () => 'boot-B' });
  await next.recoverInterrupted();
  await next.resendUnsent();
  t.match(h.sent, [
    { seq: 1, status: 'ok', detail: 'the device rebooted' },
    { seq: 2, status: 'failed', detail: /^E_COMMAND_INTERRUPTED/ },
  ]);
  await h.runner.handle(h.cmd(3, 'reboot'));
  const same = h.newRunner({ bootId: () => 'boot-A' });
  await same.recoverInterrupted();
  await same.resendUnsent();
  t.match(h.sent[2], { seq: 3, status: 'failed', detail: /^E_COMMAND_INTERRUPTED/ }, 'same boot: the reboot did not happen');
});

t.test('set-policy: stored and applied; an older version is refused', async (t) => {
  const h = await harness(t);
  await h.runner.handle(h.cmd(1, 'set-policy', { policy: { version: 3, heartbeatSeconds: 10 } }));
  t.equal((await readPolicy(h.agent.state.db))?.version, 3);
  t.equal(await h.runner.policyVersion(), 3);
  t.same(h.calls, ['applyPolicy:3']);
  t.match(h.sent[0], { status: 'ok', detail: 'policy version 3: applied', data: { policyVersion: 3 } });
  await h.runner.handle(h.cmd(2, 'set-policy', { policy: { version: 2 } }));
  t.match(h.sent[1], { seq: 2, status: 'failed', detail: /^E_POLICY_VERSION/ });
  t.equal((await readPolicy(h.agent.state.db))?.version, 3, 'the applied policy stays');
  t.equal(await readLastSeq(h.agent.state.db, DEVICE), 2, 'the command was accepted (and answered), so its seq is used');
});

t.test('wipe: marker first, lock, result out, then the wipe is started', async (t) => {
  const h = await harness(t);
  await h.runner.handle(h.cmd(1, 'wipe'));
  t.match(await pendingWipe(h.agent.dataDir), { why: 'wipe' }, 'a durable wipe marker');
  t.match(await readLock(h.agent.state.db), { locked: true, reason: /wipe ordered by fleet operations/ }, 'serving stops at once');
  t.match(h.sent, [{ seq: 1, status: 'ok' }]);
  t.same(h.calls, ['refreshLock', 'pauseSync:wipe ordered by fleet operations', 'wipeNow:sent=1'], 'the erase starts after the result went out');
});

t.test('openAgent finishes a pending wipe before anything reads the data: store, DB, identity and token file', async (t) => {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'data');
  const tokenFile = join(dir, 'bootstrap-token');
  const config = loadConfig({ env: {}, flags: { dataDir, 'fleet.tokenFile': tokenFile } });
  let agent = await openAgent(config, silentLogger());
  const h = await harness(t, {}, agent);
  await h.runner.handle(h.cmd(1, 'lock', { reason: 'before the wipe' }));
  agent.close();
  await mkdir(join(dataDir, 'identity'), { recursive: true });
  await writeFile(join(dataDir, 'identity', 'key.pem'), 'secret key');
  await mkdir(join(dataDir, 'partial'), { recursive: true });
  await writeFile(join(dataDir, 'partial', 'x.part'), 'bytes');
  await mkdir(join(dataDir, 'blobs', 'sha256', 'ab'), { recursive: true });
  await writeFile(join(dataDir, 'blobs', 'sha256', 'ab', 'ab'.repeat(32)), 'blob');
  await writeFile(join(dataDir, 'something-else'), 'x');
  await writeFile(tokenFile, 'pbt_old');
  await markWipePending(dataDir, { requestedAt: Date.now(), why: 'wipe' });

  agent = await openAgent(config, silentLogger());
  t.teardown(() => agent.close());
  t.same((await readdir(dataDir)).filter((n) => !n.startsWith('state.db')).sort(), ['blobs', 'tmp'], 'only the fresh, empty store folders and a new DB');
  t.same(await readdir(join(dataDir, 'blobs', 'sha256')), []);
  t.same(await readLock(agent.state.db), { locked: false }, 'a new DB: the lock went with the rest');
  t.equal(await readLastSeq(agent.state.db, DEVICE), 0);
  await t.rejects(stat(tokenFile), { code: 'ENOENT' }, 'the token file is gone');
  await t.rejects(stat(join(dataDir, WIPE_MARKER)), { code: 'ENOENT' }, 'the marker is removed last');
});
