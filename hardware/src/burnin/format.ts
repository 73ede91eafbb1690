// The burn-in result for a person on a terminal: per step its status, each measure next to its threshold, the verdict.
import { formatThreshold, formatValue } from './evaluate.js';
import type { BurninReport, StepStatus } from './types.js';

const LABEL: Record<StepStatus, string> = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP', interrupted: 'STOP', 'not-run': '----' };
const COLOUR: Record<string, string> = { pass: '\x1b[32m', fail: '\x1b[31m', skipped: '\x1b[36m', interrupted: '\x1b[33m', 'not-run': '\x1b[2m' };

export function formatBurninReport(r: BurninReport, colour = false): string {
  const paint = (status: string, text: string): string => (colour && COLOUR[status] ? `${COLOUR[status]}${text}\x1b[0m` : text);
  const lines: string[] = [];
  for (const s of r.steps) {
    if (s.status === 'not-run' && s.message.includes('not selected')) continue;
    lines.push(`${paint(s.status, LABEL[s.status])}  ${s.id.padEnd(11)} ${s.durationSeconds > 0 ? `${s.durationSeconds.toFixed(1).padStart(6)} s  ` : '          '}${s.message}`);
    for (const m of s.measures) {
      const t = formatThreshold(m.threshold, m.unit);
      lines.push(`        ${m.label.padEnd(34)} ${formatValue(m.value, m.unit).padStart(14)}${t ? `   needs ${t}` : ''}${m.status === 'fail' ? paint('fail', '   FAIL') : ''}${m.note && m.status !== 'pass' ? `   (${m.note})` : ''}`);
    }
  }
  const c = r.counts;
  const notes: string[] = [];
  if (!r.unitMatchesProfile) notes.push(`note: this unit is not a ${r.profile.name} (${r.unit.vendor ?? 'no DMI identity'}${r.unit.product ? ` ${r.unit.product}` : ''}); the profile's thresholds were applied anyway.`);
  if (r.scale !== 1) notes.push(`note: durations and sizes scaled by ${r.scale}: not a full ${r.level} burn-in.`);
  lines.push('', ...notes);
  lines.push(`Burn-in ${paint(r.verdict === 'pass' ? 'pass' : r.verdict === 'fail' ? 'fail' : 'interrupted', r.verdict.toUpperCase())} in ${r.durationSeconds} s: ${c.pass} passed, ${c.fail} failed, ${c.skipped} skipped${c.interrupted ? `, ${c.interrupted} interrupted` : ''}${c['not-run'] ? `, ${c['not-run']} not run` : ''}.`);
  return `${lines.join('\n')}\n`;
}
