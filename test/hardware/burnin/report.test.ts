// Reports: the HTML page is self-contained with a chart where one helps; JSON files are found newest first by the
// summary reader the fleet inventory uses.
import t from 'tap';
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, niceTicks, readLatestBurninSummary, readLatestBurninSummaryForDataDir, renderBurninHtml, summarizeBurnin, writeBurninReport, type BurninReport, type StepResult } from '../../../hardware/src/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { chromiumMissing, launchBrowser, openPage } from '../../helpers/browser.js';

function step(over: Partial<StepResult> & Pick<StepResult, 'id' | 'status'>): StepResult {
  return { title: over.id, required: true, startedAt: '2026-01-15T10:00:00.000Z', durationSeconds: 1, timeLimitSeconds: 30, message: '', measures: [], series: [], chart: null, commands: [], ...over };
}

function report(startedAt: string, verdict: BurninReport['verdict'] = 'fail'): BurninReport {
  const steps: StepResult[] = [
    step({ id: 'smart', status: 'skipped', required: false, message: 'skipped: no SMART-capable disk found (virtual disk vda)' }),
    step({
      id: 'cpu',
      status: 'fail',
      title: 'CPU stress and temperature',
      message: 'The CPU reached 97 °C (limit 95 °C): check the fan <script>alert(1)</script>',
      measures: [measure({ id: 'max-temp', label: 'Max CPU temperature', unit: '°C', value: 97, threshold: { max: 95 } }), measure({ id: 'throughput', label: 'CPU throughput', unit: 'bogo ops/s', value: 564 })],
      series: [
        { id: 'temp', label: 'CPU temperature', unit: '°C', points: [[0, 45], [1, 80], [2, 97]], threshold: { value: 95, kind: 'max' } },
        { id: 'mhz', label: 'CPU frequency', unit: 'MHz', points: [[0, 3100], [1, 2900], [2, 1200]] },
      ],
      chart: 'line',
      commands: ['/usr/bin/stress-ng --cpu 0'],
    }),
    step({ id: 'nic', status: 'fail', message: 'eno1 links at 100 Mb/s', measures: [measure({ id: 'speed', label: 'eno1 link speed', unit: 'Mb/s', value: 100, threshold: { min: 1000 } })], chart: 'bars', logTail: 'tool said <b>no</b>' }),
    step({ id: 'iperf', status: 'not-run', message: 'not run: not selected (--only).' }),
  ];
  return {
    schema: 'plugsrv.burnin/1',
    id: `${startedAt.replace(/[-:.]/g, '')}-dell-optiplex-7010-micro-quick`,
    level: 'quick',
    scale: 1,
    profile: { id: 'dell-optiplex-7010-micro', name: 'Dell OptiPlex 7010 Micro', file: 'hardware/profiles/dell-optiplex-7010-micro.yaml', verified: false },
    unit: { vendor: 'Dell Inc.', product: 'OptiPlex 7010 Micro', serial: '7XK2B34', hostname: 'line-7', cpu: 'i5-13500T', memoryBytes: 16 * 1024 ** 3 },
    unitMatchesProfile: true,
    startedAt,
    finishedAt: startedAt,
    durationSeconds: 42,
    verdict,
    interrupted: verdict === 'interrupted',
    counts: { pass: 0, fail: 2, skipped: 1, interrupted: 0, 'not-run': 1 },
    steps,
    options: { scratchDir: '/var/lib/plugsrv', iperfServer: null, root: '/', only: null },
  };
}

