// The interface as sysfs sees it: which one to set up by default, whether it exists, whether its cable is plugged.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError, ErrorCode } from '../errors.js';

/** ARPHRD_ETHER in /sys/class/net/<if>/type. */
const ETHERNET = '1';

async function readSys(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The first ethernet interface by name, preferring physical ones (their sysfs node is not under devices/virtual) and
 * skipping wireless and bridges; virtual ones (veth in a namespace) are only taken when there is nothing else.
 */
export async function detectInterface(sysRoot = '/sys'): Promise<string | undefined> {
  const base = join(sysRoot, 'class', 'net');
  let names: string[];
  try {
    names = (await readdir(base)).sort();
  } catch {
    return undefined;
  }
  const physical: string[] = [];
  const virtual: string[] = [];
  for (const name of names) {
    if (name === 'lo') continue;
    const dir = join(base, name);
    if ((await readSys(join(dir, 'type'))) !== ETHERNET) continue;
    if ((await exists(join(dir, 'wireless'))) || (await exists(join(dir, 'phy80211'))) || (await exists(join(dir, 'bridge')))) continue;
    const real = await realpath(dir).catch(() => dir);
    (real.includes('/devices/virtual/') ? virtual : physical).push(name);
  }
  return physical[0] ?? virtual[0];
}

/** The configured interface, or the detected one; E_NETWORK_INTERFACE when there is none or it does not exist. */
export async function resolveInterface(configured: string, sysRoot = '/sys'): Promise<string> {
  const iface = configured !== '' ? configured : await detectInterface(sysRoot);
  if (!iface) {
    throw new AgentError(ErrorCode.NETWORK_INTERFACE, `no ethernet interface found in ${join(sysRoot, 'class', 'net')}; plug in the network card or name the interface in console.interface (PLUGSRV_CONSOLE_INTERFACE).`);
  }
  if (!(await exists(join(sysRoot, 'class', 'net', iface)))) {
    throw new AgentError(ErrorCode.NETWORK_INTERFACE, `interface ${iface} (console.interface) does not exist on this box; see \`ip link\` for the names, or leave the option empty to use the first ethernet interface.`);
  }
  return iface;
}

/** Whether the cable is plugged and the link negotiated (carrier 1). A downed interface reads as no carrier. */
export async function readCarrier(iface: string, sysRoot = '/sys'): Promise<boolean> {
  return (await readSys(join(sysRoot, 'class', 'net', iface, 'carrier'))) === '1';
}
