// The dealer letter (pure): both languages carry the password, the serial and the right sentences; every field is
// HTML-escaped; the page loads nothing; the text version is readable at 76 columns.
import t from 'tap';
import { escapeHtml, formatLetterDate, oneLine, renderDealerLetter, wrapText, type LetterInput } from '../../../provisioning/src/letter/index.js';

const INPUT: LetterInput = {
  lang: 'fr',
  dealerCode: 'FR-75012-0042',
  site: 'Concession Lyon-Sud – Vénissieux',
  contactEmail: 'atelier@example.fr',
  serial: 'PSV-2026-000123',
  unitId: '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10',
  password: 'bcdfghjknprstuvx',
  producedAt: '2026-01-15T10:20:30+01:00',
  supportContact: '+33 1 23 45 67 89',
};

/** The HTML's text with tags removed and entities and no-break spaces turned back, for sentence checks. */
function visible(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\u00a0/g, ' ')
    .replace(/\s+/g, ' ');
}

const FRENCH = [
  'Code de la concession',
  'Numéro de série du boîtier',
  'Branchez le boîtier sur le réseau local de la concession',
  'Pour le premier démarrage, branchez-y un écran et un clavier.',
  "il démarre et affiche sa console à l'écran",
  'Connectez-vous avec le mot de passe temporaire ci-dessous.',
  'réglez le réseau dans la rubrique « Réseau (DHCP ou adresse fixe) » : DHCP ou adresse fixe',
  'Changez le mot de passe dans la rubrique « Changer le mot de passe du boîtier »',
  'il télécharge les paquets pendant la nuit',
  "La page d'état, http://<adresse du boîtier>:8080/, ouverte depuis un poste du réseau local, indique quand le boîtier est prêt.",
  'Mot de passe temporaire de la console',
  'Il compte 16 lettres, sans espace ni tiret.',
  "Gardez ce courrier confidentiel : ce mot de passe n'existe que sur ce courrier.",
  'Il ouvre uniquement la console locale du boîtier',
  'Changez-le dès la première connexion.',
  'Détruisez ce courrier une fois le mot de passe changé.',
  'Assistance : +33 1 23 45 67 89',
  '15 janvier 2026',
];

const ENGLISH = [
  'Dealer code',
  'Box serial number',
  "Connect the box to the dealership's local network",
  'For the first start, plug a screen and a keyboard into it.',
  'it starts and shows its console on the screen',
  'Log in with the temporary password below.',
  'set the network in the "Network (DHCP or fixed address)" item: DHCP or a fixed (static) address',
  `Change the password in the "Change the box's password" item`,
  'it downloads the packages overnight',
  "The status page, http://<the box's address>:8080/, opened from a computer on the local network, shows when the box is ready.",
  'Temporary console password',
  'It has 16 letters, with no space or hyphen.',
  'Keep this letter confidential: this password exists only in this letter.',
  "It only opens the box's local console",
  'Change it at your first login.',
  'Destroy this letter once the password is changed.',
  'Support: +33 1 23 45 67 89',
  '15 January 2026',
];

