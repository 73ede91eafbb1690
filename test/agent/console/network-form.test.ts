// Validation of the network form: every refusal with its sentence in French and English; IPv4 and prefix arithmetic.
import t from 'tap';
import {
  broadcastOf,
  classifyIpv4,
  formatIpv4,
  formFromStatus,
  MESSAGES,
  networkOf,
  parseIpv4,
  parsePrefix,
  validateNetworkForm,
  type FieldError,
  type NetworkFormValues,
} from '../../../agent/src/console/index.js';

const good: NetworkFormValues = { mode: 'static', address: '192.168.10.20', prefix: '24', gateway: '192.168.10.1', dns: '192.168.10.1, 1.1.1.1' };

function errorsOf(values: Partial<NetworkFormValues>): FieldError[] {
  const r = validateNetworkForm({ ...good, ...values });
  if (r.ok) throw new Error(`expected a refusal for ${JSON.stringify(values)}`);
  return r.errors;
}
const fr = (e: FieldError[]): string[] => e.map((x) => x.text(MESSAGES.fr));
const en = (e: FieldError[]): string[] => e.map((x) => x.text(MESSAGES.en));

t.test('IPv4 parsing is strict', async (t) => {
  t.same(parseIpv4('10.77.1.2'), { ok: true, value: 0x0a4d0102 });
  t.same(parseIpv4(' 10.77.1.2 '), { ok: true, value: 0x0a4d0102 }, 'surrounding spaces are forgiven');
  t.same(parseIpv4('10.77.1.300'), { ok: false, problem: { kind: 'octet', part: '300' } });
  t.same(parseIpv4('10.77.1.1000'), { ok: false, problem: { kind: 'octet', part: '1000' } });
  t.same(parseIpv4('10.77.01.2'), { ok: false, problem: { kind: 'leadingZero', part: '01' } });
  for (const bad of ['10.77.1', '10.77.1.2.3', '10.77.1.x', '10..1.2', '10.77.1.-1', '0x0a.1.1.1', '1 0.1.1.1']) {
    t.same(parseIpv4(bad), { ok: false, problem: { kind: 'format' } }, bad);
  }
  t.same(parseIpv4(''), { ok: false, problem: { kind: 'empty' } });
  t.equal(formatIpv4(0xc0a80a14), '192.168.10.20');
  t.equal(formatIpv4(networkOf(0xc0a80a14, 24)), '192.168.10.0');
  t.equal(formatIpv4(broadcastOf(0xc0a80a14, 22)), '192.168.11.255');
  t.equal(classifyIpv4(0x7f000001), 'loopback');
  t.equal(classifyIpv4(0xe0000001), 'multicast');
  t.equal(classifyIpv4(0xa9fe0001), 'linkLocal');
  t.equal(classifyIpv4(0xffffffff), 'broadcast');
  t.equal(classifyIpv4(0), 'unspecified');
  t.equal(classifyIpv4(0xf0000001), 'reserved');
  t.equal(classifyIpv4(0x0a000001), 'unicast');
});

t.test('prefixes: length or netmask, /8 to /30', async (t) => {
  t.same(parsePrefix('24'), { ok: true, value: 24 });
  t.same(parsePrefix('/16'), { ok: true, value: 16 });
  t.same(parsePrefix('255.255.255.0'), { ok: true, value: 24 });
  t.same(parsePrefix('255.255.252.0'), { ok: true, value: 22 });
  t.same(parsePrefix('255.0.255.0'), { ok: false, problem: { kind: 'mask' } });
  t.same(parsePrefix('31'), { ok: false, problem: { kind: 'range', prefix: 31 } });
  t.same(parsePrefix('255.255.255.255'), { ok: false, problem: { kind: 'range', prefix: 32 } });
  t.same(parsePrefix('4'), { ok: false, problem: { kind: 'range', prefix: 4 } });
  t.same(parsePrefix('abc'), { ok: false, problem: { kind: 'format' } });
});

t.test('a good form gives normalised settings', async (t) => {
  t.same(validateNetworkForm({ ...good, prefix: '255.255.255.0', dns: ' 192.168.10.1;1.1.1.1 ' }), {
    ok: true,
    settings: { mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '1.1.1.1'] },
  });
  t.same(validateNetworkForm({ mode: 'dhcp', address: 'garbage', prefix: '', gateway: '', dns: '' }), { ok: true, settings: { mode: 'dhcp' } }, 'DHCP ignores the static fields');
});

