// The burn-in step: a unit's `plugsrv hw burnin` report imported (serial checked), a failure failing the unit,
// a skip recorded with its reason; on a real line DB.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_CONFIG } from '../../../provisioning/src/config/index.js';
import { openLineDb } from '../../../provisioning/src/db/index.js';
import { importOrders, parseOrdersCsv } from '../../../provisioning/src/orders/index.js';
import { burninStep, type LineContext } from '../../../provisioning/src/produce/index.js';
import { noProgress } from '../../../provisioning/src/progress.js';
import { getUnit, registerUnit } from '../../../provisioning/src/units/index.js';
import { tempDir } from '../../helpers/agent-process.js';

const dir = await tempDir(t, 'plugsrv-line-burnin-');
const state = await openLineDb(join(dir, 'line.db'));
t.teardown(() => state.close());
const ctx: LineContext = {
  db: state.db,
  config: DEFAULT_CONFIG,
  docsDir: join(dir, 'docs'),
  operator: 'tester',
  progress: noProgress,
  now: Date.now,
  fleet: () => {
    throw new Error('no fleet in this test');
  },
};
await importOrders(state.db, parseOrdersCsv('order_ref,dealer_code,site,quantity,contact_email,delivery_address\nPO-B,12345678,Site,5,a@b.example,1 rue B\n'), 'o.csv');
const unitOf = async (serial: string) => (await registerUnit(state.db, { orderId: 'PO-B', identity: { serial, macs: [], diskSerial: null, tpmEkSha256: null, inventory: null }, operator: 'tester' })).unit;

/** A report as `plugsrv hw burnin` writes it (hardware/src/burnin/types.ts), with the fields the line reads. */
async function report(name: string, serial: string | null, verdict: 'pass' | 'fail'): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const steps = [
    { id: 'cpu', status: verdict === 'pass' ? 'pass' : 'fail', message: verdict === 'pass' ? 'CPU held 3.1 GHz at 81 °C' : 'The CPU reached 97 °C (limit 95 °C): check the fan' },
    { id: 'iperf', status: 'skipped', message: 'no iperf server given' },
  ];
  const body = {
    schema: 'plugsrv.burnin/1',
    id: `20261126T080000000Z-${name}`,
    level: 'quick',
    scale: 1,
    profile: { id: 'dell-optiplex-7010-micro', name: 'Dell OptiPlex 7010 Micro', file: 'x', verified: false },
    unit: { vendor: 'Dell Inc.', product: 'OptiPlex 7010 Micro', serial, hostname: 'bench', cpu: null, memoryBytes: null },
    unitMatchesProfile: true,
    startedAt: '2026-11-26T08:00:00.000Z',
    finishedAt: '2026-11-26T08:05:00.000Z',
    durationSeconds: 300,
    verdict,
    interrupted: false,
    counts: { pass: verdict === 'pass' ? 1 : 0, fail: verdict === 'pass' ? 0 : 1, skipped: 1, interrupted: 0, 'not-run': 0 },
    steps,
    options: {},
  };
  const file = join(folder, `burnin-20261126T080000000Z-${name}.json`);
  await writeFile(file, JSON.stringify(body));
  return folder;
}

t.test('a passing report of this unit (given as its folder) records the burn-in as passed', async (t) => {
  const unit = await unitOf('SN-B1');
  await burninStep(ctx, unit, { report: await report('b1', 'SN-B1', 'pass') });
  const after = await getUnit(state.db, unit.id);
  t.equal(after.burnin, 'passed');
  t.match(after.steps.find((s) => s.step === 'burnin'), { state: 'done', detail: { verdict: 'pass', skippedSteps: ['iperf'], serialChecked: true } });
});

t.test("another unit's report is refused; a failing one fails the unit", async (t) => {
  const unit = await unitOf('SN-B2');
  await t.rejects(burninStep(ctx, unit, { report: await report('b2-other', 'SN-OTHER', 'pass') }), { code: 'E_STATE', message: /of the unit with serial SN-OTHER, not of SN-B2/ });
  t.equal((await getUnit(state.db, unit.id)).burnin, null, 'nothing recorded');
  await burninStep(ctx, unit, { report: await report('b2', 'SN-B2', 'fail') });
  const after = await getUnit(state.db, unit.id);
  t.equal(after.burnin, 'failed');
  t.equal(after.status, 'failed');
  t.match(after.failReason, /burnin: burn-in fail: cpu The CPU reached 97/);
});

t.test('a skip needs a reason, which is recorded; a missing or foreign report is refused', async (t) => {
  const unit = await unitOf('SN-B3');
  await t.rejects(burninStep(ctx, unit, { skipReason: ' ' }), { code: 'E_USAGE' });
  await burninStep(ctx, unit, { skipReason: 'burn-in done at the supplier, batch 7' });
  t.match(await getUnit(state.db, unit.id), { burnin: 'skipped' });
  await t.rejects(burninStep(ctx, unit, { report: join(dir, 'nothing-here') }), { code: 'E_USAGE', message: /no burn-in report at/ });
  const foreign = join(dir, 'foreign.json');
  await writeFile(foreign, '{"hello":"world"}');
  await t.rejects(burninStep(ctx, unit, { report: foreign }), { code: 'E_USAGE', message: /not a burn-in report of plugsrv/ });
});
