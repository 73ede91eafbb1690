// The console's state machine, key by key: login and lockout, menu, the network form and its validation, the
// keep-or-revert countdown, idle lock, language switch, the password screen, the self-check pages.
import t from 'tap';
import {
  frameText,
  HEIGHT,
  IDLE_LOCK_MS,
  lineText,
  WIDTH,
  type Frame,
  initialState,
  key,
  renderFrame,
  update,
  type ConsoleEvent,
  type ConsoleState,
  type Effect,
  type Key,
  type NetworkStatus,
} from '../../../agent/src/console/index.js';
import type { SelfcheckReport } from '../../../agent/src/selfcheck/index.js';

const T0 = 1_750_000_000_000;

function assertFits(frame: Frame, when: string): void {
  if (frame.length !== HEIGHT) throw new Error(`${frame.length} rows ${when}`);
  frame.forEach((line, i) => {
    const width = [...lineText(line)].length;
    if (width > WIDTH) throw new Error(`row ${i} is ${width} columns ${when}: ${lineText(line)}`);
  });
}

class Driver {
  state: ConsoleState;
  now = T0;
  effects: Effect[] = [];
  constructor(state = initialState({ lang: 'fr', now: T0, rollbackSeconds: 30 })) {
    this.state = state;
  }
  send(event: ConsoleEvent): Effect[] {
    const step = update(this.state, event, this.now);
    this.state = step.state;
    this.effects.push(...step.effects);
    // Every state this suite reaches must fit the 80x25 console, in both languages.
    for (const lang of ['fr', 'en'] as const) assertFits(renderFrame({ ...this.state, lang }), `${lang} after ${JSON.stringify(event)}`);
    return [...step.effects];
  }
  press(...keys: Array<Key | string>): Effect[] {
    const out: Effect[] = [];
    for (const k of keys) {
      if (typeof k === 'string') for (const c of k) out.push(...this.send({ type: 'key', key: key.char(c) }));
      else out.push(...this.send({ type: 'key', key: k }));
    }
    return out;
  }
  tick(ms: number): Effect[] {
    this.now += ms;
    return this.send({ type: 'tick' });
  }
  get screen(): string {
    return frameText(renderFrame(this.state));
  }
  get flat(): string {
    return this.screen.replace(/\s+/g, ' ');
  }
}

const enter = key.named('enter');
const esc = key.named('escape');
const down = key.named('down');
const up = key.named('up');
const tab = key.named('tab');
const clear = key.named('ctrlU');

const status: NetworkStatus = {
  iface: 'eth0',
  carrier: true,
  addresses: ['192.168.1.50/24'],
  gateway: '192.168.1.1',
  applyWith: 'networkd',
  filePath: '/etc/systemd/network/10-plugsrv-eth0.network',
};

/** Signed in, on the menu, with the network state loaded. */
function signedIn(): Driver {
  const d = new Driver();
  d.press('secret-password', enter);
  d.send({ type: 'login-checked', result: { ok: true } });
  d.send({ type: 'network-loaded', status });
  d.effects = [];
  return d;
}

t.test('login: typed, masked, sent once, then cleared', async (t) => {
  const d = new Driver();
  t.match(d.flat, 'Mot de passe : _');
  t.same(d.press('abc'), []);
  t.match(d.flat, 'Mot de passe : ***_');
  t.same(d.press(key.named('backspace'), 'd'), []);
  t.same(d.press(enter), [{ type: 'verify-password', password: 'abd' }]);
  t.match(d.state.screen, { name: 'login', input: '', busy: true });
  t.match(d.flat, 'Vérification...');
  t.same(d.press('x', enter), [], 'keys wait while the password is checked');
  d.send({ type: 'login-checked', result: { ok: false, triesLeft: 3 } });
  t.match(d.flat, 'Mot de passe incorrect. Encore 3 essais avant un blocage de 60 s.');
  t.notMatch(d.screen, /abd/, 'the password is never on screen');
  t.same(d.press(enter), [], 'an empty password is not sent');
  t.match(d.flat, 'Saisissez le mot de passe, puis Entrée.');
});

