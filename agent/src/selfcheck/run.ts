// Runs a self-check: every probe family over the required flows, in parallel with a bound, into one report.
import type { NetworkInterfaceInfo } from 'node:os';
import { httpsTargets, type Flow } from './flows.js';
import { mapLimit } from './limit.js';
import { worst, type CheckStatus, type ProbeKind, type ProbeResult } from './probe.js';
import { probeClock } from './probes/clock.js';
import { probeDisk } from './probes/disk.js';
import { probeDns } from './probes/dns.js';
import { probeLan } from './probes/lan.js';
import { probeProxy } from './probes/proxy.js';
import { probeSntp } from './probes/sntp.js';
import { probeTcp } from './probes/tcp.js';
import { defaultTrustStore, probeTls } from './probes/tls.js';

export interface SelfcheckPlan {
  flows: readonly Flow[];
  /** `host` or `host:port`. */
  ntpServers: readonly string[];
  /** Empty = the system resolver's servers. */
  dnsServers: readonly string[];
  timeoutMs: number;
  concurrency: number;
  servePort: number;
  lanInterface?: string;
  dataDir: string;
  diskWarnFreeBytes: number;
  diskFailFreeBytes: number;
  ntpWarnOffsetMs: number;
  ntpFailOffsetMs: number;
  /** base64 sha256 SPKI pins by host (our origin and fleet). */
  pins: Readonly<Record<string, readonly string[]>>;
  /** Restrict to these probe families. */
  only?: ReadonlySet<ProbeKind>;
}

export interface SelfcheckEnv {
  clock: () => number;
  env: NodeJS.ProcessEnv;
  signedTimes?: { newestSignedAt?: number; metadataExpiresAt?: number };
  /** Test hooks: PEM trust store and public roots for TLS, network interfaces, sysfs root. */
  trustStore?: string[];
  publicRoots?: string[];
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  sysRoot?: string;
}

export interface SelfcheckReport {
  status: CheckStatus;
  startedAt: number;
  finishedAt: number;
  counts: Record<CheckStatus, number>;
  results: ProbeResult[];
}

function splitHostPort(value: string, defaultPort: number): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  return m ? { host: m[1] as string, port: Number(m[2]) } : { host: value, port: defaultPort };
}

/** DNS, then TCP, then TLS for one host: a later step runs only when the earlier one succeeded. */
async function checkHttpsHost(target: { host: string; port: number }, plan: SelfcheckPlan, env: SelfcheckEnv): Promise<ProbeResult[]> {
  const wants = (k: ProbeKind): boolean => !plan.only || plan.only.has(k);
  const out: ProbeResult[] = [];
  const signal = AbortSignal.timeout(plan.timeoutMs * 3 + 1000);
  const dns = await probeDns({ host: target.host, forPort: `HTTPS (TCP ${target.port})`, servers: plan.dnsServers, timeoutMs: plan.timeoutMs, clock: env.clock }, signal);
  const { addresses, ...dnsResult } = dns;
  if (wants('dns') || dns.status !== 'ok') out.push(dnsResult);
  if (dns.status !== 'ok') return out;
  const address = addresses[0] as string;
  if (wants('tcp')) {
    const tcp = await probeTcp({ host: target.host, address, port: target.port, timeoutMs: plan.timeoutMs, clock: env.clock }, signal);
    out.push(tcp);
    if (tcp.status !== 'ok') return out;
  }
  if (wants('tls')) {
    out.push(
      await probeTls(
        {
          host: target.host,
          port: target.port,
          connectAddress: address,
          timeoutMs: plan.timeoutMs,
          ...(env.trustStore ? { trustStore: env.trustStore } : {}),
          ...(env.publicRoots ? { publicRoots: env.publicRoots } : {}),
          ...(plan.pins[target.host] ? { pins: [...(plan.pins[target.host] as string[])] } : {}),
        },
        signal,
      ),
    );
  }
  return out;
}

export async function runSelfcheck(plan: SelfcheckPlan, env: SelfcheckEnv): Promise<SelfcheckReport> {
  const wants = (k: ProbeKind): boolean => !plan.only || plan.only.has(k);
  const startedAt = env.clock();
  const jobs: Array<() => Promise<ProbeResult[]>> = [];

  if (wants('dns') || wants('tcp') || wants('tls')) {
    // Read the OS trust store once per run, not once per host.
    const tlsEnv = wants('tls') && !env.trustStore ? { ...env, trustStore: await defaultTrustStore() } : env;
    for (const t of httpsTargets(plan.flows)) jobs.push(() => checkHttpsHost(t, plan, tlsEnv));
  }
  if (wants('ntp')) {
    for (const server of plan.ntpServers) {
      const { host, port } = splitHostPort(server, 123);
      jobs.push(async () => [
        await probeSntp({ server: host, port, timeoutMs: plan.timeoutMs, clock: env.clock, warnOffsetMs: plan.ntpWarnOffsetMs, failOffsetMs: plan.ntpFailOffsetMs }),
      ]);
    }
  }
  if (wants('lan')) {
    jobs.push(() =>
      probeLan({
        port: plan.servePort,
        timeoutMs: plan.timeoutMs,
        ...(plan.lanInterface ? { interfaceName: plan.lanInterface } : {}),
        ...(env.interfaces ? { interfaces: env.interfaces } : {}),
        ...(env.sysRoot ? { sysRoot: env.sysRoot } : {}),
      }),
    );
  }
  if (wants('proxy')) jobs.push(async () => [probeProxy(env.env)]);
  if (wants('clock')) jobs.push(async () => [probeClock({ now: env.clock(), ...env.signedTimes })]);
  if (wants('disk')) jobs.push(async () => [await probeDisk({ dir: plan.dataDir, warnFreeBytes: plan.diskWarnFreeBytes, failFreeBytes: plan.diskFailFreeBytes })]);

  const results = (await mapLimit(jobs, plan.concurrency, (job) => job())).flat();
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) counts[r.status]++;
  return { status: worst(results.map((r) => r.status)), startedAt, finishedAt: env.clock(), counts, results };
}

export function exitCodeOfReport(report: SelfcheckReport): number {
  return report.status === 'ok' ? 0 : report.status === 'warn' ? 1 : 2;
}
