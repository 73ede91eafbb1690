// What a fleet policy changes in the running agent (pure): sync window and rates, self-check interval and hosts, heartbeat.
import type { PolicyDocument } from '../../../lib/fleet/protocol.js';
import type { Config } from '../config/index.js';
import type { Flow, SelfcheckPlan } from '../selfcheck/index.js';

const HOST = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** The configuration values a policy replaces. The policy wins over the local file for these: the fleet manages them. */
export interface PolicySettings {
  sync: Pick<Config['sync'], 'window' | 'nightRateBytesPerSec' | 'dayRateBytesPerSec' | 'include'>;
  selfcheckIntervalHours: number;
  heartbeatSeconds: number;
}

/**
 * The settings a policy gives on top of `config`. An empty `sync.include` in the policy keeps the local patterns
 * (the policy schema defaults it to empty, so "not set" and "all" cannot be told apart).
 */
export function policySettings(config: Config, policy: PolicyDocument): PolicySettings {
  return {
    sync: {
      window: policy.sync.window,
      nightRateBytesPerSec: policy.sync.nightRateBytesPerSec,
      dayRateBytesPerSec: policy.sync.dayRateBytesPerSec,
      include: policy.sync.include.length > 0 ? [...policy.sync.include] : config.sync.include,
    },
    selfcheckIntervalHours: policy.selfcheckIntervalMinutes / 60,
    heartbeatSeconds: policy.heartbeatSeconds,
  };
}

/**
 * Writes the policy's settings into the configuration object the running parts read: the sync scheduler and each
 * sync run read `config.sync` when they start, so the window, rates and patterns apply from the next tick.
 */
export function applyPolicyToConfig(config: Config, policy: PolicyDocument): PolicySettings {
  const settings = policySettings(config, policy);
  Object.assign(config.sync, settings.sync);
  config.selfcheck.intervalHours = settings.selfcheckIntervalHours;
  return settings;
}

/** `host` or `host:port` (default 443) from the policy's requiredHosts, as management flows for the self-check. */
export function requiredHostFlows(hosts: readonly string[]): { flows: Flow[]; invalid: string[] } {
  const flows: Flow[] = [];
  const invalid: string[] = [];
  for (const entry of hosts) {
    const m = /^(.*?)(?::(\d{1,5}))?$/.exec(entry.trim());
    const host = m?.[1] ?? '';
    const port = m?.[2] ? Number(m[2]) : 443;
    if (!HOST.test(host) || port < 1 || port > 65535) {
      invalid.push(entry);
      continue;
    }
    flows.push({ host, port, protocol: 'tcp', purpose: 'management' });
  }
  return { flows, invalid };
}

/** The self-check plan with the policy's required hosts added to the shipped flows (duplicates are probed once). */
export function withRequiredHosts(plan: SelfcheckPlan, hosts: readonly string[]): SelfcheckPlan {
  const { flows } = requiredHostFlows(hosts);
  return flows.length === 0 ? plan : { ...plan, flows: [...plan.flows, ...flows] };
}
