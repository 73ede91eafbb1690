// Pure: the dealer letter as a self-contained HTML page (inline CSS, no script, no external asset, a CSP that loads
// nothing; black on white for printing on A4) and as plain text (76 columns). Every value from the input is
// HTML-escaped, and every message too: messages hold no markup.
import { ErrorCode, LineError } from '../errors.js';
import { formatLetterDate, letterMessages, type Inline, type LetterLang, type LetterMessages, type Sentence } from './messages.js';
import { PASSWORD_PATTERN } from './password.js';

export interface LetterInput {
  readonly lang: LetterLang;
  readonly dealerCode: string;
  readonly site: string;
  readonly contactEmail: string | null;
  readonly serial: string;
  readonly unitId: string;
  /** The temporary console password, printed here and nowhere else. */
  readonly password: string;
  /** ISO 8601 date-time of production; the letter shows its calendar day as written. */
  readonly producedAt: string;
  /** A phone number, an address or a URL for help, printed as given. */
  readonly supportContact?: string;
}

export interface RenderedLetter {
  readonly html: string;
  readonly text: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Control characters and line breaks become spaces, bidirectional overrides and zero-width characters go, runs of spaces fold: a field stays one honest line. */
export function oneLine(s: string): string {
  const chars = [...s.normalize('NFC').replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '')];
  return chars
    .map((ch) => (isControl(ch) ? ' ' : ch))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** C0 and C1 control characters, DEL, and the Unicode line and paragraph separators. */
function isControl(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029;
}

function invalid(what: string): LineError {
  return new LineError(ErrorCode.INTERNAL, `cannot write the dealer letter: ${what}`);
}

function plain(sentence: Sentence): string {
  return sentence.map((part) => (typeof part === 'string' ? part : part.code)).join('');
}

/** French typography for the HTML page: a no-break space before : ; ! ? » and after «, so they never start a line. */
function typography(text: string, lang: LetterLang): string {
  return lang === 'fr' ? text.replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0') : text;
}

function htmlInline(part: Inline, lang: LetterLang): string {
  return typeof part === 'string' ? escapeHtml(typography(part, lang)) : `<code>${escapeHtml(part.code)}</code>`;
}

function htmlSentence(sentence: Sentence, lang: LetterLang): string {
  return sentence.map((p) => htmlInline(p, lang)).join('');
}

const CSS = `
@page { size: A4; margin: 12mm 16mm; }
* { box-sizing: border-box; }
html { color: #000; background: #fff; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10pt; line-height: 1.32;
  max-width: 174mm; margin: 0 auto; padding: 10mm 6mm; }
@media print { body { max-width: none; padding: 0; } }
h1 { font-size: 15pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 0 0 1.5mm; }
p { margin: 0 0 1.5mm; }
section { margin: 0 0 4.5mm; break-inside: avoid; page-break-inside: avoid; }
.confidential { font-weight: bold; text-transform: uppercase; letter-spacing: .04em; border-bottom: 2px solid #000;
  padding-bottom: 1.5mm; margin-bottom: 4.5mm; }
table.facts { border-collapse: collapse; }
table.facts th { text-align: left; font-weight: normal; padding: .4mm 6mm .4mm 0; vertical-align: top; white-space: nowrap; }
table.facts td { padding: .4mm 0; font-weight: bold; overflow-wrap: anywhere; }
ol { margin: 0; padding-left: 7mm; }
li { margin-bottom: 1mm; }
code, .password { font-family: "DejaVu Sans Mono", "Liberation Mono", Consolas, Menlo, "Courier New", monospace;
  font-variant-ligatures: none; font-variant-numeric: slashed-zero; }
.password { display: inline-block; font-size: 20pt; font-weight: bold; letter-spacing: .14em; border: 2.5px solid #000;
  border-radius: 2mm; padding: 2.5mm 6mm; margin: 1mm 0 2.5mm; white-space: nowrap; user-select: all; }
.security { border: 1.5px solid #000; padding: 3mm 5mm 2mm; margin-right: 1px; }
.security ul { margin: 0; padding-left: 5mm; }
`;

function renderHtml(m: LetterMessages, password: string): string {
  const { lang } = m;
  const facts = m.fields.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  const para = (s: Sentence): string => `<p>${htmlSentence(s, lang)}</p>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(m.documentTitle)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(typography(m.title, lang))}</h1>
<p class="confidential">${escapeHtml(typography(m.confidential, lang))}</p>
<section>
<h2>${escapeHtml(m.recipientTitle)}</h2>
<table class="facts">
${facts}
</table>
</section>
<section>
${m.intro.map(para).join('\n')}
</section>
<section>
<h2>${escapeHtml(m.installTitle)}</h2>
<ol>
${m.steps.map((s) => `<li>${htmlSentence(s, lang)}</li>`).join('\n')}
</ol>
</section>
<section>
<h2>${escapeHtml(m.passwordTitle)}</h2>
<div class="password" translate="no" spellcheck="false">${escapeHtml(password)}</div>
${m.passwordHint.map(para).join('\n')}
</section>
<section class="security">
<h2>${escapeHtml(m.securityTitle)}</h2>
<ul>
${m.security.map((s) => `<li>${htmlSentence(s, lang)}</li>`).join('\n')}
</ul>
</section>
${m.support ? `<p>${htmlSentence(m.support, lang)}</p>\n` : ''}</body>
</html>
`;
}

const TEXT_WIDTH = 76;

/** Greedy word wrap at `width` columns (code points); `first` prefixes the first line, `rest` the others. */
export function wrapText(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = empty ? line + word : `${line} ${word}`;
    if (!empty && [...candidate].length > width) {
      lines.push(line);
      line = rest + word;
    } else {
      line = candidate;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

function renderText(m: LetterMessages, password: string): string {
  const colon = m.lang === 'fr' ? ' : ' : ': ';
  const labelWidth = Math.max(...m.fields.map(([k]) => [...k].length + colon.trimEnd().length));
  const out: string[] = [];
  const underline = (s: string, c: string): string => c.repeat(Math.min(TEXT_WIDTH, [...s].length));
  const heading = (s: string): void => {
    out.push('', s, underline(s, '-'));
  };
  const title = wrapText(m.title, TEXT_WIDTH);
  out.push(...title, underline(title[title.length - 1]!, '='), ...wrapText(m.confidential.toUpperCase(), TEXT_WIDTH));
  heading(m.recipientTitle);
  for (const [k, v] of m.fields) {
    const label = `${k}${colon.trimEnd()}`.padEnd(labelWidth + 1);
    out.push(...wrapText(v, TEXT_WIDTH, `  ${label}`, ' '.repeat(labelWidth + 3)));
  }
  out.push('');
  m.intro.forEach((s, i) => out.push(...(i > 0 ? [''] : []), ...wrapText(plain(s), TEXT_WIDTH)));
  heading(m.installTitle);
  m.steps.forEach((s, i) => {
    const number = `${String(i + 1).padStart(2)}. `;
    out.push(...wrapText(plain(s), TEXT_WIDTH, number, ' '.repeat(number.length)));
  });
  heading(m.passwordTitle);
  const bar = `+${'-'.repeat([...password].length + 2)}+`;
  out.push(`    ${bar}`, `    | ${password} |`, `    ${bar}`, '');
  for (const s of m.passwordHint) out.push(...wrapText(plain(s), TEXT_WIDTH, '  '));
  heading(m.securityTitle);
  for (const s of m.security) out.push(...wrapText(plain(s), TEXT_WIDTH, ' - ', '   '));
  if (m.support) out.push('', ...wrapText(plain(m.support), TEXT_WIDTH));
  return `${out.map((l) => l.trimEnd()).join('\n')}\n`;
}

/** The dealer letter of one unit, as HTML and as plain text. */
export function renderDealerLetter(input: LetterInput): RenderedLetter {
  if (input.lang !== 'fr' && input.lang !== 'en') throw invalid(`language ${JSON.stringify(input.lang)} is not fr or en`);
  const password = input.password.normalize('NFC');
  if (password === '' || [...password].some((ch) => isControl(ch) || /\s/.test(ch))) throw invalid('the password is empty or holds spaces or control characters');
  const producedOn = formatLetterDate(input.producedAt, input.lang);
  if (producedOn === null) throw invalid(`the production time is not an ISO 8601 date: ${JSON.stringify(input.producedAt)}`);
  const serial = oneLine(input.serial);
  const unitId = oneLine(input.unitId);
  if (serial === '' || unitId === '') throw invalid('the serial and the unit id must not be empty');
  const contact = input.contactEmail === null ? '' : oneLine(input.contactEmail);
  const support = input.supportContact === undefined ? '' : oneLine(input.supportContact);
  const m = letterMessages(input.lang, {
    dealerCode: oneLine(input.dealerCode),
    site: oneLine(input.site),
    contactEmail: contact === '' ? null : contact,
    serial,
    unitId,
    producedOn,
    supportContact: support === '' ? null : support,
    generatedForm: PASSWORD_PATTERN.test(password),
  });
  return { html: renderHtml(m, password), text: renderText(m, password) };
}
