// WinAnsi sanitising for the label's standard Helvetica: French stays French, the rest becomes '?', and the table
// agrees with what pdf-lib's Helvetica can actually encode, code point by code point over the whole BMP.
import t from 'tap';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { isWinAnsi, toWinAnsi } from '../../../provisioning/src/labels/index.js';

t.test('ASCII and French (accents, ligatures, guillemets, typographic quotes, euro) are kept', async (t) => {
  const french = 'Concession Lyon-Sud – Vénissieux : « L’Haÿ-les-Roses », Œuvre, cœur, 12 € — bâtiment B…';
  t.equal(toWinAnsi(french), french);
  const accents = 'àâäçéèêëîïôöùûüÿæœÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ';
  t.equal(toWinAnsi(accents), accents);
  t.equal(toWinAnsi('plain ASCII ~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./'), 'plain ASCII ~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./');
});

t.test('decomposed accents are composed first, so they stay accents', async (t) => {
  t.equal(toWinAnsi('Ve\u0301nissieux'), 'Vénissieux');
  t.equal(toWinAnsi('Ve\u0301nissieux').length, 10);
});

t.test('what WinAnsi lacks becomes one "?" per visible character', async (t) => {
  t.equal(toWinAnsi('東京 site'), '?? site');
  t.equal(toWinAnsi('garage 🚗'), 'garage ?');
  t.equal(toWinAnsi('👨‍👩‍👧 family'), '? family', 'a ZWJ emoji sequence is one character');
  t.equal(toWinAnsi('🇫🇷'), '?', 'a flag (two regional indicators) is one character');
  t.equal(toWinAnsi('❤️'), '?', 'emoji with a variation selector');
  t.equal(toWinAnsi('Москва'), '??????');
  t.equal(toWinAnsi('Łódź'), '?ód?', 'Polish letters outside WinAnsi; ó is Latin-1');
  t.equal(toWinAnsi('ệ'), '?', 'a letter with two accents has no WinAnsi form');
});

t.test('line breaks and tabs become spaces; invisible and bidirectional controls are dropped', async (t) => {
  t.equal(toWinAnsi('a\nb\r\nc\td'), 'a b  c d');
  t.equal(toWinAnsi('a\u00a0b\u2003c'), 'a b c');
  t.equal(toWinAnsi('ab\u202ecd\u200b\ufeff'), 'abcd');
  t.equal(toWinAnsi('bell\u0007'), 'bell?');
});

t.test("isWinAnsi is exactly what pdf-lib's Helvetica encodes (whole BMP)", async (t) => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const disagree: string[] = [];
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    let encodes = true;
    try {
      font.encodeText(String.fromCodePoint(cp));
    } catch {
      encodes = false;
    }
    if (encodes !== isWinAnsi(cp)) disagree.push(cp.toString(16));
  }
  t.same(disagree, [], 'no code point where the table and pdf-lib disagree');
  t.equal(font.encodeText(toWinAnsi('東京 🚗 Vénissieux « x » €')).toString().length > 0, true, 'sanitised text always encodes');
});
