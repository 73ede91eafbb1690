// The check report for a person: one line per item, what to do under each problem, attest items as a checklist.
import type { CheckReport, ItemStatus } from './check.js';

const LABEL: Record<ItemStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', attest: 'ATTEST' };
const COLOUR: Record<ItemStatus, string> = { pass: '\x1b[32m', fail: '\x1b[31m', warn: '\x1b[33m', attest: '\x1b[36m' };

export function formatCheckReport(report: CheckReport, colour = false): string {
  const paint = (s: ItemStatus, text: string): string => (colour ? `${COLOUR[s]}${text}\x1b[0m` : text);
  const lines: string[] = [];
  const p = report.profile;
  lines.push(`Profile ${p.id} (${p.name})${p.verified ? '' : ': figures from public spec sheets, not yet verified on a real unit'}`);
  const u = report.unit;
  lines.push(`Unit: ${u.vendor ?? '?'} ${u.product ?? '?'}${u.serial ? `, service tag ${u.serial}` : ''}${u.biosVersion ? `, BIOS ${u.biosVersion}` : ''}`);
  lines.push('');
  const idWidth = Math.max(...report.items.map((i) => i.id.length));
  for (const item of report.items) {
    lines.push(`${paint(item.status, LABEL[item.status].padEnd(6))} ${item.id.padEnd(idWidth)}  expected ${item.expected}; measured ${item.measured}`);
    if (item.status !== 'pass') lines.push(`       ${' '.repeat(idWidth)}  -> ${item.message}`);
  }
  const attest = report.items.filter((i) => i.status === 'attest');
  if (attest.length > 0) {
    lines.push('', 'To check by hand in BIOS setup (F2) and attest:');
    for (const i of attest) lines.push(`  [ ] ${i.title}`);
  }
  const c = report.counts;
  lines.push('', `Verdict: ${paint(report.verdict, report.verdict.toUpperCase())} (${c.pass} passed, ${c.fail} failed, ${c.warn} warnings, ${c.attest} to attest)`);
  return `${lines.join('\n')}\n`;
}