t.test('each refusal names the field and says what to type, in both languages', async (t) => {
  let e = errorsOf({ address: '10.77.1.300', prefix: '24', gateway: '10.77.1.1', dns: '10.77.1.1' });
  t.same(fr(e), ["Adresse IP : 10.77.1.300 n'est pas valide, chaque nombre va de 0 à 255 (300 est trop grand)."]);
  t.same(en(e), ['IP address: 10.77.1.300 is not valid, each number goes from 0 to 255 (300 is too big).']);
  t.equal(e[0]?.field, 'address');

  e = errorsOf({ address: '10.77.1.10', gateway: '10.77.2.1' });
  t.same(fr(e), ["Passerelle : 10.77.2.1 n'est pas dans le réseau 10.77.1.0/24 de l'adresse ; elle doit être entre 10.77.1.1 et 10.77.1.254."]);
  t.same(en(e), ["Gateway: 10.77.2.1 is not in the address's network 10.77.1.0/24; it must be from 10.77.1.1 to 10.77.1.254."]);

  e = errorsOf({ address: '10.77.1.0', gateway: '10.77.1.1' });
  t.same(fr(e), ["Adresse IP : 10.77.1.0 est l'adresse du réseau 10.77.1.0/24 ; choisissez entre 10.77.1.1 et 10.77.1.254."]);
  e = errorsOf({ address: '10.77.1.255', gateway: '10.77.1.1' });
  t.same(en(e), ['IP address: 10.77.1.255 is the broadcast address of 10.77.1.0/24; choose from 10.77.1.1 to 10.77.1.254.']);
  e = errorsOf({ address: '10.77.1.10', gateway: '10.77.1.255' });
  t.same(en(e), ['Gateway: 10.77.1.255 is the broadcast address of 10.77.1.0/24, not a router\'s.']);
  e = errorsOf({ address: '10.77.1.10', gateway: '10.77.1.0' });
  t.same(fr(e), ["Passerelle : 10.77.1.0 est l'adresse du réseau 10.77.1.0/24, pas celle d'un routeur."]);
  e = errorsOf({ address: '10.77.1.10', gateway: '10.77.1.10' });
  t.same(en(e), ["Gateway: 10.77.1.10 is the box's own address; give the site router's address."]);

  e = errorsOf({ address: '127.0.0.5' });
  t.same(en(e).slice(0, 1), ['IP address: 127.0.0.5 is a loopback address (127.x.x.x), not an address usable here.']);
  e = errorsOf({ address: '192.168.010.20' });
  t.same(fr(e).slice(0, 1), ["Adresse IP : 192.168.010.20 n'est pas valide, pas de zéro en tête d'un nombre (« 010 »)."]);
  e = errorsOf({ address: '192.168.10' });
  t.same(en(e).slice(0, 1), ['IP address: "192.168.10" is not an IPv4 address (four numbers separated by dots, e.g. 192.168.1.20).']);

  t.same(en(errorsOf({ prefix: '31' })), ['Prefix: /31 is not accepted, choose 8 to 30 (24 for a network of 254 addresses).']);
  t.same(fr(errorsOf({ prefix: '255.0.255.0' })), ["Préfixe : ce masque n'est pas valide (ses bits à 1 doivent se suivre, par ex. 255.255.255.0)."]);
  t.same(fr(errorsOf({ prefix: '' })), ['Préfixe : obligatoire.']);

  t.same(fr(errorsOf({ dns: '' })), ['DNS : obligatoire.']);
  t.same(en(errorsOf({ dns: '1.1.1.1, 8.8.8.8, 9.9.9.9, 1.0.0.1' })), ['DNS: three servers at most.']);
  t.same(en(errorsOf({ dns: '1.1.1.1, 1.1.1.1' })), ['DNS: 1.1.1.1 is given twice.']);
  t.same(en(errorsOf({ dns: '1.1.1.1, 224.0.0.1' })), ['DNS: 224.0.0.1 is a multicast address (224 to 239), not an address usable here.']);
});

t.test('every bad field is reported at once', async (t) => {
  const e = errorsOf({ address: '', prefix: 'x', gateway: 'y', dns: '' });
  t.same(
    e.map((x) => x.field),
    ['address', 'prefix', 'gateway', 'dns'],
  );
  t.same(fr(e), ['Adresse IP : obligatoire.', "Préfixe : « x » n'est ni une longueur (8 à 30) ni un masque (par ex. 255.255.255.0).", "Passerelle : « y » n'est pas une adresse IPv4 (quatre nombres séparés par des points, par ex. 192.168.1.20).", 'DNS : obligatoire.']);
});

t.test('the form starts from the console file, else from the live address', async (t) => {
  const base = { iface: 'eth0', carrier: true, applyWith: 'networkd' as const, filePath: '/x' };
  t.same(formFromStatus({ ...base, addresses: ['10.1.2.3/16'], gateway: '10.1.0.1' }), { mode: 'static', address: '10.1.2.3', prefix: '16', gateway: '10.1.0.1', dns: '' });
  t.same(formFromStatus({ ...base, addresses: ['10.1.2.3/16'], fileSettings: { mode: 'dhcp' } }).mode, 'dhcp');
  t.same(formFromStatus({ ...base, addresses: [], fileSettings: { mode: 'static', address: '10.0.0.5', prefix: 24, gateway: '10.0.0.1', dns: ['10.0.0.1', '10.0.0.2'] } }), {
    mode: 'static',
    address: '10.0.0.5',
    prefix: '24',
    gateway: '10.0.0.1',
    dns: '10.0.0.1, 10.0.0.2',
  });
  t.same(formFromStatus(undefined), { mode: 'static', address: '', prefix: '24', gateway: '', dns: '' });
});
