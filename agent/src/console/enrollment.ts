// Enrollment state for the console's screen: an injected reader; the default reads <dataDir>/identity/device.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import type { EnrollmentStatus } from './types.js';

/** What the enrollment screen calls; the fleet client may provide its own once it exists. */
export type EnrollmentReader = () => Promise<EnrollmentStatus>;

export function identityFile(dataDir: string): string {
  return join(dataDir, 'identity', 'device.json');
}

/** Reads `{deviceId, enrolledAt?, fleetUrl?}` from the identity file's JSON text. */
export function parseIdentity(text: string): EnrollmentStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { state: 'unreadable', detail: `not JSON (${(err as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null) return { state: 'unreadable', detail: 'not a JSON object' };
  const { deviceId, enrolledAt, fleetUrl } = doc as Record<string, unknown>;
  if (typeof deviceId !== 'string' || deviceId.trim() === '') return { state: 'unreadable', detail: 'no deviceId' };
  return {
    state: 'enrolled',
    deviceId,
    ...(typeof enrolledAt === 'string' ? { enrolledAt } : {}),
    ...(typeof fleetUrl === 'string' ? { fleetUrl } : {}),
  };
}

/** The default reader: no identity file means not enrolled. */
export function identityFileReader(dataDir: string): EnrollmentReader {
  const file = identityFile(dataDir);
  return async () => {
    try {
      return parseIdentity(await readFile(file, 'utf8'));
    } catch (err) {
      if (systemErrorCode(err) === 'ENOENT') return { state: 'not-enrolled' };
      return { state: 'unreadable', detail: `${file}: ${(err as Error).message}` };
    }
  };
}
