// hardware: the public entry point. The agent CLI (`plugsrv hw`), the agent's fleet client and provisioning use
// hardware through this file only.
import { join } from 'node:path';
import { detectInventory, fsReader, type Inventory } from './detect/index.js';
import { BURNIN_DIR_NAME, readLatestBurninSummary, type BurninSummary } from './burnin/index.js';

export * from './burnin/index.js';
export * from './check/index.js';
export * from './detect/index.js';
export { HardwareError, HwErrorCode } from './errors.js';
export * from './profile/index.js';

/**
 * The unit's hardware inventory, JSON-serialisable (the fleet inventory sends it as is): DMI identity (vendor, model,
 * service tag when readable, BIOS version), CPU, memory, disks, NICs with link speed, TPM, UEFI/Secure Boot/boot order,
 * USB root hubs, readable BIOS settings, and notes on what could not be read. Reads /sys and /proc under `root`
 * (default `/`); never throws for a missing or unreadable file (it becomes null and a note). Takes ~10 ms.
 */
export function detectHardware(options: { root?: string; now?: () => Date } = {}): Promise<Inventory> {
  return detectInventory(fsReader(options.root ?? '/'), options.now);
}

/**
 * The summary of the latest burn-in report kept under the agent's data dir (`<dataDir>/burnin`, where
 * `plugsrv hw burnin` writes by default), or null when no burn-in ran on this unit.
 */
export function readLatestBurninSummaryForDataDir(dataDir: string): Promise<BurninSummary | null> {
  return readLatestBurninSummary(join(dataDir, BURNIN_DIR_NAME));
}
