// Bench: a full self-check of 30 hosts on a loopback fake site where a third never answer, parallel against sequential.
import { runSelfcheck, type SelfcheckPlan } from '../../agent/src/selfcheck/index.js';
import { startFakeSite } from '../../test/helpers/fake-site.js';

const TIMEOUT_MS = 3000;

async function main(): Promise<void> {
  const teardowns: Array<() => unknown> = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) };
  try {
    const site = await startFakeSite(t, { ok: 14, intercepted: 2, silent: 10, refused: 2, nxdomain: 1, servfail: 1 });
    const plan = (concurrency: number): SelfcheckPlan => ({
      flows: site.flows,
      ntpServers: [],
      dnsServers: site.dnsServers,
      timeoutMs: TIMEOUT_MS,
      concurrency,
      servePort: 1,
      dataDir: '/',
      diskWarnFreeBytes: 0,
      diskFailFreeBytes: 0,
      ntpWarnOffsetMs: 1000,
      ntpFailOffsetMs: 60_000,
      pins: {},
      only: new Set(['dns', 'tcp', 'tls'] as const),
    });
    const env = { clock: Date.now, env: {}, trustStore: site.trustStore, publicRoots: site.publicRoots };
    const time = async (concurrency: number) => {
      const start = process.hrtime.bigint();
      const report = await runSelfcheck(plan(concurrency), env);
      return { ms: Number(process.hrtime.bigint() - start) / 1e6, report };
    };
    const parallel = await time(16);
    const sequential = await time(1);
    const timeouts = parallel.report.results.filter((r) => r.reason === 'timeout').length;
    console.log(`selfcheck: ${site.flows.length} hosts, ${timeouts} never answer, per-probe timeout ${TIMEOUT_MS} ms`);
    console.log(`  parallel (16 in flight): ${(parallel.ms / 1000).toFixed(2)} s`);
    console.log(`  reference, sequential:   ${(sequential.ms / 1000).toFixed(2)} s`);
    console.log(`  ratio parallel/sequential: ${(parallel.ms / sequential.ms).toFixed(3)}  (lower is better; floor is one timeout, ${(TIMEOUT_MS / sequential.ms).toFixed(3)})`);
    console.log(`  counts: ${JSON.stringify(parallel.report.counts)}`);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
