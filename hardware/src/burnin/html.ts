// The burn-in report for a person: one self-contained HTML page (inline CSS and SVG, no script, no external asset;
// a CSP forbids loading anything), verdict first, then each step with measured values next to thresholds and a small
// chart where a picture says more than numbers (temperatures, throughput over time, measured vs threshold bars).
import { formatThreshold, formatValue } from './evaluate.js';
import type { BurninReport, Measure, MeasureStatus, Series, StepResult, StepStatus } from './types.js';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STATUS_LABEL: Record<StepStatus | MeasureStatus | 'verdict-pass' | 'verdict-fail', string> = {
  pass: 'PASS',
  fail: 'FAIL',
  skipped: 'SKIPPED',
  interrupted: 'INTERRUPTED',
  'not-run': 'NOT RUN',
  info: 'info',
  unavailable: 'n/a',
  'verdict-pass': 'PASS',
  'verdict-fail': 'FAIL',
};

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b'];
const W = 640;
const H = 200;
const PAD = { left: 56, right: 16, top: 26, bottom: 30 };

function nice(v: number): string {
  const a = Math.abs(v);
  if (a >= 10000) return `${(v / 1000).toFixed(0)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  return v.toFixed(2).replace(/\.?0+$/, '');
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  const raw = (max - min) / count || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** One line chart per unit: the series of that unit, their thresholds as dashed red lines. */
export function lineChart(series: readonly Series[], title: string): string {
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return '';
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y).concat(series.flatMap((s) => (s.threshold ? [s.threshold.value] : [])));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const rawMin = Math.min(0, ...ys);
  const rawMax = Math.max(...ys);
  const ticks = niceTicks(rawMin, rawMax === rawMin ? rawMin + 1 : rawMax);
  const yMin = ticks[0]!;
  const yMax = ticks[ticks.length - 1]!;
  const px = (x: number): number => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const py = (y: number): number => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<title>${esc(title)}</title>`);
  for (const v of ticks) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y}" class="ylab">${esc(nice(v))}</text>`);
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="axis"/>`);
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" class="axis"/>`);
  parts.push(`<text x="${PAD.left}" y="${H - 8}" class="xlab">${esc(nice(xMin))} s</text>`);
  parts.push(`<text x="${W - PAD.right}" y="${H - 8}" class="xlab end">${esc(nice(xMax))} s</text>`);
  parts.push(`<text x="${PAD.left - 6}" y="12" class="unit end">${esc(series[0]?.unit ?? '')}</text>`);
  const labelled: number[] = [];
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    if (s.threshold) {
      const y = py(s.threshold.value);
      parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="threshold"/>`);
      // One label per distinct height, so close thresholds do not print over each other.
      if (!labelled.some((l) => Math.abs(l - y) < 12)) {
        labelled.push(y);
        parts.push(`<text x="${W - PAD.right - 4}" y="${(y - 4).toFixed(1)}" class="tlab">${s.threshold.kind} ${esc(nice(s.threshold.value))}</text>`);
      }
    }
    const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(s.points.length === 1 ? `<circle cx="${px(s.points[0]![0]).toFixed(1)}" cy="${py(s.points[0]![1]).toFixed(1)}" r="3" fill="${colour}"/>` : `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
  });
  parts.push('</svg>');
  const legend = series
    .map((s, i) => `<span class="key"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.label)}${s.threshold ? ` (${s.threshold.kind} ${esc(nice(s.threshold.value))} ${esc(s.unit)})` : ''}</span>`)
    .join(' ');
  return `<figure>${parts.join('')}<figcaption>${legend}${series.some((x) => x.threshold) ? ' · dashed red = threshold' : ''}</figcaption></figure>`;
}

