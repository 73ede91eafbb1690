// What the device says about itself at enrollment and in the first heartbeat of each connection; and its serial.
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces, release, type } from 'node:os';
import { join } from 'node:path';
import { serialNumber, type Inventory } from '../../../lib/fleet/protocol.js';
import { detectHardware, readLatestBurninSummaryForDataDir } from '../../../hardware/src/index.js';
import { AgentError, ErrorCode } from '../errors.js';

/** The hardware inventory (hardware/'s detection from DMI, sysfs, procfs), through its public entry point like `plugsrv hw`. */
export async function hardwareInventory(root = '/'): Promise<unknown> {
  return detectHardware({ root });
}

async function osName(root: string): Promise<string> {
  try {
    const text = await readFile(join(root, 'etc', 'os-release'), 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (m?.[1]) return `${m[1]} (${type()} ${release()})`;
  } catch {
    // not Linux, or no os-release: the kernel is enough
  }
  return `${type()} ${release()}`;
}

function macAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.mac && a.mac !== '00:00:00:00:00:00') out.add(a.mac);
  }
  return [...out].sort();
}

/** What the device says about itself; hardware details and the latest burn-in summary when they can be read. */
export async function collectInventory(
  agentVersion: string,
  opts: { root?: string; dataDir?: string; hardware?: (root: string) => Promise<unknown>; burnin?: (dataDir: string) => Promise<unknown> } = {},
): Promise<Inventory> {
  const root = opts.root ?? '/';
  // An inventory without hardware details is still an inventory: a detection problem never blocks enrollment or a heartbeat.
  const hardware = await (opts.hardware ?? hardwareInventory)(root).catch(() => undefined);
  const burnin = opts.dataDir ? await (opts.burnin ?? readLatestBurninSummaryForDataDir)(opts.dataDir).catch(() => undefined) : undefined;
  return {
    agentVersion,
    hostname: hostname(),
    os: await osName(root),
    macs: macAddresses(),
    ...(hardware !== undefined && hardware !== null ? { hardware } : {}),
    ...(burnin !== undefined && burnin !== null ? { burnin } : {}),
  };
}

/** fleet.serial, else the DMI product serial; an error that says what to set when neither gives a usable serial. */
export async function readSerial(configured: string, sysRoot = '/'): Promise<string> {
  let value = configured.trim();
  let from = 'fleet.serial';
  if (value === '') {
    const file = join(sysRoot, 'sys', 'class', 'dmi', 'id', 'product_serial');
    from = file;
    try {
      value = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new AgentError(
        ErrorCode.SERIAL_UNKNOWN,
        `cannot read this unit's serial from ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): set fleet.serial (PLUGSRV_FLEET_SERIAL) to the serial on the unit's label.`,
        { cause: err },
      );
    }
  }
  if (!serialNumber.safeParse(value).success) {
    throw new AgentError(ErrorCode.SERIAL_UNKNOWN, `the serial from ${from} ("${value.slice(0, 80)}") is not usable (1-64 letters, digits, dot, dash or underscore): set fleet.serial to the serial on the unit's label.`);
  }
  return value;
}
