// VIN validation (ISO 3779) and resolution to vehicle project codes through the VIN-prefix table.
import t from 'tap';
import { computeCheckDigit, loadVinTable, parseVin, parsePackageQuery, vinTableFrom } from '../../../agent/src/catalog/index.js';

t.test('check digit: a known-valid North American VIN', async (t) => {
  // The worked example of 49 CFR 565: 1M8GDM9AXKP042788 has check digit X.
  t.equal(computeCheckDigit('1M8GDM9AXKP042788'), 'X');
  const ok = parseVin('1M8GDM9AXKP042788');
  t.ok(ok.ok);
  t.equal(ok.ok && ok.value.checkDigitVerified, true);
  const bad = parseVin('1M8GDM9A1KP042788');
  t.notOk(bad.ok);
  t.match(!bad.ok && bad.reason, /check digit.*"1".*"X"/);
});

t.test('European VINs carry no check digit unless the table says so', async (t) => {
  const vin = 'VF1RJA00012345678';
  const r = parseVin(vin);
  t.ok(r.ok);
  t.equal(r.ok && r.value.checkDigitVerified, false);
  t.notOk(parseVin(vin, new Set(['VF1'])).ok, 'enforced when the WMI is listed');
});

t.test('malformed VINs say why', async (t) => {
  const short = parseVin('VF1RJA0001');
  t.match(!short.ok && short.reason, /17 characters.*10/);
  const ioq = parseVin('VF1RJA0001234567O');
  t.match(!ioq.ok && ioq.reason, /"O".*I, O and Q/);
  const sym = parseVin('VF1RJA00012345-78');
  t.match(!sym.ok && sym.reason, /"-"/);
  t.ok(parseVin(' vf1rja00012345678 ').ok, 'trimmed and upper-cased');
});

t.test('the shipped VIN table resolves by longest prefix', async (t) => {
  const table = loadVinTable();
  t.same(table.modelsFor('VF1RJA00012345678'), ['BJA']);
  t.same(table.modelsFor('ZZZZZZ00012345678'), []);
  const custom = vinTableFrom({ version: 1, prefixes: [{ prefix: 'VF1', models: ['AAA'] }, { prefix: 'VF1RJ', models: ['BBB'] }] });
  t.same(custom.modelsFor('VF1RJA00012345678'), ['BBB']);
  t.throws(() => vinTableFrom({ version: 1, prefixes: [{ prefix: 'VF', models: [] }] }), { code: 'E_CONFIG' });
});

t.test('package query parameters', async (t) => {
  const table = loadVinTable();
  const q = (s: string) => parsePackageQuery(new URLSearchParams(s), table);
  t.same(q('headUnit=R-LINK2&kind=map'), { headUnit: 'R-LINK2', kind: 'map' });
  t.same(q('model=bja'), { models: ['BJA'] });
  t.same(q('vin=VF1RJA00012345678'), { models: ['BJA'] });
  t.throws(() => q('vin=123'), { code: 'E_BAD_VIN' });
  t.throws(() => q('vin=VF9ZZZ00012345678'), { code: 'E_NOT_FOUND' }, 'valid VIN of an unknown line');
  t.throws(() => q('kind=firmware'), { code: 'E_BAD_REQUEST', message: /soft.*map/ });
  t.throws(() => q('colour=red'), { code: 'E_BAD_REQUEST', message: /unknown query parameter "colour"/ });
  t.throws(() => q('kind=soft&kind=map'), { code: 'E_BAD_REQUEST' });
  t.throws(() => q('model=BJA&vin=VF1RJA00012345678'), { code: 'E_BAD_REQUEST' });
});
