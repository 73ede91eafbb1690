// Range header parsing: every edge case RFC 9110 defines for a single byte range.
import t from 'tap';
import { parseRange } from '../../../agent/src/serve/range.js';

t.test('no header or foreign units: whole body', async (t) => {
  t.same(parseRange(undefined, 100), { kind: 'full' });
  t.same(parseRange('items=0-5', 100), { kind: 'full' });
  t.same(parseRange('garbage', 100), { kind: 'full' });
});

t.test('closed, open-ended and suffix ranges', async (t) => {
  t.same(parseRange('bytes=0-0', 100), { kind: 'partial', start: 0, end: 0 });
  t.same(parseRange('bytes=10-19', 100), { kind: 'partial', start: 10, end: 19 });
  t.same(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  t.same(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  t.same(parseRange('BYTES = 5-6', 100), { kind: 'partial', start: 5, end: 6 }, 'unit is case-insensitive, spaces tolerated');
});

t.test('clamping', async (t) => {
  t.same(parseRange('bytes=50-1000', 100), { kind: 'partial', start: 50, end: 99 }, 'last-pos past the end is clamped');
  t.same(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 }, 'suffix longer than the body is the whole body');
  t.same(parseRange('bytes=0-99999999999999999999999', 100), { kind: 'partial', start: 0, end: 99 });
});

t.test('unsatisfiable', async (t) => {
  t.same(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' }, 'first-pos at the size');
  t.same(parseRange('bytes=200-300', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' }, 'empty suffix');
  t.same(parseRange('bytes=5-2', 100), { kind: 'unsatisfiable' }, 'last before first');
  t.same(parseRange('bytes=-', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=abc', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' }, 'nothing to serve in an empty body');
  t.same(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=99999999999999999999-', 100), { kind: 'unsatisfiable' });
});

t.test('several ranges are ignored (200), as the RFC allows', async (t) => {
  t.same(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
});
