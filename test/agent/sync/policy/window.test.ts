// The night window: parsing, midnight crossing, and the DST nights of Europe/Paris and America/New_York.
import t from 'tap';
import { isInWindow, nextWindowStart, parseWindow, systemTimeZone, windowEndAfter, type NightWindow } from '../../../../agent/src/sync/policy/index.js';

const PARIS = 'Europe/Paris';
const NEW_YORK = 'America/New_York';
const at = (iso: string): Date => new Date(iso);
const iso = (d: Date): string => d.toISOString().replace('.000', '');
const MINUTE = 60_000;

/** The instants (ISO, UTC) where the window opens and closes between from and to, sampled every step minutes. */
function edges(w: NightWindow, tz: string, from: string, to: string, step = 5): string[] {
  const out: string[] = [];
  let was = isInWindow(at(from), w, tz);
  for (let ms = at(from).getTime() + step * MINUTE; ms <= at(to).getTime(); ms += step * MINUTE) {
    const is = isInWindow(new Date(ms), w, tz);
    if (is !== was) out.push(`${is ? 'open' : 'close'} ${iso(new Date(ms))}`);
    was = is;
  }
  return out;
}

t.test('parseWindow accepts HH:MM-HH:MM', async (t) => {
  t.same(parseWindow('22:00-06:30'), { spec: '22:00-06:30', startMinute: 1320, endMinute: 390 });
  t.same(parseWindow(' 01:05 - 04:59 '), { spec: '01:05 - 04:59', startMinute: 65, endMinute: 299 });
  t.same(parseWindow('00:00-24:00'), { spec: '00:00-24:00', startMinute: 0, endMinute: 1440 });
  t.same(parseWindow('20:00-00:00'), { spec: '20:00-00:00', startMinute: 1200, endMinute: 1440 }, 'an end of 00:00 is midnight');
  t.same(parseWindow('23:59-00:01').endMinute, 1);
});

t.test('parseWindow rejects anything else and says the format', async (t) => {
  for (const spec of ['', '22-06', '2:00-06:00', '22:00', '22:00-06:30-07:00', '24:00-06:00', '22:60-06:00', '22:00-25:00', '22:00-24:01', '22:00-06:61', 'ab:cd-ef:gh', '22:00–06:30', '06:00-06:00', '00:00-00:00']) {
    t.throws(() => parseWindow(spec), { code: 'E_CONFIG', message: /expected "HH:MM-HH:MM"/ }, JSON.stringify(spec));
  }
  t.throws(() => parseWindow('06:00-06:00'), { message: /the start and the end are the same time/ });
});

t.test('a window inside one day, in UTC: start inclusive, end exclusive', async (t) => {
  const w = parseWindow('01:00-05:00');
  t.notOk(isInWindow(at('2026-06-01T00:59:59.999Z'), w, 'UTC'));
  t.ok(isInWindow(at('2026-06-01T01:00:00Z'), w, 'UTC'));
  t.ok(isInWindow(at('2026-06-01T04:59:59.999Z'), w, 'UTC'));
  t.notOk(isInWindow(at('2026-06-01T05:00:00Z'), w, 'UTC'));
  t.equal(iso(windowEndAfter(at('2026-06-01T02:00:00Z'), w, 'UTC')), '2026-06-01T05:00:00Z');
  t.equal(iso(windowEndAfter(at('2026-06-01T06:00:00Z'), w, 'UTC')), '2026-06-02T05:00:00Z', 'outside: the end of the next window');
  t.equal(iso(nextWindowStart(at('2026-06-01T00:30:00Z'), w, 'UTC')), '2026-06-01T01:00:00Z');
  t.equal(iso(nextWindowStart(at('2026-06-01T01:00:00Z'), w, 'UTC')), '2026-06-02T01:00:00Z', 'strictly after now');
  t.equal(iso(nextWindowStart(at('2026-06-01T03:00:00Z'), w, 'UTC')), '2026-06-02T01:00:00Z');
});

