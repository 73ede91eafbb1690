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

export type Key = { readonly kind: 'char'; readonly char: string } | { readonly kind: NamedKey };

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
  const named = TERMINAL_KIT_NAMES[name];
  return named ? { kind: named } : undefined;
}

export const key = {
  char: (char: string): Key => ({ kind: 'char', char }),
  named: (kind: NamedKey): Key => ({ kind }),
};
