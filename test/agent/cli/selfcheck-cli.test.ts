// `plugsrv selfcheck` and the serve role's start-up self-check, as real processes against a fake site on loopback.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, startServer, tempDir } from '../../helpers/agent-process.js';
import { http, json } from '../../helpers/agent-fixture.js';
import { startFakeSite } from '../../helpers/fake-site.js';
import { opensslMissing } from '../../helpers/pki.js';

const missing = await opensslMissing();

async function siteConfig(t: { teardown(fn: () => unknown): void }) {
  const site = await startFakeSite(t, { ok: 1, intercepted: 0, silent: 0, refused: 1, nxdomain: 1, servfail: 0 });
  const dir = await tempDir(t);
  const flowsFile = join(dir, 'flows.yaml');
  await writeFile(flowsFile, stringify({ version: 1, flows: site.flows }));
  const config = join(dir, 'plugsrv.yaml');
  await writeFile(
    config,
    stringify({
      dataDir: join(dir, 'data'),
      selfcheck: { flowsFile, dnsServers: site.dnsServers, ntpServers: [], timeoutMs: 800, lanInterface: 'lo', diskWarnFreeBytes: 0, diskFailFreeBytes: 0 },
    }),
  );
  return { site, config };
}

t.test('selfcheck --json: the report, exit code 2 on failures, kept in history', missing ? { skip: missing } : {}, async (t) => {
  const { config } = await siteConfig(t);
  const r = await runCli(['--config', config, 'selfcheck', '--json', '--only', 'dns,tcp,proxy,clock,disk']);
  t.equal(r.code, 2, r.stderr);
  const report = JSON.parse(r.stdout) as { status: string; results: Array<{ kind: string; reason: string; status: string }> };
  t.equal(report.status, 'fail');
  t.same([...new Set(report.results.map((x) => x.kind))].sort(), ['clock', 'disk', 'dns', 'proxy', 'tcp']);
  t.ok(report.results.some((x) => x.reason === 'nxdomain'));
  t.ok(report.results.some((x) => x.reason === 'refused'));
  const text = await runCli(['--config', config, 'selfcheck', '--only', 'dns', '--lang', 'fr']);
  t.match(text.stdout, /À corriger :\n- \[ÉCHEC\] Le serveur DNS répond que missing-0\.plugsrv\.test n'existe pas/);
  const okOnly = await runCli(['--config', config, 'selfcheck', '--only', 'proxy,clock']);
  t.equal(okOnly.code, 0, 'all fine: exit 0');
  const warn = await runCli(['--config', config, 'selfcheck', '--only', 'proxy'], { env: { HTTPS_PROXY: 'http://proxy.dealer.lan:3128' } });
  t.equal(warn.code, 1, 'warnings only: exit 1');
  const bad = await runCli(['--config', config, 'selfcheck', '--only', 'dns,ping']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown check ping/);
});

t.test('serve runs a self-check at start-up and /v1/status shows it', missing ? { skip: missing } : {}, async (t) => {
  const { config } = await siteConfig(t);
  const server = await startServer(join(await tempDir(t), 'data'), [], { PLUGSRV_CONFIG: config, PLUGSRV_SELFCHECK_AT_STARTUP: 'true' });
  t.teardown(() => server.kill());
  let status: Record<string, unknown> = {};
  for (let i = 0; i < 50 && !status.selfcheck; i++) {
    status = json(await http(`${server.url}/v1/status`));
    if (!status.selfcheck) await new Promise((r) => setTimeout(r, 200));
  }
  t.match(status.selfcheck, { status: 'fail', trigger: 'startup', counts: { fail: Number } });
  const problems = (status.selfcheck as { problems: Array<{ reason: string; remediation: { en: string; fr: string } }> }).problems;
  t.ok(problems.some((p) => p.reason === 'nxdomain' && /missing-0\.plugsrv\.test/.test(p.remediation.en)));
});
