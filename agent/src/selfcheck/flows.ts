// The required network flows (data file, validated at load): which hosts and ports the self-check probes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../../../lib/package-root.js';
import { AgentError, ErrorCode } from '../errors.js';

const hostname = z.string().regex(/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'a host name');

const flowSchema = z
  .object({
    /** As the source writes it; may be a wildcard. */
    host: z.string().min(1),
    /** The concrete host probed for a wildcard (defaults to `host`). */
    probe: hostname.optional(),
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']),
    purpose: z.enum(['business', 'management', 'ntp', 'lan']),
  })
  .strict()
  .refine((f) => !f.host.includes('*') || f.probe !== undefined, { message: 'a wildcard host needs a concrete `probe` host' })
  .refine((f) => f.purpose === 'lan' || f.host.includes('*') || hostname.safeParse(f.host).success, { message: 'host must be a host name' });

const fileSchema = z.object({ version: z.literal(1), flows: z.array(flowSchema).min(1) }).strict();

export type Flow = z.infer<typeof flowSchema>;

export interface HttpsTarget {
  /** The host as the source lists it (maybe a wildcard), for the report. */
  listed: string;
  /** The host actually probed. */
  host: string;
  port: number;
  purpose: 'business' | 'management';
}

export const DEFAULT_FLOWS_FILE = join(packageRoot(), 'agent', 'src', 'selfcheck', 'data', 'required-flows.yaml');

export function parseFlows(doc: unknown, source: string): Flow[] {
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AgentError(ErrorCode.CONFIG, `${source} is not a valid flows file: ${issues}`);
  }
  return parsed.data.flows;
}

export function loadFlows(file = DEFAULT_FLOWS_FILE): Flow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `cannot read the flows file ${file}: ${(err as Error).message}. Check selfcheck.flowsFile.`, { cause: err });
  }
  return parseFlows(parseYaml(text), file);
}

/** The outbound TCP flows to check with DNS + TCP + TLS, one per probed host and port. */
export function httpsTargets(flows: readonly Flow[]): HttpsTarget[] {
  const seen = new Set<string>();
  const out: HttpsTarget[] = [];
  for (const f of flows) {
    if (f.protocol !== 'tcp' || (f.purpose !== 'business' && f.purpose !== 'management')) continue;
    const host = f.probe ?? f.host;
    const key = `${host}:${f.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ listed: f.host, host, port: f.port, purpose: f.purpose });
  }
  return out;
}
