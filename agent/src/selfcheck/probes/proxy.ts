// Proxy probe: an explicit proxy in the environment means traffic may be routed through a box that inspects TLS.
import type { ProbeResult } from '../probe.js';

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];

/** Removes the user:password part of a proxy URL before it is shown anywhere. */
export function withoutCredentials(value: string): string {
  try {
    const u = new URL(value);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export function probeProxy(env: NodeJS.ProcessEnv = process.env): ProbeResult {
  const found: Record<string, string> = {};
  for (const name of PROXY_VARS) {
    const value = env[name];
    if (value) found[name] = withoutCredentials(value);
  }
  const base = { id: 'proxy:environment', kind: 'proxy' as const, target: 'environment', latencyMs: 0 };
  if (Object.keys(found).length === 0) return { ...base, status: 'ok', reason: 'none', evidence: { noProxy: env.NO_PROXY ?? env.no_proxy ?? null } };
  const list = Object.entries(found).map(([k, v]) => `${k}=${v}`).join(', ');
  return {
    ...base,
    status: 'warn',
    reason: 'explicit-proxy',
    evidence: { ...found, noProxy: env.NO_PROXY ?? env.no_proxy ?? null },
    remediation: {
      en: `An explicit proxy is configured (${list}). The carmaker forbids TLS interception and SSL forward proxies: give this box a direct path on TCP 443 and remove the proxy setting.`,
      fr: `Un proxy explicite est configuré (${list}). Le constructeur interdit l'interception TLS et les proxys SSL : donnez à ce boîtier un accès direct en TCP 443 et retirez ce réglage de proxy.`,
    },
  };
}
