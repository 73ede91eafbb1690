// The personalisation's files (the contract with the image's first boot) and the GPT reader, pure.
import { crc32 } from 'node:zlib';
import t from 'tap';
import { parse } from 'yaml';
import { networkdFile, parseGptEntries, parseGptHeader, persoFiles, unitConfigYaml, type PersoInput } from '../../../provisioning/src/personalise/index.js';

const input: PersoInput = {
  unitId: 'unit_0123456789ab',
  serial: 'ABC1234',
  orderRef: 'PO-1',
  dealerCode: '12345678',
  site: 'Garage du Centre',
  lang: 'fr',
  network: { mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '9.9.9.9'] },
  fleetUrl: 'https://fleet.example:8443',
  fleetCaPem: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----',
  siteTemplateYaml: 'sync:\n  originUrl: https://origin.example/repo\n  window: "21:00-06:00"\nfleet:\n  url: https://wrong.example\n',
  catalogRootJson: '{"signed":{}}',
  bootstrapToken: 'pbt_abc_def',
  passwordHashLine: 'scrypt$32768$8$1$c2FsdA==$aGFzaA==',
  imageVersion: '0.1.0',
  producedAt: '2026-11-26T08:00:00.000Z',
};

t.test('files, modes and the agent config the unit gets', async (t) => {
  const files = persoFiles(input);
  t.same(files.map((f) => f.path).sort(), ['bootstrap-token', 'catalog-root.json', 'console-password', 'fleet-ca.pem', 'network/10-plugsrv-site.network', 'plugsrv.yaml', 'unit.json']);
  t.equal(files.find((f) => f.path === 'bootstrap-token')?.mode, 0o600);
  t.equal(files.find((f) => f.path === 'console-password')?.mode, 0o600);
  const cfg = parse(unitConfigYaml(input)) as Record<string, Record<string, unknown>>;
  t.equal(cfg.fleet?.url, 'https://fleet.example:8443', "the line's fleet wins over the template's");
  t.equal(cfg.fleet?.serial, 'ABC1234');
  t.equal(cfg.fleet?.tokenFile, '/etc/plugsrv/fleet/bootstrap-token');
  t.equal(cfg.fleet?.caFile, '/etc/plugsrv/fleet-ca.pem');
  t.equal(cfg.sync?.originUrl, 'https://origin.example/repo', 'the template stays');
  t.equal(cfg.sync?.trustedRoot, '/etc/plugsrv/catalog-root.json');
  t.equal(cfg.console?.passwordFile, '/etc/plugsrv/console-password');
  t.equal(cfg.console?.lang, 'fr', "the console speaks the order's language");
  t.equal(cfg.console?.keyboard, 'fr', 'and a French order gets the AZERTY translation');
  const en = parse(unitConfigYaml({ ...input, lang: 'en' })) as Record<string, Record<string, unknown>>;
  t.match(en.console, { lang: 'en', keyboard: 'us' });
  const chosen = parse(unitConfigYaml({ ...input, siteTemplateYaml: 'console:\n  keyboard: be\n' })) as Record<string, Record<string, unknown>>;
  t.equal(chosen.console?.keyboard, 'be', "the site template's keyboard wins");
  t.equal((cfg as unknown as { dataDir: string }).dataDir, '/var/lib/plugsrv');
  const unit = JSON.parse(files.find((f) => f.path === 'unit.json')?.content ?? '{}') as Record<string, string>;
  t.match(unit, { unitId: input.unitId, serial: 'ABC1234', dealerCode: '12345678', site: 'Garage du Centre' });
  t.notOk(JSON.stringify(unit).includes('pbt_'), 'unit.json holds no token');
  const dhcp = persoFiles({ ...input, network: { mode: 'dhcp' }, fleetCaPem: null, catalogRootJson: null, siteTemplateYaml: '' });
  t.same(dhcp.map((f) => f.path).sort(), ['bootstrap-token', 'console-password', 'plugsrv.yaml', 'unit.json']);
  t.notOk((parse(unitConfigYaml({ ...input, fleetCaPem: null })) as { fleet: Record<string, unknown> }).fleet.caFile);
});

t.test('networkd file for a static site', async (t) => {
  const text = networkdFile({ mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '9.9.9.9'] });
  t.match(text, /\[Match\]\nType=ether/);
  t.match(text, /Address=192\.168\.10\.20\/24\nGateway=192\.168\.10\.1\nDNS=192\.168\.10\.1\nDNS=9\.9\.9\.9/);
});

function gptSector(entriesCrc: number, entryCount = 4): Buffer {
  const h = Buffer.alloc(512);
  h.write('EFI PART', 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(92, 12);
  h.writeBigUInt64LE(2n, 72);
  h.writeUInt32LE(entryCount, 80);
  h.writeUInt32LE(128, 84);
  h.writeUInt32LE(entriesCrc, 88);
  h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
  return h;
}

t.test('GPT header and entries, with their CRCs', async (t) => {
  const entries = Buffer.alloc(4 * 128);
  entries.fill(1, 0, 16); // type GUID
  entries.writeBigUInt64LE(2048n, 32);
  entries.writeBigUInt64LE(2048n + 32767n, 40);
  entries.write('plugsrv-perso', 56, 'utf16le');
  const crc = crc32(entries);
  const parsed = parseGptHeader(gptSector(crc), 512);
  if (!('header' in parsed)) throw new Error(parsed.why);
  const list = parseGptEntries(entries, parsed.header, crc);
  if ('why' in list) throw new Error(list.why);
  t.equal(list.length, 1);
  t.match(list[0], { index: 1, name: 'plugsrv-perso', offsetBytes: 2048 * 512, sizeBytes: 16 * 1024 * 1024 });
  const bad = gptSector(crc);
  bad[20] = 7; // damages the header after its CRC was computed
  t.match(parseGptHeader(bad, 512), { why: /header CRC32/ });
  t.match(parseGptEntries(entries, parsed.header, crc ^ 1), { why: /entries CRC32/ });
  t.match(parseGptHeader(Buffer.alloc(512), 512), { why: /EFI PART/ });
});
