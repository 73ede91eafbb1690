// The self-check report as pages of screen lines: problems first, each with its remediation sentence, wrapped to 80 columns.
import type { CheckStatus, SelfcheckReport } from '../selfcheck/index.js';
import { BODY_ROWS, pad, seg, wrap, WIDTH, type Line, type Style } from './frame.js';
import type { Messages } from './i18n.js';

/** Rows of results per page: the body less the title and summary lines and one blank. */
export const SELFCHECK_PAGE_ROWS = BODY_ROWS - 3;
/** Two spaces, the status padded to 6 (ALERTE), one space. */
const INDENT = 9;
const STYLE: Record<CheckStatus, Style> = { ok: 'ok', warn: 'warn', fail: 'error' };
const ORDER: Record<CheckStatus, number> = { fail: 0, warn: 1, ok: 2 };

/** Every line of the report, each result kept whole on one page when it fits. */
function resultBlocks(report: SelfcheckReport, m: Messages): Line[][] {
  const results = [...report.results].sort((a, b) => ORDER[a.status] - ORDER[b.status]);
  const blocks: Line[][] = [];
  for (const r of results) {
    const head = `${r.kind} ${r.target} ${r.reason} ${Math.round(r.latencyMs)} ms`;
    const [first = '', ...more] = wrap(head, WIDTH - INDENT);
    const block: Line[] = [[seg('  '), seg(pad(m.statusLabel[r.status], INDENT - 3), STYLE[r.status]), seg(' '), seg(first)]];
    for (const l of more) block.push([seg(' '.repeat(INDENT)), seg(l)]);
    const fix = r.remediation?.[m.lang];
    if (fix) for (const l of wrap(fix, WIDTH - INDENT)) block.push([seg(' '.repeat(INDENT)), seg(l, 'dim')]);
    blocks.push(block);
  }
  if (report.counts.warn + report.counts.fail === 0) blocks.unshift([[seg(m.allGood, 'ok')]]);
  return blocks;
}

/** The report cut into pages of SELFCHECK_PAGE_ROWS lines; always at least one page. */
export function selfcheckPages(report: SelfcheckReport, m: Messages): Line[][] {
  const pages: Line[][] = [];
  let page: Line[] = [];
  for (const block of resultBlocks(report, m)) {
    if (page.length > 0 && page.length + block.length > SELFCHECK_PAGE_ROWS) {
      pages.push(page);
      page = [];
    }
    for (const line of block) {
      if (page.length === SELFCHECK_PAGE_ROWS) {
        pages.push(page);
        page = [];
      }
      page.push(line);
    }
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  return pages;
}

export function selfcheckSummary(report: SelfcheckReport, m: Messages): string {
  const c = report.counts;
  const seconds = ((report.finishedAt - report.startedAt) / 1000).toFixed(1);
  return m.selfcheckSummary(m.statusLabel[report.status], c.ok, c.warn, c.fail, seconds);
}
