// What a view produces: 25 lines of 80 columns, each a list of styled text segments; the terminal adapter paints it.

export const WIDTH = 80;
export const HEIGHT = 25;
/** Rows 2 to 21 hold a screen's body; 22-23 the notice, 24 the keys. */
export const BODY_TOP = 2;
export const BODY_ROWS = 20;

export type Style = 'normal' | 'title' | 'bold' | 'focus' | 'error' | 'ok' | 'warn' | 'dim';

export interface Segment {
  readonly text: string;
  readonly style: Style;
}

export type Line = readonly Segment[];
export type Frame = readonly Line[];

export const seg = (text: string, style: Style = 'normal'): Segment => ({ text, style });

export function lineText(line: Line): string {
  return line.map((s) => s.text).join('');
}

/** The frame as plain text, one line per row (for tests and logs). */
export function frameText(frame: Frame): string {
  return frame.map(lineText).join('\n');
}

/** Cuts a line to `width` columns (one column per code point: the console's text is Latin-1). */
export function clip(line: Line, width = WIDTH): Line {
  const out: Segment[] = [];
  let left = width;
  for (const s of line) {
    if (left <= 0) break;
    const chars = [...s.text];
    out.push(chars.length <= left ? s : { ...s, text: chars.slice(0, left).join('') });
    left -= Math.min(chars.length, left);
  }
  return out;
}

/** Word-wraps text to `width` columns; words longer than a line are cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    let w = word;
    while ([...w].length > width) {
      if (current !== '') {
        lines.push(current);
        current = '';
      }
      lines.push([...w].slice(0, width).join(''));
      w = [...w].slice(width).join('');
    }
    if (current === '') current = w;
    else if ([...current].length + 1 + [...w].length <= width) current += ` ${w}`;
    else {
      lines.push(current);
      current = w;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}

export function pad(text: string, width: number): string {
  const n = [...text].length;
  return n >= width ? [...text].slice(0, width).join('') : text + ' '.repeat(width - n);
}