t.test('login: a lockout refuses without checking and counts down', async (t) => {
  const d = new Driver();
  d.press('guess', enter);
  d.send({ type: 'login-checked', result: { ok: false, lockedUntil: T0 + 60_000 } });
  t.match(d.flat, 'console bloquée. Réessayez dans 60 s.');
  d.tick(15_200);
  t.match(d.flat, 'Réessayez dans 45 s.');
  t.same(d.press('right-password', enter), [], 'nothing sent while locked');
  d.tick(45_000);
  t.notMatch(d.flat, /bloquée/);
  t.same(d.press('right-password', enter), [{ type: 'verify-password', password: 'right-password' }]);
  t.same(d.send({ type: 'login-checked', result: { ok: true } }), [{ type: 'load-network' }]);
  t.match(d.flat, 'Connecté. Choisissez une rubrique.');
  t.match(d.flat, 'Lecture de l\'état du réseau...');
  d.send({ type: 'network-loaded', status });
  t.match(d.flat, 'Interface eth0 : 192.168.1.50/24, passerelle 192.168.1.1, lien actif');
});

t.test('menu: arrows wrap, digits open, language and lock items', async (t) => {
  const d = signedIn();
  t.match(d.state.screen, { name: 'menu', index: 0 });
  d.press(up);
  t.match(d.state.screen, { name: 'menu', index: 6 });
  d.press(down, down);
  t.match(d.state.screen, { name: 'menu', index: 1 });
  t.same(d.press('3'), [{ type: 'load-enrollment' }]);
  t.match(d.state.screen, { name: 'enrollment' });
  d.send({ type: 'enrollment-loaded', status: { state: 'enrolled', deviceId: 'dev-7', fleetUrl: 'https://fleet.example' } });
  t.match(d.flat, "Identifiant de l'appareil dev-7");
  d.press(esc);
  t.match(d.state.screen, { name: 'menu', index: 2 }, 'back on the item it came from');
  d.press('5');
  t.equal(d.state.lang, 'en');
  t.match(d.flat, 'Langue : français');
  d.press(key.named('f2'));
  t.equal(d.state.lang, 'fr', 'F2 too');
  d.press('7');
  t.match(d.state.screen, { name: 'login', input: '' });
  t.match(d.flat, 'Console verrouillée.');
});

t.test('keyboard: the menu cycles the layouts, and an AZERTY typist\'s keys read through the US keymap come out as printed', async (t) => {
  const d = signedIn();
  t.equal(d.state.layout, 'us', 'US (no translation) unless the configuration says otherwise');
  t.match(d.flat, '6. Clavier : QWERTY (US)');
  d.press('6');
  t.equal(d.state.layout, 'es');
  d.press(enter, enter);
  t.equal(d.state.layout, 'fr', 'Enter on the item goes on to the next layout');
  t.match(d.flat, '6. Clavier : AZERTY (France)');
  t.match(d.state.screen, { name: 'menu', index: 5 }, 'the menu stays on the item');
  // "192.168.1.10" typed on AZERTY with Shift on the top row and Shift+; for the dot, as the US keymap reads them.
  d.press('1');
  d.send({ type: 'network-loaded', status });
  d.press(down); // the address field (the interface is static already)
  d.press(key.named('ctrlU'), '!(@<!^*<!<!)');
  t.match(d.state.screen, { name: 'network', form: { address: '192.168.1.10' } });
  // The keypad's digits and dot (the same bytes as the US top row) pass unchanged.
  d.press(key.named('ctrlU'), '10.0.0.7');
  t.match(d.state.screen, { name: 'network', form: { address: '10.0.0.7' } });
  // Alt + the key stands in for AltGr: Alt+à is @ on AZERTY; Alt + a key without an AltGr character types nothing.
  d.press(key.named('ctrlU'), 'a', { kind: 'alt', char: '0' }, { kind: 'alt', char: 'a' }, 'b');
  t.match(d.state.screen, { name: 'network', form: { address: 'q@b' } });
});

