// The console's state machine: screens, keys and service results in, next state and effects (I/O requests) out. Pure.
import type { SelfcheckReport } from '../selfcheck/index.js';
import { messagesFor, type Text } from './i18n.js';
import type { Key } from './keys.js';
import { nextLayout, translateAltGr, translateKey, type Layout } from './layouts.js';
import { formFromStatus, validateNetworkForm, type FieldError, type FieldName, type NetworkFormValues } from './network-form.js';
import { checkNewPassword, MAX_PASSWORD_LENGTH } from './password.js';
import type { ApplyOutcome, ApplyStep, EnrollmentStatus, Lang, NetworkSettings, NetworkStatus, PasswordCheck, RevertOutcome, RevertWhy } from './types.js';
import { selfcheckPages } from './view-selfcheck.js';

/** Back to the password screen after this long without a key (not while a network change is in flight). */
export const IDLE_LOCK_MS = 5 * 60_000;
/** The menu's summary line is read again this often, so a cable plugged or pulled shows without a key. */
export const NETWORK_REFRESH_MS = 5000;
/** Longest text a network field takes. */
export const FIELD_MAX = 40;
/** Longest password typed; longer ones are refused by the rules, this only bounds memory. */
const PASSWORD_INPUT_MAX = MAX_PASSWORD_LENGTH + 1;

export interface Notice {
  readonly kind: 'error' | 'info' | 'ok';
  readonly text: Text;
}

export const MENU_ITEMS = ['network', 'selfcheck', 'enrollment', 'password', 'language', 'keyboard', 'lock'] as const;
export type MenuItem = (typeof MENU_ITEMS)[number];

export type NetworkFocus = 'mode' | FieldName | 'apply' | 'cancel';
export const PASSWORD_FOCUS = ['current', 'next', 'confirm', 'submit', 'cancel'] as const;
export type PasswordFocus = (typeof PASSWORD_FOCUS)[number];

export type ScreenState =
  | { readonly name: 'login'; readonly input: string; readonly busy: boolean; readonly lockedUntil: number; readonly notice?: Notice }
  | { readonly name: 'menu'; readonly index: number; readonly notice?: Notice }
  | {
      readonly name: 'network';
      readonly loading: boolean;
      readonly form: NetworkFormValues;
      readonly focus: NetworkFocus;
      readonly errors: readonly FieldError[];
      readonly notice?: Notice;
    }
  | { readonly name: 'applying'; readonly settings: NetworkSettings; readonly step: ApplyStep; readonly deadline?: number; readonly gateway?: string }
  | { readonly name: 'confirm'; readonly settings: NetworkSettings; readonly gateway: string; readonly deadline: number; readonly busy: boolean }
  | { readonly name: 'network-result'; readonly settings: NetworkSettings; readonly kept: boolean; readonly notes: readonly Notice[] }
  | { readonly name: 'selfcheck'; readonly running: boolean; readonly report?: SelfcheckReport; readonly error?: string; readonly page: number }
  | { readonly name: 'enrollment'; readonly status?: EnrollmentStatus }
  | {
      readonly name: 'password';
      readonly current: string;
      readonly next: string;
      readonly confirm: string;
      readonly focus: PasswordFocus;
      readonly busy: boolean;
      readonly notice?: Notice;
    };

export interface ConsoleState {
  readonly lang: Lang;
  /** The site keyboard's layout: typed characters are translated from the kernel's US keymap to it (layouts.ts). */
  readonly layout: Layout;
  readonly now: number;
  readonly lastInputAt: number;
  /** Gateway check limit and keep-or-revert countdown, from console.rollbackSeconds. */
  readonly rollbackSeconds: number;
  /** The interface's state as last read, for the menu's summary line and the form's first values. */
  readonly network?: NetworkStatus;
  readonly networkError?: string;
  /** When the menu last asked for the network state. */
  readonly networkReadAt?: number;
  readonly screen: ScreenState;
}

