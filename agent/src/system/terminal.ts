// The only code that touches the terminal: paints frames with terminal-kit (plain ANSI, only the lines that changed)
// and turns its key events into console keys. Full screen, hidden cursor, input grabbed; restored on close.
import termkit from 'terminal-kit';
import type { Frame, Key, Line, Style } from '../console/index.js';
import { AltJoiner, HEIGHT, keyFromTerminalKit } from '../console/index.js';

type Term = typeof termkit.terminal;

export interface TerminalScreen {
  paint(frame: Frame): void;
  onKey(listener: (key: Key) => void): void;
  /** Called after a resize (the next paint redraws every line). */
  onResize(listener: () => void): void;
  close(): void;
}

function styled(term: Term, style: Style): (text: string) => void {
  switch (style) {
    case 'title':
      return (t) => term.bgBlue.brightWhite.bold.noFormat(t);
    case 'bold':
      return (t) => term.bold.noFormat(t);
    case 'focus':
      return (t) => term.inverse.noFormat(t);
    case 'error':
      return (t) => term.brightRed.bold.noFormat(t);
    case 'ok':
      return (t) => term.brightGreen.noFormat(t);
    case 'warn':
      return (t) => term.brightYellow.noFormat(t);
    case 'dim':
      return (t) => term.cyan.noFormat(t);
    case 'normal':
      return (t) => term.noFormat(t);
  }
}

export function openTerminalScreen(term: Term = termkit.terminal): TerminalScreen {
  let painted: string[] = [];
  const keyListeners: Array<(key: Key) => void> = [];
  const resizeListeners: Array<() => void> = [];
  term.fullscreen(true);
  term.hideCursor();
  term.grabInput(true);
  const joiner = new AltJoiner((key) => {
    for (const l of keyListeners) l(key);
  });
  term.on('key', (name: string, _matches: unknown, data: { isCharacter?: boolean }) => {
    const key = keyFromTerminalKit(name, data?.isCharacter === true);
    if (!key) return;
    joiner.push(key);
    // terminal-kit emits the keys of one read synchronously: an Escape still held after them was typed alone.
    if (joiner.holding) setImmediate(() => joiner.flush());
  });
  term.on('resize', () => {
    painted = [];
    term.eraseDisplay();
    for (const l of resizeListeners) l();
  });

  const paintLine = (line: Line, y: number): void => {
    term.moveTo(1, y + 1);
    term.styleReset();
    for (const s of line) styled(term, s.style)(s.text);
    term.styleReset();
    term.eraseLineAfter();
  };

  return {
    paint(frame) {
      for (let y = 0; y < Math.min(HEIGHT, frame.length); y++) {
        const line = frame[y] as Line;
        const id = JSON.stringify(line);
        if (painted[y] === id) continue;
        painted[y] = id;
        paintLine(line, y);
      }
    },
    onKey(listener) {
      keyListeners.push(listener);
    },
    onResize(listener) {
      resizeListeners.push(listener);
    },
    close() {
      term.grabInput(false);
      term.hideCursor(false);
      term.styleReset();
      term.fullscreen(false);
    },
  };
}
