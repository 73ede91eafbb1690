// The download queue: one slot takes the largest of the current tier, the others the smallest; no slot jumps a tier.
import t from 'tap';
import { compareUrgency, DownloadQueue, selectTargets, type CatalogTarget, type SyncPolicy } from '../../../../agent/src/sync/policy/index.js';

const ALL: SyncPolicy = { include: [], exclude: [], headUnits: [], models: [] };

function target(path: string, size: number, custom: Partial<CatalogTarget['custom']> = {}): CatalogTarget {
  return { path, sha256: `sha-${path}`, size, custom: { kind: 'soft', headUnit: 'R-LINK2', models: ['XFK'], version: '1.0', ...custom } };
}

/** The catalog in selection order, as the engine hands it to the queue. */
function ordered(targets: CatalogTarget[]): CatalogTarget[] {
  return selectTargets(targets, ALL).selected;
}

t.test('inside one tier, the largest-first slot and the smallest-first slots meet in the middle', async (t) => {
  const q = new DownloadQueue(ordered([target('a', 10), target('b', 40), target('c', 20), target('d', 30)]), compareUrgency);
  t.equal(q.takeLargestOfTier()?.path, 'b');
  t.equal(q.takeFirst()?.path, 'a');
  t.equal(q.takeFirst()?.path, 'c');
  t.equal(q.takeLargestOfTier()?.path, 'd');
  t.equal(q.takeFirst(), undefined, 'all taken');
  t.equal(q.takeLargestOfTier(), undefined);
});

t.test('the largest-first slot never takes from a less urgent tier while a more urgent one has targets', async (t) => {
  const recall = { campaign: 'recall' as const };
  const q = new DownloadQueue(
    ordered([target('map-huge', 1000), target('recall-small', 1, recall), target('recall-big', 50, recall), target('high', 5, { priority: 9 }), target('plain', 2)]),
    compareUrgency,
  );
  t.equal(q.takeLargestOfTier()?.path, 'recall-big', 'the largest recall, not the larger map');
  t.equal(q.takeLargestOfTier()?.path, 'recall-small', 'still the recall tier: its last target');
  t.equal(q.takeLargestOfTier()?.path, 'high', 'then the priority-9 tier');
  t.equal(q.takeFirst()?.path, 'plain', 'the smallest of the plain tier');
  t.equal(q.takeLargestOfTier()?.path, 'map-huge');
  t.equal(q.takeFirst(), undefined, 'all taken');
});

t.test('every target is taken exactly once whatever the mix of slots', async (t) => {
  const targets = ordered(Array.from({ length: 40 }, (_, i) => target(`p${i}`, (i * 37) % 23, i % 5 === 0 ? { campaign: 'recall' } : i % 7 === 0 ? { priority: 3 } : {})));
  const q = new DownloadQueue(targets, compareUrgency);
  const seen: CatalogTarget[] = [];
  for (let i = 0; ; i++) {
    const next = i % 3 === 0 ? q.takeLargestOfTier() : q.takeFirst();
    if (!next) break;
    seen.push(next);
  }
  t.equal(seen.length, 40);
  t.equal(new Set(seen.map((x) => x.path)).size, 40);
  // Tiers come out in order: no target of a later tier before the last one of an earlier tier.
  t.ok(
    seen.every((x, i) => i === 0 || compareUrgency(seen[i - 1] as CatalogTarget, x) <= 0),
    'tiers are never interleaved',
  );
  t.ok(new Set(targets.map((x) => `${x.custom.campaign}/${x.custom.priority}`)).size >= 3, 'the mix has several tiers');
});