export type Effect =
  | { readonly type: 'verify-password'; readonly password: string }
  | { readonly type: 'load-network' }
  | { readonly type: 'apply-network'; readonly settings: NetworkSettings }
  | { readonly type: 'keep-network' }
  | { readonly type: 'revert-network'; readonly why: RevertWhy }
  | { readonly type: 'run-selfcheck' }
  | { readonly type: 'load-enrollment' }
  | { readonly type: 'change-password'; readonly current: string; readonly next: string }
  | { readonly type: 'exit' };

export type ConsoleEvent =
  | { readonly type: 'key'; readonly key: Key }
  | { readonly type: 'tick' }
  | { readonly type: 'login-checked'; readonly result: PasswordCheck }
  | { readonly type: 'network-loaded'; readonly status: NetworkStatus }
  | { readonly type: 'network-load-failed'; readonly detail: string }
  | { readonly type: 'apply-progress'; readonly step: ApplyStep; readonly deadline?: number; readonly gateway?: string }
  | { readonly type: 'apply-done'; readonly outcome: ApplyOutcome }
  | { readonly type: 'kept' }
  | { readonly type: 'reverted'; readonly why: RevertWhy; readonly outcome: RevertOutcome }
  | { readonly type: 'selfcheck-done'; readonly report: SelfcheckReport }
  | { readonly type: 'selfcheck-failed'; readonly detail: string }
  | { readonly type: 'enrollment-loaded'; readonly status: EnrollmentStatus }
  | { readonly type: 'password-changed'; readonly result: PasswordCheck };

export interface Step {
  readonly state: ConsoleState;
  readonly effects: readonly Effect[];
}

/** The password screen; `lockedUntil` when a lockout from before a restart is still running. */
export function initialState(options: { lang: Lang; layout?: Layout; now: number; rollbackSeconds: number; lockedUntil?: number }): ConsoleState {
  const lockedUntil = options.lockedUntil !== undefined && options.lockedUntil > options.now ? options.lockedUntil : 0;
  return {
    lang: options.lang,
    layout: options.layout ?? 'us',
    now: options.now,
    lastInputAt: options.now,
    rollbackSeconds: options.rollbackSeconds,
    screen: { name: 'login', input: '', busy: false, lockedUntil },
  };
}

const none = (state: ConsoleState): Step => ({ state, effects: [] });
const withScreen = (state: ConsoleState, screen: ScreenState, effects: Effect[] = []): Step => ({ state: { ...state, screen }, effects });

function loginScreen(notice?: Notice, lockedUntil = 0): ScreenState {
  return { name: 'login', input: '', busy: false, lockedUntil, ...(notice ? { notice } : {}) };
}

function menuScreen(index = 0, notice?: Notice): ScreenState {
  return { name: 'menu', index, ...(notice ? { notice } : {}) };
}

/** The screens a network change is in flight on: they never lock for idleness and ignore navigation. */
function isChanging(screen: ScreenState): boolean {
  return screen.name === 'applying' || screen.name === 'confirm';
}

/** Applies one event at time `now`. */
export function update(previous: ConsoleState, event: ConsoleEvent, now: number): Step {
  const state: ConsoleState = { ...previous, now };
  switch (event.type) {
    case 'key':
      return onKey({ ...state, lastInputAt: now }, event.key);
    case 'tick':
      return onTick(state);
    default:
      return onResult(state, event);
  }
}

function onTick(state: ConsoleState): Step {
  const s = state.screen;
  if (s.name === 'confirm' && !s.busy && state.now >= s.deadline) {
    return withScreen(state, { ...s, busy: true }, [{ type: 'revert-network', why: 'timeout' }]);
  }
  if (s.name !== 'login' && !isChanging(s) && state.now - state.lastInputAt >= IDLE_LOCK_MS) {
    return withScreen(state, loginScreen({ kind: 'info', text: (m) => m.lockedIdle }));
  }
  if (s.name === 'menu' && state.now - (state.networkReadAt ?? 0) >= NETWORK_REFRESH_MS) {
    return { state: { ...state, networkReadAt: state.now }, effects: [{ type: 'load-network' }] };
  }
  return none(state);
}

