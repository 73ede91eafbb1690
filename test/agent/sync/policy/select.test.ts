// Target selection: path patterns, head units, models, supersession and the download order.
import t from 'tap';
import { campaignRank, selectTargets, type CatalogTarget, type SyncPolicy } from '../../../../agent/src/sync/policy/index.js';

const ALL: SyncPolicy = { include: [], exclude: [], headUnits: [], models: [] };

function target(path: string, custom: Partial<CatalogTarget['custom']> = {}, size = 100): CatalogTarget {
  return {
    path,
    sha256: `sha-${path}`,
    size,
    custom: { kind: 'soft', headUnit: 'R-LINK2', models: ['XFK'], version: '1.0', ...custom },
  };
}

const paths = (ts: CatalogTarget[]): string[] => ts.map((x) => x.path);

t.test('an empty policy selects the whole catalog', async (t) => {
  const r = selectTargets([target('b'), target('a')], ALL);
  t.same(paths(r.selected), ['a', 'b']);
  t.same(r.skipped, []);
  t.same(selectTargets([], ALL), { selected: [], skipped: [] }, 'empty catalog');
});

t.test('order: campaign urgency, then priority, then smaller size, then path', async (t) => {
  const catalog = [
    target('none-big', {}, 900),
    target('none-small', {}, 10),
    target('complaint', { campaign: 'customer-complaint' }),
    target('part', { campaign: 'part-replacement' }),
    target('compliance', { campaign: 'compliance' }),
    target('technical', { campaign: 'technical-campaign' }),
    target('recall-low', { campaign: 'recall', priority: 1 }),
    target('recall-high', { campaign: 'recall', priority: 5 }),
    target('none-prio', { priority: 2 }, 5000),
    target('none-neg', { priority: -1 }, 1),
    target('none-small-b', {}, 10),
  ];
  t.same(paths(selectTargets(catalog, ALL).selected), [
    'recall-high',
    'recall-low',
    'technical',
    'compliance',
    'part',
    'complaint',
    'none-prio',
    'none-small',
    'none-small-b',
    'none-big',
    'none-neg',
  ]);
});

t.test('campaign ranks; an unknown campaign counts as none', async (t) => {
  t.equal(campaignRank('recall'), 0);
  t.equal(campaignRank('customer-complaint'), 4);
  t.equal(campaignRank(undefined), 5);
  t.equal(campaignRank('marketing'), 5);
  const odd = target('odd', { campaign: 'marketing' as 'recall', priority: Number.NaN }, 1);
  t.same(paths(selectTargets([odd, target('plain', {}, 2), target('rc', { campaign: 'compliance' }, 3)], ALL).selected), ['rc', 'odd', 'plain'], 'NaN priority is 0');
});

t.test('include patterns follow .dockerignore', async (t) => {
  const catalog = [target('maps/eu/fr.zip'), target('maps/us/ny.zip'), target('soft/rlink/a.zip'), target('top.zip'), target('notes.txt')];
  const pick = (include: string[]): string[] => paths(selectTargets(catalog, { ...ALL, include }).selected).sort();
  t.same(pick(['maps']), ['maps/eu/fr.zip', 'maps/us/ny.zip'], 'a directory matches what is under it');
  t.same(pick(['maps/*']), ['maps/eu/fr.zip', 'maps/us/ny.zip']);
  t.same(pick(['*.zip']), ['top.zip'], '* does not cross a slash');
  t.same(pick(['**/*.zip']), ['maps/eu/fr.zip', 'maps/us/ny.zip', 'soft/rlink/a.zip', 'top.zip']);
  t.same(pick(['maps', '!maps/us']), ['maps/eu/fr.zip'], '! re-excludes from the include set');
  t.same(pick(['/soft']), ['soft/rlink/a.zip'], 'a leading slash in a pattern is the root');
  t.same(pick(['MAPS']), [], 'paths are case-sensitive');
  t.same(pick(['# only a comment', '  ']), pick([]), 'comments and blank lines are no pattern: everything');
  t.same(pick(['nothing/here']), []);
  const skipped = selectTargets(catalog, { ...ALL, include: ['maps'] }).skipped;
  t.same(skipped, [
    { path: 'soft/rlink/a.zip', reason: 'not-included' },
    { path: 'top.zip', reason: 'not-included' },
    { path: 'notes.txt', reason: 'not-included' },
  ]);
});

