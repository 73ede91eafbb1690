// The sync bench's verdict: medians of round-by-round ratios, and each reference client matched by its own name.
import t from 'tap';
import type { ClientResult } from '../../../bench/sync/clients.js';
import { clientsOfRound, median, pairwiseRatios, summarize } from '../../../bench/sync/report.js';

const OURS = 'plugsrv sync now';
const run = (name: string, mibPerSecond: number): ClientResult => ({
  name,
  bytes: 1,
  wallSeconds: 1,
  userSeconds: 0,
  sysSeconds: 0,
  cpuSeconds: 0,
  peakRssBytes: 0,
  mibPerSecond,
  cpuSecondsPerGiB: 0,
  serverCpuSeconds: 0,
  errors: [],
  command: '',
});

t.test('median', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
  t.equal(median([NaN, 5]), 5, 'a missing figure does not count');
});

t.test('each round is judged against the reference run beside it, and the verdict is their median', async (t) => {
  // The machine drifts: round 2 is twice as fast for everybody. Pairing by round keeps the ratio steady.
  const results = [
    run(OURS, 80), run('curl x4', 100), run('curl x4 | tee | openssl sha256', 70),
    run(OURS, 160), run('curl x4', 200), run('curl x4 | tee | openssl sha256', 140),
    run(OURS, 90), run('curl x4', 100), run('curl x4 | tee | openssl sha256', 75),
  ];
  t.same(pairwiseRatios(results, OURS, (r) => r.name === 'curl x4'), [0.8, 0.8, 0.9]);
  const s = summarize(results, OURS, undefined);
  t.same(s.ratiosToCurl, [0.8, 0.8, 0.9], 'raw curl only: the openssl row is not taken for it');
  t.equal(s.ratioToCurl, 0.8);
  t.equal(s.oursMibPerSecond, 90);
  t.equal(s.targetMet, false, '0.8 is below 0.9');
  t.equal(s.ratioToCurlOpenssl, 80 / 70);
  t.ok(Number.isNaN(s.ratioToAria2c), 'aria2c not run: no figure');
});

t.test('no curl run: the target is not judged', async (t) => {
  const s = summarize([run(OURS, 100)], OURS, undefined);
  t.equal(s.targetMet, undefined);
  t.same(s.ratiosToCurl, []);
});

t.test('the clients take turns: each round starts with the next one, and rotated rounds still pair by round', async (t) => {
  t.same([0, 1, 2, 3].map((r) => clientsOfRound(['ours', 'curl', 'curl-openssl'], r)), [
    ['ours', 'curl', 'curl-openssl'],
    ['curl', 'curl-openssl', 'ours'],
    ['curl-openssl', 'ours', 'curl'],
    ['ours', 'curl', 'curl-openssl'],
  ]);
  t.same(clientsOfRound([], 5), []);
  // Round 2 ran curl before ours: the ratios still pair ours and curl of the same round.
  const results = [run(OURS, 100), run('curl x4', 200), run('curl x4', 400), run(OURS, 300)];
  t.same(pairwiseRatios(results, OURS, (r) => r.name === 'curl x4'), [0.5, 0.75]);
});
