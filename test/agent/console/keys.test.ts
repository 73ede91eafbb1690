// Console keys: terminal-kit's names mapped to the console's keys, and Escape + a character joined into Alt + it.
import t from 'tap';
import { AltJoiner, keyFromTerminalKit, type Key } from '../../../agent/src/console/keys.js';

t.test('terminal-kit names', async (t) => {
  t.same(keyFromTerminalKit('a', true), { kind: 'char', char: 'a' });
  t.same(keyFromTerminalKit('é', true), { kind: 'char', char: 'é' });
  t.equal(keyFromTerminalKit('\u0007', true), undefined, 'a control character is not typed text');
  t.same(keyFromTerminalKit('ENTER', false), { kind: 'enter' });
  t.same(keyFromTerminalKit('ALT_E', false), { kind: 'alt', char: 'e' }, 'Alt + a letter, named by terminal-kit');
  t.same(keyFromTerminalKit('ALT_SHIFT_E', false), { kind: 'alt', char: 'E' });
  t.equal(keyFromTerminalKit('ALT_UP', false), undefined, 'Alt + an arrow is not a character');
  t.equal(keyFromTerminalKit('CTRL_ALT_E', false), undefined);
});

t.test('AltJoiner: Escape then a character in the same read is Alt + it; an Escape alone stays an Escape', async (t) => {
  const out: Key[] = [];
  const j = new AltJoiner((k) => out.push(k));
  j.push({ kind: 'escape' });
  t.ok(j.holding, 'the Escape is held until the read is handled');
  j.push({ kind: 'char', char: '0' });
  t.same(out, [{ kind: 'alt', char: '0' }]);
  t.notOk(j.holding);

  out.length = 0;
  j.push({ kind: 'escape' });
  j.flush();
  t.same(out, [{ kind: 'escape' }], 'nothing came with it: an Escape');
  j.flush();
  t.same(out, [{ kind: 'escape' }], 'flushed once');

  out.length = 0;
  j.push({ kind: 'escape' });
  j.push({ kind: 'escape' });
  j.push({ kind: 'enter' });
  t.same(out, [{ kind: 'escape' }, { kind: 'escape' }, { kind: 'enter' }], 'Escape before a named key is an Escape, in order');

  out.length = 0;
  j.push({ kind: 'char', char: 'x' });
  t.same(out, [{ kind: 'char', char: 'x' }], 'a character alone is that character');
});
