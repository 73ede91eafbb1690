// The token bucket on a fake clock (exact waits, FIFO, rate changes, aborts) and the rate each hour allows.
import t from 'tap';
import { bandwidthFor, TokenBucket, type TokenBucketOptions } from '../../../../agent/src/sync/policy/index.js';

/** A manual clock: sleeps resolve only when the test advances time past their deadline. */
class FakeTime {
  now = 0;
  readonly sleeps: number[] = [];
  private timers: Array<{ at: number; resolve: () => void }> = [];

  clock = (): number => this.now;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = {
        at: this.now + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  };

  /** Move time forward, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.now = Math.max(this.now, due.at);
      due.resolve();
    }
    this.now = target;
    await settle();
  }

  get pending(): number {
    return this.timers.length;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function bucket(time: FakeTime, opts: Partial<TokenBucketOptions> = {}): TokenBucket {
  return new TokenBucket({ rateBytesPerSec: 1000, burstBytes: 100, clock: time.clock, sleep: time.sleep, ...opts });
}

/** A promise with a flag saying whether it has settled, and when (fake time). */
function track(time: FakeTime, p: Promise<void>): { done: boolean; at: number; error: unknown } {
  const state = { done: false, at: -1, error: undefined as unknown };
  p.then(
    () => Object.assign(state, { done: true, at: time.now }),
    (err: unknown) => Object.assign(state, { done: true, at: time.now, error: err }),
  );
  return state;
}

t.test('a full bucket lets the burst through, then waits exactly for the deficit', async (t) => {
  const time = new FakeTime();
  const b = bucket(time);
  await b.take(100);
  t.same(time.sleeps, [], 'the burst passes without waiting');
  const next = track(time, b.take(25));
  await time.advance(24);
  t.notOk(next.done, 'not before 25 ms');
  await time.advance(1);
  t.ok(next.done);
  t.equal(next.at, 25);
  t.same(time.sleeps, [25]);
});

t.test('tryTake: passes at once while tokens last, never ahead of a waiter, and counts against take', async (t) => {
  const time = new FakeTime();
  const b = bucket(time);
  t.ok(b.tryTake(60), 'within the burst: passes');
  t.ok(b.tryTake(40), 'the rest of the burst: passes');
  t.notOk(b.tryTake(1), 'an empty bucket says no (and takes nothing)');
  const queued = track(time, b.take(10));
  await time.advance(5);
  t.notOk(b.tryTake(1), 'refilled a little, but a waiter is queued: no jumping the queue');
  await time.advance(5);
  t.ok(queued.done, 'the waiter went at 10 ms, as if tryTake had not been asked');
  t.equal(queued.at, 10);
  await time.advance(20);
  t.ok(b.tryTake(20), '20 ms later 20 bytes are back');
  t.notOk(b.tryTake(1), 'and no more');
  t.notOk(b.tryTake(101), 'more than the burst never passes at once');
  const unlimited = new TokenBucket({ rateBytesPerSec: 0 });
  t.ok(unlimited.tryTake(1e12), 'unlimited: always');
  t.same(time.sleeps.length, 1, 'only the queued take slept');
});

t.test('idle time refills up to the burst, not beyond', async (t) => {
  const time = new FakeTime();
  const b = bucket(time);
  await b.take(100);
  await time.advance(10_000);
  await b.take(100);
  t.same(time.sleeps, [], 'refilled to 100');
  const next = track(time, b.take(1));
  await time.advance(1);
  t.ok(next.done);
  t.same(time.sleeps, [1], 'not to 10 000');
});

t.test('a chunk larger than the burst goes through in pieces at the rate', async (t) => {
  const time = new FakeTime();
  const b = bucket(time);
  const big = track(time, b.take(350));
  await time.advance(249);
  t.notOk(big.done);
  await time.advance(1);
  t.ok(big.done);
  t.equal(big.at, 250, '100 at once, then 250 bytes at 1000 B/s');
  t.same(time.sleeps, [100, 100, 50]);
});

t.test('0 and Infinity are unlimited; 0 bytes never waits', async (t) => {
  for (const rate of [0, Infinity]) {
    const time = new FakeTime();
    const b = bucket(time, { rateBytesPerSec: rate, burstBytes: undefined });
    await b.take(1e12);
    await b.take(1e12);
    t.same(time.sleeps, [], `rate ${rate}`);
    t.equal(b.rateBytesPerSec, Infinity);
  }
  const time = new FakeTime();
  const b = bucket(time);
  await b.take(100);
  await b.take(0);
  t.same(time.sleeps, []);
});

t.test('concurrent takers are served first come, first served', async (t) => {
  const time = new FakeTime();
  const b = bucket(time, { rateBytesPerSec: 100 });
  await b.take(100);
  const first = track(time, b.take(100));
  const second = track(time, b.take(50));
  const third = track(time, b.take(100));
  await time.advance(5000);
  t.same([first.at, second.at, third.at], [1000, 1500, 2500]);
});

t.test('setRate applies to callers already waiting', async (t) => {
  const time = new FakeTime();
  const b = bucket(time, { rateBytesPerSec: 100 });
  await b.take(100);
  const waiting = track(time, b.take(100));
  await time.advance(500);
  t.notOk(waiting.done, 'half paid at 100 B/s');
  b.setRate(1000);
  await time.advance(49);
  t.notOk(waiting.done);
  await time.advance(1);
  t.equal(waiting.at, 550, 'the other 50 bytes at 1000 B/s');

  const slower = track(time, b.take(100));
  await time.advance(50);
  b.setRate(10);
  await time.advance(5000 - 1);
  t.notOk(slower.done);
  await time.advance(1);
  t.equal(slower.at, 550 + 50 + 5000, 'a lower rate makes them wait longer');
});

t.test('switching to unlimited releases waiters; back to a rate starts with a full bucket', async (t) => {
  const time = new FakeTime();
  const b = bucket(time, { rateBytesPerSec: 10 });
  await b.take(100);
  const waiting = track(time, b.take(100));
  await time.advance(1);
  b.setRate(Infinity);
  await time.advance(0);
  t.ok(waiting.done, 'released at once');
  t.equal(time.pending, 0, 'no timer left behind');
  await b.take(1e9);
  b.setRate(1000);
  const before = time.sleeps.length;
  await b.take(100);
  t.equal(time.sleeps.length, before, 'the burst is there again');
  const after = track(time, b.take(100));
  await time.advance(100);
  t.equal(after.at, 101);
});

t.test('default burst: 64 KiB or 50 ms of the rate, following setRate; explicit burst kept', async (t) => {
  const b = new TokenBucket({ rateBytesPerSec: 1000 });
  t.equal(b.burstBytes, 65536);
  b.setRate(2_000_000);
  t.equal(b.burstBytes, 100_000);
  b.setRate(0);
  t.equal(b.burstBytes, Infinity);
  const fixed = new TokenBucket({ rateBytesPerSec: 2_000_000, burstBytes: 4096 });
  fixed.setRate(50_000_000);
  t.equal(fixed.burstBytes, 4096);
});

t.test('an abort rejects with its reason and hands the bytes to those queued behind', async (t) => {
  const time = new FakeTime();
  const b = bucket(time, { rateBytesPerSec: 100 });
  await b.take(100);
  const ac = new AbortController();
  const aborted = track(time, b.take(100, ac.signal));
  const behind = track(time, b.take(100));
  await time.advance(200);
  ac.abort(new Error('download cancelled'));
  await time.advance(0);
  t.ok(aborted.done);
  t.match(aborted.error, { message: 'download cancelled' });
  await time.advance(799);
  t.notOk(behind.done);
  await time.advance(1);
  t.equal(behind.at, 1000, 'as if the aborted take had never been');

  const pre = new AbortController();
  pre.abort(new Error('already'));
  await t.rejects(b.take(1, pre.signal), { message: 'already' }, 'an aborted signal rejects before any wait');
  await t.rejects(new TokenBucket({ rateBytesPerSec: 0 }).take(1, pre.signal), { message: 'already' }, 'even when unlimited');
});

t.test('an abort between pieces of a large chunk stops it', async (t) => {
  const time = new FakeTime();
  const b = bucket(time);
  const ac = new AbortController();
  const big = track(time, b.take(1000, ac.signal));
  await time.advance(150);
  ac.abort(new Error('stop'));
  await time.advance(0);
  t.match(big.error, { message: 'stop' });
  const after = track(time, b.take(100));
  await time.advance(50);
  t.equal(after.at, 200, 'the pieces that passed were spent, the rest given back');
});

t.test('a failing sleep is not mistaken for an abort', async (t) => {
  const b = new TokenBucket({ rateBytesPerSec: 100, burstBytes: 10, clock: () => 0, sleep: () => Promise.reject(new Error('timer broke')) });
  await b.take(10);
  await t.rejects(b.take(10), { message: 'timer broke' });
});

t.test('bad arguments are range errors', async (t) => {
  for (const rate of [-1, Number.NaN]) {
    t.throws(() => new TokenBucket({ rateBytesPerSec: rate }), RangeError);
    t.throws(() => new TokenBucket({ rateBytesPerSec: 1 }).setRate(rate), RangeError);
  }
  for (const burst of [0, 0.5, -3, Infinity, Number.NaN]) t.throws(() => new TokenBucket({ rateBytesPerSec: 1, burstBytes: burst }), RangeError, `burst ${burst}`);
  const b = new TokenBucket({ rateBytesPerSec: 1 });
  for (const bytes of [-1, Number.NaN, Infinity]) await t.rejects(b.take(bytes), RangeError, `take(${bytes})`);
});

t.test('bandwidthFor: the night rate in the window, the day rate for urgent work only', async (t) => {
  const now = new Date('2026-06-01T12:00:00Z');
  const policy = { nightRateBytesPerSec: 5_000_000, dayRateBytesPerSec: 500_000 };
  t.equal(bandwidthFor(now, policy, true, false), 5_000_000);
  t.equal(bandwidthFor(now, policy, true, true), 5_000_000, 'urgent work at night uses the night rate');
  t.equal(bandwidthFor(now, policy, false, true), 500_000);
  t.equal(bandwidthFor(now, policy, false, false), 0, '0: not now');
  t.equal(bandwidthFor(now, { ...policy, dayRateBytesPerSec: 0 }, false, true), 0, 'a day rate of 0 forbids day downloads');
  t.equal(bandwidthFor(now, { ...policy, nightRateBytesPerSec: 0 }, true, false), Infinity, 'a night rate of 0 is unlimited');
  t.equal(bandwidthFor(now, { ...policy, dayRateBytesPerSec: Infinity }, false, true), Infinity);
  t.throws(() => bandwidthFor(now, { ...policy, dayRateBytesPerSec: -1 }, true, false), RangeError);
});
