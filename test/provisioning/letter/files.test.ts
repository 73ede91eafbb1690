// Writing the letter: names, mode 0600 whatever the umask or an older file's mode, a 0700 folder when it creates
// one, no temp file left, the line's error codes (a full disk on a real small tmpfs when root).
import t from 'tap';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LETTER_FILE_MODE, renderDealerLetter, writeLetter, type LetterInput } from '../../../provisioning/src/letter/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';

const INPUT: LetterInput = {
  lang: 'en',
  dealerCode: 'FR-75012-0042',
  site: 'Lyon',
  contactEmail: null,
  serial: 'PSV-2026-000123',
  unitId: 'unit-0042',
  password: 'bcdfghjknprstuvx',
  producedAt: '2026-01-15T10:20:30Z',
};

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

t.test('html and txt: <dir>/<unitId>-letter-<lang>.<ext>, mode 0600, the rendered content', async (t) => {
  const dir = await tempDir(t);
  const old = process.umask(0o000);
  t.teardown(() => process.umask(old));
  const paths = await writeLetter(dir, INPUT, ['html', 'txt']);
  t.same(paths, [join(dir, 'unit-0042-letter-en.html'), join(dir, 'unit-0042-letter-en.txt')]);
  const rendered = renderDealerLetter(INPUT);
  t.equal(await readFile(paths[0]!, 'utf8'), rendered.html);
  t.equal(await readFile(paths[1]!, 'utf8'), rendered.text);
  for (const p of paths) t.equal(await mode(p), 0o600, `${p} is 0600 even with umask 000`);
  t.equal(LETTER_FILE_MODE, 0o600);
  t.same((await readdir(dir)).sort(), ['unit-0042-letter-en.html', 'unit-0042-letter-en.txt'], 'no temp file left');
});

t.test('one format, duplicates dropped, the language in the name; an older letter is replaced and made 0600', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'unit-0042-letter-fr.txt');
  await writeFile(path, 'old letter');
  await chmod(path, 0o644);
  t.same(await writeLetter(dir, { ...INPUT, lang: 'fr' }, ['txt', 'txt']), [path]);
  t.equal(await mode(path), 0o600);
  t.match(await readFile(path, 'utf8'), /Mot de passe temporaire/);
});

t.test('a missing folder is created 0700 (with its parents)', async (t) => {
  const dir = join(await tempDir(t), 'letters', '2026-01-15');
  await writeLetter(dir, INPUT, ['html']);
  t.equal(await mode(dir), 0o700);
  t.equal(await mode(join(dir, '..')), 0o700);
  t.equal(await mode(join(dir, 'unit-0042-letter-en.html')), 0o600);
});

t.test('refused: no format, an unknown format, a unit id that would leave the folder, a file as the folder', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(writeLetter(dir, INPUT, []), { name: 'LineError', code: 'E_USAGE', message: /no letter format/ });
  await t.rejects(writeLetter(dir, INPUT, ['pdf' as 'html']), { code: 'E_USAGE', message: /unknown letter format "pdf"/ });
  for (const unitId of ['../x', '/etc/passwd', '.x', 'a b', '..']) {
    await t.rejects(writeLetter(dir, { ...INPUT, unitId }, ['txt']), { code: 'E_INTERNAL', message: /file name/ }, unitId);
  }
  await writeFile(join(dir, 'blocker'), '');
  await t.rejects(writeLetter(join(dir, 'blocker'), INPUT, ['txt']), { code: 'E_CONFIG', message: /blocker/ });
  t.same(await readdir(dir), ['blocker'], 'nothing written');
});

t.test('a full disk is E_DISK_FULL naming the file, and leaves no temp file', async (t) => {
  const mnt = await smallTmpfs(t, '64k');
  if (typeof mnt !== 'string') {
    t.plan(0, mnt.skip);
    return;
  }
  // Fill the tmpfs, then ask for a letter.
  await writeFile(join(mnt, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
  await t.rejects(writeLetter(mnt, INPUT, ['html']), { name: 'LineError', code: 'E_DISK_FULL', message: /unit-0042-letter-en\.html/ });
  t.same(await readdir(mnt), ['filler']);
});