for (const [lang, sentences, other] of [['fr', FRENCH, ENGLISH], ['en', ENGLISH, FRENCH]] as const) {
  t.test(`${lang}: the password, the unit and the right sentences, in both versions`, async (t) => {
    const { html, text } = renderDealerLetter({ ...INPUT, lang });
    const shown = visible(html);
    const flat = text.replace(/\s+/g, ' ');
    t.match(html, new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
    for (const version of [shown, flat]) {
      for (const value of [INPUT.password, INPUT.serial, INPUT.unitId, INPUT.dealerCode, INPUT.site, 'atelier@example.fr']) t.ok(version.includes(value), value);
      for (const s of sentences) t.ok(version.includes(s), s);
      t.notOk(version.includes(other[1]!), `no ${other === FRENCH ? 'French' : 'English'} in it`);
    }
    t.match(html, /<div class="password"[^>]*>bcdfghjknprstuvx<\/div>/, 'the password in its own box');
    t.match(text, /\n {4}\+-{18}\+\n {4}\| bcdfghjknprstuvx \|\n {4}\+-{18}\+\n/, 'the password in a text box');
  });
}

t.test('every field is HTML-escaped: a <script> site name is text, not markup', async (t) => {
  const hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
  const { html, text } = renderDealerLetter({
    ...INPUT,
    site: hostile,
    dealerCode: `'"><b>dc`,
    contactEmail: '<a href="http://evil">mail</a>',
    serial: 'S<1>',
    unitId: 'u&1',
    supportContact: '</p><script>x</script>',
    password: 'p<w>"&\'x',
  });
  t.notMatch(html, /<script/i);
  t.notMatch(html, /<img|<a |<b>|onerror=alert\(1\)>/);
  t.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'));
  t.ok(html.includes('&#39;&quot;&gt;&lt;b&gt;dc'));
  t.ok(html.includes('S&lt;1&gt;') && html.includes('u&amp;1'));
  t.ok(html.includes('p&lt;w&gt;&quot;&amp;&#39;x'), 'the password too');
  t.ok(html.includes('<title>plugsrv - mise en service du boîtier S&lt;1&gt;</title>'), 'the title too');
  t.ok(text.replace(/\s+/g, ' ').includes(hostile), 'the text version shows it as it is');
  t.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
});

t.test('self-contained: inline CSS, no script, nothing loaded, a CSP that loads nothing', async (t) => {
  const { html } = renderDealerLetter(INPUT);
  t.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  t.match(html, /<meta charset="utf-8">/);
  t.match(html, /<style>[\s\S]*@page \{ size: A4;[\s\S]*<\/style>/);
  t.notMatch(html, /<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
  t.match(html, /\.password \{[^}]*font-family: "DejaVu Sans Mono"/, 'a monospace box for the password');
  t.match(html, /slashed-zero/);
});

t.test('French typography: no-break spaces before the colon and inside guillemets (HTML only)', async (t) => {
  const { html, text } = renderDealerLetter(INPUT);
  t.ok(html.includes('Sécurité'));
  t.ok(html.includes('sans chiffre\u00a0: aucune'));
  t.ok(html.includes('«\u00a0Réseau (DHCP ou adresse fixe)\u00a0»'));
  t.notOk(text.includes('\u00a0'), 'plain spaces in the text version');
  const en = renderDealerLetter({ ...INPUT, lang: 'en' }).html;
  t.notOk(en.replace(/<style>[\s\S]*<\/style>/, '').includes('\u00a0'));
});

t.test('optional lines: no contact, no support', async (t) => {
  const { html, text } = renderDealerLetter({ ...INPUT, contactEmail: null, supportContact: undefined });
  t.notOk(text.includes('Contact'));
  t.notOk(text.includes('Assistance'));
  t.notOk(html.includes('Contact'));
  const blank = renderDealerLetter({ ...INPUT, contactEmail: '  ', supportContact: '' });
  t.notOk(blank.text.includes('Contact') || blank.text.includes('Assistance'));
});

t.test('the reading hint follows the password: precise for a generated one, generic otherwise', async (t) => {
  t.ok(renderDealerLetter({ ...INPUT, lang: 'en' }).text.includes('lowercase letters only'));
  const other = renderDealerLetter({ ...INPUT, lang: 'en', password: 'Xy7-given-By-Hand' }).text;
  t.notOk(other.includes('lowercase letters only'));
  t.ok(other.includes('Type it exactly as printed'));
  t.ok(renderDealerLetter({ ...INPUT, password: 'Xy7-given-By-Hand' }).text.includes('Saisissez-le exactement'));
});

t.test('the text version keeps to 76 columns, fields aligned', async (t) => {
  const { text } = renderDealerLetter({ ...INPUT, site: `${'Concession du Grand Lyon '.repeat(6)}fin` });
  for (const line of text.split('\n')) t.ok([...line].length <= 76, `${[...line].length}: ${line}`);
  t.match(text, /\n {2}Code de la concession :\s+FR-75012-0042\n/);
  t.match(text, /\n {2}Site :\s+Concession du Grand Lyon/);
  t.ok(text.endsWith('\n') && !text.endsWith('\n\n'));
});

t.test('fields are one line each: controls and bidirectional overrides cannot rearrange the letter', async (t) => {
  t.equal(oneLine(' a\nb\r\n\tc\u0000d \u202eevil\u200b '), 'a b c d evil');
  const { text } = renderDealerLetter({ ...INPUT, site: 'Site\nMot de passe : 1234' });
  t.match(text, /Site : {2,}Site Mot de passe : 1234\n/);
  t.same(wrapText('aa bb cc', 5, '> ', '  '), ['> aa', '  bb', '  cc']);
});

t.test('dates: the calendar day as written, French "1er"', async (t) => {
  t.equal(formatLetterDate('2026-01-01T00:30:00+01:00', 'fr'), '1er janvier 2026');
  t.equal(formatLetterDate('2026-08-15', 'fr'), '15 août 2026');
  t.equal(formatLetterDate('2026-12-31T23:59:59-10:00', 'en'), '31 December 2026');
  t.equal(formatLetterDate('31/12/2026', 'en'), null);
  t.equal(formatLetterDate('2026-13-01', 'en'), null);
});

t.test('refused: no password, a password with spaces, a bad date, an unknown language, no serial', async (t) => {
  t.throws(() => renderDealerLetter({ ...INPUT, password: '' }), { code: 'E_INTERNAL', message: /password/ });
  t.throws(() => renderDealerLetter({ ...INPUT, password: 'two words' }), { code: 'E_INTERNAL' });
  t.throws(() => renderDealerLetter({ ...INPUT, password: 'tab\there' }), { code: 'E_INTERNAL' });
  t.throws(() => renderDealerLetter({ ...INPUT, producedAt: 'tomorrow' }), { code: 'E_INTERNAL', message: /ISO 8601/ });
  t.throws(() => renderDealerLetter({ ...INPUT, lang: 'de' as 'fr' }), { code: 'E_INTERNAL', message: /language/ });
  t.throws(() => renderDealerLetter({ ...INPUT, serial: ' \n ' }), { code: 'E_INTERNAL' });
});