t.test('HTML: verdict, measured next to threshold, a chart per unit and bars, escaped text, nothing external', async (t) => {
  const html = renderBurninHtml(report('2026-01-15T10:00:00.000Z'));
  t.match(html, /<div class="verdict v-fail"><strong>FAIL<\/strong>0 passed, 2 failed, 1 skipped, 1 not run/);
  t.match(html, /<td>Max CPU temperature<\/td><td class="num">97 °C<\/td><td>≤ 95 °C<\/td><td><span class="badge s-fail">FAIL<\/span>/);
  t.match(html, /<td>eno1 link speed<\/td><td class="num">100 Mb\/s<\/td><td>≥ 1000 Mb\/s<\/td>/);
  t.equal((html.match(/<svg /g) ?? []).length, 4, 'temperature and frequency charts, the CPU bars, the NIC bars');
  t.match(html, /CPU temperature \(max 95 °C\)/);
  t.notMatch(html, /<script>alert/);
  t.match(html, /check the fan &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(html, /tool said &lt;b&gt;no&lt;\/b&gt;/);
  t.match(html, /content="default-src 'none'; style-src 'unsafe-inline'"/);
  t.notMatch(html, /<script|<link |<img |src=|url\(|https?:\/\//i);
  t.match(html, /not yet verified on a real unit/);
  t.match(html, /1 step\(s\) skipped, each with its reason below: they did not pass, they were not applicable\./);
  t.notMatch(html, /id="step-iperf"/, 'steps not run get no section');
  t.same(niceTicks(0, 97), [0, 50, 100]);
  t.same(niceTicks(0, 1477), [0, 500, 1000, 1500]);
});

t.test('HTML in a real browser: loads alone, no request but itself, no CSP error, charts drawn', { skip: chromiumMissing() }, async (t) => {
  const html = renderBurninHtml(report('2026-01-15T10:00:00.000Z'));
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/report.html`;
  const browser = await launchBrowser(t);
  const { page, errors, requests, blocked } = await openPage(t, browser, url, { locale: 'en-GB' });
  t.same(requests, [url], 'no asset, font or script fetched');
  t.same(blocked, []);
  t.same(errors, []);
  t.equal(await page.locator('svg.chart').count(), 4);
  const box = await page.locator('svg.chart').first().boundingBox();
  t.ok(box && box.width > 300 && box.height > 100, 'the chart has a size');
  t.equal(await page.locator('svg.chart polyline').count(), 2);
  t.equal(await page.title(), 'Burn-in FAIL: Dell Inc. OptiPlex 7010 Micro 7XK2B34 (2026-01-15T10:00:00.000Z)');
});

t.test('written atomically; the newest report summarised; damaged and foreign files passed over', async (t) => {
  const data = await tempDir(t);
  const dir = join(data, 'burnin');
  t.equal(await readLatestBurninSummary(dir), null, 'no directory: no burn-in yet');
  const older = await writeBurninReport(report('2026-01-14T09:00:00.000Z', 'pass'), dir);
  const newer = await writeBurninReport(report('2026-01-15T10:00:00.000Z'), dir);
  t.match(newer.json, /burnin-20260115T100000000Z-dell-optiplex-7010-micro-quick\.json$/);
  t.match(await readFile(newer.html, 'utf8'), /^<!doctype html>/);
  t.same(JSON.parse(await readFile(older.json, 'utf8')).verdict, 'pass');
  await writeFile(join(dir, 'burnin-20991231T000000000Z-broken.json'), '{"schema": "plugsrv.burnin/1", "id": ');
  await writeFile(join(dir, 'burnin-20991230T000000000Z-foreign.json'), '{"hello": "world"}');
  await writeFile(join(dir, 'notes.txt'), 'hello');
  const latest = await readLatestBurninSummary(dir);
  t.same(latest, {
    id: '20260115T100000000Z-dell-optiplex-7010-micro-quick',
    profile: 'dell-optiplex-7010-micro',
    level: 'quick',
    scale: 1,
    verdict: 'fail',
    startedAt: '2026-01-15T10:00:00.000Z',
    finishedAt: '2026-01-15T10:00:00.000Z',
    durationSeconds: 42,
    unitMatchesProfile: true,
    counts: { pass: 0, fail: 2, skipped: 1, interrupted: 0, 'not-run': 1 },
    problems: [
      { id: 'cpu', status: 'fail', message: 'The CPU reached 97 °C (limit 95 °C): check the fan <script>alert(1)</script>' },
      { id: 'nic', status: 'fail', message: 'eno1 links at 100 Mb/s' },
    ],
    skipped: [{ id: 'smart', message: 'skipped: no SMART-capable disk found (virtual disk vda)' }],
    reportFile: newer.json,
  });
  t.same(await readLatestBurninSummaryForDataDir(data), latest, 'the data-dir form finds <dataDir>/burnin');
  t.same(JSON.parse(JSON.stringify(latest)), latest, 'JSON-serialisable');
  t.same(summarizeBurnin(report('2026-01-14T09:00:00.000Z', 'pass')).reportFile, null);
});
