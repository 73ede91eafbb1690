// `plugsrv console` refusals before it takes the screen, and `plugsrv console hash-password`, as real processes.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePasswordHash, verifyPassword } from '../../agent/src/console/index.js';
import { runCli, tempDir } from '../helpers/agent-process.js';

t.test('an unpersonalised unit is refused with a clear message and exit code 2', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['--data-dir', dir, 'console'], { env: { PLUGSRV_CONSOLE_PASSWORD_FILE: join(dir, 'console-password') } });
  t.equal(r.code, 2);
  t.match(r.stderr, /^plugsrv: E_CONSOLE_NOT_PERSONALISED: this unit was not personalised: .*console-password \(console\.passwordFile\) does not exist/);
  t.equal(r.stdout, '', 'nothing drawn');
});

t.test('without a terminal it says so', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'pw');
  const hashed = await runCli(['console', 'hash-password'], { input: 'un-mot-de-passe-assez-long\n' });
  await writeFile(file, hashed.stdout);
  const r = await runCli(['--data-dir', dir, 'console', '--lang', 'en'], { env: { PLUGSRV_CONSOLE_PASSWORD_FILE: file } });
  t.equal(r.code, 2);
  t.match(r.stderr, /E_CONSOLE_TTY: plugsrv console is a full-screen text UI: run it on a terminal/);
});

t.test('bad console options are named', async (t) => {
  const r = await runCli(['console'], { env: { PLUGSRV_CONSOLE_APPLY_WITH: 'ifupdown', PLUGSRV_CONSOLE_ROLLBACK_SECONDS: '1' } });
  t.equal(r.code, 2);
  t.match(r.stderr, /console\.applyWith: .*\(from environment PLUGSRV_CONSOLE_APPLY_WITH\)/);
  t.match(r.stderr, /console\.rollbackSeconds: .*\(from environment PLUGSRV_CONSOLE_ROLLBACK_SECONDS\)/);
});

t.test('hash-password prints a line the console accepts; short passwords are refused', async (t) => {
  const r = await runCli(['console', 'hash-password'], { input: 'un-mot-de-passe-assez-long\n' });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
  const stored = parsePasswordHash(r.stdout);
  t.equal(await verifyPassword('un-mot-de-passe-assez-long', stored), true);
  t.equal(await verifyPassword('un-mot-de-passe-assez-long\n', stored), false, 'the newline is not part of it');
  const short = await runCli(['console', 'hash-password'], { input: 'court\n' });
  t.equal(short.code, 2);
  t.match(short.stderr, /E_BAD_REQUEST: the password must have 10 to 128 characters, not 5\./);
  t.equal(short.stdout, '');
});
