// Draws the console's state as an 80x25 frame: title bar, body, notice, keys. Pure: the terminal adapter only paints.
import { BODY_ROWS, BODY_TOP, clip, HEIGHT, pad, seg, wrap, WIDTH, type Frame, type Line, type Segment, type Style } from './frame.js';
import { messagesFor, type Messages } from './i18n.js';
import type { FieldName } from './network-form.js';
import { MIN_PASSWORD_LENGTH } from './password.js';
import { LAYOUT_NAMES, type Layout } from './layouts.js';
import { MENU_ITEMS, type ConsoleState, type MenuItem, type Notice, type ScreenState } from './state.js';
import { selfcheckPages, selfcheckSummary } from './view-selfcheck.js';

const TEXT_WIDTH = WIDTH - 4;
const LABEL_WIDTH = 14;
const PASSWORD_LABEL_WIDTH = 21;
const BOX_WIDTH = 26;
const MASK_MAX = 40;

type Body = Line[];

const blank: Line = [];
const text = (s: string, style: Style = 'normal'): Line => [seg(`  ${s}`, style)];
const paragraph = (s: string, style: Style = 'normal'): Line[] => wrap(s, TEXT_WIDTH).map((l) => text(l, style));
const noticeStyle = (n: Notice): Style => (n.kind === 'error' ? 'error' : n.kind === 'ok' ? 'ok' : 'bold');

function titleBar(m: Messages): Line {
  const left = ` ${m.title}`;
  const right = `${m.switchLang} `;
  return [seg(pad(left, WIDTH - [...right].length) + right, 'title')];
}

const secondsUntil = (deadline: number, now: number): number => Math.max(0, Math.ceil((deadline - now) / 1000));

function menuLabel(item: MenuItem, m: Messages, layout: Layout): string {
  switch (item) {
    case 'network':
      return m.menuNetwork;
    case 'selfcheck':
      return m.menuSelfcheck;
    case 'enrollment':
      return m.menuEnrollment;
    case 'password':
      return m.menuPassword;
    case 'language':
      return m.languageItem;
    case 'keyboard':
      return m.keyboardItem(LAYOUT_NAMES[layout]);
    case 'lock':
      return m.menuLock;
  }
}

/** One form row: focus marker, error marker, label, boxed value with a caret when focused, hint. */
function fieldRow(label: string, value: string, focused: boolean, bad: boolean, hint = '', labelWidth = LABEL_WIDTH): Line {
  const shown = focused ? `${value}_` : value;
  const tail = [...shown].length > BOX_WIDTH ? [...shown].slice(-BOX_WIDTH).join('') : shown;
  return [
    seg(focused ? '> ' : '  ', focused ? 'bold' : 'normal'),
    seg(bad ? '!' : ' ', 'error'),
    seg(` ${pad(label, labelWidth)} `, bad ? 'error' : 'normal'),
    seg(`[${pad(tail, BOX_WIDTH)}]`, focused ? 'focus' : 'normal'),
    seg(hint ? `  ${hint}` : '', 'dim'),
  ];
}

function buttons(labels: Array<{ label: string; focused: boolean }>): Line {
  const out: Segment[] = [seg('    ')];
  for (const b of labels) {
    out.push(seg(`[ ${b.label} ]`, b.focused ? 'focus' : 'bold'), seg('    '));
  }
  return out;
}

function loginBody(s: Extract<ScreenState, { name: 'login' }>, m: Messages): Body {
  const body: Body = [blank];
  for (const p of m.loginIntro) body.push(...paragraph(p), blank);
  body.push([seg(`  ${m.passwordLabel} : `, 'bold'), seg(`${'*'.repeat(Math.min(MASK_MAX, [...s.input].length))}${s.busy ? '' : '_'}`)]);
  return body;
}

function menuBody(state: ConsoleState, s: Extract<ScreenState, { name: 'menu' }>, m: Messages): Body {
  const summary = state.network ? m.summary(state.network) : state.networkError ? m.networkLoadFailed(state.networkError) : m.summaryLoading;
  const body: Body = [...paragraph(summary, state.network && !state.network.carrier ? 'error' : 'dim'), blank];
  MENU_ITEMS.forEach((item, i) => {
    const focused = i === s.index;
    body.push([seg(focused ? '  > ' : '    ', 'bold'), seg(`${i + 1}. ${menuLabel(item, m, state.layout)}`, focused ? 'focus' : 'normal')]);
  });
  return body;
}

