// The device socket against the stand-in fleet (real TLS, client certificate required): hello, welcome, heartbeats,
// commands, reconnection with backoff, and the fleet's close codes (replaced, revoked, retired).
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { SocketClose, type DeviceMessage } from '../../../lib/fleet/protocol.js';
import { silentLogger } from '../../../lib/log/index.js';
import { openAgent } from '../../../agent/src/app.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { buildHeartbeat, collectInventory, enrollDevice, FleetClient, readCaFile, type DeviceIdentity, type FleetClientDeps, type LinkRecord } from '../../../agent/src/fleet/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { startFleetStandin, type FleetStandin } from '../../helpers/fleet-standin.js';

interface Rig {
  fleet: FleetStandin;
  identity: DeviceIdentity;
  client: FleetClient;
  links: LinkRecord[];
  commands: unknown[];
  events: string[];
  firsts: boolean[];
}

async function rig(t: Test, over: Partial<FleetClientDeps> = {}): Promise<Rig> {
  const fleet = await startFleetStandin(t);
  const dir = await tempDir(t);
  const agent = await openAgent(loadConfig({ env: {}, flags: { dataDir: join(dir, 'data') } }), silentLogger());
  t.teardown(() => agent.close());
  const caFileCerts = await readCaFile(fleet.caFile);
  const identity = await enrollDevice({
    dataDir: agent.dataDir, db: agent.state.db, fleetUrl: fleet.url, caFileCerts, token: fleet.addToken(), tokenFile: join(dir, 'token'), serial: 'SN1',
    inventory: await collectInventory('1.0.0'), log: silentLogger(),
  });
  const links: LinkRecord[] = [];
  const commands: unknown[] = [];
  const events: string[] = [];
  const firsts: boolean[] = [];
  const client = new FleetClient({
    identity: () => identity,
    caFileCerts,
    log: silentLogger(),
    clock: Date.now,
    random: () => 0,
    agentVersion: '1.0.0',
    hello: async () => ({ lastSeq: 7, policyVersion: 3 }),
    heartbeat: async (first) => {
      firsts.push(first);
      return buildHeartbeat({ now: Date.now(), agentVersion: '1.0.0', lock: { locked: false }, policyVersion: 3, targets: [], packagesReady: 0, storage: { totalBytes: 1, freeBytes: 1, usedBytes: 0 }, ...(first ? { inventory: { agentVersion: '1.0.0', hostname: 'h', os: 'o', macs: [] } } : {}) });
    },
    onCommand: (c) => void commands.push(c),
    onWelcome: async () => void events.push('welcome'),
    onLink: (l) => void links.push(l),
    onRetired: () => void events.push('retired'),
    onRevoked: () => void events.push('revoked'),
    heartbeatSeconds: 5,
    backoff: { baseMs: 20, capMs: 2000, minMs: 0 },
    ...over,
  });
  t.teardown(() => client.stop());
  return { fleet, identity, client, links, commands, events, firsts };
}

const dev = (r: Rig) => r.fleet.devices.get(r.identity.deviceId)!;

t.test('connects with the device certificate: hello, welcome, a first heartbeat with the inventory, commands in, results out', async (t) => {
  const r = await rig(t);
  r.client.start();
  await r.fleet.waitFor('a heartbeat', () => dev(r).heartbeats[0]);
  t.match(dev(r).hellos, [{ type: 'hello', protocol: 1, agentVersion: '1.0.0', lastSeq: 7, policyVersion: 3 }]);
  t.equal(dev(r).heartbeats[0]?.inventory?.hostname, 'h', 'the first heartbeat of a connection carries the inventory');
  t.same(r.firsts, [true]);
  t.ok(r.client.connected);
  t.same(r.events, ['welcome']);
  t.match(r.links[r.links.length - 1], { state: 'connected', deviceId: r.identity.deviceId });

  const sent = r.fleet.command(r.identity.deviceId, 'lock', { reason: 'x' });
  await r.fleet.waitFor('the command at the agent', () => r.commands.length === 1);
  t.same(r.commands[0], sent.signed, 'the command reaches the handler as signed');
  const result: DeviceMessage = { type: 'result', commandId: sent.id, seq: sent.seq, status: 'ok', detail: '' };
  t.ok(await r.client.send(result), 'a result is written');
  t.match(await r.fleet.resultOf(sent.id), { status: 'ok' });
  t.same(dev(r).protocolErrors, [], 'everything sent followed the protocol');

  await r.client.stop();
  t.notOk(r.client.connected);
  t.equal(await r.client.send(result), false, 'nothing can be sent once stopped');
  t.match(r.links[r.links.length - 1], { state: 'disconnected' });
});

