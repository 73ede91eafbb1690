// Policies (pure): the default, validation of an operator's document, which version applies.
import t from 'tap';
import { policyDocument } from '../../../lib/fleet/protocol.js';
import { buildPolicy, DEFAULT_POLICY, effectiveVersion } from '../../../fleet/src/policy/index.js';

t.test('the default is version 1 with the contract\'s defaults', async (t) => {
  t.same(DEFAULT_POLICY, policyDocument.parse({ version: 1 }));
  t.match(DEFAULT_POLICY, { heartbeatSeconds: 30, selfcheckIntervalMinutes: 360, sync: { window: '22:00-06:30' } });
});

t.test('a document is numbered by the fleet and completed with defaults', async (t) => {
  const p = buildPolicy({ heartbeatSeconds: 60, sync: { include: ['R-LINK2/**'] }, requiredHosts: ['cdn.example.com'] }, 4);
  t.match(p, { version: 4, heartbeatSeconds: 60, selfcheckIntervalMinutes: 360, sync: { window: '22:00-06:30', include: ['R-LINK2/**'] }, requiredHosts: ['cdn.example.com'] });
  t.same(policyDocument.parse(p), p, 'valid for the agent too');
});

t.test('bad documents are refused with the field named', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ version: 3 }, /leave "version" out/],
    [{ heartbeatSeconds: 1 }, /heartbeatSeconds/],
    [{ sync: { window: '22h-6h' } }, /sync\.window/],
    [{ sync: { window: '24:00-06:00' } }, /not two times of day/],
    [{ sync: { window: '22:00-06:60' } }, /not two times of day/],
    [{ sync: { nightRateBytesPerSec: -1 } }, /sync\.nightRateBytesPerSec/],
    [{ colour: 'blue' }, /colour|unrecognized|Unrecognized/],
    [[], /JSON object/],
    [null, /JSON object/],
  ];
  for (const [input, message] of cases) t.throws(() => buildPolicy(input, 2), { code: 'E_BAD_REQUEST', message }, JSON.stringify(input));
});

t.test('a device\'s own policy wins over the default', async (t) => {
  t.equal(effectiveVersion(null, 3), 3);
  t.equal(effectiveVersion(2, 3), 2);
});
