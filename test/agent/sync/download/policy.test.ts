// Pure download policy: segment plans, backoff bounds, Retry-After forms, status classes, framing checks, sidecar parsing.
import t from 'tap';
import { backoffMs, classifyStatus, framingProblem, parseContentRange, parseRetryAfter, planSegments, rangeHeaders, retryDelayMs, validatorChanged, validatorOf } from '../../../../agent/src/sync/download/policy.js';
import { parseSidecar } from '../../../../agent/src/sync/download/sidecar.js';

const MiB = 1024 * 1024;

t.test('planSegments: one segment up to 2x segmentBytes, else near-equal segments bounded by the connection limit', async (t) => {
  t.same(planSegments(0, MiB, 4), [{ start: 0, end: 0 }]);
  t.same(planSegments(2 * MiB, MiB, 4), [{ start: 0, end: 2 * MiB }]);
  t.same(planSegments(10, 3, 4), [{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 8 }, { start: 8, end: 10 }]);
  const plan = planSegments(20 * MiB + 5, 2 * MiB, 4);
  t.equal(plan.length, 4, 'bounded by maxConnectionsPerHost');
  t.equal(plan.at(-1)?.end, 20 * MiB + 5);
  plan.forEach((s, i) => i > 0 && t.equal(s.start, plan[i - 1]?.end, 'contiguous'));
  t.equal(planSegments(7 * MiB, 2 * MiB, 16).length, 4, 'ceil(size / segmentBytes) when connections allow');
  t.equal(planSegments(100 * MiB, MiB, 1).length, 1);
});

t.test('planSegments with maxSegmentBytes: enough segments that none is longer (fetched in order, the hash keeps up)', async (t) => {
  const GiB = 1024 * MiB;
  t.equal(planSegments(2 * GiB, 64 * MiB, 4).length, 4, 'without it: 4 segments of 512 MiB');
  const plan = planSegments(2 * GiB, 64 * MiB, 4, 64 * MiB);
  t.equal(plan.length, 32);
  t.ok(plan.every((s) => s.end - s.start <= 64 * MiB), 'none longer than 64 MiB');
  t.equal(plan.at(-1)?.end, 2 * GiB);
  plan.forEach((s, i) => i > 0 && t.equal(s.start, plan[i - 1]?.end, 'contiguous'));
  t.equal(planSegments(500 * MiB + 3, 64 * MiB, 4, 64 * MiB).length, 8, 'ceil(size / 64 MiB)');
  t.same(planSegments(20 * MiB, 2 * MiB, 3, 64 * MiB), planSegments(20 * MiB, 2 * MiB, 3), 'no effect when the connection-bounded segments are short enough');
  t.same(planSegments(100 * MiB, 64 * MiB, 4, 64 * MiB), [{ start: 0, end: 100 * MiB }], 'up to 2 x segmentBytes: still one segment');
});

t.test('planSegments with align: inner boundaries on its multiples (O_DIRECT), the last segment ends at the size', async (t) => {
  const size = 100 * MiB + 12345;
  const plan = planSegments(size, 2 * MiB, 4, 8 * MiB, 4096);
  t.equal(plan.length, 13, 'ceil(size / 8 MiB)');
  t.equal(plan[0]?.end, 8065024, 'size / 13 rounded down to a multiple of 4096');
  t.ok(plan.slice(0, -1).every((s) => s.end % 4096 === 0), 'every inner boundary aligned');
  t.equal(plan.at(-1)?.end, size);
  plan.forEach((s, i) => t.ok(s.end > s.start && (i === 0 || s.start === plan[i - 1]?.end), 'contiguous, none empty'));
  t.ok(plan.every((s) => s.end - s.start <= 8 * MiB), 'none longer than 8 MiB');
  t.same(planSegments(10, 3, 4, Infinity, 4096), planSegments(10, 3, 4), 'segments shorter than the alignment: not aligned, never empty');
});

t.test('backoff: full jitter under an exponential ceiling capped at maxMs', async (t) => {
  t.equal(backoffMs(1, 500, 30_000, () => 0.999), 499);
  t.equal(backoffMs(3, 500, 30_000, () => 0.5), 1000);
  t.equal(backoffMs(20, 500, 30_000, () => 0.999), 29_970, 'capped');
  t.equal(backoffMs(4, 500, 30_000, () => 0), 0);
  t.equal(retryDelayMs({ failures: 1, retryAfterMs: 5000, baseMs: 500, maxMs: 30_000, retryAfterCapMs: 600_000, random: () => 0 }), 5000, 'Retry-After wins');
  t.equal(retryDelayMs({ failures: 1, retryAfterMs: 86_400_000, baseMs: 500, maxMs: 30_000, retryAfterCapMs: 600_000, random: () => 0 }), 600_000, 'Retry-After capped');
});