function onKey(state: ConsoleState, typed: Key): Step {
  let key = typed;
  if (key.kind === 'char' || key.kind === 'alt') {
    const char = key.kind === 'char' ? translateKey(state.layout, key.char) : translateAltGr(state.layout, key.char);
    if (char === '') return none(state);
    key = { kind: 'char', char };
  }
  // Ctrl-C quits (systemd starts the console again, locked), except mid-apply: the change must finish or roll back first.
  if (key.kind === 'ctrlC') return state.screen.name === 'applying' ? none(state) : { state, effects: [{ type: 'exit' }] };
  if (key.kind === 'f2') return none({ ...state, lang: state.lang === 'fr' ? 'en' : 'fr' });
  switch (state.screen.name) {
    case 'login':
      return loginKey(state, state.screen, key);
    case 'menu':
      return menuKey(state, state.screen, key);
    case 'network':
      return networkKey(state, state.screen, key);
    case 'confirm':
      return confirmKey(state, state.screen, key);
    case 'network-result':
    case 'enrollment':
      return key.kind === 'enter' || key.kind === 'escape' ? withScreen(state, menuScreen(menuIndex(state.screen.name))) : none(state);
    case 'selfcheck':
      return selfcheckKey(state, state.screen, key);
    case 'password':
      return passwordKey(state, state.screen, key);
    case 'applying':
      return none(state);
  }
}

/** Edits a text value with a key; undefined when the key is not an edit. */
function edit(value: string, key: Key, max: number): string | undefined {
  if (key.kind === 'char') return value.length < max ? value + key.char : value;
  if (key.kind === 'backspace') return [...value].slice(0, -1).join('');
  if (key.kind === 'ctrlU') return '';
  return undefined;
}

function loginKey(state: ConsoleState, s: Extract<ScreenState, { name: 'login' }>, key: Key): Step {
  if (s.busy) return none(state);
  const edited = edit(s.input, key, PASSWORD_INPUT_MAX);
  if (edited !== undefined) return withScreen(state, { ...s, input: edited });
  if (key.kind === 'escape') return withScreen(state, { ...s, input: '' });
  if (key.kind !== 'enter') return none(state);
  // While locked out, nothing is checked; the view shows the seconds left.
  if (s.lockedUntil > state.now) return withScreen(state, { ...s, input: '' });
  if (s.input === '') return withScreen(state, { ...s, notice: { kind: 'error', text: (m) => m.loginEmpty } });
  const { notice: _notice, ...rest } = s;
  return withScreen(state, { ...rest, input: '', busy: true, lockedUntil: 0 }, [{ type: 'verify-password', password: s.input }]);
}

function menuIndex(item: MenuItem | 'network-result' | 'enrollment'): number {
  const name = item === 'network-result' ? 'network' : item;
  return Math.max(0, MENU_ITEMS.indexOf(name as MenuItem));
}

function openItem(state: ConsoleState, item: MenuItem): Step {
  switch (item) {
    case 'network':
      return withScreen(state, { name: 'network', loading: true, form: formFromStatus(state.network), focus: 'mode', errors: [] }, [{ type: 'load-network' }]);
    case 'selfcheck':
      return withScreen(state, { name: 'selfcheck', running: true, page: 0 }, [{ type: 'run-selfcheck' }]);
    case 'enrollment':
      return withScreen(state, { name: 'enrollment' }, [{ type: 'load-enrollment' }]);
    case 'password':
      return withScreen(state, { name: 'password', current: '', next: '', confirm: '', focus: 'current', busy: false });
    case 'language':
      return { state: { ...state, lang: state.lang === 'fr' ? 'en' : 'fr', screen: menuScreen(menuIndex('language')) }, effects: [] };
    case 'keyboard':
      return { state: { ...state, layout: nextLayout(state.layout), screen: menuScreen(menuIndex('keyboard')) }, effects: [] };
    case 'lock':
      return withScreen(state, loginScreen({ kind: 'info', text: (m) => m.lockedByUser }));
  }
}

