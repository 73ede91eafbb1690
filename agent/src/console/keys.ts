// The keys the console understands, decoupled from the terminal library's names.

export type NamedKey =
  | 'enter'
  | 'escape'
  | 'tab'
  | 'backTab'
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'backspace'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'f2'
  | 'ctrlC'
  | 'ctrlU';

/**
 * `alt`: a character typed with Alt held (the terminal sends ESC then the character). With the kernel's US keymap
 * the site keyboard's AltGr characters (@ and # on AZERTY) are out of reach, so Alt + the key stands in for AltGr:
 * the layout turns it into the character printed on the key's AltGr corner (layouts.ts).
 */
export type Key = { readonly kind: 'char'; readonly char: string } | { readonly kind: 'alt'; readonly char: string } | { readonly kind: NamedKey };

const TERMINAL_KIT_NAMES: Record<string, NamedKey> = {
  ENTER: 'enter',
  KP_ENTER: 'enter',
  ESCAPE: 'escape',
  TAB: 'tab',
  SHIFT_TAB: 'backTab',
  UP: 'up',
  DOWN: 'down',
  LEFT: 'left',
  RIGHT: 'right',
  BACKSPACE: 'backspace',
  PAGE_UP: 'pageUp',
  PAGE_DOWN: 'pageDown',
  HOME: 'home',
  END: 'end',
  F2: 'f2',
  CTRL_C: 'ctrlC',
  CTRL_U: 'ctrlU',
};

/** Maps a terminal-kit `key` event to a Key; undefined for keys the console ignores. */
export function keyFromTerminalKit(name: string, isCharacter: boolean): Key | undefined {
  if (isCharacter) return /^[\p{L}\p{N}\p{P}\p{S} ]$/u.test(name) ? { kind: 'char', char: name } : undefined;
  // terminal-kit names Alt + a letter itself; Alt + anything else comes as ESCAPE then the character (AltJoiner below joins them).
  const letter = /^ALT_(SHIFT_)?([A-Z])$/.exec(name);
  if (letter) return { kind: 'alt', char: letter[1] ? (letter[2] as string) : (letter[2] as string).toLowerCase() };
  const named = TERMINAL_KIT_NAMES[name];
  return named ? { kind: named } : undefined;
}

/**
 * Joins an Escape and the character that came with it in the same read into Alt + that character (what a
 * terminal sends for Alt + a key that is not a letter). An Escape alone is held until `flush` (the caller runs it
 * once the read is handled: a human never types Escape then a key within one read). Pure but for the callbacks.
 */
export class AltJoiner {
  private escapeHeld = false;

  constructor(private readonly emit: (key: Key) => void) {}

  push(key: Key): void {
    if (this.escapeHeld && key.kind === 'char') {
      this.escapeHeld = false;
      this.emit({ kind: 'alt', char: key.char });
      return;
    }
    this.flush();
    if (key.kind === 'escape') this.escapeHeld = true;
    else this.emit(key);
  }

  /** True when an Escape is held (the caller schedules flush). */
  get holding(): boolean {
    return this.escapeHeld;
  }

  flush(): void {
    if (!this.escapeHeld) return;
    this.escapeHeld = false;
    this.emit({ kind: 'escape' });
  }
}

export const key = {
  char: (char: string): Key => ({ kind: 'char', char }),
  named: (kind: NamedKey): Key => ({ kind }),
};