t.test('Retry-After: seconds, HTTP date, garbage', async (t) => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  t.equal(parseRetryAfter('1', now), 1000);
  t.equal(parseRetryAfter(' 120 ', now), 120_000);
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now), 0, 'a past date means now');
  t.equal(parseRetryAfter('-5', now), undefined);
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter(undefined, now), undefined);
});

t.test('status classes', async (t) => {
  t.same([200, 206, 408, 429, 500, 503, 404, 403, 416, 301].map(classifyStatus), ['full', 'partial', 'retry', 'retry', 'retry', 'retry', 'fatal', 'fatal', 'fatal', 'fatal']);
});

t.test('framing: Content-Length and Content-Range must match what was asked', async (t) => {
  const span = { start: 100, end: 200 };
  t.equal(framingProblem({ status: 'partial', span, size: 1000, contentLength: '100', contentRange: 'bytes 100-199/1000' }), undefined);
  t.equal(framingProblem({ status: 'partial', span, size: 1000, contentRange: 'bytes 100-199/*' }), undefined, 'chunked is allowed (length is capped while reading)');
  t.match(framingProblem({ status: 'partial', span, size: 1000, contentLength: '101', contentRange: 'bytes 100-199/1000' }), /Content-Length 101/);
  t.match(framingProblem({ status: 'partial', span, size: 1000, contentLength: '100', contentRange: 'bytes 0-99/1000' }), /Content-Range/);
  t.match(framingProblem({ status: 'partial', span, size: 1000, contentRange: 'bytes 100-199/2000' }), /Content-Range/);
  t.match(framingProblem({ status: 'partial', span, size: 1000 }), /without a usable Content-Range/);
  t.equal(framingProblem({ status: 'full', span: { start: 0, end: 1000 }, size: 1000, contentLength: '1000' }), undefined);
  t.match(framingProblem({ status: 'full', span: { start: 0, end: 1000 }, size: 1000, contentLength: '999' }), /Content-Length/);
  t.same(parseContentRange('bytes 0-9/10'), { first: 0, last: 9, total: 10 });
  t.equal(parseContentRange('bytes */10'), undefined);
});

t.test('validators and Range headers', async (t) => {
  t.same(validatorOf('"abc"', 'x'), { etag: '"abc"' });
  t.same(validatorOf('W/"abc"', 'Wed, 21 Oct 2015 07:28:00 GMT'), { lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' }, 'weak ETags cannot be used in If-Range');
  t.equal(validatorOf(undefined, undefined), undefined);
  t.equal(validatorChanged({ etag: '"a"' }, { etag: '"b"' }), true);
  t.equal(validatorChanged({ etag: '"a"' }, { etag: '"a"' }), false);
  t.equal(validatorChanged(undefined, { etag: '"b"' }), false);
  t.same(rangeHeaders(0, 10, 10, { etag: '"a"' }), {}, 'the whole file: no Range');
  t.same(rangeHeaders(5, 10, 10, { etag: '"a"' }), { range: 'bytes=5-9', 'if-range': '"a"' });
  t.same(rangeHeaders(0, 5, 10, undefined), { range: 'bytes=0-4' });
});

t.test('sidecar parsing: only a well-formed record for the same target is resumed', async (t) => {
  const target = { sha256: 'a'.repeat(64), size: 100 };
  const good = { ...target, url: 'https://o/x', segments: [{ start: 0, end: 50, durable: 10 }, { start: 50, end: 100, durable: 100 }], validator: { etag: '"e"' } };
  t.same(parseSidecar(JSON.stringify(good), target), good);
  t.equal(parseSidecar(JSON.stringify({ ...good, sha256: 'b'.repeat(64) }), target), undefined, 'other sha256');
  t.equal(parseSidecar(JSON.stringify({ ...good, size: 99 }), target), undefined, 'other size');
  t.equal(parseSidecar(JSON.stringify({ ...good, segments: [{ start: 0, end: 50, durable: 60 }, { start: 50, end: 100, durable: 50 }] }), target), undefined, 'durable past end');
  t.equal(parseSidecar(JSON.stringify({ ...good, segments: [{ start: 0, end: 40, durable: 0 }, { start: 50, end: 100, durable: 50 }] }), target), undefined, 'gap');
  t.equal(parseSidecar('{"trunc', target), undefined, 'torn write');
});