function menuKey(state: ConsoleState, s: Extract<ScreenState, { name: 'menu' }>, key: Key): Step {
  const n = MENU_ITEMS.length;
  if (key.kind === 'up') return withScreen(state, { name: 'menu', index: (s.index + n - 1) % n });
  if (key.kind === 'down' || key.kind === 'tab') return withScreen(state, { name: 'menu', index: (s.index + 1) % n });
  if (key.kind === 'enter') return openItem(state, MENU_ITEMS[s.index] as MenuItem);
  if (key.kind === 'char' && /^[1-9]$/.test(key.char)) {
    const item = MENU_ITEMS[Number(key.char) - 1];
    if (item) return openItem(state, item);
  }
  return none(state);
}

export function networkFocusOrder(form: NetworkFormValues): readonly NetworkFocus[] {
  return form.mode === 'dhcp' ? ['mode', 'apply', 'cancel'] : ['mode', 'address', 'prefix', 'gateway', 'dns', 'apply', 'cancel'];
}

function moveFocus<T>(order: readonly T[], current: T, delta: number): T {
  const i = order.indexOf(current);
  return order[(Math.max(0, i) + delta + order.length) % order.length] as T;
}

function networkKey(state: ConsoleState, s: Extract<ScreenState, { name: 'network' }>, key: Key): Step {
  if (key.kind === 'escape') return withScreen(state, menuScreen(menuIndex('network')));
  if (s.loading) return none(state);
  const order = networkFocusOrder(s.form);
  if (key.kind === 'tab' || key.kind === 'down') return withScreen(state, { ...s, focus: moveFocus(order, s.focus, 1) });
  if (key.kind === 'backTab' || key.kind === 'up') return withScreen(state, { ...s, focus: moveFocus(order, s.focus, -1) });

  if (s.focus === 'mode') {
    const toggle = (key.kind === 'char' && key.char === ' ') || key.kind === 'left' || key.kind === 'right';
    if (toggle) return withScreen(state, { ...s, form: { ...s.form, mode: s.form.mode === 'dhcp' ? 'static' : 'dhcp' }, errors: [] });
    if (key.kind === 'enter') return withScreen(state, { ...s, focus: moveFocus(order, s.focus, 1) });
    return none(state);
  }
  if (s.focus === 'cancel') return key.kind === 'enter' ? withScreen(state, menuScreen(menuIndex('network'))) : none(state);
  if (s.focus === 'apply') {
    if (key.kind !== 'enter') return none(state);
    const result = validateNetworkForm(s.form);
    if (!result.ok) {
      const count = result.errors.length;
      const first = result.errors[0]?.field ?? 'address';
      return withScreen(state, { ...s, errors: result.errors, focus: first, notice: { kind: 'error', text: (m) => m.fixErrors(count) } });
    }
    return withScreen(state, { name: 'applying', settings: result.settings, step: 'writing' }, [{ type: 'apply-network', settings: result.settings }]);
  }
  const field = s.focus;
  const edited = edit(s.form[field], key, FIELD_MAX);
  if (edited !== undefined) {
    const { notice: _notice, ...rest } = s;
    return withScreen(state, { ...rest, form: { ...s.form, [field]: edited }, errors: s.errors.filter((e) => e.field !== field) });
  }
  if (key.kind === 'enter') return withScreen(state, { ...s, focus: moveFocus(order, s.focus, 1) });
  return none(state);
}

function confirmKey(state: ConsoleState, s: Extract<ScreenState, { name: 'confirm' }>, key: Key): Step {
  if (s.busy) return none(state);
  const c = key.kind === 'char' ? key.char.toLowerCase() : '';
  // O (oui) and Y (yes) both keep, whatever the language on screen; Enter does nothing, so a stray key cannot decide.
  if (c === 'o' || c === 'y') return withScreen(state, { ...s, busy: true }, [{ type: 'keep-network' }]);
  if (c === 'n' || key.kind === 'escape') return withScreen(state, { ...s, busy: true }, [{ type: 'revert-network', why: 'declined' }]);
  return none(state);
}

