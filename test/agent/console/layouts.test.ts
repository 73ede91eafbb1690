// Keyboard layouts: what each site keyboard has on the keys the kernel's US keymap reads.
import t from 'tap';
import { KEYBOARD_LAYOUTS as LAYOUTS } from '../../../agent/src/config/schema.js';
import { nextLayout, translateKey } from '../../../agent/src/console/layouts.js';

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
