// Drawing: 80x25 whatever the content, text wrapped at words, long values scrolled in their box, styles carried.
import t from 'tap';
import { frameText, HEIGHT, initialState, lineText, renderFrame, selfcheckPages, SELFCHECK_PAGE_ROWS, MESSAGES, WIDTH, type ConsoleState } from '../../../agent/src/console/index.js';
import { clip, wrap } from '../../../agent/src/console/frame.js';

const T0 = 1_750_000_000_000;
const base = initialState({ lang: 'fr', now: T0, rollbackSeconds: 30 });

/** The assertions a helper needs from whichever test it runs in. */
type Asserts = Pick<typeof t, 'equal' | 'ok'>;

function fits(t: Asserts, state: ConsoleState): string {
  const frame = renderFrame(state);
  t.equal(frame.length, HEIGHT);
  for (const line of frame) t.ok([...lineText(line)].length <= WIDTH, lineText(line));
  return frameText(frame);
}

t.test('wrap and clip', async (t) => {
  t.same(wrap('un deux trois quatre', 9), ['un deux', 'trois', 'quatre']);
  t.same(wrap('abcdefghij klm', 4), ['abcd', 'efgh', 'ij', 'klm'], 'a word longer than the line is cut');
  t.same(wrap('  ', 10), []);
  t.same(clip([{ text: 'abcdef', style: 'bold' }, { text: 'ghij', style: 'normal' }], 8), [{ text: 'abcdef', style: 'bold' }, { text: 'gh', style: 'normal' }]);
});

t.test('title bar and keys line', async (t) => {
  const frame = renderFrame(base);
  t.equal(lineText(frame[0] ?? []).length, WIDTH, 'the title bar spans the width');
  t.match(lineText(frame[0] ?? []), /^ plugsrv - console du boîtier +F2 : English $/);
  t.equal(frame[0]?.[0]?.style, 'title');
  t.equal(lineText(frame[HEIGHT - 1] ?? []), ' Entrée : valider');
  const en = renderFrame({ ...base, lang: 'en' });
  t.match(lineText(en[0] ?? []), /^ plugsrv - box console +F2: Français $/);
});

t.test('long content stays inside 80x25', async (t) => {
  const network = {
    iface: 'enp0s31f6.100',
    carrier: false,
    addresses: ['192.168.100.200/24', '10.200.200.200/16', '172.16.254.254/12'],
    gateway: '192.168.100.254',
    applyWith: 'iproute2' as const,
    filePath: '/etc/systemd/network/10-plugsrv-enp0s31f6.100.network',
  };
  const long = '255.255.255.255, 255.255.255.255, 255.255.255.255, 255.255.255.255';
  const text = fits(t, {
    ...base,
    network,
    screen: {
      name: 'network',
      loading: false,
      form: { mode: 'static', address: long, prefix: long, gateway: long, dns: long },
      focus: 'dns',
      errors: ['address', 'prefix', 'gateway', 'dns', 'dns', 'dns'].map((field) => ({ field: field as 'dns', text: () => `${field}: ${'very long explanation '.repeat(8)}` })),
      notice: { kind: 'error', text: () => 'notice '.repeat(40) },
    },
  });
  t.match(text, /\[\.255\.255, 255\.255\.255\.255_\]/, 'the box shows the end of a long value, caret included');
  t.match(text, /LIEN COUPÉ/, 'a link down is said on the summary');
  fits(t, { ...base, network, screen: { name: 'menu', index: 3 } });
  fits(t, { ...base, lang: 'en', network, screen: { name: 'applying', settings: { mode: 'static', address: '192.168.100.200', prefix: 24, gateway: '192.168.100.254', dns: ['1.1.1.1', '8.8.8.8', '9.9.9.9'] }, step: 'restoring', deadline: T0 + 5000, gateway: '192.168.100.254' } });
});

t.test('self-check pages hold whole results and everything appears once', async (t) => {
  const results = Array.from({ length: 40 }, (_, i) => ({
    id: `dns:h${i}`,
    kind: 'dns' as const,
    target: `a-rather-long-host-name-number-${i}.cdn.example.com/dns`,
    status: (i % 3 === 0 ? 'ok' : i % 3 === 1 ? 'warn' : 'fail') as 'ok' | 'warn' | 'fail',
    latencyMs: i,
    reason: i % 3 === 0 ? 'ok' : 'timeout',
    evidence: {},
    ...(i % 3 === 0 ? {} : { remediation: { fr: `Corrigez ${i} `.repeat(12), en: `Fix ${i} `.repeat(12) } }),
  }));
  const report = { status: 'fail' as const, startedAt: 0, finishedAt: 1000, counts: { ok: 14, warn: 13, fail: 13 }, results };
  const pages = selfcheckPages(report, MESSAGES.en);
  t.ok(pages.length > 3);
  for (const page of pages) {
    t.ok(page.length <= SELFCHECK_PAGE_ROWS);
    t.ok(/^ {2}(OK|WARN|FAIL) /.test(lineText(page[0] ?? [])), 'a page starts with a result, not the middle of one');
  }
  const all = pages.flat().map(lineText).join('\n');
  for (let i = 0; i < 40; i++) t.equal(all.split(`number-${i}.cdn`).length - 1, 1, `result ${i} once`);
  t.ok(all.indexOf('FAIL') < all.indexOf('WARN') && all.indexOf('WARN') < all.indexOf('  OK '), 'failures, then warnings, then the rest');
  for (let page = 0; page < pages.length; page++) fits(t, { ...base, lang: 'en', screen: { name: 'selfcheck', running: false, report, page } });
  const ok = { status: 'ok' as const, startedAt: 0, finishedAt: 1, counts: { ok: 1, warn: 0, fail: 0 }, results: [results[0] as (typeof results)[number]] };
  t.match(lineText(selfcheckPages(ok, MESSAGES.fr)[0]?.[0] ?? []), 'Tout est conforme');
});