t.test('exclude wins over include; a leading slash in a target path is tolerated', async (t) => {
  const catalog = [target('/maps/eu/fr.zip'), target('maps/eu/de.zip'), target('maps/us/ny.zip'), target('soft/x.zip')];
  const r = selectTargets(catalog, { ...ALL, include: ['maps'], exclude: ['maps/eu/de.zip', 'maps/us'] });
  t.same(paths(r.selected), ['/maps/eu/fr.zip']);
  t.same(r.skipped, [
    { path: 'maps/eu/de.zip', reason: 'excluded' },
    { path: 'maps/us/ny.zip', reason: 'excluded' },
    { path: 'soft/x.zip', reason: 'not-included' },
  ]);
  t.same(paths(selectTargets(catalog, { ...ALL, exclude: ['**/*.zip', '!soft'] }).selected), ['soft/x.zip'], 'exclude alone, with a re-include');
});

t.test('head units compare case-insensitively; models match on any shared code', async (t) => {
  const catalog = [
    target('a', { headUnit: 'R-LINK2', models: ['XFK', 'BJA'] }),
    target('b', { headUnit: 'easy-link', models: ['HHN'] }),
    target('c', { headUnit: 'IVI', models: ['BJA'] }),
  ];
  let r = selectTargets(catalog, { ...ALL, headUnits: [' r-link2 ', 'EASY-LINK'] });
  t.same(paths(r.selected), ['a', 'b']);
  t.same(r.skipped, [{ path: 'c', reason: 'head-unit' }]);
  r = selectTargets(catalog, { ...ALL, models: ['bja', 'ZZZ'] });
  t.same(paths(r.selected), ['a', 'c']);
  t.same(r.skipped, [{ path: 'b', reason: 'model' }]);
  r = selectTargets(catalog, { ...ALL, headUnits: ['IVI'], models: ['HHN'] });
  t.same(r.selected, []);
  t.same(r.skipped, [
    { path: 'a', reason: 'head-unit' },
    { path: 'b', reason: 'head-unit' },
    { path: 'c', reason: 'model' },
  ], 'the first failing rule is the reason');
  t.same(selectTargets([target('d', { models: [] })], { ...ALL, models: ['XFK'] }).skipped, [{ path: 'd', reason: 'model' }], 'a target with no model never matches a model list');
});

t.test('a selected target drops the one it supersedes', async (t) => {
  const r = selectTargets([target('v1'), target('v2', { supersedes: 'v1' }), target('other')], ALL);
  t.same(paths(r.selected), ['other', 'v2']);
  t.same(r.skipped, [{ path: 'v1', reason: 'superseded' }]);
});

t.test('supersession chains, misses and malformed links', async (t) => {
  const chain = selectTargets([target('v3', { supersedes: 'v2' }), target('v1'), target('v2', { supersedes: 'v1' })], ALL);
  t.same(paths(chain.selected), ['v3'], 'the whole chain below the newest goes');
  t.same(chain.skipped, [
    { path: 'v1', reason: 'superseded' },
    { path: 'v2', reason: 'superseded' },
  ]);

  const filtered = selectTargets([target('v1'), target('v2', { supersedes: 'v1', headUnit: 'IVI' })], { ...ALL, headUnits: ['R-LINK2'] });
  t.same(paths(filtered.selected), ['v1'], 'a replacement this site does not take does not drop the old one');
  t.same(filtered.skipped, [{ path: 'v2', reason: 'head-unit' }]);

  const excludedOld = selectTargets([target('v1'), target('v2', { supersedes: 'v1' })], { ...ALL, exclude: ['v1'] });
  t.same(excludedOld.skipped, [{ path: 'v1', reason: 'excluded' }], 'the filter reason wins over superseded');

  t.same(paths(selectTargets([target('x', { supersedes: 'gone' })], ALL).selected), ['x'], 'an unknown path is ignored');
  t.same(paths(selectTargets([target('self', { supersedes: 'self' })], ALL).selected), ['self'], 'a target never supersedes itself');
  t.same(paths(selectTargets([target('/lead', {}), target('new', { supersedes: 'lead' })], ALL).selected), ['new'], 'paths compare without a leading slash');

  const cycle = selectTargets([target('a', { supersedes: 'b' }), target('b', { supersedes: 'a' })], ALL);
  t.same(paths(cycle.selected), ['a', 'b'], 'a cycle with nothing above it drops nothing');
  const headed = selectTargets([target('a', { supersedes: 'b' }), target('b', { supersedes: 'a' }), target('d', { supersedes: 'a' })], ALL);
  t.same(paths(headed.selected), ['d'], 'a newer head drops the whole cycle below it');
});

t.test('the input is not reordered or changed', async (t) => {
  const catalog = [target('b', {}, 2), target('a', {}, 1)];
  const copy = structuredClone(catalog);
  selectTargets(catalog, { ...ALL, include: ['a', 'b'] });
  t.same(catalog, copy);
});
