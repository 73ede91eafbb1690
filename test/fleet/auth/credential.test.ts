// API keys and bootstrap tokens share one credential format: made, parsed, hashed, compared; scopes are ordered.
import t from 'tap';
import { apiKey, bootstrapToken } from '../../../lib/fleet/protocol.js';
import { formatCredential, hashSecret, newCredential, parseCredential, randomId, scopeAllows, secretMatches } from '../../../fleet/src/auth/index.js';
import { newBootstrapToken, parseBootstrapToken } from '../../../fleet/src/enroll/index.js';

t.test('fresh credentials match the contract\'s patterns and parse back', async (t) => {
  for (let i = 0; i < 200; i++) {
    const c = newCredential();
    const key = formatCredential('pak', c);
    t.ok(apiKey.safeParse(key).success, key);
    t.same(parseCredential('pak', key), c, 'the id ends at the first underscore; the secret may hold more');
    const { text, credential } = newBootstrapToken();
    t.ok(bootstrapToken.safeParse(text).success);
    t.same(parseBootstrapToken(text), credential);
  }
});

t.test('malformed credentials are refused', async (t) => {
  const good = formatCredential('pbt', { id: 'abcdefghijkl0123', secret: 'S'.repeat(43) });
  for (const bad of ['', 'pbt_', good.replace('pbt_', 'pak_'), good.replace('abcdefghijkl0123', 'ABCDEFGHIJKL0123'), `${good}!`, good.slice(0, 40), `pbt_short_${'S'.repeat(43)}`]) {
    t.equal(parseBootstrapToken(bad), undefined, JSON.stringify(bad));
  }
});

t.test('secrets are compared by hash, in constant time, exactly', async (t) => {
  const h = hashSecret('the-secret');
  t.match(h, /^[0-9a-f]{64}$/);
  t.ok(secretMatches('the-secret', h));
  t.notOk(secretMatches('the-secreT', h));
  t.notOk(secretMatches('the-secret', h.slice(0, 62)), 'a truncated stored hash never matches');
  t.notOk(secretMatches('the-secret', 'zz'), 'garbage stored hash');
});

t.test('random ids use [a-z0-9] evenly', async (t) => {
  let counter = 0;
  const fake = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => counter++ % 256));
  const id = randomId(300, fake);
  t.match(id, /^[a-z0-9]{300}$/);
  t.notOk(randomId(1000, fake).includes(String.fromCharCode(0)), 'bytes >= 252 are skipped, not mapped');
  const counts = new Map<string, number>();
  for (const ch of randomId(36 * 7 * 10, fake)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  t.equal(counts.size, 36);
  t.ok([...counts.values()].every((n) => n === 70), 'every letter equally often over full cycles');
});

t.test('scopes: read < operate < provision < admin', async (t) => {
  t.ok(scopeAllows('admin', 'read'));
  t.ok(scopeAllows('admin', 'provision'));
  t.ok(scopeAllows('provision', 'operate'));
  t.ok(scopeAllows('operate', 'operate'));
  t.notOk(scopeAllows('read', 'operate'));
  t.notOk(scopeAllows('operate', 'provision'));
  t.notOk(scopeAllows('provision', 'admin'));
});
