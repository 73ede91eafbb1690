// Sync planning: what to fetch now, what to collect after the grace period, what to evict for room.
import t from 'tap';
import {
  evictionOrder,
  gcCandidates,
  isUrgent,
  planSync,
  type CatalogTarget,
  type PlanInput,
  type StoredBlob,
} from '../../../../agent/src/sync/policy/index.js';

function target(path: string, custom: Partial<CatalogTarget['custom']> = {}, sha256 = `sha-${path}`): CatalogTarget {
  return { path, sha256, size: 10, custom: { kind: 'map', headUnit: 'IVI', models: ['BJA'], version: '2', ...custom } };
}

const NOW = new Date('2026-06-01T01:00:00Z');
const recall = target('recall', { campaign: 'recall' });
const technical = target('technical', { campaign: 'technical-campaign' });
const plain = target('plain');
const kept = target('kept');

function plan(over: Partial<PlanInput>): Array<[string, string]> {
  const input: PlanInput = { now: NOW, selected: [recall, technical, plain, kept], stored: new Set(['sha-kept']), inWindow: true, dayAllowsUrgent: false, ...over };
  return planSync(input).map((s) => [s.action, s.target.path]);
}

t.test('only a recall is urgent', async (t) => {
  t.ok(isUrgent(recall));
  t.notOk(isUrgent(technical));
  t.notOk(isUrgent(plain));
});

t.test('inside the window every missing target is fetched, in selection order', async (t) => {
  t.same(plan({}), [
    ['download', 'recall'],
    ['download', 'technical'],
    ['download', 'plain'],
    ['keep', 'kept'],
  ]);
  t.same(plan({ dayAllowsUrgent: true }), plan({}), 'the day setting does not matter at night');
});

t.test('outside the window only urgent targets, and only when day downloads are allowed', async (t) => {
  t.same(plan({ inWindow: false, dayAllowsUrgent: true }), [
    ['download', 'recall'],
    ['keep', 'kept'],
  ]);
  t.same(plan({ inWindow: false, dayAllowsUrgent: false }), [['keep', 'kept']], 'what waits for the night is left out');
});

t.test('edge cases: nothing selected, everything stored, the same bytes under two paths', async (t) => {
  t.same(plan({ selected: [] }), []);
  t.same(plan({ stored: new Set(['sha-recall', 'sha-technical', 'sha-plain', 'sha-kept']), inWindow: false }), [
    ['keep', 'recall'],
    ['keep', 'technical'],
    ['keep', 'plain'],
    ['keep', 'kept'],
  ]);
  const twin = target('twin', {}, 'sha-plain');
  t.same(plan({ selected: [plain, twin] }), [
    ['download', 'plain'],
    ['keep', 'twin'],
  ], 'one download per blob');
  const urgentTwin = target('urgent-twin', { campaign: 'recall' }, 'sha-plain');
  t.same(plan({ selected: [plain, urgentTwin], inWindow: false, dayAllowsUrgent: true }), [['download', 'urgent-twin']], 'a deferred twin does not count as planned');
});

t.test('gc: blobs out of the catalog go after the grace period unless served', async (t) => {
  const HOUR = 3_600_000;
  const now = 100 * HOUR;
  const r = gcCandidates({
    catalogSha256s: new Set(['listed', 'back']),
    stored: [
      { sha256: 'listed', size: 1 },
      { sha256: 'back', size: 2, leftCatalogAt: now - 50 * HOUR },
      { sha256: 'just-left', size: 4 },
      { sha256: 'recent', size: 8, leftCatalogAt: now - 23 * HOUR },
      { sha256: 'exactly', size: 16, leftCatalogAt: now - 24 * HOUR },
      { sha256: 'old', size: 32, leftCatalogAt: now - 99 * HOUR },
      { sha256: 'old-served', size: 64, leftCatalogAt: now - 99 * HOUR },
    ],
    now,
    graceMs: 24 * HOUR,
    serving: new Set(['old-served', 'listed']),
  });
  t.same(r, { remove: ['exactly', 'old'], reclaimBytes: 48, markLeft: ['just-left'], clearLeft: ['back'] });
});