t.test('a window across midnight on an ordinary Paris night (CEST, UTC+2)', async (t) => {
  const w = parseWindow('22:00-06:30');
  t.same(edges(w, PARIS, '2026-06-10T12:00:00Z', '2026-06-11T12:00:00Z'), ['open 2026-06-10T20:00:00Z', 'close 2026-06-11T04:30:00Z']);
  t.ok(isInWindow(at('2026-06-10T23:59:00Z'), w, PARIS), 'after local midnight');
  t.equal(iso(windowEndAfter(at('2026-06-10T21:00:00Z'), w, PARIS)), '2026-06-11T04:30:00Z', 'before midnight: ends the next morning');
  t.equal(iso(windowEndAfter(at('2026-06-11T03:00:00Z'), w, PARIS)), '2026-06-11T04:30:00Z', 'after midnight: the window that began yesterday');
  t.equal(iso(nextWindowStart(at('2026-06-11T03:00:00Z'), w, PARIS)), '2026-06-11T20:00:00Z');
});

t.test('Paris spring forward, 2026-03-29 02:00 CET -> 03:00 CEST', async (t) => {
  const start = parseWindow('02:30-05:00');
  t.equal(iso(nextWindowStart(at('2026-03-28T12:00:00Z'), start, PARIS)), '2026-03-29T01:00:00Z', '02:30 does not exist: opens at 03:00 CEST');
  t.equal(iso(windowEndAfter(at('2026-03-29T01:00:00Z'), start, PARIS)), '2026-03-29T03:00:00Z', 'closes at 05:00 CEST');
  t.same(edges(start, PARIS, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'), [
    'open 2026-03-29T01:00:00Z',
    'close 2026-03-29T03:00:00Z',
    'open 2026-03-30T00:30:00Z',
    'close 2026-03-30T03:00:00Z',
  ]);
  t.same(edges(start, PARIS, '2026-03-27T12:00:00Z', '2026-03-28T12:00:00Z'), ['open 2026-03-28T01:30:00Z', 'close 2026-03-28T04:00:00Z'], 'the night before, in CET');

  const end = parseWindow('22:00-02:30');
  t.same(edges(end, PARIS, '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z'), ['open 2026-03-28T21:00:00Z', 'close 2026-03-29T01:00:00Z'], 'an end in the gap closes at 03:00 CEST');

  const inside = parseWindow('02:05-02:55');
  t.same(edges(inside, PARIS, '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z'), [], 'a window wholly inside the gap does not open that night');
  t.equal(iso(nextWindowStart(at('2026-03-28T12:00:00Z'), inside, PARIS)), '2026-03-30T00:05:00Z', 'the next start skips the empty night');
});