t.test('network form: loading, editing, validation, apply', async (t) => {
  const d = signedIn();
  t.same(d.press('1'), [{ type: 'load-network' }]);
  t.match(d.state.screen, { name: 'network', loading: true });
  d.press(down, 'zzz');
  t.match(d.state.screen, { name: 'network', focus: 'mode' }, 'keys wait for the current state');
  d.send({ type: 'network-loaded', status });
  t.match(d.state.screen, { name: 'network', loading: false, form: { mode: 'static', address: '192.168.1.50', prefix: '24', gateway: '192.168.1.1', dns: '' } });

  d.press(down, clear, '192.168.1.300', down, down, clear, '10.0.0.1', down, '192.168.1.1', down);
  t.match(d.state.screen, { name: 'network', focus: 'apply' });
  t.same(d.press(enter), [], 'refused: nothing to apply');
  t.match(d.state.screen, { name: 'network', focus: 'address' }, 'focus on the first bad field');
  t.match(d.flat, "! Adresse IP [192.168.1.300_");
  t.match(d.flat, "Adresse IP : 192.168.1.300 n'est pas valide, chaque nombre va de 0 à 255 (300 est trop grand).");
  t.match(d.flat, '1 erreur : corrigez le champ marqué ! puis Appliquer.');

  d.press(clear, '192.168.1.60');
  t.notMatch(d.flat, /300/, 'editing a field clears its error');
  d.press(tab, tab, tab, tab, enter);
  t.match(d.flat, "Passerelle : 10.0.0.1 n'est pas dans le réseau 192.168.1.0/24 de l'adresse ; elle doit être entre 192.168.1.1 et 192.168.1.254.");
  t.match(d.state.screen, { name: 'network', focus: 'gateway' });

  d.press(clear, '192.168.1.1', enter, enter);
  t.match(d.state.screen, { name: 'network', focus: 'apply' }, 'Enter moves to the next field');
  const effects = d.press(enter);
  t.same(effects, [{ type: 'apply-network', settings: { mode: 'static', address: '192.168.1.60', prefix: 24, gateway: '192.168.1.1', dns: ['192.168.1.1'] } }]);
  t.match(d.state.screen, { name: 'applying', step: 'writing' });
  t.same(d.press(esc, key.named('ctrlC'), 'o'), [], 'nothing interrupts an apply, not even Ctrl-C');
});

t.test('network form: DHCP hides the address fields', async (t) => {
  const d = signedIn();
  d.press('1');
  d.send({ type: 'network-loaded', status });
  d.press(' ');
  t.match(d.state.screen, { name: 'network', form: { mode: 'dhcp' } });
  t.notMatch(d.flat, /Adresse IP/);
  t.match(d.flat, 'Mode < DHCP (automatique)');
  d.press(down);
  t.match(d.state.screen, { focus: 'apply' }, 'straight to Apply');
  t.same(d.press(enter), [{ type: 'apply-network', settings: { mode: 'dhcp' } }]);
  d.press(key.named('left'));
});

function applying(): Driver {
  const d = signedIn();
  d.press('1');
  d.send({ type: 'network-loaded', status });
  d.press(down, clear, '192.168.1.60', down, down, down, '192.168.1.1', down, enter);
  t.match(d.state.screen, { name: 'applying' });
  return d;
}

t.test('keep-or-revert: countdown, keys, timeout', async (t) => {
  const d = applying();
  d.send({ type: 'apply-progress', step: 'checking', deadline: T0 + 30_000, gateway: '192.168.1.1' });
  t.match(d.flat, '[x] Application (systemd-networkd)');
  t.match(d.flat, '[>] Vérification du lien et de la passerelle 192.168.1.1 (encore 30 s)');
  d.send({ type: 'apply-done', outcome: { ok: true, gateway: '192.168.1.1' } });
  t.match(d.state.screen, { name: 'confirm', deadline: T0 + 30_000, busy: false });
  t.match(d.flat, 'La passerelle 192.168.1.1 répond.');
  t.match(d.flat, 'retour automatique aux réglages précédents dans 30 s.');
  t.same(d.press(enter, 'x'), [], 'Enter does not decide');
  t.same(d.tick(29_000), []);
  t.match(d.flat, 'dans 1 s.');
  t.same(d.tick(1000), [{ type: 'revert-network', why: 'timeout' }]);
  t.same(d.tick(1000), [], 'once');
  t.same(d.press('o'), [], 'too late to keep');
  d.send({ type: 'reverted', why: 'timeout', outcome: { restored: true } });
  t.match(d.flat, 'Réglages réseau NON appliqués.');
  t.match(d.flat, 'Pas de confirmation en 30 s : retour aux réglages précédents.');
  t.match(d.flat, 'Les réglages précédents sont rétablis.');
  d.press(enter);
  t.match(d.state.screen, { name: 'menu', index: 0 });
});

