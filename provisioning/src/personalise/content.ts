// Pure: what the personalisation partition holds for one unit (the contract with the image's first boot,
// image/rootfs/usr/lib/plugsrv/firstboot): file names, modes and contents.
import { parse as parseYaml, stringify } from 'yaml';
import type { NetworkSettings } from '../orders/index.js';

export const PERSO_PARTITION_NAME = 'plugsrv-perso';
export const PERSO_FS_LABEL = 'plugsrv-perso';

/** Where the first boot installs each file on the unit (/etc/plugsrv is /var/lib/plugsrv-local/etc). */
export const ON_UNIT = {
  config: '/etc/plugsrv/plugsrv.yaml',
  token: '/etc/plugsrv/fleet/bootstrap-token',
  password: '/etc/plugsrv/console-password',
  fleetCa: '/etc/plugsrv/fleet-ca.pem',
  catalogRoot: '/etc/plugsrv/catalog-root.json',
  unit: '/etc/plugsrv/unit.json',
} as const;

export interface PersoInput {
  unitId: string;
  serial: string;
  orderRef: string;
  dealerCode: string;
  site: string;
  /** The order's language: the console's language and, unless the site template says otherwise, its keyboard. */
  lang: 'fr' | 'en';
  network: NetworkSettings;
  fleetUrl: string;
  fleetCaPem: string | null;
  /** The agent configuration every unit of this line gets (origin URL, sync window ...), YAML text; may be empty. */
  siteTemplateYaml: string;
  catalogRootJson: string | null;
  bootstrapToken: string;
  passwordHashLine: string;
  imageVersion: string;
  producedAt: string;
}

export interface PersoFile {
  /** Path inside the partition. */
  path: string;
  mode: number;
  content: string;
}

/** The systemd-networkd file for a static site (the image's default is DHCP on every ethernet port). */
export function networkdFile(n: Extract<NetworkSettings, { mode: 'static' }>): string {
  return [
    '# Written by the production line from the dealer order (static addressing). The console can change it.',
    '[Match]',
    'Type=ether',
    'Kind=!*',
    '',
    '[Network]',
    `Address=${n.address}/${n.prefix}`,
    `Gateway=${n.gateway}`,
    ...n.dns.map((d) => `DNS=${d}`),
    'LLMNR=no',
    'MulticastDNS=no',
    '',
  ].join('\n');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Pure: the unit's plugsrv.yaml: the site template with the unit's fleet and trust settings on top. */
export function unitConfigYaml(input: PersoInput): string {
  const base: unknown = input.siteTemplateYaml.trim() === '' ? {} : parseYaml(input.siteTemplateYaml);
  const config: Record<string, unknown> = isObject(base) ? structuredClone(base) : {};
  const section = (k: string): Record<string, unknown> => {
    const v = config[k];
    const obj = isObject(v) ? v : {};
    config[k] = obj;
    return obj;
  };
  config.dataDir ??= '/var/lib/plugsrv';
  config.unitFile = ON_UNIT.unit;
  const fleet = section('fleet');
  fleet.url = input.fleetUrl;
  fleet.tokenFile = ON_UNIT.token;
  fleet.serial = input.serial;
  fleet.rebootCommand ??= ['/usr/bin/touch', '/run/plugsrv/reboot-request'];
  if (input.fleetCaPem) fleet.caFile = ON_UNIT.fleetCa;
  if (input.catalogRootJson) section('sync').trustedRoot = ON_UNIT.catalogRoot;
  const consoleSection = section('console');
  consoleSection.passwordFile = ON_UNIT.password;
  consoleSection.networkDir ??= '/etc/systemd/network';
  consoleSection.applyWith ??= 'networkd';
  consoleSection.lang ??= input.lang;
  // The kernel keymap is US: a French order's keyboard is AZERTY, which the console translates (console/layouts.ts).
  consoleSection.keyboard ??= input.lang === 'fr' ? 'fr' : 'us';
  const header = `# plugsrv agent configuration of unit ${input.unitId} (serial ${input.serial}), dealer ${input.dealerCode}, order ${input.orderRef}.\n# Written by the production line (plugsrv-line personalise) on ${input.producedAt}.\n`;
  return header + stringify(config);
}

/** Every file of the partition. Secrets (token, password hash) are 0600. */
export function persoFiles(input: PersoInput): PersoFile[] {
  const files: PersoFile[] = [
    { path: 'plugsrv.yaml', mode: 0o644, content: unitConfigYaml(input) },
    { path: 'bootstrap-token', mode: 0o600, content: `${input.bootstrapToken}\n` },
    { path: 'console-password', mode: 0o600, content: `${input.passwordHashLine}\n` },
    {
      path: 'unit.json',
      mode: 0o644,
      content: `${JSON.stringify(
        { schema: 'plugsrv.unit/1', unitId: input.unitId, serial: input.serial, dealerCode: input.dealerCode, site: input.site, orderRef: input.orderRef, imageVersion: input.imageVersion, producedAt: input.producedAt },
        null,
        2,
      )}\n`,
    },
  ];
  if (input.fleetCaPem) files.push({ path: 'fleet-ca.pem', mode: 0o644, content: input.fleetCaPem.endsWith('\n') ? input.fleetCaPem : `${input.fleetCaPem}\n` });
  if (input.catalogRootJson) files.push({ path: 'catalog-root.json', mode: 0o644, content: input.catalogRootJson });
  if (input.network.mode === 'static') files.push({ path: 'network/10-plugsrv-site.network', mode: 0o644, content: networkdFile(input.network) });
  return files;
}
