// The per-address token bucket of enrollment, on an injected clock.
import t from 'tap';
import { RateLimiter } from '../../../fleet/src/enroll/index.js';

t.test('a burst, then the steady rate; addresses are independent', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 3, perMinute: 6, clock: () => now });
  t.same([limiter.take('a'), limiter.take('a'), limiter.take('a')], [{ ok: true }, { ok: true }, { ok: true }]);
  t.same(limiter.take('a'), { ok: false, retryAfterSeconds: 10 }, '6/min = one every 10 s');
  t.same(limiter.take('b'), { ok: true }, 'another address has its own bucket');
  now += 5_000;
  t.same(limiter.take('a'), { ok: false, retryAfterSeconds: 5 }, 'half a token after 5 s');
  now += 5_000;
  t.same(limiter.take('a'), { ok: true });
  t.equal(limiter.take('a').ok, false);
  now += 3_600_000;
  t.same([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a').ok], [{ ok: true }, { ok: true }, { ok: true }, false], 'refills to the burst, not beyond');
});

t.test('a refused attempt costs nothing', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 1, perMinute: 60, clock: () => now });
  t.ok(limiter.take('x').ok);
  for (let i = 0; i < 10; i++) t.notOk(limiter.take('x').ok);
  now += 1000;
  t.ok(limiter.take('x').ok, 'one second later one attempt is back, however many were refused');
});

t.test('full buckets are forgotten when there are too many', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 2, perMinute: 60, clock: () => now, maxKeys: 10 });
  for (let i = 0; i < 10; i++) limiter.take(`ip${i}`);
  now += 10_000;
  limiter.take('new');
  t.equal(limiter.size, 1, 'the refilled ones were pruned');
  t.throws(() => new RateLimiter({ burst: 0, perMinute: 1 }));
});