/** Horizontal bars of measured values against their min/max thresholds. */
export function barChart(measures: readonly Measure[], title: string): string {
  const rows = measures.filter((m) => typeof m.value === 'number' && (m.threshold?.min !== undefined || m.threshold?.max !== undefined));
  if (rows.length === 0) return '';
  const rowH = 28;
  const height = rows.length * rowH + 10;
  const labelW = 220;
  const barW = W - labelW - 90;
  const parts: string[] = [`<svg class="chart" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>`];
  rows.forEach((m, i) => {
    const value = m.value as number;
    const limit = (m.threshold?.min ?? m.threshold?.max)!;
    const max = Math.max(value, limit) * 1.15 || 1;
    const y = 5 + i * rowH;
    const w = Math.max(1, (Math.max(0, value) / max) * barW);
    const tx = labelW + (limit / max) * barW;
    parts.push(`<text x="${labelW - 8}" y="${y + 15}" class="blab">${esc(m.label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 10}" class="${m.status === 'fail' ? 'bar-fail' : 'bar-pass'}"/>`);
    parts.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${y}" y2="${y + rowH - 4}" class="threshold"/>`);
    parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" class="bval">${esc(formatValue(value, m.unit))}</text>`);
  });
  parts.push('</svg>');
  return `<figure>${parts.join('')}<figcaption>bar = measured, dashed line = threshold</figcaption></figure>`;
}

function badge(status: string, text = STATUS_LABEL[status as StepStatus] ?? status): string {
  return `<span class="badge s-${esc(status)}">${esc(text)}</span>`;
}

