// Renders a self-check report for a person: an aligned table, then what to fix, in French or English.
import type { CheckStatus } from './probe.js';
import type { SelfcheckReport } from './run.js';

export type Lang = 'fr' | 'en';

const LABEL: Record<Lang, Record<CheckStatus, string>> = {
  en: { ok: 'OK', warn: 'WARN', fail: 'FAIL' },
  fr: { ok: 'OK', warn: 'ALERTE', fail: 'ÉCHEC' },
};
const COLOR: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };
const RESET = '\x1b[0m';
const HEAD: Record<Lang, string[]> = { en: ['STATUS', 'CHECK', 'TARGET', 'TIME', 'DETAIL'], fr: ['ÉTAT', 'CONTRÔLE', 'CIBLE', 'DURÉE', 'DÉTAIL'] };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function formatReport(report: SelfcheckReport, lang: Lang = 'en', color = false): string {
  const rows = report.results.map((r) => [LABEL[lang][r.status], r.kind, r.target, `${Math.round(r.latencyMs)} ms`, r.reason]);
  const widths = HEAD[lang].map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[], status?: CheckStatus): string => {
    const text = cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] as number))).join('  ');
    return color && status ? `${COLOR[status]}${text.slice(0, widths[0])}${RESET}${text.slice(widths[0])}` : text;
  };
  const out = [line(HEAD[lang])];
  report.results.forEach((r, i) => out.push(line(rows[i] as string[], r.status)));
  const c = report.counts;
  const seconds = ((report.finishedAt - report.startedAt) / 1000).toFixed(1);
  out.push('', lang === 'fr' ? `${c.ok} OK, ${c.warn} alertes, ${c.fail} échecs en ${seconds} s.` : `${c.ok} ok, ${c.warn} warnings, ${c.fail} failures in ${seconds} s.`);
  const fixes = report.results.filter((r) => r.remediation);
  if (fixes.length > 0) {
    out.push('', lang === 'fr' ? 'À corriger :' : 'To fix:');
    for (const r of fixes) out.push(`- [${LABEL[lang][r.status]}] ${r.remediation?.[lang]}`);
  }
  return `${out.join('\n')}\n`;
}
