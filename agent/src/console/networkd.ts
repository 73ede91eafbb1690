// The systemd-networkd `.network` file the console writes, and reading one back to prefill the form.
import { parsePrefix } from './ipv4.js';
import type { NetworkSettings } from './types.js';

/** `10-` sorts before the image's catch-all files, so networkd picks this one for the interface. */
export function networkFileName(iface: string): string {
  return `10-plugsrv-${iface}.network`;
}

export const NETWORK_FILE_MARK = '# Written by plugsrv console';

/** The `.network` file for one interface. `writtenAt` goes into the header comment for the helpdesk. */
export function renderNetworkd(iface: string, settings: NetworkSettings, writtenAt: Date): string {
  const lines = [
    `${NETWORK_FILE_MARK} on ${writtenAt.toISOString()}; change it with \`plugsrv console\` on tty1.`,
    '[Match]',
    `Name=${iface}`,
    '',
    '[Network]',
  ];
  if (settings.mode === 'dhcp') {
    lines.push('DHCP=ipv4');
  } else {
    lines.push('DHCP=no', `Address=${settings.address}/${settings.prefix}`, `Gateway=${settings.gateway}`);
    for (const dns of settings.dns) lines.push(`DNS=${dns}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Reads a `.network` file back into settings, for the form's first values. Only what the console itself writes is
 * understood; anything else (several addresses, routes, IPv6) gives undefined and the form starts from the live addressing.
 */
export function parseNetworkd(text: string): NetworkSettings | undefined {
  let section = '';
  let dhcp = false;
  const addresses: string[] = [];
  const gateways: string[] = [];
  const dns: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    if (section !== 'Network') continue;
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value = ''] = kv;
    if (key === 'DHCP') dhcp = /^(yes|ipv4|true|both)$/i.test(value);
    else if (key === 'Address') addresses.push(value);
    else if (key === 'Gateway') gateways.push(value);
    else if (key === 'DNS') dns.push(...value.split(/\s+/).filter((v) => v !== ''));
  }
  if (dhcp) return addresses.length === 0 ? { mode: 'dhcp' } : undefined;
  if (addresses.length !== 1 || gateways.length !== 1) return undefined;
  const [address, prefixText] = (addresses[0] as string).split('/');
  const prefix = parsePrefix(prefixText ?? '');
  if (!address || !prefix.ok) return undefined;
  return { mode: 'static', address, prefix: prefix.value, gateway: gateways[0] as string, dns };
}