t.test('gc: a zero grace removes at once, a future mark waits, a bad grace throws', async (t) => {
  const base = { catalogSha256s: new Set<string>(), now: 1000, serving: new Set<string>() };
  t.same(gcCandidates({ ...base, stored: [{ sha256: 'a', size: 5 }], graceMs: 0 }), { remove: ['a'], reclaimBytes: 5, markLeft: ['a'], clearLeft: [] });
  t.same(gcCandidates({ ...base, stored: [{ sha256: 'a', size: 5, leftCatalogAt: 2000 }], graceMs: 0 }).remove, [], 'a clock that went back keeps the blob');
  t.same(gcCandidates({ ...base, stored: [], graceMs: 10 }), { remove: [], reclaimBytes: 0, markLeft: [], clearLeft: [] });
  t.throws(() => gcCandidates({ ...base, stored: [], graceMs: -1 }), RangeError);
  t.throws(() => gcCandidates({ ...base, stored: [], graceMs: Number.NaN }), RangeError);
});

function blob(sha256: string, size: number, over: Partial<StoredBlob> = {}): StoredBlob {
  return { sha256, size, superseded: false, priority: 0, ...over };
}

t.test('eviction order: superseded, least urgent campaign, lowest priority, largest, sha256', async (t) => {
  const stored = [
    blob('recall', 10, { campaign: 'recall' }),
    blob('complaint', 10, { campaign: 'customer-complaint' }),
    blob('plain-hi', 10, { priority: 3 }),
    blob('plain-lo-small', 10, { priority: -2 }),
    blob('plain-lo-big', 20, { priority: -2 }),
    blob('old-recall', 10, { superseded: true, campaign: 'recall' }),
    blob('old-plain', 10, { superseded: true }),
    blob('b-tie', 10),
    blob('a-tie', 10),
    blob('odd', 10, { campaign: 'marketing', priority: Number.NaN }),
  ];
  const copy = structuredClone(stored);
  t.same(evictionOrder(stored, Infinity, new Set()), { evict: [], fits: false }, 'cannot free infinitely many bytes');
  const everything = stored.reduce((n, b) => n + b.size, 0);
  t.same(evictionOrder(stored, everything, new Set()).evict, [
    'old-plain',
    'old-recall',
    'plain-lo-big',
    'plain-lo-small',
    'a-tie',
    'b-tie',
    'odd',
    'plain-hi',
    'complaint',
    'recall',
  ]);
  t.same(stored, copy, 'the input is not sorted in place');
});

t.test('eviction frees just enough, never a blob being served', async (t) => {
  const stored = [blob('old', 30, { superseded: true }), blob('low', 50, { priority: -1 }), blob('high', 100, { priority: 9 })];
  t.same(evictionOrder(stored, 0, new Set()), { evict: [], fits: true }, 'nothing needed');
  t.same(evictionOrder(stored, -5, new Set()), { evict: [], fits: true });
  t.same(evictionOrder(stored, 30, new Set()), { evict: ['old'], fits: true }, 'an exact fit stops there');
  t.same(evictionOrder(stored, 31, new Set()), { evict: ['old', 'low'], fits: true });
  t.same(evictionOrder(stored, 31, new Set(['low'])), { evict: ['old', 'high'], fits: true }, 'a served blob is passed over');
  t.same(evictionOrder(stored, 180, new Set()), { evict: ['old', 'low', 'high'], fits: true });
  t.same(evictionOrder(stored, 181, new Set()), { evict: [], fits: false }, 'too big even with everything gone');
  t.same(evictionOrder(stored, 100, new Set(['high'])), { evict: [], fits: false }, 'what is served does not count');
  t.same(evictionOrder([], 1, new Set()), { evict: [], fits: false });
  t.throws(() => evictionOrder(stored, Number.NaN, new Set()), RangeError);
});
