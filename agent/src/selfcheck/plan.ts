// Builds a self-check plan from the agent's configuration.
import type { Config } from '../config/index.js';
import { DEFAULT_FLOWS_FILE, loadFlows } from './flows.js';
import { PROBE_KINDS, type ProbeKind } from './probe.js';
import type { SelfcheckPlan } from './run.js';
import { AgentError, ErrorCode } from '../errors.js';

export function parseOnly(value: string | undefined): ReadonlySet<ProbeKind> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const kinds = value.split(',').map((k) => k.trim().toLowerCase());
  const bad = kinds.filter((k) => !(PROBE_KINDS as readonly string[]).includes(k));
  if (bad.length > 0) throw new AgentError(ErrorCode.BAD_REQUEST, `unknown check ${bad.join(', ')}; --only takes a comma-separated list of ${PROBE_KINDS.join(', ')}.`);
  return new Set(kinds as ProbeKind[]);
}

export function planFromConfig(config: Config, only?: ReadonlySet<ProbeKind>): SelfcheckPlan {
  const sc = config.selfcheck;
  return {
    flows: loadFlows(sc.flowsFile || DEFAULT_FLOWS_FILE),
    ntpServers: sc.ntpServers,
    dnsServers: sc.dnsServers,
    timeoutMs: sc.timeoutMs,
    concurrency: sc.concurrency,
    servePort: config.serve.port,
    ...(sc.lanInterface ? { lanInterface: sc.lanInterface } : {}),
    dataDir: config.dataDir,
    diskWarnFreeBytes: sc.diskWarnFreeBytes,
    diskFailFreeBytes: sc.diskFailFreeBytes,
    ntpWarnOffsetMs: sc.ntpWarnOffsetMs,
    ntpFailOffsetMs: sc.ntpFailOffsetMs,
    pins: sc.pins,
    ...(only ? { only } : {}),
  };
}
