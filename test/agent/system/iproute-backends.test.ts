// iproute2 commands and parsing, and the two backends, against a recorded fake `ip` / `networkctl`.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IpRoute, iproute2Backend, networkdBackend, type RunCommand } from '../../../agent/src/system/index.js';
import { tempDir } from '../../helpers/agent-process.js';

/** A fake command runner: records every call, answers from a table keyed by the joined arguments. */
function fakeRun(answers: Record<string, string> = {}): { run: RunCommand; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (file, args) => {
      const line = [file, ...args].join(' ');
      calls.push(line);
      const answer = answers[line];
      if (answer === 'FAIL') throw new Error(`${line} failed`);
      return answer ?? '';
    },
  };
}

t.test('reading addresses, default route and neighbour state from ip -j', async (t) => {
  const { run, calls } = fakeRun({
    'ip -j -4 addr show dev eth0': JSON.stringify([
      { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global' }, { family: 'inet', local: '169.254.1.1', prefixlen: 16, scope: 'link' }] },
    ]),
    'ip -j -4 route show default dev eth0': JSON.stringify([{ dst: 'default', gateway: '10.0.0.1', flags: [] }]),
    'ip -j -4 neigh show to 10.0.0.1 dev eth0': JSON.stringify([{ dst: '10.0.0.1', lladdr: 'aa:bb:cc:dd:ee:ff', state: ['REACHABLE'] }]),
    'ip -j -4 neigh show to 10.0.0.99 dev eth0': '[{"dst":"10.0.0.99","state":["FAILED"]}]\n',
  });
  const ip = new IpRoute(run);
  t.same(await ip.addresses('eth0'), [{ address: '10.0.0.5', prefix: 24 }], 'global scope only');
  t.equal(await ip.defaultGateway('eth0'), '10.0.0.1');
  t.same(await ip.neighbourState('eth0', '10.0.0.1'), ['REACHABLE']);
  t.same(await ip.neighbourState('eth0', '10.0.0.99'), ['FAILED']);
  t.same(await ip.neighbourState('eth0', '10.0.0.2'), [], 'no entry');
  t.equal(await ip.defaultGateway('eth1'), undefined, 'empty output');
  t.ok(calls.every((c) => c.startsWith('ip ')));
});

t.test('networkd backend: reload and reconfigure, both ways', async (t) => {
  const { run, calls } = fakeRun();
  const b = networkdBackend('enp1s0', run);
  t.equal(b.supportsDhcp, true);
  await b.apply({ mode: 'dhcp' });
  await b.restore(await b.snapshot());
  t.same(calls, ['networkctl reload', 'networkctl reconfigure enp1s0', 'networkctl reload', 'networkctl reconfigure enp1s0']);
});

t.test('iproute2 backend: snapshot, apply, restore', async (t) => {
  const dir = await tempDir(t);
  const resolv = join(dir, 'resolv.conf');
  await writeFile(resolv, 'nameserver 10.0.0.1\n');
  const { run, calls } = fakeRun({
    'ip -j -4 addr show dev eth0': JSON.stringify([{ addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global' }] }]),
    'ip -j -4 route show default dev eth0': JSON.stringify([{ dst: 'default', gateway: '10.0.0.1' }]),
  });
  const b = iproute2Backend('eth0', new IpRoute(run), resolv);
  t.equal(b.supportsDhcp, false);
  const snap = await b.snapshot();
  t.same(snap, { addresses: [{ address: '10.0.0.5', prefix: 24 }], gateway: '10.0.0.1', resolvConf: 'nameserver 10.0.0.1\n' });
  calls.length = 0;
  await b.apply({ mode: 'static', address: '10.0.0.9', prefix: 24, gateway: '10.0.0.254', dns: ['10.0.0.254', '1.1.1.1'] });
  t.same(calls, [
    'ip link set dev eth0 up',
    'ip -4 addr flush dev eth0 scope global',
    'ip -4 addr add 10.0.0.9/24 broadcast + dev eth0',
    'ip -4 route replace default via 10.0.0.254 dev eth0',
  ]);
  t.equal(await readFile(resolv, 'utf8'), '# Written by plugsrv console (console.applyWith: iproute2).\nnameserver 10.0.0.254\nnameserver 1.1.1.1\n');
  calls.length = 0;
  await b.restore(snap);
  t.same(calls, ['ip -4 addr flush dev eth0 scope global', 'ip -4 addr add 10.0.0.5/24 broadcast + dev eth0', 'ip -4 route replace default via 10.0.0.1 dev eth0']);
  t.equal(await readFile(resolv, 'utf8'), 'nameserver 10.0.0.1\n');
  await t.rejects(b.apply({ mode: 'dhcp' }), /DHCP needs console.applyWith: networkd/);
});

t.test('iproute2 restore of a box that had no address, route or resolv.conf', async (t) => {
  const dir = await tempDir(t);
  const resolv = join(dir, 'resolv.conf');
  await writeFile(resolv, 'nameserver 9.9.9.9\n');
  const { run, calls } = fakeRun({ 'ip -j -4 route show default dev eth0': JSON.stringify([{ gateway: '10.0.0.254' }]) });
  const b = iproute2Backend('eth0', new IpRoute(run), resolv);
  await b.restore({ addresses: [], gateway: undefined, resolvConf: undefined });
  t.same(calls, ['ip -4 addr flush dev eth0 scope global', 'ip -j -4 route show default dev eth0', 'ip -4 route del default dev eth0']);
  await t.rejects(readFile(resolv), { code: 'ENOENT' }, 'resolv.conf removed, as before');
});