t.test('keep-or-revert: O keeps, N reverts', async (t) => {
  let d = applying();
  d.send({ type: 'apply-done', outcome: { ok: true, gateway: '192.168.1.1' } });
  t.same(d.press('O'), [{ type: 'keep-network' }]);
  t.same(d.send({ type: 'kept' }), [{ type: 'load-network' }]);
  t.match(d.flat, 'Réglages réseau appliqués et conservés.');

  d = applying();
  d.send({ type: 'apply-done', outcome: { ok: true, gateway: '192.168.1.1' } });
  t.same(d.press('n'), [{ type: 'revert-network', why: 'declined' }]);
  d.send({ type: 'reverted', why: 'declined', outcome: { restored: false, restoreError: 'ip: Device busy' } });
  t.match(d.flat, 'Vous avez choisi de revenir aux réglages précédents.');
  t.match(d.flat, 'ATTENTION : le retour aux réglages précédents a échoué (ip: Device busy).');
});

t.test('a failed apply says why and what became of the previous set-up', async (t) => {
  let d = applying();
  d.send({ type: 'apply-done', outcome: { ok: false, reason: { code: 'gatewayUnreachable', gateway: '192.168.1.1', seconds: 30 }, changed: true, restored: true } });
  t.match(d.flat, 'Motif : la passerelle 192.168.1.1 ne répond pas (aucune réponse ARP en 30 s).');
  t.match(d.flat, 'Les réglages précédents sont rétablis.');
  d.press(key.named('f2'));
  t.match(d.flat, 'Reason: the gateway 192.168.1.1 does not answer (no ARP reply in 30 s).');
  t.match(d.flat, 'The previous settings are back.');

  d = applying();
  d.send({ type: 'apply-done', outcome: { ok: false, reason: { code: 'dhcpUnsupported' }, changed: false, restored: false } });
  t.match(d.flat, "Rien n'a été modifié.");
  d = applying();
  d.send({ type: 'apply-done', outcome: { ok: false, reason: { code: 'linkDown', iface: 'eth0', seconds: 30 }, changed: true, restored: true } });
  t.match(d.flat, 'Motif : le lien réseau de eth0 est coupé depuis 30 s.');
});

t.test('idle lock after 5 minutes, never mid-change', async (t) => {
  const d = signedIn();
  d.tick(IDLE_LOCK_MS - 1000);
  t.match(d.state.screen, { name: 'menu' });
  d.tick(1000);
  t.match(d.state.screen, { name: 'login' });
  t.match(d.flat, 'Console verrouillée après 5 minutes sans activité.');

  const a = applying();
  a.tick(IDLE_LOCK_MS + 1000);
  t.match(a.state.screen, { name: 'applying' }, 'an apply is never abandoned to the lock screen');
});

t.test('Ctrl-C asks to exit', async (t) => {
  const d = signedIn();
  t.same(d.press(key.named('ctrlC')), [{ type: 'exit' }]);
});

t.test('password screen: rules first, then the change', async (t) => {
  const d = signedIn();
  d.press('4');
  t.match(d.state.screen, { name: 'password', focus: 'current' });
  d.press('old-password', enter, 'short', enter, 'short', enter);
  t.match(d.state.screen, { focus: 'submit' });
  t.same(d.press(enter), []);
  t.match(d.flat, 'Le nouveau mot de passe doit compter au moins 10 caractères.');
  t.notMatch(d.screen, /old-password|short/);
  d.press(up, up, clear, 'new-password-1', down, clear, 'new-password-1', down);
  t.same(d.press(enter), [{ type: 'change-password', current: 'old-password', next: 'new-password-1' }]);
  t.match(d.state.screen, { current: '', next: '', confirm: '', busy: true });
  d.send({ type: 'password-changed', result: { ok: false, triesLeft: 2 } });
  t.match(d.flat, 'Mot de passe actuel incorrect. Encore 2 essais avant un blocage de 60 s.');
  d.press('x', enter, 'new-password-1', enter, 'new-password-1', enter, enter);
  d.send({ type: 'password-changed', result: { ok: true } });
  t.match(d.flat, 'Mot de passe changé.');
  d.press('x', enter, 'new-password-1', enter, 'new-password-1', enter, enter);
  d.send({ type: 'password-changed', result: { ok: false, lockedUntil: T0 + 60_000 } });
  t.match(d.state.screen, { name: 'login', lockedUntil: T0 + 60_000 }, 'a lockout ends the session');
});

