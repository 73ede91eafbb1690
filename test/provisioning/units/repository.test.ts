// Unit records on a real SQLite file: registration bounded by the order, resumable steps, failed units never ship,
// replacements, the CSV export.
import { join } from 'node:path';
import t from 'tap';
import { openLineDb } from '../../../provisioning/src/db/index.js';
import { importOrders, parseOrdersCsv } from '../../../provisioning/src/orders/index.js';
import { getUnit, linkReplacement, pendingSteps, recordStep, registerUnit, shipUnit, unitsCsv, type UnitIdentity } from '../../../provisioning/src/units/index.js';
import { tempDir } from '../../helpers/agent-process.js';

const dir = await tempDir(t, 'plugsrv-line-units-');
const state = await openLineDb(join(dir, 'line.db'));
t.teardown(() => state.close());
const { db } = state;
const rows = parseOrdersCsv('order_ref,dealer_code,site,quantity,contact_email,delivery_address\nPO-A,12345678,Site A,2,a@b.example,1 rue A\nPO-B,87654321,Site B,1,a@b.example,1 rue B\n');
const { imported } = await importOrders(db, rows, 'orders.csv');
const [a, b] = imported as unknown as [{ id: string }, { id: string }];
const ident = (serial: string): UnitIdentity => ({ serial, macs: ['aa:bb:cc:dd:ee:01'], diskSerial: 'DSK1', tpmEkSha256: null, inventory: null });

t.test('registration: resumed on the same serial, bounded by the quantity, a serial belongs to one order', async (t) => {
  const first = await registerUnit(db, { orderId: a.id, identity: ident('SN-1'), operator: 'op' });
  t.equal(first.resumed, false);
  t.same(pendingSteps(first.unit.steps), ['flash', 'personalise', 'burnin', 'label', 'letter']);
  const again = await registerUnit(db, { orderId: 'PO-A', identity: ident('SN-1'), operator: 'op' });
  t.equal(again.resumed, true);
  t.equal(again.unit.id, first.unit.id);
  await registerUnit(db, { orderId: a.id, identity: ident('SN-2'), operator: 'op' });
  await t.rejects(registerUnit(db, { orderId: a.id, identity: ident('SN-3'), operator: 'op' }), { code: 'E_STATE', message: /order PO-A is complete: 2 of 2/ });
  await t.rejects(registerUnit(db, { orderId: b.id, identity: ident('SN-1'), operator: 'op' }), { code: 'E_STATE', message: /already unit unit_\w+ of another order/ });
  await t.rejects(registerUnit(db, { orderId: a.id, identity: ident('bad serial!'), operator: 'op' }), { code: 'E_USAGE' });
  await t.rejects(registerUnit(db, { orderId: 'PO-NONE', identity: ident('SN-9'), operator: 'op' }), { code: 'E_NOT_FOUND' });
});

t.test('steps: a failure marks the unit failed and it does not ship; a redo makes it ready', async (t) => {
  const u = await getUnit(db, 'SN-1');
  await recordStep(db, u.id, 'flash', 'done', {}, 'op');
  await recordStep(db, u.id, 'personalise', 'failed', { code: 'E_FLEET', message: 'fleet down' }, 'op');
  let now = await getUnit(db, u.id);
  t.equal(now.status, 'failed');
  t.match(now.failReason, /personalise: fleet down/);
  await t.rejects(shipUnit(db, u.id, 'op'), { code: 'E_STATE', message: /cannot ship: it failed \(personalise: fleet down\)/ });
  for (const s of ['personalise', 'letter', 'label'] as const) await recordStep(db, u.id, s, 'done', {}, 'op');
  now = await getUnit(db, u.id);
  t.equal(now.status, 'in-progress', 'redone, but the burn-in is still missing');
  t.equal(now.steps.find((s) => s.step === 'personalise')?.attempts, 2, 'attempts are counted');
  await t.rejects(shipUnit(db, u.id, 'op'), { message: /steps still to do: burnin/ });
  await recordStep(db, u.id, 'burnin', 'done', {}, 'op', Date.now(), { burnin: 'passed' });
  t.equal((await getUnit(db, u.id)).status, 'ready');
  const shipped = await shipUnit(db, u.id, 'op');
  t.equal(shipped.status, 'shipped');
  t.ok(shipped.shippedAt);
  await t.rejects(registerUnit(db, { orderId: a.id, identity: ident('SN-1'), operator: 'op' }), { code: 'E_STATE', message: /shipped; it is not produced again/ });
  await t.rejects(shipUnit(db, u.id, 'op'), { message: /already shipped/ });
});

t.test('a replacement is registered past the quantity and linked; the export shows both', async (t) => {
  const old = await getUnit(db, 'SN-1');
  const r = await registerUnit(db, { orderId: a.id, identity: ident('SN-R1'), operator: 'op', replacesUnitId: old.id });
  await linkReplacement(db, old.id, r.unit.id, 'dev_123');
  const o = await getUnit(db, old.id);
  t.match(o, { status: 'replaced', replacedByUnitId: r.unit.id, deviceId: 'dev_123' });
  t.equal((await getUnit(db, r.unit.id)).replacesUnitId, old.id);
  const csv = unitsCsv([o, await getUnit(db, r.unit.id)]);
  t.match(csv, /^unit_id,order_id,serial,status,macs/);
  t.match(csv, new RegExp(`${o.id},${a.id},SN-1,replaced,aa:bb:cc:dd:ee:01,DSK1,`));
  t.equal(csv.split('\r\n').length, 4);
});

t.test('CSV export quotes commas and defuses spreadsheet formulas', async (t) => {
  const u = await getUnit(db, 'SN-2');
  const csv = unitsCsv([{ ...u, failReason: '=HYPERLINK("x"), bad' }]);
  t.match(csv, /,"'=HYPERLINK\(""x""\), bad"\r\n$/);
});