function selfcheckKey(state: ConsoleState, s: Extract<ScreenState, { name: 'selfcheck' }>, key: Key): Step {
  if (key.kind === 'escape' || key.kind === 'enter') return withScreen(state, menuScreen(menuIndex('selfcheck')));
  if (key.kind === 'char' && key.char.toLowerCase() === 'r' && !s.running) {
    return withScreen(state, { name: 'selfcheck', running: true, page: 0 }, [{ type: 'run-selfcheck' }]);
  }
  if (!s.report) return none(state);
  const pages = selfcheckPages(s.report, messagesFor(state.lang)).length;
  const forward = key.kind === 'pageDown' || key.kind === 'down' || (key.kind === 'char' && key.char === ' ');
  const back = key.kind === 'pageUp' || key.kind === 'up';
  if (forward) return withScreen(state, { ...s, page: Math.min(pages - 1, s.page + 1) });
  if (back) return withScreen(state, { ...s, page: Math.max(0, s.page - 1) });
  return none(state);
}

function passwordKey(state: ConsoleState, s: Extract<ScreenState, { name: 'password' }>, key: Key): Step {
  if (s.busy) return none(state);
  if (key.kind === 'escape') return withScreen(state, menuScreen(menuIndex('password')));
  if (key.kind === 'tab' || key.kind === 'down') return withScreen(state, { ...s, focus: moveFocus(PASSWORD_FOCUS, s.focus, 1) });
  if (key.kind === 'backTab' || key.kind === 'up') return withScreen(state, { ...s, focus: moveFocus(PASSWORD_FOCUS, s.focus, -1) });
  if (s.focus === 'cancel') return key.kind === 'enter' ? withScreen(state, menuScreen(menuIndex('password'))) : none(state);
  if (s.focus === 'submit') {
    if (key.kind !== 'enter') return none(state);
    const problem = checkNewPassword(s.current, s.next, s.confirm);
    if (problem) return withScreen(state, { ...s, notice: { kind: 'error', text: problem } });
    const { notice: _notice, ...rest } = s;
    return withScreen(state, { ...rest, current: '', next: '', confirm: '', focus: 'current', busy: true }, [{ type: 'change-password', current: s.current, next: s.next }]);
  }
  const field = s.focus;
  const edited = edit(s[field], key, PASSWORD_INPUT_MAX);
  if (edited !== undefined) return withScreen(state, { ...s, [field]: edited });
  if (key.kind === 'enter') return withScreen(state, { ...s, focus: moveFocus(PASSWORD_FOCUS, s.focus, 1) });
  return none(state);
}

