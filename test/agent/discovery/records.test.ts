// DNS-SD records of plugsrv: TXT, instance names and renames, where to advertise, a box from an answer, the choice among boxes.
import t from 'tap';
import { advertiseScope, boxFromService, conflictName, instanceName, mdnsHostName, txtRecord, uniqueBoxes, type DiscoveredBox } from '../../../agent/src/discovery/index.js';
import { chooseBox, formatBoxes } from '../../../agent/src/fetch/index.js';

t.test('TXT: version, API path, /tuf/ when the box has a signed catalog, serial and dealer when known', async (t) => {
  t.same(txtRecord({ version: '0.1.0', tuf: false }), { txtvers: '1', version: '0.1.0', path: '/v1/' });
  t.same(txtRecord({ version: '1', tuf: true, serial: 'PS-0042', dealer: '76000123' }), { txtvers: '1', version: '1', path: '/v1/', tuf: '/tuf/', serial: 'PS-0042', dealer: '76000123' });
});

t.test('instance names: configured or plugsrv-<host>, one DNS label of at most 63 bytes; renames after a conflict', async (t) => {
  t.equal(instanceName('', 'box17.dealer.lan'), 'plugsrv-box17');
  t.equal(instanceName('  Atelier  ', 'x'), 'Atelier');
  t.equal(instanceName('a.b\u0001c', 'x'), 'a-bc');
  t.equal(Buffer.byteLength(instanceName('é'.repeat(60), 'x')), 62, 'cut on a character boundary');
  t.equal(conflictName('plugsrv-box', 1), 'plugsrv-box (2)');
  const long = conflictName('x'.repeat(63), 2);
  t.ok(long.endsWith(' (3)') && Buffer.byteLength(long) <= 63, long);
  t.equal(mdnsHostName('Box_17.lan'), 'Box-17.local');
});

const ifaces = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
  eth0: [
    { address: 'fe80::1', family: 'IPv6', internal: false },
    { address: '192.168.1.20', family: 'IPv4', internal: false },
  ],
};

t.test('where to advertise', async (t) => {
  t.same(advertiseScope('', '0.0.0.0', ifaces), { kind: 'all' });
  t.same(advertiseScope('', '::', ifaces), { kind: 'all' });
  t.same(advertiseScope('', '192.168.1.20', ifaces), { kind: 'address', address: '192.168.1.20' });
  t.match(advertiseScope('', '127.0.0.1', ifaces), { kind: 'off', reason: /loopback/ });
  t.match(advertiseScope('', 'localhost', ifaces), { kind: 'off' });
  t.same(advertiseScope('eth0', '0.0.0.0', ifaces), { kind: 'address', address: '192.168.1.20' }, 'an interface name');
  t.same(advertiseScope('10.0.0.5', '127.0.0.1', ifaces), { kind: 'address', address: '10.0.0.5' }, 'explicit wins');
  t.match(advertiseScope('wlan9', '0.0.0.0', ifaces), { kind: 'off', reason: /"wlan9" is neither.*interfaces: lo, eth0/ });
  t.match(advertiseScope('', 'box.local', ifaces), { kind: 'off', reason: /serve\.advertiseInterface/ });
});

t.test('a box from an answer: the IPv4 it answered from, TXT facts, bad answers ignored', async (t) => {
  const box = boxFromService({ name: 'plugsrv-a', port: 8080, addresses: ['192.168.1.20', 'fe80::1'], referer: { address: '192.168.1.20' }, txt: { version: '0.1.0', tuf: '/tuf/', serial: 'S1' } });
  t.same(box, { name: 'plugsrv-a', url: 'http://192.168.1.20:8080', address: '192.168.1.20', port: 8080, tuf: true, version: '0.1.0', serial: 'S1' });
  t.equal(boxFromService({ name: 'b', port: 80, addresses: ['10.0.0.2'], referer: { address: 'fe80::2' } })?.url, 'http://10.0.0.2:80', 'advertised IPv4 over an IPv6 referer');
  t.equal(boxFromService({ name: 'c', port: 80, addresses: ['fe80::3', '2001:db8::3'] })?.url, 'http://[2001:db8::3]:80', 'global IPv6 when no IPv4');
  t.equal(boxFromService({ name: 'd', port: 0, addresses: ['10.0.0.2'] }), undefined);
  t.equal(boxFromService({ name: 'e', port: 80, addresses: [] }), undefined);
  t.equal(boxFromService({ name: 'f', port: 80, addresses: ['fe80::9'] }), undefined, 'link-local needs a zone: unusable');
});

const box = (name: string, url: string): DiscoveredBox => ({ name, url, address: '', port: 8080, tuf: false });

t.test('choosing: the one box, or an error that lists them or says what to do', async (t) => {
  t.same(uniqueBoxes([box('b', 'http://2:8080'), box('a', 'http://1:8080'), box('a2', 'http://1:8080')]).map((b) => b.name), ['a', 'b']);
  t.equal(chooseBox([box('a', 'http://1:8080')], 3000).name, 'a');
  t.throws(() => chooseBox([], 2500), { code: 'E_NO_SERVER', message: /no plugsrv box answered on the LAN within 2\.5 s.*--server http:\/\/ADDRESS:8080.*UDP port 5353/ });
  t.throws(() => chooseBox([box('a', 'http://1:8080'), box('b', 'http://2:8080')], 3000), { code: 'E_SEVERAL_SERVERS', message: /2 plugsrv boxes answered.*--server URL:\n\s+NAME\s+URL.*\n\s+a\s+http:\/\/1:8080/s });
  t.match(formatBoxes([{ ...box('a', 'http://1:8080'), version: '0.1.0', dealer: '42' }]), /a\s+http:\/\/1:8080\s+0\.1\.0\s+-\s+42/);
});
