// Keyboard layouts: what each site keyboard has on the keys the kernel's US keymap reads.
import t from 'tap';
import { KEYBOARD_LAYOUTS as LAYOUTS } from '../../../agent/src/config/schema.js';
import { nextLayout, translateAltGr, translateKey } from '../../../agent/src/console/layouts.js';

const typed = (layout: (typeof LAYOUTS)[number], us: string): string => [...us].map((c) => translateKey(layout, c)).join('');

t.test('AZERTY (France): Shift + top row gives digits, Shift+; the dot, letters move', async (t) => {
  t.equal(typed('fr', '!@#$%^&*()'), '1234567890');
  t.equal(typed('fr', '<>'), './', 'Shift+; and Shift+: (the US , and . keys shifted)');
  t.equal(typed('fr', 'qwaz;m'), 'azqwm,');
  t.equal(typed('fr', 'QWAZ:'), 'AZQWM');
  t.equal(typed('fr', '[{'), '', 'the ^ and ¨ dead keys are not taken');
  t.equal(typed('fr', '0123456789./-'), '0123456789./-', 'the keypad\'s digits, dot, slash and minus are never translated');
  t.equal(typed('fr', ' '), ' ');
});

t.test('other layouts', async (t) => {
  t.equal(typed('be', '!@<'), '12.');
  t.equal(typed('de', 'yzYZ&^'), 'zyZY/&');
  t.equal(typed('ch', 'yz&'), 'zy/');
  t.equal(typed('gb', '@"#'), '"@£');
  t.equal(typed('es', ';:'), 'ñÑ');
  t.equal(typed('it', '&'), '/');
  t.equal(typed('us', '!@<qwa;'), '!@<qwa;', 'US: as read');
});

t.test('every layout types every letter exactly once, in both cases', async (t) => {
  for (const layout of LAYOUTS) {
    const keys = 'abcdefghijklmnopqrstuvwxyz;,';
    const out = new Set([...keys].map((c) => translateKey(layout, c)).filter((c) => /^[a-z]$/.test(c)));
    const upper = new Set([...keys.toUpperCase(), ':', '<'].map((c) => translateKey(layout, c)).filter((c) => /^[A-Z]$/.test(c)));
    t.equal(out.size, 26, `${layout}: 26 lowercase letters`);
    t.equal(upper.size, 26, `${layout}: 26 uppercase letters`);
  }
});

t.test('AltGr characters through Alt + the key (the US keymap has no AltGr for them)', async (t) => {
  t.equal(translateAltGr('fr', '0'), '@', 'AZERTY: AltGr+à is @');
  t.equal(translateAltGr('fr', '3'), '#');
  t.equal(translateAltGr('fr', 'e'), '€');
  t.equal(translateAltGr('be', '2'), '@');
  t.equal(translateAltGr('de', 'q'), '@', 'QWERTZ: AltGr+Q is @');
  t.equal(translateAltGr('ch', '2'), '@');
  t.equal(translateAltGr('es', '2'), '@');
  t.equal(translateAltGr('it', ';'), '@', 'Italian: AltGr+ò is @');
  t.equal(translateAltGr('gb', '4'), '€');
  t.equal(translateAltGr('fr', 'a'), '', 'a key without an AltGr character types nothing');
  t.equal(translateAltGr('us', '2'), '', 'US: Alt + a key types nothing');
  for (const layout of LAYOUTS) {
    for (const us of '`1234567890-=qwertyuiop[]asdfghjkl;\'\\<zxcvbnm,./') {
      const c = translateAltGr(layout, us);
      t.ok(c === '' || [...c].length === 1, `${layout}: Alt+${us} types at most one character`);
    }
  }
  // Every layout but US reaches @ (an e-mail-like password, a URL) somehow.
  for (const layout of LAYOUTS.filter((l) => l !== 'us')) {
    const reach = new Set([...'`1234567890-=qwertyuiop[]asdfghjkl;\'\\<zxcvbnm,./~!@#$%^&*()_+{}:"|>?'].flatMap((us) => [translateKey(layout, us), translateAltGr(layout, us)]));
    t.ok(reach.has('@'), `${layout}: @ can be typed`);
  }
});

t.test('nextLayout cycles through all of them', async (t) => {
  const seen = new Set<string>();
  let l: (typeof LAYOUTS)[number] = LAYOUTS[0];
  for (let i = 0; i < LAYOUTS.length; i++) {
    seen.add(l);
    l = nextLayout(l);
  }
  t.equal(seen.size, LAYOUTS.length);
  t.equal(l, LAYOUTS[0]);
});
