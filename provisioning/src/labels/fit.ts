// Pure: fitting text into a width, given a function that measures a string (the font's metrics in the PDF, a
// character count in tests). Truncation ends with '…' (in WinAnsi), so a cut is visible on the label.

export type MeasureText = (text: string) => number;

export const ELLIPSIS = '…';

/** The text, or its longest prefix followed by '…' that fits `maxWidth`. */
export function truncateToWidth(text: string, maxWidth: number, measure: MeasureText): string {
  if (measure(text) <= maxWidth) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  // The largest n such that chars[0..n) + '…' fits (n = 0 gives '…' alone, even if that does not fit).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(chars.slice(0, mid).join('').trimEnd() + ELLIPSIS) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + ELLIPSIS;
}

/**
 * Greedy word wrap into at most `maxLines` lines of `maxWidth`; a word wider than a line is cut between characters;
 * what does not fit in the last line is truncated with '…'. White space runs count as one space.
 */
export function wrapToWidth(text: string, maxWidth: number, maxLines: number, measure: MeasureText): string[] {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let current = '';
  const pieces: string[] = [];
  // Words wider than a line are split into pieces that fit.
  for (const word of words) {
    if (measure(word) <= maxWidth) {
      pieces.push(word);
      continue;
    }
    let rest = [...word];
    while (rest.length > 0) {
      let n = rest.length;
      while (n > 1 && measure(rest.slice(0, n).join('')) > maxWidth) n--;
      pieces.push(rest.slice(0, n).join(''));
      rest = rest.slice(n);
    }
  }
  let i = 0;
  for (; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const candidate = current === '' ? piece : `${current} ${piece}`;
    if (current === '' || measure(candidate) <= maxWidth) {
      current = candidate;
      continue;
    }
    if (lines.length === maxLines - 1) break;
    lines.push(current);
    current = piece;
  }
  if (i < pieces.length) {
    // The last line overflows: keep what fits of it and the rest, with '…'.
    lines.push(truncateToWidth(`${current} ${pieces.slice(i).join(' ')}`, maxWidth, measure));
  } else if (current !== '') {
    lines.push(current);
  }
  return lines;
}

/** The largest size in [minSize, maxSize] (by steps of 0.5) at which `widthAt(size)` fits, or minSize. */
export function fitFontSize(maxWidth: number, maxSize: number, minSize: number, widthAt: (size: number) => number): number {
  for (let size = maxSize; size > minSize; size -= 0.5) if (widthAt(size) <= maxWidth) return size;
  return minSize;
}