function networkBody(state: ConsoleState, s: Extract<ScreenState, { name: 'network' }>, m: Messages): Body {
  const iface = state.network?.iface ?? '?';
  const body: Body = [text(m.networkTitle(iface), 'bold')];
  body.push(...(state.network ? paragraph(m.summary(state.network), 'dim') : [text(m.summaryLoading, 'dim')]), blank);
  if (s.loading) return body;
  const bad = (f: FieldName): boolean => s.errors.some((e) => e.field === f);
  const modeFocused = s.focus === 'mode';
  body.push([
    seg(modeFocused ? '> ' : '  ', 'bold'),
    seg('  '),
    seg(`${pad(m.fieldMode, LABEL_WIDTH)} `),
    seg(`< ${pad(s.form.mode === 'dhcp' ? m.modeDhcp : m.modeStatic, BOX_WIDTH - 4)} >`, modeFocused ? 'focus' : 'normal'),
    seg(`  ${m.modeHint}`, 'dim'),
  ]);
  if (s.form.mode === 'static') {
    body.push(fieldRow(m.fieldAddress, s.form.address, s.focus === 'address', bad('address')));
    body.push(fieldRow(m.fieldPrefix, s.form.prefix, s.focus === 'prefix', bad('prefix'), m.prefixHint));
    body.push(fieldRow(m.fieldGateway, s.form.gateway, s.focus === 'gateway', bad('gateway')));
    body.push(fieldRow(m.fieldDns, s.form.dns, s.focus === 'dns', bad('dns'), m.dnsHint));
  }
  body.push(blank, buttons([{ label: m.apply, focused: s.focus === 'apply' }, { label: m.cancel, focused: s.focus === 'cancel' }]), blank);
  for (const e of s.errors) body.push(...paragraph(e.text(m), 'error'));
  // Where the set-up goes, on the body's last row when the errors leave room for it.
  const note = state.network ? wrap(m.fileNote(state.network.filePath, state.network.applyWith), TEXT_WIDTH) : [];
  if (note.length > 0 && body.length + note.length <= BODY_ROWS) {
    while (body.length < BODY_ROWS - note.length) body.push(blank);
    body.push(...note.map((l) => text(l, 'dim')));
  }
  return body;
}

function applyingBody(state: ConsoleState, s: Extract<ScreenState, { name: 'applying' }>, m: Messages): Body {
  const steps = ['writing', 'applying', 'checking'] as const;
  const current = s.step === 'restoring' ? steps.length : steps.indexOf(s.step);
  const how = state.network?.applyWith ?? 'networkd';
  const labels = [m.stepWriting(state.network?.filePath ?? '.network'), m.stepApplying(how), m.stepChecking(s.gateway)];
  const body: Body = [text(m.applyingTitle, 'bold'), ...paragraph(m.settings(s.settings)), blank];
  steps.forEach((_step, i) => {
    const mark = i < current ? '[x]' : i === current ? '[>]' : '[ ]';
    const left = i === 2 && i === current && s.deadline !== undefined ? ` (${m.secondsLeft(secondsUntil(s.deadline, state.now))})` : '';
    body.push(text(`${mark} ${labels[i]}${left}`, i === current ? 'bold' : i < current ? 'ok' : 'dim'));
  });
  if (s.step === 'restoring') body.push(text(`[>] ${m.stepRestoring}`, 'warn'));
  body.push(blank, ...paragraph(m.doNotUnplug, 'dim'));
  return body;
}

function confirmBody(state: ConsoleState, s: Extract<ScreenState, { name: 'confirm' }>, m: Messages): Body {
  return [
    text(m.confirmTitle, 'bold'),
    ...paragraph(m.settings(s.settings)),
    blank,
    text(m.gatewayAnswers(s.gateway), 'ok'),
    blank,
    text(m.keepQuestion, 'bold'),
    blank,
    ...paragraph(m.autoRevert(secondsUntil(s.deadline, state.now)), 'warn'),
  ];
}

function resultBody(s: Extract<ScreenState, { name: 'network-result' }>, m: Messages): Body {
  const body: Body = [text(s.kept ? m.resultKept : m.resultNotKept, s.kept ? 'ok' : 'error'), ...paragraph(m.settings(s.settings)), blank];
  for (const n of s.notes) if (!(s.kept && n.kind === 'ok')) body.push(...paragraph(n.text(m), noticeStyle(n)), blank);
  return body;
}

function selfcheckBody(state: ConsoleState, s: Extract<ScreenState, { name: 'selfcheck' }>, m: Messages): Body {
  if (s.running) return [text(m.selfcheckTitle, 'bold'), blank, ...paragraph(m.selfcheckRunning)];
  if (!s.report) return [text(m.selfcheckTitle, 'bold'), blank, ...paragraph(m.selfcheckFailed(s.error ?? '?'), 'error')];
  const pages = selfcheckPages(s.report, m);
  const page = Math.min(s.page, pages.length - 1);
  const pageText = m.page(page + 1, pages.length);
  const status = s.report.status === 'ok' ? 'ok' : s.report.status === 'warn' ? 'warn' : 'error';
  return [
    [seg(`  ${pad(m.selfcheckTitle, TEXT_WIDTH - pageText.length)}`, 'bold'), seg(pageText, 'dim')],
    text(selfcheckSummary(s.report, m), status),
    blank,
    ...(pages[page] ?? []),
  ];
}