t.test('the fleet goes away and comes back: the client reconnects by itself and says hello again', async (t) => {
  const r = await rig(t);
  r.client.start();
  await r.fleet.waitFor('first connection', () => dev(r).heartbeats.length >= 1);
  await r.fleet.restart(300);
  await r.fleet.waitFor('a second hello', () => dev(r).hellos.length >= 2, 10_000);
  await r.fleet.waitFor('a heartbeat on the new connection', () => dev(r).heartbeats.length >= 2, 10_000);
  t.same(r.firsts.slice(0, 2), [true, true], 'each connection starts with an inventory heartbeat');
  t.ok(r.links.some((l) => l.state === 'disconnected' && l.lastError), 'the outage was recorded with its reason');
});

t.test('a fleet that is down at start is retried until it answers', async (t) => {
  const r = await rig(t);
  await r.fleet.stop();
  r.client.start();
  await new Promise((res) => setTimeout(res, 400));
  t.notOk(r.client.connected);
  t.ok(r.links.filter((l) => l.state === 'connecting').length >= 2, 'several attempts while it is down');
  await r.fleet.start();
  await r.fleet.waitFor('a connection once it is back', () => dev(r).hellos.length >= 1, 10_000);
});

t.test('replaced (4009): reconnects, but only after a longer delay', async (t) => {
  const r = await rig(t, { random: () => 1 });
  r.client.start();
  await r.fleet.waitFor('connected', () => dev(r).hellos.length === 1);
  const closedAt = Date.now();
  r.fleet.closeDevice(r.identity.deviceId, SocketClose.REPLACED, 'replaced by a newer connection');
  await r.fleet.waitFor('the reconnection', () => dev(r).hellos.length === 2, 10_000);
  const after = Date.now() - closedAt;
  // With base 20 ms and the 5th attempt forced: 20 * 2^5 = 640 ms (random = 1), against 20 ms for a plain drop.
  t.ok(after >= 600, `backed off ${after} ms`);
});

t.test('revoked (4003): the client stops for good and says why', async (t) => {
  const r = await rig(t);
  r.client.start();
  await r.fleet.waitFor('connected', () => dev(r).hellos.length === 1);
  dev(r).status = 'revoked';
  r.fleet.closeDevice(r.identity.deviceId, SocketClose.REVOKED, 'certificate revoked');
  await r.fleet.waitFor('the revocation handled', () => r.events.includes('revoked'));
  await new Promise((res) => setTimeout(res, 500));
  t.equal(dev(r).connections, 1, 'no reconnection attempt');
  t.match(r.links[r.links.length - 1], { state: 'revoked', lastError: /revoked/ });
});

t.test('retired (4001), also when it comes at connection time: the retire handler runs once, no reconnection', async (t) => {
  const r = await rig(t);
  dev(r).status = 'retired';
  r.client.start();
  await r.fleet.waitFor('the retirement handled', () => r.events.includes('retired'));
  await new Promise((res) => setTimeout(res, 300));
  t.same(r.events, ['retired']);
  t.match(r.links[r.links.length - 1], { state: 'retired' });
});
