// One network change with a fake backend, fake link checks and a fake clock: the file written, the gateway check
// (ARP: only a fresh REACHABLE counts), rollback of the file and the live set-up on every failure, keep and revert.
import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkSettings } from '../../../agent/src/console/index.js';
import { NetworkChanger, waitForGateway, type Ipv4Address, type LinkChecks, type NetworkBackend } from '../../../agent/src/system/index.js';
import { tempDir } from '../../helpers/agent-process.js';

const STATIC: NetworkSettings = { mode: 'static', address: '10.0.0.9', prefix: 24, gateway: '10.0.0.1', dns: ['10.0.0.1'] };

/** A box whose link, addresses, gateway and ARP answers the test controls; time only moves when something sleeps. */
function fakeBox(options: { carrier?: boolean; gatewayAnswers?: boolean; dhcpGateway?: string; staleFirst?: boolean } = {}) {
  const clock = { now: 1_000_000 };
  const calls: string[] = [];
  let addresses: Ipv4Address[] = [{ address: '10.0.0.5', prefix: 24 }];
  let neighbour: string[] = options.staleFirst ? ['STALE'] : [];
  const checks: LinkChecks = {
    carrier: async () => options.carrier ?? true,
    addresses: async () => addresses,
    defaultGateway: async () => options.dhcpGateway,
    neighbourState: async () => neighbour,
    flushNeighbour: async (_i, a) => {
      calls.push(`flush ${a}`);
      neighbour = [];
    },
    sendProbe: async (a) => {
      calls.push(`probe ${a}`);
      neighbour = options.gatewayAnswers === false ? ['INCOMPLETE'] : ['REACHABLE'];
    },
  };
  const backend: NetworkBackend<Ipv4Address[]> = {
    name: 'iproute2',
    supportsDhcp: true,
    snapshot: async () => [...addresses],
    apply: async (s) => {
      calls.push('apply');
      addresses = s.mode === 'static' ? [{ address: s.address, prefix: s.prefix }] : [{ address: '10.0.0.77', prefix: 24 }];
    },
    restore: async (snap) => {
      calls.push('restore');
      addresses = [...snap];
    },
  };
  const sleep = async (ms: number): Promise<void> => {
    clock.now += ms;
  };
  return { clock, calls, checks, backend, sleep, addresses: () => addresses };
}

async function setup(t: { teardown(fn: () => unknown): void }, box: ReturnType<typeof fakeBox>, previous?: string) {
  const dir = await tempDir(t);
  const file = join(dir, '10-plugsrv-eth0.network');
  if (previous !== undefined) await writeFile(file, previous);
  const changer = new NetworkChanger({ iface: 'eth0', networkDir: dir, backend: box.backend, checks: box.checks, rollbackSeconds: 30, now: () => box.clock.now, sleep: box.sleep });
  return { dir, file, changer };
}

t.test('a working change writes the file, applies, checks the gateway by ARP, and waits for keep', async (t) => {
  const box = fakeBox();
  const { file, changer } = await setup(t, box, 'old file\n');
  const steps: string[] = [];
  const r = await changer.apply(STATIC, (p) => steps.push(p.step));
  t.match(r, { ok: true, gateway: '10.0.0.1' });
  t.same(steps, ['writing', 'applying', 'checking', 'checking']);
  t.match(await readFile(file, 'utf8'), /\nAddress=10\.0\.0\.9\/24\nGateway=10\.0\.0\.1\nDNS=10\.0\.0\.1\n$/);
  t.same(box.calls, ['apply', 'flush 10.0.0.1', 'probe 10.0.0.1']);
  if (!r.ok) return;
  const again = await changer.apply(STATIC);
  t.match(again, { ok: false, reason: { code: 'applyFailed', detail: 'another change is in progress' }, changed: false }, 'one change at a time');
  await r.pending.keep();
  t.same(await r.pending.revert('declined'), { restored: false, restoreError: 'the change was already kept' });
  t.match(await readFile(file, 'utf8'), /Address=10\.0\.0\.9/, 'kept');
  t.match(await changer.apply(STATIC), { ok: true }, 'free again once kept');
});

t.test('reverting a pending change puts the previous file and set-up back', async (t) => {
  const box = fakeBox();
  const { file, changer } = await setup(t, box, 'old file\n');
  const r = await changer.apply(STATIC);
  if (!r.ok) throw new Error('expected ok');
  t.same(await r.pending.revert('timeout'), { restored: true });
  t.equal(await readFile(file, 'utf8'), 'old file\n');
  t.same(box.addresses(), [{ address: '10.0.0.5', prefix: 24 }]);
});

