// Conditional requests: If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since and If-Range.
import t from 'tap';
import { evaluatePreconditions, ifRangeAllows } from '../../../agent/src/serve/conditional.js';

const etag = `"${'a'.repeat(64)}"`;
const lastModified = Date.UTC(2026, 10, 1, 12, 0, 0, 500);
const v = { etag, lastModified };
const httpDate = (ms: number): string => new Date(ms).toUTCString();

t.test('If-None-Match', async (t) => {
  t.equal(evaluatePreconditions({ 'if-none-match': etag }, v), 'not-modified');
  t.equal(evaluatePreconditions({ 'if-none-match': `W/${etag}` }, v), 'not-modified', 'weak comparison');
  t.equal(evaluatePreconditions({ 'if-none-match': `"x", ${etag}` }, v), 'not-modified', 'list');
  t.equal(evaluatePreconditions({ 'if-none-match': '*' }, v), 'not-modified');
  t.equal(evaluatePreconditions({ 'if-none-match': '"other"' }, v), 'proceed');
  t.equal(
    evaluatePreconditions({ 'if-none-match': '"other"', 'if-modified-since': httpDate(lastModified + 60_000) }, v),
    'proceed',
    'If-Modified-Since is ignored when If-None-Match is present',
  );
});

t.test('If-Modified-Since', async (t) => {
  t.equal(evaluatePreconditions({ 'if-modified-since': httpDate(lastModified) }, v), 'not-modified', 'same second');
  t.equal(evaluatePreconditions({ 'if-modified-since': httpDate(lastModified - 2000) }, v), 'proceed');
  t.equal(evaluatePreconditions({ 'if-modified-since': 'not a date' }, v), 'proceed', 'an invalid date is ignored');
});

t.test('If-Match and If-Unmodified-Since', async (t) => {
  t.equal(evaluatePreconditions({ 'if-match': etag }, v), 'proceed');
  t.equal(evaluatePreconditions({ 'if-match': '*' }, v), 'proceed');
  t.equal(evaluatePreconditions({ 'if-match': `W/${etag}` }, v), 'precondition-failed', 'strong comparison');
  t.equal(evaluatePreconditions({ 'if-unmodified-since': httpDate(lastModified - 5000) }, v), 'precondition-failed');
  t.equal(evaluatePreconditions({ 'if-unmodified-since': httpDate(lastModified) }, v), 'proceed');
});

t.test('If-Range', async (t) => {
  t.ok(ifRangeAllows(undefined, v));
  t.ok(ifRangeAllows(etag, v));
  t.notOk(ifRangeAllows(`W/${etag}`, v), 'a weak tag never allows a range');
  t.notOk(ifRangeAllows('"other"', v));
  t.ok(ifRangeAllows(httpDate(lastModified), v));
  t.notOk(ifRangeAllows(httpDate(lastModified + 3000), v));
  t.notOk(ifRangeAllows('junk', v));
});
