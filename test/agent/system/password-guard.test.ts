// The password on disk: not personalised, bad file, wrong password delayed and counted, lockout persisted across a
// restart of the console, a change of password written with mode 0600.
import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword, LOCKOUT_MS } from '../../../agent/src/console/index.js';
import { lockoutFileIn, PasswordGuard } from '../../../agent/src/system/index.js';
import { tempDir } from '../../helpers/agent-process.js';

const FAST = { N: 1024, r: 8, p: 1 };
const PASSWORD = 'Temporaire-2024!';

async function rig(t: { teardown(fn: () => unknown): void }) {
  const dir = await tempDir(t);
  const passwordFile = join(dir, 'console-password');
  await writeFile(passwordFile, `${await hashPassword(PASSWORD, FAST)}\n`, { mode: 0o600 });
  const clock = { now: 5_000_000 };
  const sleeps: number[] = [];
  const open = (): Promise<PasswordGuard> =>
    PasswordGuard.open({
      passwordFile,
      lockoutFile: lockoutFileIn(join(dir, 'data')),
      now: () => clock.now,
      sleep: async (ms) => void sleeps.push(ms),
      scrypt: FAST,
    });
  return { dir, passwordFile, clock, sleeps, open, lockoutFile: lockoutFileIn(join(dir, 'data')) };
}

t.test('no password file: the unit was not personalised', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(PasswordGuard.open({ passwordFile: join(dir, 'none'), lockoutFile: join(dir, 'l.json') }), {
    code: 'E_CONSOLE_NOT_PERSONALISED',
    message: /this unit was not personalised: .*none \(console\.passwordFile\) does not exist.*plugsrv console hash-password/,
  });
  await writeFile(join(dir, 'bad'), 'plain-text-password\n');
  await t.rejects(PasswordGuard.open({ passwordFile: join(dir, 'bad'), lockoutFile: join(dir, 'l.json') }), { code: 'E_CONSOLE_PASSWORD_FILE' });
});

t.test('wrong passwords: delayed, counted, locked at the fifth, and a restart does not reset it', async (t) => {
  const r = await rig(t);
  let guard = await r.open();
  t.same(await guard.verify('nope'), { ok: false, triesLeft: 4 });
  t.same(r.sleeps, [1500], 'a wrong password waits before answering');
  t.same(await guard.verify('nope'), { ok: false, triesLeft: 3 });
  guard = await r.open();
  t.same(await guard.verify('nope'), { ok: false, triesLeft: 2 }, 'the count survives a restart');
  t.same(await guard.verify('nope'), { ok: false, triesLeft: 1 });
  t.same(await guard.verify('nope'), { ok: false, lockedUntil: r.clock.now + LOCKOUT_MS });
  t.same(JSON.parse(await readFile(r.lockoutFile, 'utf8')), { failures: 0, lockedUntil: r.clock.now + LOCKOUT_MS });
  t.equal((await stat(r.lockoutFile)).mode & 0o777, 0o600);

  r.clock.now += 10_000;
  guard = await r.open();
  t.equal(guard.lockedForMs(), 50_000, 'a restarted console knows it is locked');
  const sleepsBefore = r.sleeps.length;
  t.same(await guard.verify(PASSWORD), { ok: false, lockedUntil: r.clock.now + 50_000 }, 'even the right password is refused while locked');
  t.equal(r.sleeps.length, sleepsBefore, 'without even checking it');

  r.clock.now += 50_000;
  t.same(await guard.verify(PASSWORD), { ok: true });
  t.same(JSON.parse(await readFile(r.lockoutFile, 'utf8')), { failures: 0, lockedUntil: 0 }, 'success resets');
});

t.test('a clock set back an hour does not lock for an hour', async (t) => {
  const r = await rig(t);
  const guard = await r.open();
  for (let i = 0; i < 5; i++) await guard.verify('nope');
  r.clock.now -= 3_600_000;
  t.same(await guard.verify(PASSWORD), { ok: false, lockedUntil: r.clock.now + LOCKOUT_MS });
  r.clock.now += LOCKOUT_MS;
  t.same(await guard.verify(PASSWORD), { ok: true });
});

t.test('changing the password: current one checked, new one stored 0600', async (t) => {
  const r = await rig(t);
  const guard = await r.open();
  t.same(await guard.change('wrong-current', 'Nouveau-mot-2025'), { ok: false, triesLeft: 4 }, 'a wrong current password counts as a failure');
  t.same(await guard.change(PASSWORD, 'short'), { ok: false, error: 'The new password must have at least 10 characters.' });
  const before = await readFile(r.passwordFile, 'utf8');
  t.same(await guard.change(PASSWORD, 'Nouveau-mot-2025'), { ok: true });
  const after = await readFile(r.passwordFile, 'utf8');
  t.not(after, before);
  t.match(after, /^scrypt\$1024\$8\$1\$[^$]+\$[^$]+\n$/);
  t.notMatch(after, /Nouveau/, 'never the password itself');
  t.equal((await stat(r.passwordFile)).mode & 0o777, 0o600);
  t.same(await guard.verify(PASSWORD), { ok: false, triesLeft: 4 }, 'the old one no longer opens');
  t.same(await guard.verify('Nouveau-mot-2025'), { ok: true });
});