t.test('a gateway that never answers ARP is rolled back at the deadline', async (t) => {
  const box = fakeBox({ gatewayAnswers: false });
  const { file, changer } = await setup(t, box, 'old file\n');
  const start = box.clock.now;
  const r = await changer.apply({ ...STATIC, gateway: '10.0.0.99' });
  t.same(r, { ok: false, reason: { code: 'gatewayUnreachable', gateway: '10.0.0.99', seconds: 30 }, changed: true, restored: true });
  t.ok(box.clock.now - start >= 30_000, 'tried until the deadline');
  t.equal(box.calls.filter((c) => c.startsWith('flush')).length, 1, 'the entry is flushed once, then only probed');
  t.ok(box.calls.filter((c) => c.startsWith('probe')).length > 10, 'probed again and again');
  t.equal(box.calls.at(-1), 'restore');
  t.equal(await readFile(file, 'utf8'), 'old file\n');
});

t.test('no previous file: the new one is removed on rollback', async (t) => {
  const box = fakeBox({ gatewayAnswers: false });
  const { dir, changer } = await setup(t, box);
  const r = await changer.apply(STATIC);
  t.match(r, { ok: false, restored: true });
  t.same(await readdir(dir), []);
});

t.test('a stale neighbour entry from before the change proves nothing', async (t) => {
  const box = fakeBox({ gatewayAnswers: false, staleFirst: true });
  const { changer } = await setup(t, box, 'old\n');
  t.match(await changer.apply(STATIC), { ok: false, reason: { code: 'gatewayUnreachable' } });
});

t.test('link down: rolled back with that reason', async (t) => {
  const box = fakeBox({ carrier: false });
  const { changer } = await setup(t, box, 'old\n');
  t.match(await changer.apply(STATIC), { ok: false, reason: { code: 'linkDown', iface: 'eth0', seconds: 30 }, restored: true });
});

t.test('the backend failing: rolled back, with the command\'s error', async (t) => {
  const box = fakeBox();
  box.backend.apply = async () => {
    throw new Error('ip -4 addr add 10.0.0.9/24 failed: RTNETLINK answers: Permission denied');
  };
  const { file, changer } = await setup(t, box, 'old\n');
  t.same(await changer.apply(STATIC), { ok: false, reason: { code: 'applyFailed', detail: 'ip -4 addr add 10.0.0.9/24 failed: RTNETLINK answers: Permission denied' }, changed: true, restored: true });
  t.equal(await readFile(file, 'utf8'), 'old\n');
});

t.test('the rollback failing is reported, not hidden', async (t) => {
  const box = fakeBox({ gatewayAnswers: false });
  box.backend.restore = async () => {
    throw new Error('ip: Device or resource busy');
  };
  const { changer } = await setup(t, box, 'old\n');
  t.match(await changer.apply(STATIC), { ok: false, changed: true, restored: false, restoreError: 'ip: Device or resource busy' });
});

t.test('DHCP: refused by a backend without it, nothing touched', async (t) => {
  const box = fakeBox();
  const backend = { ...box.backend, supportsDhcp: false };
  const dir = await tempDir(t);
  const changer = new NetworkChanger({ iface: 'eth0', networkDir: dir, backend, checks: box.checks, rollbackSeconds: 30 });
  t.same(await changer.apply({ mode: 'dhcp' }), { ok: false, reason: { code: 'dhcpUnsupported' }, changed: false, restored: false });
  t.same(await readdir(dir), []);
  t.same(box.calls, []);
});

t.test('DHCP: the gateway is learnt from the lease', async (t) => {
  const box = fakeBox({ dhcpGateway: '10.0.0.254' });
  const { changer } = await setup(t, box);
  const gateways: string[] = [];
  t.match(await changer.apply({ mode: 'dhcp' }, (p) => p.gateway && gateways.push(p.gateway)), { ok: true, gateway: '10.0.0.254' });
  t.same(gateways, ['10.0.0.254']);
  const none = fakeBox();
  const s = await setup(t, none);
  t.match(await s.changer.apply({ mode: 'dhcp' }), { ok: false, reason: { code: 'noGateway' } });
});

t.test('status: live addressing and the console file read back', async (t) => {
  const box = fakeBox({ dhcpGateway: '10.0.0.1' });
  const { changer, file } = await setup(t, box);
  t.same(await changer.status(), { iface: 'eth0', carrier: true, addresses: ['10.0.0.5/24'], gateway: '10.0.0.1', applyWith: 'iproute2', filePath: file });
  await writeFile(file, '[Network]\nDHCP=ipv4\n');
  t.same((await changer.status()).fileSettings, { mode: 'dhcp' });
});

t.test('waitForGateway: the address must be the one asked for', async (t) => {
  const box = fakeBox();
  const r = await waitForGateway({ iface: 'eth0', settings: STATIC, checks: box.checks, deadline: box.clock.now + 2000, seconds: 2, now: () => box.clock.now, sleep: box.sleep });
  t.same(r, { ok: false, reason: { code: 'noAddress', iface: 'eth0', seconds: 2 } }, '10.0.0.5 is there, 10.0.0.9 is not');
});
