// LAN probes: the serve port answers on the LAN address, and the link runs at 1 Gb/s (read from /sys/class/net).
import { readFile } from 'node:fs/promises';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import type { ProbeResult } from '../probe.js';
import { probeTcp } from './tcp.js';

export interface LanProbeOptions {
  port: number;
  /** Interface to check; default the first one with a non-internal IPv4 address. */
  interfaceName?: string;
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Root of sysfs, injectable so tests read fixture trees. */
  sysRoot?: string;
  timeoutMs?: number;
}

export function pickLanInterface(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>, wanted?: string): { name: string; address: string } | undefined {
  for (const [name, infos] of Object.entries(ifaces)) {
    if (wanted !== undefined && name !== wanted) continue;
    const v4 = infos?.find((i) => i.family === 'IPv4' && (wanted !== undefined || !i.internal));
    if (v4) return { name, address: v4.address };
  }
  return undefined;
}

/** Judges a link speed in Mb/s as the source does: 1 Gb/s expected, 100 Mb/s makes a USB key take ~48 min instead of ~5. */
export function judgeLinkSpeed(name: string, speed: number | undefined): ProbeResult {
  const base = { id: `lan:link:${name}`, kind: 'lan' as const, target: `${name} link`, latencyMs: 0, evidence: { interface: name, speedMbps: speed ?? null } };
  if (speed !== undefined && speed >= 1000) return { ...base, status: 'ok', reason: 'ok' };
  if (speed === undefined || speed <= 0) {
    return {
      ...base,
      status: 'warn',
      reason: 'speed-unknown',
      remediation: {
        en: `The link speed of ${name} cannot be read (link down or virtual NIC). Plug the box into a 1 Gb/s switch port.`,
        fr: `La vitesse du lien ${name} est illisible (lien coupé ou carte virtuelle). Branchez le boîtier sur un port de commutateur à 1 Gb/s.`,
      },
    };
  }
  return {
    ...base,
    status: speed >= 100 ? 'warn' : 'fail',
    reason: 'slow-link',
    remediation: {
      en: `${name} runs at ${speed} Mb/s, not 1000: building a USB key takes about 48 min at 100 Mb/s against 5 min at 1 Gb/s. Use a 1 Gb/s switch port and a Cat 5e or better cable.`,
      fr: `${name} fonctionne à ${speed} Mb/s au lieu de 1000 : la création d'une clé USB prend environ 48 min à 100 Mb/s contre 5 min à 1 Gb/s. Utilisez un port de commutateur à 1 Gb/s et un câble Cat 5e ou mieux.`,
    },
  };
}

async function readSpeed(sysRoot: string, name: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(join(sysRoot, 'class', 'net', name, 'speed'), 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function probeLan(opts: LanProbeOptions, signal?: AbortSignal): Promise<ProbeResult[]> {
  const iface = pickLanInterface((opts.interfaces ?? networkInterfaces)(), opts.interfaceName);
  if (!iface) {
    const which = opts.interfaceName ? `interface ${opts.interfaceName}` : 'any interface';
    return [
      {
        id: 'lan:address',
        kind: 'lan',
        target: which,
        status: 'fail',
        latencyMs: 0,
        reason: 'no-address',
        evidence: { interface: opts.interfaceName ?? null },
        remediation: {
          en: `No IPv4 address on ${which}: dealer PCs cannot reach TCP ${opts.port}. Check the cable and DHCP, or set a static address in the console.`,
          fr: `Aucune adresse IPv4 sur ${opts.interfaceName ? `l'interface ${opts.interfaceName}` : 'aucune interface'} : les PC ne peuvent pas joindre le TCP ${opts.port}. Vérifiez le câble et le DHCP, ou fixez une adresse statique dans la console.`,
        },
      },
    ];
  }
  const link = judgeLinkSpeed(iface.name, await readSpeed(opts.sysRoot ?? '/sys', iface.name));
  const tcp = await probeTcp({ host: iface.address, port: opts.port, timeoutMs: opts.timeoutMs ?? 2000 }, signal);
  const port: ProbeResult =
    tcp.status === 'ok'
      ? { ...tcp, id: `lan:port:${opts.port}`, kind: 'lan', target: `${iface.address}:${opts.port}/tcp` }
      : {
          ...tcp,
          id: `lan:port:${opts.port}`,
          kind: 'lan',
          target: `${iface.address}:${opts.port}/tcp`,
          remediation: {
            en: `Nothing answers on ${iface.address}:${opts.port} (TCP), so dealer PCs cannot download updates: the serve role is not running or is bound to another address. Restart plugsrv, and allow TCP ${opts.port} from the dealer PCs' VLAN to this box.`,
            fr: `Rien ne répond sur ${iface.address}:${opts.port} (TCP) : les PC ne peuvent pas télécharger les mises à jour. Le service n'est pas démarré ou écoute une autre adresse. Redémarrez plugsrv et autorisez le TCP ${opts.port} depuis le VLAN des PC vers ce boîtier.`,
          },
        };
  return [port, link];
}