t.test('Paris fall back, 2026-10-25 03:00 CEST -> 02:00 CET: opens once, never skips', async (t) => {
  const start = parseWindow('02:30-05:00');
  t.same(edges(start, PARIS, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'), ['open 2026-10-25T00:30:00Z', 'close 2026-10-25T04:00:00Z'], 'from the first 02:30 (CEST) to 05:00 CET');
  t.equal(iso(nextWindowStart(at('2026-10-24T12:00:00Z'), start, PARIS)), '2026-10-25T00:30:00Z');
  t.equal(iso(windowEndAfter(at('2026-10-25T01:15:00Z'), start, PARIS)), '2026-10-25T04:00:00Z', 'at 02:15 CET, between the two 02:30s, still inside');
  t.equal(iso(nextWindowStart(at('2026-10-25T01:15:00Z'), start, PARIS)), '2026-10-26T01:30:00Z', 'the second 02:30 is not a new start');

  const end = parseWindow('22:00-02:30');
  t.same(edges(end, PARIS, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'), ['open 2026-10-24T20:00:00Z', 'close 2026-10-25T01:30:00Z'], 'runs to the second 02:30 (CET)');

  const inside = parseWindow('02:10-02:40');
  t.same(edges(inside, PARIS, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'), ['open 2026-10-25T00:10:00Z', 'close 2026-10-25T01:40:00Z'], 'a window inside the repeated hour opens once');
});

t.test('New York: spring forward 2026-03-08 02:00 -> 03:00, fall back 2026-11-01 02:00 -> 01:00', async (t) => {
  const spring = parseWindow('02:30-04:00');
  t.same(edges(spring, NEW_YORK, '2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z'), ['open 2026-03-08T07:00:00Z', 'close 2026-03-08T08:00:00Z'], 'opens at 03:00 EDT');
  const fall = parseWindow('01:30-03:00');
  t.same(edges(fall, NEW_YORK, '2026-10-31T12:00:00Z', '2026-11-01T12:00:00Z'), ['open 2026-11-01T05:30:00Z', 'close 2026-11-01T08:00:00Z'], 'first 01:30 (EDT) to 03:00 EST');
  const night = parseWindow('22:00-06:30');
  t.same(edges(night, NEW_YORK, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'), [
    'open 2026-11-01T02:00:00Z',
    'close 2026-11-01T11:30:00Z',
    'open 2026-11-02T03:00:00Z',
    'close 2026-11-02T11:30:00Z',
  ], 'a night of 9.5 hours across the change, then EST');
});

t.test('one opening per night around each DST change, every zone and window', async (t) => {
  const changes = {
    [PARIS]: ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z'],
    [NEW_YORK]: ['2026-03-07T12:00:00Z', '2026-10-31T12:00:00Z'],
  };
  for (const [tz, nights] of Object.entries(changes)) {
    for (const spec of ['22:00-06:30', '01:00-03:30', '02:30-05:00', '23:30-00:30']) {
      for (const from of nights) {
        // The night before the change, the night of it and the night after.
        const to = new Date(at(from).getTime() + 2 * 24 * 60 * MINUTE).toISOString();
        const fromEarlier = new Date(at(from).getTime() - 24 * 60 * MINUTE).toISOString();
        const e = edges(parseWindow(spec), tz, fromEarlier, to, 10);
        t.equal(e.filter((x) => x.startsWith('open')).length, 3, `${tz} ${spec} ${from}: ${e.join(', ')}`);
        t.equal(e.filter((x) => x.startsWith('close')).length, 3);
      }
    }
  }
});

t.test('00:00-24:00 is always open', async (t) => {
  const w = parseWindow('00:00-24:00');
  for (const tz of [PARIS, NEW_YORK, 'UTC']) {
    t.same(edges(w, tz, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z', 20), [], `${tz} around New York's spring change`);
    t.same(edges(w, tz, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z', 20), [], `${tz} around Paris's spring change`);
    t.same(edges(w, tz, '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z', 20), [], `${tz} around Paris's autumn change`);
    t.same(edges(w, tz, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z', 20), [], `${tz} around New York's autumn change`);
  }
  t.ok(isInWindow(at('2026-03-29T01:00:00Z'), w, PARIS));
  t.equal(iso(windowEndAfter(at('2026-06-10T12:00:00Z'), w, PARIS)), '2026-06-10T22:00:00Z', 'the day ends at local midnight...');
  t.equal(iso(nextWindowStart(at('2026-06-10T12:00:00Z'), w, PARIS)), '2026-06-10T22:00:00Z', '...where the next day opens');
  t.equal(iso(windowEndAfter(at('2026-03-28T12:00:00Z'), w, PARIS)), '2026-03-28T23:00:00Z', 'a 23-hour day');
  t.equal(iso(windowEndAfter(at('2026-03-29T12:00:00Z'), w, PARIS)), '2026-03-29T22:00:00Z');
});

t.test('the zone defaults to the system one; an unknown zone is a config error', async (t) => {
  t.equal(systemTimeZone(), new Intl.DateTimeFormat().resolvedOptions().timeZone);
  const w = parseWindow('22:00-06:30');
  for (const h of [0, 5, 12, 21, 23]) {
    const now = at(`2026-06-10T${String(h).padStart(2, '0')}:17:00Z`);
    t.equal(isInWindow(now, w), isInWindow(now, w, systemTimeZone()));
    t.equal(iso(nextWindowStart(now, w)), iso(nextWindowStart(now, w, systemTimeZone())));
  }
  t.throws(() => isInWindow(at('2026-06-10T00:00:00Z'), w, 'Mars/Olympus_Mons'), { code: 'E_CONFIG', message: /unknown time zone "Mars\/Olympus_Mons"/ });
});

t.test('a half-hour DST shift (Australia/Lord_Howe, 2026-10-04 02:00 -> 02:30)', async (t) => {
  const w = parseWindow('02:15-03:00');
  t.same(edges(w, 'Australia/Lord_Howe', '2026-10-03T06:00:00Z', '2026-10-04T06:00:00Z'), ['open 2026-10-03T15:30:00Z', 'close 2026-10-03T16:00:00Z'], 'opens at 02:30 local, the end of the gap');
});