function measuresTable(measures: readonly Measure[]): string {
  if (measures.length === 0) return '';
  const rows = measures
    .map((m) => `<tr><td>${esc(m.label)}</td><td class="num">${esc(formatValue(m.value, m.unit))}</td><td>${esc(formatThreshold(m.threshold, m.unit) || '—')}</td><td>${badge(m.status)}</td><td class="note">${esc(m.note ?? '')}</td></tr>`)
    .join('');
  return `<table class="measures"><thead><tr><th>measure</th><th>measured</th><th>threshold</th><th>result</th><th>note</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function stepCharts(step: StepResult): string {
  if (step.chart === 'line' && step.series.length > 0) {
    const byUnit = new Map<string, Series[]>();
    for (const s of step.series) byUnit.set(s.unit, [...(byUnit.get(s.unit) ?? []), s]);
    return [...byUnit.entries()].map(([unit, ss]) => lineChart(ss, `${step.title}: ${unit} over time`)).join('') + barChart(step.measures, `${step.title}: measured vs threshold`);
  }
  if (step.chart === 'bars') return barChart(step.measures, `${step.title}: measured vs threshold`);
  return '';
}

function stepSection(step: StepResult): string {
  const commands = step.commands.length > 0 ? `<details><summary>commands</summary><pre>${esc(step.commands.join('\n'))}</pre></details>` : '';
  const log = step.logTail ? `<details open><summary>tool output (last lines)</summary><pre>${esc(step.logTail)}</pre></details>` : '';
  return `<section class="step" id="step-${esc(step.id)}">
<h2>${badge(step.status)} ${esc(step.title)} <small>${esc(step.id)}${step.required ? '' : ' · optional'}${step.durationSeconds > 0 ? ` · ${esc(step.durationSeconds)} s of ${esc(step.timeLimitSeconds)} s allowed` : ''}</small></h2>
<p class="msg">${esc(step.message)}${step.errorCode ? ` <code>${esc(step.errorCode)}</code>` : ''}</p>
${measuresTable(step.measures)}${stepCharts(step)}${commands}${log}
</section>`;
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}
main{max-width:980px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:0 0 6px}
small{color:#586069;font-weight:normal;font-size:13px}
.verdict{padding:16px 20px;border-radius:8px;color:#fff;margin:12px 0}
.verdict.v-pass{background:#22863a}.verdict.v-fail{background:#cb2431}.verdict.v-interrupted{background:#b08800}
.verdict strong{font-size:26px;margin-right:12px}
.warn{background:#fff5b1;border:1px solid #e1c542;padding:8px 12px;border-radius:6px;margin:8px 0}
table{border-collapse:collapse;background:#fff;margin:8px 0;width:100%}
th,td{border:1px solid #e1e4e8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5;font-weight:600}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.note{color:#586069;font-size:13px}
.step{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:14px 16px;margin:14px 0}
.msg{margin:4px 0 8px}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:700;color:#fff;background:#6a737d;vertical-align:middle}
.s-pass{background:#22863a}.s-fail{background:#cb2431}.s-skipped{background:#6a737d}.s-interrupted,.s-not-run{background:#b08800}.s-info{background:#0366d6}.s-unavailable{background:#959da5}
figure{margin:8px 0}figcaption{font-size:12px;color:#586069}
.key i{display:inline-block;width:12px;height:3px;margin:0 4px 3px 8px;vertical-align:middle}
svg.chart{max-width:100%;height:auto;background:#fff}
svg .grid{stroke:#eaecef}svg .axis{stroke:#959da5}
svg .threshold{stroke:#cb2431;stroke-dasharray:5 4;stroke-width:1.5}
svg text{font:11px system-ui,sans-serif;fill:#586069}
svg .ylab{text-anchor:end;dominant-baseline:middle}svg .end{text-anchor:end}svg .tlab{text-anchor:end;fill:#cb2431}
svg .blab{text-anchor:end;fill:#1b1f23}svg .bar-pass{fill:#34d058}svg .bar-fail{fill:#d73a49}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}
@media print{body{background:#fff}.step{break-inside:avoid}}
`;

export function renderBurninHtml(r: BurninReport): string {
  const u = r.unit;
  const gib = u.memoryBytes === null ? '?' : `${(u.memoryBytes / 1024 ** 3).toFixed(1)} GiB`;
  const c = r.counts;
  const warnings: string[] = [];
  if (!r.unitMatchesProfile) warnings.push(`This unit (${u.vendor === null && u.product === null ? 'no DMI identity' : `${u.vendor ?? '?'} ${u.product ?? '?'}`}) is not one of the models of profile ${r.profile.id}: its thresholds were applied anyway.`);
  if (r.scale !== 1) warnings.push(`Shortened run: durations and sizes were scaled by ${r.scale}; this is not a full ${r.level} burn-in.`);
  if (!r.profile.verified) warnings.push(`Profile ${r.profile.id} is not yet verified on a real unit (figures from public spec sheets).`);
  if (c.skipped > 0) warnings.push(`${c.skipped} step(s) skipped, each with its reason below: they did not pass, they were not applicable.`);
  const summaryRows = r.steps
    .map((s) => `<tr><td><a href="#step-${esc(s.id)}">${esc(s.title)}</a></td><td>${badge(s.status)}</td><td class="num">${s.durationSeconds > 0 ? `${esc(s.durationSeconds)} s` : ''}</td><td>${esc(s.message)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Burn-in ${esc(r.verdict.toUpperCase())}: ${esc(u.vendor ?? '')} ${esc(u.product ?? u.hostname)} ${esc(u.serial ?? '')} (${esc(r.startedAt)})</title>
<style>${CSS}</style>
</head>
<body><main>
<h1>Burn-in report: ${esc(r.profile.name)}, level ${esc(r.level)}</h1>
<div class="verdict v-${esc(r.verdict)}"><strong>${esc(r.verdict.toUpperCase())}</strong>${c.pass} passed, ${c.fail} failed, ${c.skipped} skipped${c.interrupted ? `, ${c.interrupted} interrupted` : ''}${c['not-run'] ? `, ${c['not-run']} not run` : ''} · ${esc(r.durationSeconds)} s</div>
${warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('\n')}
<table>
<tr><th>unit</th><td>${u.vendor === null && u.product === null ? 'no DMI identity' : `${esc(u.vendor ?? '?')} ${esc(u.product ?? '?')}`}${u.serial ? `, service tag <b>${esc(u.serial)}</b>` : ''} · host ${esc(u.hostname)}</td></tr>
<tr><th>CPU / memory</th><td>${esc(u.cpu ?? '?')} · ${esc(gib)}</td></tr>
<tr><th>profile</th><td>${esc(r.profile.id)} (${esc(r.profile.file)})</td></tr>
<tr><th>run</th><td>${esc(r.startedAt)} → ${esc(r.finishedAt)} · report ${esc(r.id)} · scratch ${esc(r.options.scratchDir)}${r.options.iperfServer ? ` · iperf3 server ${esc(r.options.iperfServer)}` : ''}</td></tr>
</table>
<table><thead><tr><th>step</th><th>result</th><th>time</th><th>summary</th></tr></thead><tbody>${summaryRows}</tbody></table>
${r.steps.filter((s) => s.status !== 'not-run').map(stepSection).join('\n')}
</main></body>
</html>
`;
}