function onResult(state: ConsoleState, event: Exclude<ConsoleEvent, { type: 'key' } | { type: 'tick' }>): Step {
  const s = state.screen;
  switch (event.type) {
    case 'login-checked': {
      if (s.name !== 'login' || !s.busy) return none(state);
      const r = event.result;
      if (r.ok) {
        const next: ConsoleState = { ...state, lastInputAt: state.now, networkReadAt: state.now, screen: menuScreen(0, { kind: 'ok', text: (m) => m.welcome }) };
        return { state: next, effects: [{ type: 'load-network' }] };
      }
      return withScreen(state, loginScreen(failureNotice(r, (m, left) => m.loginWrong(left), (m, d) => m.loginError(d)), r.lockedUntil ?? 0));
    }
    case 'password-changed': {
      if (s.name !== 'password' || !s.busy) return none(state);
      const r = event.result;
      if (r.ok) return withScreen(state, { ...s, busy: false, notice: { kind: 'ok', text: (m) => m.pwChanged } });
      // Wrong current passwords count toward the same lockout as the login screen, and a lockout ends the session.
      if (r.lockedUntil) return withScreen(state, loginScreen(undefined, r.lockedUntil));
      return withScreen(state, { ...s, busy: false, notice: failureNotice(r, (m, left) => m.pwWrongCurrent(left), (m, d) => m.pwChangeFailed(d)) });
    }
    case 'network-loaded': {
      const { networkError: _e, ...rest } = state;
      const next: ConsoleState = { ...rest, network: event.status };
      if (s.name === 'network' && s.loading) return withScreen(next, { ...s, loading: false, form: formFromStatus(event.status) });
      return none(next);
    }
    case 'network-load-failed': {
      const next: ConsoleState = { ...state, networkError: event.detail };
      if (s.name === 'network' && s.loading) {
        return withScreen(next, { ...s, loading: false, notice: { kind: 'error', text: (m) => m.networkLoadFailed(event.detail) } });
      }
      return none(next);
    }
    case 'apply-progress':
      if (s.name !== 'applying') return none(state);
      return withScreen(state, {
        ...s,
        step: event.step,
        ...(event.deadline !== undefined ? { deadline: event.deadline } : {}),
        ...(event.gateway !== undefined ? { gateway: event.gateway } : {}),
      });
    case 'apply-done': {
      if (s.name !== 'applying') return none(state);
      const o = event.outcome;
      if (o.ok) return withScreen(state, { name: 'confirm', settings: s.settings, gateway: o.gateway, deadline: state.now + state.rollbackSeconds * 1000, busy: false });
      const notes: Notice[] = [{ kind: 'error', text: (m) => m.reason(o.reason) }];
      if (!o.changed) notes.push({ kind: 'info', text: (m) => m.nothingChanged });
      else if (o.restored) notes.push({ kind: 'info', text: (m) => m.restored });
      else notes.push({ kind: 'error', text: (m) => m.restoreFailed(o.restoreError ?? '?') });
      return withScreen(state, { name: 'network-result', settings: s.settings, kept: false, notes }, [{ type: 'load-network' }]);
    }
    case 'kept':
      if (s.name !== 'confirm') return none(state);
      return withScreen(state, { name: 'network-result', settings: s.settings, kept: true, notes: [{ kind: 'ok', text: (m) => m.resultKept }] }, [{ type: 'load-network' }]);
    case 'reverted': {
      if (s.name !== 'confirm') return none(state);
      const seconds = state.rollbackSeconds;
      const notes: Notice[] = [{ kind: 'info', text: event.why === 'declined' ? (m) => m.revertDeclined : (m) => m.revertTimeout(seconds) }];
      const o = event.outcome;
      notes.push(o.restored ? { kind: 'info', text: (m) => m.restored } : { kind: 'error', text: (m) => m.restoreFailed(o.restoreError ?? '?') });
      return withScreen(state, { name: 'network-result', settings: s.settings, kept: false, notes }, [{ type: 'load-network' }]);
    }
    case 'selfcheck-done':
      return s.name === 'selfcheck' && s.running ? withScreen(state, { name: 'selfcheck', running: false, report: event.report, page: 0 }) : none(state);
    case 'selfcheck-failed':
      return s.name === 'selfcheck' && s.running ? withScreen(state, { name: 'selfcheck', running: false, error: event.detail, page: 0 }) : none(state);
    case 'enrollment-loaded':
      return s.name === 'enrollment' ? withScreen(state, { name: 'enrollment', status: event.status }) : none(state);
  }
}

function failureNotice(
  r: Extract<PasswordCheck, { ok: false }>,
  wrong: (m: Parameters<Text>[0], left: number) => string,
  failed: (m: Parameters<Text>[0], detail: string) => string,
): Notice | undefined {
  if (r.error !== undefined) {
    const detail = r.error;
    return { kind: 'error', text: (m) => failed(m, detail) };
  }
  if (r.lockedUntil) return undefined;
  const left = r.triesLeft ?? 0;
  return { kind: 'error', text: (m) => wrong(m, left) };
}