const report = (n: number): SelfcheckReport => ({
  status: 'fail',
  startedAt: T0,
  finishedAt: T0 + 2500,
  counts: { ok: 1, warn: 0, fail: n },
  results: [
    { id: 'disk', kind: 'disk', target: '/var/lib/plugsrv', status: 'ok', latencyMs: 1, reason: 'ok', evidence: {} },
    ...Array.from({ length: n }, (_, i) => ({
      id: `tls:h${i}`,
      kind: 'tls' as const,
      target: `host${i}.example.com:443/tcp`,
      status: 'fail' as const,
      latencyMs: 40,
      reason: 'intercepted',
      evidence: {},
      remediation: { fr: `Le proxy du site intercepte HTTPS vers host${i}.example.com:443 ; exemptez ce nom de l'inspection TLS.`, en: `The site proxy intercepts HTTPS to host${i}.example.com:443; exempt it from TLS inspection.` },
    })),
  ],
});

t.test('self-check: runs on entry, pages, runs again', async (t) => {
  const d = signedIn();
  t.same(d.press('2'), [{ type: 'run-selfcheck' }]);
  t.match(d.flat, 'Autotest en cours');
  d.send({ type: 'selfcheck-done', report: report(12) });
  t.match(d.flat, 'Résultat : ÉCHEC - 1 OK, 0 alerte, 12 échecs en 2.5 s');
  t.match(d.flat, 'page 1/3', 'five results of three lines each per page');
  t.match(d.flat, 'ÉCHEC tls host0.example.com:443/tcp intercepted 40 ms');
  t.notMatch(d.flat, /OK disk/, 'problems first');
  d.press(key.named('pageDown'), key.named('pageDown'), key.named('pageDown'), key.named('pageDown'), key.named('pageDown'));
  t.match(d.flat, 'page 3/3', 'stops at the last page');
  t.match(d.flat, 'OK disk /var/lib/plugsrv ok 1 ms');
  d.press(key.named('pageUp'));
  t.match(d.flat, 'page 2/3');
  t.same(d.press('r'), [{ type: 'run-selfcheck' }]);
  t.same(d.press('r'), [], 'not twice at once');
  d.send({ type: 'selfcheck-failed', detail: 'flows file unreadable' });
  t.match(d.flat, "L'autotest n'a pas pu s'exécuter : flows file unreadable");
  d.press(esc);
  t.match(d.state.screen, { name: 'menu', index: 1 });
  d.send({ type: 'selfcheck-done', report: report(1) });
  t.match(d.state.screen, { name: 'menu' }, 'a late result does not pull the screen back');
});

t.test('a console restarted during a lockout shows it at once', async (t) => {
  const d = new Driver(initialState({ lang: 'en', now: T0, rollbackSeconds: 30, lockedUntil: T0 + 42_000 }));
  t.match(d.flat, 'Too many wrong passwords: console locked. Try again in 42 s.');
  t.same(d.press('right-password', enter), []);
  t.same(new Driver(initialState({ lang: 'en', now: T0, rollbackSeconds: 30, lockedUntil: T0 - 1 })).state.screen, { name: 'login', input: '', busy: false, lockedUntil: 0 });
});

t.test('the menu reads the network state again every 5 s', async (t) => {
  const d = signedIn();
  t.same(d.tick(4000), []);
  t.same(d.tick(1000), [{ type: 'load-network' }]);
  d.send({ type: 'network-loaded', status: { ...status, carrier: false } });
  t.match(d.flat, 'LIEN COUPÉ (câble ?)');
  t.same(d.tick(1000), []);
  d.press('3');
  t.same(d.tick(10_000), [], 'only on the menu');
});
