// Fitting text into a width, measured here by character count (the PDF measures with the font's metrics).
import t from 'tap';
import { fitFontSize, truncateToWidth, wrapToWidth } from '../../../provisioning/src/labels/index.js';

const count = (s: string): number => [...s].length;

t.test('truncate: unchanged when it fits, else the longest prefix with an ellipsis', async (t) => {
  t.equal(truncateToWidth('abcdef', 6, count), 'abcdef');
  t.equal(truncateToWidth('abcdefg', 6, count), 'abcde…');
  t.equal(truncateToWidth('abcd efg', 6, count), 'abcd…', 'no space left before the ellipsis');
  t.equal(truncateToWidth('東京東京', 3, count), '東京…', 'cuts between code points');
  t.equal(truncateToWidth('abc', 0, count), '…');
});

t.test('wrap: words to lines, long words cut, overflow truncated on the last line', async (t) => {
  t.same(wrapToWidth('one two three four', 9, 3, count), ['one two', 'three', 'four']);
  t.same(wrapToWidth('one two three four five six', 9, 2, count), ['one two', 'three fo…']);
  t.same(wrapToWidth('abcdefghijkl', 5, 3, count), ['abcde', 'fghij', 'kl']);
  t.same(wrapToWidth('abcdefghijklmnop', 5, 3, count), ['abcde', 'fghij', 'klmn…']);
  t.same(wrapToWidth('  spaced   out\n words ', 20, 2, count), ['spaced out words']);
  t.same(wrapToWidth('', 10, 2, count), []);
  t.same(wrapToWidth('short', 10, 1, count), ['short']);
  for (const line of wrapToWidth('Concession Lyon-Sud Vénissieux bâtiment B with a much longer name', 12, 3, count)) {
    t.ok(count(line) <= 12, `"${line}" fits`);
  }
});

t.test('font size: the largest that fits, by half points, never below the minimum', async (t) => {
  t.equal(fitFontSize(100, 12, 6, (s) => s * 8), 12);
  t.equal(fitFontSize(100, 12, 6, (s) => s * 10), 10);
  t.equal(fitFontSize(100, 12, 6, (s) => s * 100), 6);
});
