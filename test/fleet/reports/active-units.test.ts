// The licence report (pure): months in UTC, the range asked for, CSV.
import t from 'tap';
import { activeUnitsCsv, monthOf, parseMonthRange } from '../../../fleet/src/reports/index.js';

t.test('months are UTC', async (t) => {
  t.equal(monthOf(Date.UTC(2025, 0, 31, 23, 59, 59)), '2025-01');
  t.equal(monthOf(Date.UTC(2025, 1, 1, 0, 0, 0)), '2025-02');
});

t.test('ranges: defaults, order, format, length', async (t) => {
  const now = Date.UTC(2025, 6, 14);
  t.same(parseMonthRange(null, null, now), { from: '2025-07', to: '2025-07' });
  t.same(parseMonthRange('2025-01', null, now), { from: '2025-01', to: '2025-01' });
  t.same(parseMonthRange('2024-11', '2025-02', now), { from: '2024-11', to: '2025-02' });
  for (const [f, to] of [['2025-13', null], ['2025-1', null], ['2025-03', '2025-02'], ['2015-01', '2025-01']] as const) {
    t.throws(() => parseMonthRange(f, to, now), { code: 'E_BAD_REQUEST' }, `${f}..${to}`);
  }
  t.same(parseMonthRange('2016-02', '2026-01', now), { from: '2016-02', to: '2026-01' }, '120 months is the most');
});

t.test('CSV: header, CRLF, one row per dealer and month', async (t) => {
  t.equal(activeUnitsCsv([]), 'month,dealer_code,active_units\r\n');
  t.equal(
    activeUnitsCsv([
      { month: '2025-01', dealerCode: '12345678', activeUnits: 3 },
      { month: '2025-01', dealerCode: '87654321', activeUnits: 1 },
    ]),
    'month,dealer_code,active_units\r\n2025-01,12345678,3\r\n2025-01,87654321,1\r\n',
  );
  t.equal(activeUnitsCsv([{ month: '2025-01', dealerCode: 'a,"b"', activeUnits: 1 }]).split('\r\n')[1], '2025-01,"a,""b""",1', 'quoted when needed');
});
