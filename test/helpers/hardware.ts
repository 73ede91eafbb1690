// Test helper for hardware/: fixture trees of real and modelled machines, tool outputs, tool availability.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';
import { detectInventory, findTool, fsReader, defaultSearchPath, loadProfile, type Inventory, type Profile } from '../../hardware/src/index.js';

export const FIXTURES = join(packageRoot(), 'test', 'fixtures', 'hardware');

/** The `/` of a fixture machine. */
export function fixtureRoot(name: string): string {
  return join(FIXTURES, name);
}

export function toolOutput(name: string): Promise<string> {
  return readFile(join(FIXTURES, 'tools', name), 'utf8');
}

/** The inventory of a fixture tree, at a fixed time. */
export function fixtureInventory(name: string): Promise<Inventory> {
  return detectInventory(fsReader(fixtureRoot(name)), () => new Date('2026-01-15T10:00:00Z'));
}

export async function shippedProfile(id: string): Promise<Profile> {
  return (await loadProfile(id)).profile;
}

/** Why a test needing these tools cannot run here (with the Debian package to install), or undefined. */
export async function toolsMissing(...tools: string[]): Promise<string | undefined> {
  const packages: Record<string, string> = { 'stress-ng': 'stress-ng', memtester: 'memtester', fio: 'fio', smartctl: 'smartmontools', iperf3: 'iperf3' };
  const missing: string[] = [];
  for (const tool of tools) if (!(await findTool(tool, defaultSearchPath()))) missing.push(tool);
  return missing.length > 0 ? `${missing.join(', ')} not installed: apt-get install ${missing.map((m) => packages[m] ?? m).join(' ')} (.ci/run does)` : undefined;
}
