// A whole self-check against a fake site on loopback: each failure mode gets its reason and remediation, one report, history in the DB.
import t from 'tap';
import { join } from 'node:path';
import { openStateDb } from '../../../agent/src/db/index.js';
import { formatReport, latestRuns, recordRun, runSelfcheck, statusSummary, type SelfcheckPlan } from '../../../agent/src/selfcheck/index.js';
import { startChronyd } from '../../helpers/chronyd.js';
import { startFakeSite } from '../../helpers/fake-site.js';
import { opensslMissing } from '../../helpers/pki.js';
import { tempDir } from '../../helpers/agent-process.js';

const missing = (await opensslMissing()) ?? undefined;

t.test('one run over a site with every failure kind', missing ? { skip: missing } : {}, async (t) => {
  const site = await startFakeSite(t, { ok: 3, intercepted: 2, silent: 2, refused: 2, nxdomain: 2, servfail: 1 });
  const dataDir = await tempDir(t);
  const started = await startChronyd();
  const chrony = started.ok ? started.chronyd : undefined;
  const chronyWhyNot = started.ok ? '' : started.reason;
  if (chrony) t.teardown(() => chrony.stop());
  const plan: SelfcheckPlan = {
    flows: [...site.flows, { host: 'lan', port: 8080, protocol: 'tcp', purpose: 'lan' }],
    ntpServers: chrony ? [`127.0.0.1:${chrony.port}`] : [],
    dnsServers: site.dnsServers,
    timeoutMs: 800,
    concurrency: 16,
    servePort: 1,
    dataDir,
    diskWarnFreeBytes: 0,
    diskFailFreeBytes: 0,
    ntpWarnOffsetMs: 1000,
    ntpFailOffsetMs: 60_000,
    pins: {},
  };
  const interfaces = () => ({ eno1: [{ address: '127.0.0.1', family: 'IPv4' as const, internal: false, netmask: '255.0.0.0', mac: '00:00:00:00:00:01', cidr: '127.0.0.1/8' }] });
  const report = await runSelfcheck(plan, { clock: Date.now, env: {}, trustStore: site.trustStore, publicRoots: site.publicRoots, interfaces, sysRoot: dataDir });

  for (const [hostPort, reason] of site.expected) {
    const [host, port] = hostPort.split(':') as [string, string];
    // The last step that ran for this host and port: TLS or TCP, or DNS when resolution failed.
    const last = report.results.filter((r) => r.target === `${hostPort}/tcp`).at(-1) ?? report.results.find((r) => r.kind === 'dns' && r.target === `${host}/dns`);
    t.equal(last?.reason, reason, `${hostPort}: ${reason}`);
    if (reason !== 'ok') {
      t.equal(last?.status, 'fail');
      t.match(last?.remediation?.en, host, `the remediation names ${host}`);
      if (last?.kind !== 'dns') t.match(last?.remediation?.en, port, `and port ${port}`);
      t.ok(last?.remediation?.fr, 'in French too');
    }
  }
  const intercepted = report.results.find((r) => r.reason === 'intercepted');
  t.match(intercepted?.evidence, { interceptor: /ACME Corp TLS Inspection CA/ });
  if (chrony) t.match(report.results.find((r) => r.kind === 'ntp'), { status: 'ok' });
  else t.comment(`ntp not checked: ${chronyWhyNot}`);
  t.match(report.results.find((r) => r.id === 'lan:port:1'), { status: 'fail' });
  t.match(report.results.find((r) => r.kind === 'proxy'), { status: 'ok' });
  t.match(report.results.find((r) => r.kind === 'clock'), { status: 'ok' });
  t.equal(report.status, 'fail');
  t.equal(report.counts.ok + report.counts.warn + report.counts.fail, report.results.length);

  const text = formatReport(report, 'fr');
  t.match(text, /ÉTAT\s+CONTRÔLE\s+CIBLE/);
  t.match(text, /À corriger :/);
  t.match(formatReport(report, 'en'), /To fix:\n- \[FAIL\]/);

  const state = await openStateDb(join(dataDir, 'state.db'));
  t.teardown(() => state.close());
  for (let i = 0; i < 4; i++) await recordRun(state.db, report, 'cli', 3);
  const runs = await latestRuns(state.db, 10);
  t.equal(runs.length, 3, 'history is pruned to its size');
  const summary = statusSummary(runs[0]);
  t.match(summary, { status: 'fail', trigger: 'cli', counts: report.counts });
  t.ok((summary?.problems as unknown[]).length > 0);
});

t.test('--only limits the probe families but still resolves names for TLS', missing ? { skip: missing } : {}, async (t) => {
  const site = await startFakeSite(t, { ok: 1, intercepted: 1, silent: 0, refused: 0, nxdomain: 1, servfail: 0 });
  const plan: SelfcheckPlan = {
    flows: site.flows, ntpServers: [], dnsServers: site.dnsServers, timeoutMs: 800, concurrency: 4, servePort: 1, dataDir: '/', diskWarnFreeBytes: 0, diskFailFreeBytes: 0,
    ntpWarnOffsetMs: 1000, ntpFailOffsetMs: 60_000, pins: {}, only: new Set(['tls'] as const),
  };
  const report = await runSelfcheck(plan, { clock: Date.now, env: {}, trustStore: site.trustStore, publicRoots: site.publicRoots });
  t.same([...new Set(report.results.map((r) => r.kind))].sort(), ['dns', 'tls'], 'a failing DNS step is still shown');
  t.equal(report.results.filter((r) => r.kind === 'dns').length, 1, 'successful DNS steps are not');
});
