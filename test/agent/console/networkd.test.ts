// The .network file: exact rendering for a fixed and a DHCP set-up, and reading back only what the console writes.
import t from 'tap';
import { networkFileName, parseNetworkd, renderNetworkd } from '../../../agent/src/console/index.js';

const at = new Date('2025-03-04T05:06:07.000Z');

t.test('a fixed address', async (t) => {
  const text = renderNetworkd('enp1s0', { mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '1.1.1.1'] }, at);
  t.equal(
    text,
    [
      '# Written by plugsrv console on 2025-03-04T05:06:07.000Z; change it with `plugsrv console` on tty1.',
      '[Match]',
      'Name=enp1s0',
      '',
      '[Network]',
      'DHCP=no',
      'Address=192.168.10.20/24',
      'Gateway=192.168.10.1',
      'DNS=192.168.10.1',
      'DNS=1.1.1.1',
      '',
    ].join('\n'),
  );
  t.same(parseNetworkd(text), { mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '1.1.1.1'] }, 'reads back');
  t.equal(networkFileName('enp1s0'), '10-plugsrv-enp1s0.network');
});

t.test('DHCP', async (t) => {
  const text = renderNetworkd('eth0', { mode: 'dhcp' }, at);
  t.match(text, /\n\[Network\]\nDHCP=ipv4\n$/);
  t.notMatch(text, /Address=|Gateway=|DNS=/);
  t.same(parseNetworkd(text), { mode: 'dhcp' });
});

t.test('files the console did not write are not guessed at', async (t) => {
  t.same(parseNetworkd('[Match]\nName=eth0\n[Network]\nAddress=10.0.0.2/24\nGateway=10.0.0.1\nDNS=10.0.0.1 10.0.0.2\n'), { mode: 'static', address: '10.0.0.2', prefix: 24, gateway: '10.0.0.1', dns: ['10.0.0.1', '10.0.0.2'] }, 'space-separated DNS');
  t.equal(parseNetworkd('[Network]\nAddress=10.0.0.2/24\nAddress=10.0.0.3/24\nGateway=10.0.0.1\n'), undefined, 'two addresses');
  t.equal(parseNetworkd('[Network]\nAddress=10.0.0.2/24\n'), undefined, 'no gateway');
  t.equal(parseNetworkd('[Network]\nAddress=10.0.0.2/32\nGateway=10.0.0.1\n'), undefined, 'prefix outside what the form takes');
  t.equal(parseNetworkd('[Route]\nGateway=10.0.0.1\n'), undefined);
  t.same(parseNetworkd('[Network]\nDHCP=yes\n'), { mode: 'dhcp' });
});
