// The temporary password: its form and alphabet, uniformity (exact with a source that gives every byte value, and
// statistically with node:crypto), rejection of the bytes that would bias it, and a broken random source refused.
import t from 'tap';
import {
  generateTemporaryPassword,
  PASSWORD_ALPHABET,
  PASSWORD_LENGTH,
  PASSWORD_PATTERN,
  PASSWORD_RANDOM_CHARS,
} from '../../../provisioning/src/letter/index.js';

/** The console's minimum for a password (agent/src/console/password.ts MIN_PASSWORD_LENGTH; not imported: no agent/ here). */
const CONSOLE_MIN_LENGTH = 10;

t.test('form: 16 lowercase letters with no separator (a US console keymap types "-" as "6" on AZERTY), above the console minimum', async (t) => {
  for (let i = 0; i < 200; i++) {
    const pw = generateTemporaryPassword();
    t.match(pw, /^[a-z]{16}$/);
    t.match(pw, PASSWORD_PATTERN);
    t.equal(pw.length, 16);
  }
  t.equal(PASSWORD_LENGTH, 16);
  t.equal(PASSWORD_RANDOM_CHARS, 16);
  t.ok(PASSWORD_LENGTH >= CONSOLE_MIN_LENGTH);
});

t.test('alphabet: no ambiguous characters, no digits, no layout-dependent letters, no duplicates', async (t) => {
  t.equal(PASSWORD_ALPHABET, 'bcdefghjknprstuvx');
  t.equal(new Set(PASSWORD_ALPHABET).size, PASSWORD_ALPHABET.length);
  for (const ch of '0O1lIio') t.notOk(PASSWORD_ALPHABET.includes(ch), `no ${ch} (ambiguous)`);
  t.notMatch(PASSWORD_ALPHABET, /[0-9A-Z]/, 'no digits (shifted on AZERTY), no capitals');
  for (const ch of 'aqzwmy') t.notOk(PASSWORD_ALPHABET.includes(ch), `no ${ch} (moves on AZERTY or QWERTZ)`);
  t.ok(PASSWORD_RANDOM_CHARS * Math.log2(PASSWORD_ALPHABET.length) > 64, 'more than 64 bits of entropy');
});

t.test('no modulo bias: every byte value once gives every symbol exactly as often', async (t) => {
  let next = 0;
  // A source that cycles through all 256 byte values in order.
  const cycling = (size: number): Buffer => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = next++ % 256;
    return b;
  };
  const counts = new Map<string, number>();
  // 255 accepted bytes per cycle of 256: 255 passwords of 16 characters use exactly 16 cycles' worth.
  for (let i = 0; i < 255; i++) for (const ch of generateTemporaryPassword(cycling).replace(/-/g, '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  t.same([...counts.keys()].sort().join(''), PASSWORD_ALPHABET, 'every symbol appears');
  t.same(new Set(counts.values()), new Set([(255 * 16) / PASSWORD_ALPHABET.length]), 'each exactly 240 times');
});

t.test('bytes that would bias the draw (255) are skipped, not folded', async (t) => {
  const bytes = [255, 255, 0, 255, 16, 17, 33, 254, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255];
  let pos = 0;
  const scripted = (size: number): Buffer => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = bytes[pos++ % bytes.length]!;
    return b;
  };
  const pw = generateTemporaryPassword(scripted).replace(/-/g, '');
  const expected = [0, 16, 17, 33, 254, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((b) => PASSWORD_ALPHABET[b % 17]).join('');
  t.equal(pw, expected);
});

t.test('a random source that gives nothing usable is an error, not an endless loop', async (t) => {
  t.throws(() => generateTemporaryPassword((n) => Buffer.alloc(n, 255)), { name: 'LineError', code: 'E_INTERNAL', message: /random source/ });
  t.throws(() => generateTemporaryPassword(() => Buffer.alloc(0)), { code: 'E_INTERNAL' });
});

t.test('node:crypto: symbols uniform overall and per position (chi-square), no repeats', async (t) => {
  const n = 20_000;
  const k = PASSWORD_ALPHABET.length;
  const overall = new Array<number>(k).fill(0);
  const perPosition = Array.from({ length: PASSWORD_RANDOM_CHARS }, () => new Array<number>(k).fill(0));
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const pw = generateTemporaryPassword();
    seen.add(pw);
    [...pw.replace(/-/g, '')].forEach((ch, pos) => {
      const idx = PASSWORD_ALPHABET.indexOf(ch);
      overall[idx]!++;
      perPosition[pos]![idx]!++;
    });
  }
  const chi2 = (counts: number[], total: number): number => counts.reduce((s, c) => s + (c - total / k) ** 2 / (total / k), 0);
  // 16 degrees of freedom: P(chi2 > 52.6) = 1e-5, so a false alarm is about one run in 100 000 (per check).
  const limit = 52.6;
  const all = chi2(overall, n * PASSWORD_RANDOM_CHARS);
  t.ok(all < limit, `overall chi2 ${all.toFixed(1)} < ${limit}`);
  const worst = Math.max(...perPosition.map((c) => chi2(c, n)));
  // 16 positions: the largest of 16 such statistics, with a wider bound (P(> 60) ~ 1e-6 each).
  t.ok(worst < 60, `worst per-position chi2 ${worst.toFixed(1)} < 60`);
  t.equal(seen.size, n, 'no password twice in 20 000');
});
