// The production line's unit record on the box: parsed strictly, and a missing or bad file is no stop.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parseUnitFile, readUnitFile } from '../../../agent/src/unit/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('parse: the fields the line writes; unknown ones ignored; bad ones named', async (t) => {
  const ok = parseUnitFile(JSON.stringify({ schema: 'plugsrv.unit/1', unitId: 'unit_0a1b', serial: 'SN-1', dealerCode: '12345678', site: 'Garage du Centre', future: 1 }));
  t.same(ok, { unit: { unitId: 'unit_0a1b', serial: 'SN-1', dealerCode: '12345678', site: 'Garage du Centre' } });
  t.match(parseUnitFile('{"serial":"SN 1","dealerCode":"1234"}'), { why: /serial: .*dealerCode: / });
  t.match(parseUnitFile('nope'), { why: /not JSON/ });
});

t.test('read: none configured, absent, bad (a warning), good', async (t) => {
  const dir = await tempDir(t);
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  t.equal(await readUnitFile('', warn), null);
  t.equal(await readUnitFile(join(dir, 'missing.json'), warn), null);
  t.same(warnings, [], 'an absent file is the normal case of an unpersonalised box');
  await writeFile(join(dir, 'bad.json'), '{"serial":"x"}');
  t.equal(await readUnitFile(join(dir, 'bad.json'), warn), null);
  t.match(warnings[0], /bad\.json is not valid \(dealerCode/);
  await writeFile(join(dir, 'unit.json'), '{"serial":"SN-2","dealerCode":"87654321"}');
  t.same(await readUnitFile(join(dir, 'unit.json'), warn), { serial: 'SN-2', dealerCode: '87654321' });
});
