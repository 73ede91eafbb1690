// Keyboard layouts of the console: what a key typed on the site's keyboard means, when the kernel reads it with the US keymap.
//
// The appliance's console keeps the kernel's default US keymap (no keymap package in the image). A French
// AZERTY keyboard then types "!" for Shift+1 (a "1" there) and "<" for Shift+";" (a "." there): an IP address
// cannot be typed. The console translates what the US keymap delivered back into the character printed on the key,
// for the layout chosen in its menu (or console.keyboard).
//
// The keypad's digits, dot, slash and minus are never translated: with the US keymap the keypad already types them,
// and the console cannot tell a keypad "1" from a top-row "1". So on AZERTY the digits come from Shift + the top row
// (as printed) or from the keypad, both right; an unshifted top-row key (& é " ...) gives its digit. The keypad's
// * and + are translated like the main block's (on AZERTY, the US Shift+8 is the typist's "8").

import { KEYBOARD_LAYOUTS } from '../config/schema.js';

export type Layout = (typeof KEYBOARD_LAYOUTS)[number];

/** What the layout is called in the menu (the same in both languages). */
export const LAYOUT_NAMES: Record<Layout, string> = {
  fr: 'AZERTY (France)',
  be: 'AZERTY (Belgique)',
  ch: 'QWERTZ (Suisse)',
  de: 'QWERTZ (Deutschland)',
  gb: 'QWERTY (UK)',
  us: 'QWERTY (US)',
  es: 'QWERTY (España)',
  it: 'QWERTY (Italia)',
};

/** The US keymap's characters of the main block, key by key: each string is one row, unshifted then shifted. */
const US = {
  row1: ['`1234567890-=', '~!@#$%^&*()_+'],
  row2: ['qwertyuiop[]', 'QWERTYUIOP{}'],
  row3: ["asdfghjkl;'\\", 'ASDFGHJKL:"|'],
  row4: ['<zxcvbnm,./', '>ZXCVBNM<>?'],
} as const;

/**
 * The same keys on each layout (row4 starts with the ISO key left of Z, which the US keymap reads as < and >).
 * A space marks a key whose character the console does not take (a dead key, or one only AltGr reaches).
 */
const ROWS: Record<Exclude<Layout, 'us'>, Record<keyof typeof US, readonly [string, string]>> = {
  fr: {
    row1: ['²&é"\'(-è_çà)=', ' 1234567890°+'],
    row2: ['azertyuiop $', 'AZERTYUIOP £'],
    row3: ['qsdfghjklmù*', 'QSDFGHJKLM%µ'],
    row4: ['<wxcvbn,;:!', '>WXCVBN?./§'],
  },
  be: {
    row1: ['²&é"\'(§è!çà)-', '³1234567890°_'],
    row2: ['azertyuiop $', 'AZERTYUIOP *'],
    row3: ['qsdfghjklmùµ', 'QSDFGHJKLM%£'],
    row4: ['<wxcvbn,;:=', '>WXCVBN?./+'],
  },
  ch: {
    row1: ["§1234567890' ", '°+"*ç%&/()=? '],
    row2: ['qwertzuiopè ', 'QWERTZUIOPü!'],
    row3: ['asdfghjkléà$', 'ASDFGHJKLöä£'],
    row4: ['<yxcvbnm,.-', '>YXCVBNM;:_'],
  },
  de: {
    row1: [' 1234567890ß ', '°!"§$%&/()=? '],
    row2: ['qwertzuiopü+', 'QWERTZUIOPÜ*'],
    row3: ["asdfghjklöä#", "ASDFGHJKLÖÄ'"],
    row4: ['<yxcvbnm,.-', '>YXCVBNM;:_'],
  },
  gb: {
    row1: ['`1234567890-=', '¬!"£$%^&*()_+'],
    row2: ['qwertyuiop[]', 'QWERTYUIOP{}'],
    row3: ["asdfghjkl;'#", 'ASDFGHJKL:@~'],
    row4: ['\\zxcvbnm,./', '|ZXCVBNM<>?'],
  },
  es: {
    row1: ["º1234567890'¡", 'ª!"·$%&/()=?¿'],
    row2: ['qwertyuiop +', 'QWERTYUIOP *'],
    row3: ['asdfghjklñ ç', 'ASDFGHJKLÑ Ç'],
    row4: ['<zxcvbnm,.-', '>ZXCVBNM;:_'],
  },
  it: {
    row1: ["\\1234567890'ì", '|!"£$%&/()=?^'],
    row2: ['qwertyuiopè+', 'QWERTYUIOPé*'],
    row3: ['asdfghjklòàù', 'ASDFGHJKLç°§'],
    row4: ['<zxcvbnm,.-', '>ZXCVBNM;:_'],
  },
};

