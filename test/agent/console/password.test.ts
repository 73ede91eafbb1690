// The password file format, scrypt verification, the rules for a new password, and the lockout arithmetic.
import t from 'tap';
import {
  afterFailure,
  afterSuccess,
  checkNewPassword,
  formatLockout,
  hashPassword,
  isLocked,
  lockRemainingMs,
  LOCKOUT_MS,
  MESSAGES,
  normaliseLockout,
  parseLockout,
  parsePasswordHash,
  triesLeft,
  UNLOCKED,
  verifyPassword,
  type LockoutState,
} from '../../../agent/src/console/index.js';

const FAST = { N: 1024, r: 8, p: 1 };

t.test('hash then verify', async (t) => {
  const line = await hashPassword('Temporaire-2024!', FAST, (n) => Buffer.alloc(n, 7));
  t.match(line, /^scrypt\$1024\$8\$1\$BwcHBwcHBwcHBwcHBwcHBw==\$[A-Za-z0-9+/]{43}=$/);
  const stored = parsePasswordHash(`${line}\n`);
  t.equal(await verifyPassword('Temporaire-2024!', stored), true);
  t.equal(await verifyPassword('temporaire-2024!', stored), false);
  t.equal(await verifyPassword('', stored), false);
  const other = parsePasswordHash(await hashPassword('Temporaire-2024!', FAST));
  t.not(other.salt.toString('base64'), stored.salt.toString('base64'), 'a fresh salt each time');
});

t.test('the default cost is the production one', async (t) => {
  const line = await hashPassword('x'.repeat(12));
  t.match(line, /^scrypt\$32768\$8\$1\$/);
  t.equal(await verifyPassword('x'.repeat(12), parsePasswordHash(line)), true);
});

t.test('the same password typed composed or decomposed (é) matches', async (t) => {
  const stored = parsePasswordHash(await hashPassword('caf\u00e9-caf\u00e9', FAST));
  t.equal(await verifyPassword('cafe\u0301-cafe\u0301', stored), true);
});

t.test('a bad file is refused with the reason and what to do', async (t) => {
  const salt = Buffer.alloc(16, 1).toString('base64');
  const hash = Buffer.alloc(32, 2).toString('base64');
  const cases: Array<[string, RegExp]> = [
    ['', /expected 6 fields/],
    ['bcrypt$1$2$3$4$5', /expected 6 fields/],
    [`scrypt$1000$8$1$${salt}$${hash}`, /power of two/],
    [`scrypt$${2 ** 21}$8$1$${salt}$${hash}`, /power of two up to/],
    [`scrypt$1024$0$1$${salt}$${hash}`, /r must be 1 to 32/],
    [`scrypt$${2 ** 20}$8$2$${salt}$${hash}`, /more than 256 MiB/],
    [`scrypt$1024$8$1$!!$${hash}`, /base64/],
    [`scrypt$1024$8$1$AAAA$${hash}`, /salt must be 8 to 64 bytes/],
    [`scrypt$1024$8$1$${salt}$AAAA`, /hash must be 16 to 64 bytes/],
  ];
  for (const [text, why] of cases) {
    t.throws(() => parsePasswordHash(text), { code: 'E_CONSOLE_PASSWORD_FILE', message: why }, JSON.stringify(text));
  }
  t.throws(() => parsePasswordHash('nope'), { message: /plugsrv console hash-password/ }, 'says how to write a good one');
});

t.test('rules for a new password', async (t) => {
  const say = (r: ReturnType<typeof checkNewPassword>): string | undefined => r?.(MESSAGES.en);
  t.equal(say(checkNewPassword('', 'long-enough-1', 'long-enough-1')), 'Type the current password.');
  t.equal(say(checkNewPassword('old', 'short', 'short')), 'The new password must have at least 10 characters.');
  t.equal(say(checkNewPassword('old', 'x'.repeat(129), 'x'.repeat(129))), 'The new password must have at most 128 characters.');
  t.equal(say(checkNewPassword('old', 'long-enough-1', 'long-enough-2')), 'The confirmation does not match the new password.');
  t.equal(say(checkNewPassword('long-enough-1', 'long-enough-1', 'long-enough-1')), 'The new password must differ from the current one.');
  t.equal(checkNewPassword('old', 'long-enough-1', 'long-enough-1'), undefined);
  t.equal(checkNewPassword('old', 'éééééééééé', 'éééééééééé'), undefined, 'length counts characters, not bytes');
  t.equal(checkNewPassword('Temporaire', 'court', 'court')?.(MESSAGES.fr), 'Le nouveau mot de passe doit compter au moins 10 caractères.');
});

t.test('lockout: 5 failures lock for 60 s, then 5 more tries', async (t) => {
  let s: LockoutState = UNLOCKED;
  const t0 = 1_000_000;
  for (let i = 1; i <= 4; i++) {
    s = afterFailure(s, t0 + i);
    t.same(s, { failures: i, lockedUntil: 0 });
    t.equal(triesLeft(s), 5 - i);
  }
  s = afterFailure(s, t0 + 5);
  t.same(s, { failures: 0, lockedUntil: t0 + 5 + LOCKOUT_MS }, 'the fifth locks');
  t.equal(isLocked(s, t0 + 6), true);
  t.equal(lockRemainingMs(s, t0 + 5 + 30_000), 30_000);
  t.equal(isLocked(s, t0 + 5 + LOCKOUT_MS), false, 'over after 60 s');
  s = afterFailure(s, t0 + 5 + LOCKOUT_MS);
  t.same(s, { failures: 1, lockedUntil: 0 }, 'counting starts again');
  t.same(afterSuccess(), UNLOCKED);
});

t.test('lockout: a clock set back cannot stretch it', async (t) => {
  const s = { failures: 0, lockedUntil: 10_000_000 };
  const now = 10_000_000 - 3_600_000;
  t.equal(lockRemainingMs(s, now), LOCKOUT_MS);
  t.same(normaliseLockout(s, now), { failures: 0, lockedUntil: now + LOCKOUT_MS });
  t.equal(normaliseLockout(s, 10_000_000 - 1000), s, 'a normal lockout is left as is');
});

t.test('lockout: persisted form, garbage reads as unlocked', async (t) => {
  const s = { failures: 3, lockedUntil: 0 };
  t.same(parseLockout(formatLockout(s)), s);
  t.same(parseLockout('{"failures":2,"lockedUntil":1234}'), { failures: 2, lockedUntil: 1234 });
  for (const bad of ['', 'null', '[]', '{"failures":-1,"lockedUntil":"x"}', '{"failures":99}', 'not json']) {
    t.same(parseLockout(bad), UNLOCKED, bad);
  }
});