function enrollmentBody(s: Extract<ScreenState, { name: 'enrollment' }>, m: Messages): Body {
  const body: Body = [text(m.enrollmentTitle, 'bold'), blank];
  const st = s.status;
  if (!st) return [...body, text(m.loading, 'dim')];
  if (st.state === 'not-enrolled') return [...body, text(m.notEnrolled, 'warn'), blank, ...paragraph(m.notEnrolledHelp)];
  if (st.state === 'unreadable') return [...body, ...paragraph(m.enrollmentUnreadable(st.detail), 'error')];
  body.push(text(m.enrolled, 'ok'), blank, text(`${pad(m.deviceId, 26)} ${st.deviceId}`));
  if (st.fleetUrl) body.push(text(`${pad(m.fleetUrl, 26)} ${st.fleetUrl}`));
  if (st.enrolledAt) body.push(text(`${pad(m.enrolledAt, 26)} ${st.enrolledAt}`));
  return body;
}

function passwordBody(s: Extract<ScreenState, { name: 'password' }>, m: Messages): Body {
  const mask = (v: string): string => '*'.repeat(Math.min(MASK_MAX, [...v].length));
  return [
    text(m.passwordTitle, 'bold'),
    ...paragraph(m.passwordRules(MIN_PASSWORD_LENGTH), 'dim'),
    blank,
    fieldRow(m.currentPassword, mask(s.current), s.focus === 'current', false, '', PASSWORD_LABEL_WIDTH),
    fieldRow(m.newPassword, mask(s.next), s.focus === 'next', false, '', PASSWORD_LABEL_WIDTH),
    fieldRow(m.confirmPassword, mask(s.confirm), s.focus === 'confirm', false, '', PASSWORD_LABEL_WIDTH),
    blank,
    buttons([{ label: m.change, focused: s.focus === 'submit' }, { label: m.cancel, focused: s.focus === 'cancel' }]),
  ];
}

function keysOf(screen: ScreenState, m: Messages): string {
  switch (screen.name) {
    case 'login':
      return m.keysLogin;
    case 'menu':
      return m.keysMenu;
    case 'network':
    case 'password':
      return m.keysForm;
    case 'applying':
      return m.keysWait;
    case 'confirm':
      return screen.busy ? m.keysWait : m.keysConfirm;
    case 'selfcheck':
      return m.keysSelfcheck;
    case 'network-result':
    case 'enrollment':
      return m.keysBack;
  }
}

function noticeOf(state: ConsoleState, m: Messages): { text: string; style: Style } | undefined {
  const s = state.screen;
  if (s.name === 'login') {
    if (s.busy) return { text: m.checking, style: 'bold' };
    if (s.lockedUntil > state.now) return { text: m.loginLocked(secondsUntil(s.lockedUntil, state.now)), style: 'error' };
  }
  if ((s.name === 'confirm' && s.busy) || (s.name === 'password' && s.busy)) return { text: m.working, style: 'bold' };
  if ('notice' in s && s.notice) return { text: s.notice.text(m), style: noticeStyle(s.notice) };
  return undefined;
}

function bodyOf(state: ConsoleState, m: Messages): Body {
  const s = state.screen;
  switch (s.name) {
    case 'login':
      return loginBody(s, m);
    case 'menu':
      return menuBody(state, s, m);
    case 'network':
      return networkBody(state, s, m);
    case 'applying':
      return applyingBody(state, s, m);
    case 'confirm':
      return confirmBody(state, s, m);
    case 'network-result':
      return resultBody(s, m);
    case 'selfcheck':
      return selfcheckBody(state, s, m);
    case 'enrollment':
      return enrollmentBody(s, m);
    case 'password':
      return passwordBody(s, m);
  }
}

/** The whole screen for a state: always HEIGHT lines, none wider than WIDTH. */
export function renderFrame(state: ConsoleState): Frame {
  const m = messagesFor(state.lang);
  const rows: Line[] = Array.from({ length: HEIGHT }, () => blank);
  rows[0] = titleBar(m);
  bodyOf(state, m)
    .slice(0, BODY_ROWS)
    .forEach((line, i) => (rows[BODY_TOP + i] = line));
  const notice = noticeOf(state, m);
  if (notice) {
    wrap(notice.text, WIDTH - 2)
      .slice(0, 2)
      .forEach((l, i) => (rows[BODY_TOP + BODY_ROWS + i] = [seg(` ${l}`, notice.style)]));
  }
  rows[HEIGHT - 1] = [seg(` ${keysOf(state.screen, m)}`, 'dim')];
  return rows.map((l) => clip(l));
}
