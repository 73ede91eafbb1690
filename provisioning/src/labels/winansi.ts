// Pure: text the label's standard Helvetica can draw. The 14 standard PDF fonts are not embedded and use WinAnsi
// (Windows-1252): printable ASCII, Latin-1 (French accents, «», °), and 27 extra characters (€, œ, Œ, Ÿ, typographic
// quotes and dashes, …). Anything else (CJK, emoji, Cyrillic ...) would make pdf-lib throw, so it becomes '?'.

/** The 27 code points WinAnsi puts in 0x80-0x9F, where Latin-1 has control characters. */
const WIN_ANSI_EXTRA = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018,
  0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
]);

/** Whether a standard PDF font in WinAnsiEncoding has this code point. */
export function isWinAnsi(codePoint: number): boolean {
  return (codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xa0 && codePoint <= 0xff) || WIN_ANSI_EXTRA.has(codePoint);
}

/** Line breaks, tabs and other white space become one plain space (a label line is one line). */
const SPACE_LIKE = /[\t\n\v\f\r\u0085\u2028\u2029\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;
/** Zero-width characters and bidirectional controls: dropped rather than shown as '?'. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The text as the label can print it: NFC-normalised (so an "e" + combining accent is the one "é" WinAnsi has),
 * white space folded to plain spaces, invisible controls dropped, and every user-perceived character that WinAnsi
 * cannot draw (a CJK ideograph, an emoji even made of several code points) replaced by one '?'.
 */
export function toWinAnsi(text: string): string {
  const normal = text.normalize('NFC').replace(SPACE_LIKE, ' ');
  let out = '';
  // Segmented before the invisible characters go, so an emoji joined by zero-width joiners stays one character.
  for (const { segment } of graphemes.segment(normal)) {
    const visible = segment.replace(INVISIBLE, '');
    if (visible === '') continue;
    let ok = true;
    for (const ch of visible) if (!isWinAnsi(ch.codePointAt(0)!)) ok = false;
    out += ok ? visible : '?';
  }
  return out;
}