/** What the keypad types with the US keymap that an IP address or a DNS name needs: passed through unchanged on every layout. */
const KEYPAD = new Set('0123456789./-');

function buildTable(rows: Record<keyof typeof US, readonly [string, string]>): Map<string, string> {
  const table = new Map<string, string>();
  for (const row of Object.keys(US) as Array<keyof typeof US>) {
    for (const level of [0, 1] as const) {
      const from = [...US[row][level]];
      const to = [...rows[row][level]];
      from.forEach((us, i) => {
        const mine = to[i];
        // The ISO key's < and > come first in row4; the same characters of the US , and . keys (shifted) come
        // later and win, as they are the keys a typist presses far more often.
        if (mine === undefined || KEYPAD.has(us)) return;
        table.set(us, mine === ' ' ? '' : mine);
      });
    }
  }
  return table;
}

const TABLES = new Map<Layout, Map<string, string>>((Object.keys(ROWS) as Array<Exclude<Layout, 'us'>>).map((l) => [l, buildTable(ROWS[l])]));

/**
 * The character the site's keyboard has on the key that the US keymap read as `us`; '' for a key whose character
 * the console does not take. Pure.
 */
export function translateKey(layout: Layout, us: string): string {
  return TABLES.get(layout)?.get(us) ?? us;
}

/**
 * AltGr's characters, by the key the US keymap reads (unshifted): what the key's AltGr corner carries on each layout.
 * The console takes Alt + the key for them (see keys.ts); 'us' has none (Alt + a key types nothing there).
 */
const ALTGR: Record<Layout, Readonly<Record<string, string>>> = {
  us: {},
  fr: { '2': '~', '3': '#', '4': '{', '5': '[', '6': '|', '7': '`', '8': '\\', '9': '^', '0': '@', '-': ']', '=': '}', e: '€' },
  be: { '1': '|', '2': '@', '3': '#', '6': '^', '9': '{', '0': '}', '[': '[', ']': ']', '/': '~', '<': '\\', e: '€' },
  ch: { '1': '¦', '2': '@', '3': '#', '4': '°', '5': '§', '6': '¬', '7': '|', '8': '¢', '-': '´', '=': '~', '[': '[', ']': ']', "'": '{', '\\': '}', '<': '\\', e: '€' },
  de: { '2': '²', '3': '³', '7': '{', '8': '[', '9': ']', '0': '}', '-': '\\', q: '@', ']': '~', '<': '|', e: '€', m: 'µ' },
  gb: { '4': '€', '`': '¦' },
  es: { '`': '\\', '1': '|', '2': '@', '3': '#', '4': '~', '6': '¬', '[': '[', ']': ']', "'": '{', '\\': '}', e: '€' },
  it: { '[': '[', ']': ']', ';': '@', "'": '#', e: '€' },
};

/** The character of the key's AltGr corner on `layout` for Alt + the key the US keymap read as `us`; '' when none. Pure. */
export function translateAltGr(layout: Layout, us: string): string {
  return ALTGR[layout][us] ?? '';
}

export function nextLayout(layout: Layout): Layout {
  return KEYBOARD_LAYOUTS[(KEYBOARD_LAYOUTS.indexOf(layout) + 1) % KEYBOARD_LAYOUTS.length] as Layout;
}
