// Policies (pure): the default document, validation of an operator's document, and which version applies to a device.
import { z } from 'zod';
import { policyDocument, type PolicyDocument } from '../../../lib/fleet/protocol.js';
import { ErrorCode, FleetError } from '../errors.js';

/** Version 1: the contract's defaults (heartbeat 30 s, self-check every 6 h, night window 22:00-06:30, no caps). */
export const DEFAULT_POLICY: PolicyDocument = policyDocument.parse({ version: 1 });

/** The window must name real times: 24:00 or 07:60 would pass the contract's pattern and break the agent's scheduler. */
function checkWindow(window: string): string | undefined {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(window);
  if (!m) return 'sync.window: a window such as 22:00-06:30';
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) return `sync.window: ${window} is not two times of day (HH 00-23, MM 00-59)`;
  return undefined;
}

/**
 * Builds version `version` from an operator's document (without `version`: the fleet numbers policies).
 * E_BAD_REQUEST names each bad field.
 */
export function buildPolicy(input: unknown, version: number): PolicyDocument {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new FleetError(ErrorCode.BAD_REQUEST, 'a policy is a JSON object such as {"heartbeatSeconds": 30, "sync": {"window": "22:00-06:30"}}.');
  }
  if ('version' in input) throw new FleetError(ErrorCode.BAD_REQUEST, 'leave "version" out of a new policy: the fleet numbers policies itself.');
  const parsed = policyDocument.safeParse({ ...input, version });
  if (!parsed.success) {
    throw new FleetError(ErrorCode.BAD_REQUEST, `invalid policy: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
      details: { issues: z.treeifyError(parsed.error) },
    });
  }
  const windowProblem = checkWindow(parsed.data.sync.window);
  if (windowProblem) throw new FleetError(ErrorCode.BAD_REQUEST, `invalid policy: ${windowProblem}`);
  return parsed.data;
}

/** A device's own assignment wins over the fleet's default. */
export function effectiveVersion(assigned: number | null, defaultVersion: number): number {
  return assigned ?? defaultVersion;
}
