// The two ways a set-up is applied once its .network file is written: systemd-networkd (the appliance), or iproute2
// directly (boxes and test namespaces without networkd; static only). Each can snapshot what it changes and put it back.
import type { NetworkSettings } from '../console/index.js';
import type { RunCommand } from './exec.js';
import { readTextIfExists, removeDurable, writeFileDurable } from './files.js';
import type { IpRoute, Ipv4Address } from './iproute.js';

export interface NetworkBackend<S = unknown> {
  readonly name: 'networkd' | 'iproute2';
  readonly supportsDhcp: boolean;
  /** What restore() needs to put the live set-up back (called before the file is replaced). */
  snapshot(): Promise<S>;
  /** Applies the new set-up (the .network file is already written). */
  apply(settings: NetworkSettings): Promise<void>;
  /** Puts the snapshot back (the previous .network file is already restored). */
  restore(snapshot: S): Promise<void>;
}

/** networkd re-reads the files and reconfigures the interface from them, both ways. */
export function networkdBackend(iface: string, run: RunCommand, networkctl = 'networkctl'): NetworkBackend<undefined> {
  const reload = async (): Promise<void> => {
    await run(networkctl, ['reload']);
    await run(networkctl, ['reconfigure', iface]);
  };
  return {
    name: 'networkd',
    supportsDhcp: true,
    snapshot: async () => undefined,
    apply: reload,
    restore: reload,
  };
}

export interface IpSnapshot {
  readonly addresses: readonly Ipv4Address[];
  readonly gateway: string | undefined;
  /** resolv.conf's previous content; undefined = it did not exist. */
  readonly resolvConf: string | undefined;
}

export function renderResolvConf(dns: readonly string[]): string {
  return `# Written by plugsrv console (console.applyWith: iproute2).\n${dns.map((d) => `nameserver ${d}`).join('\n')}\n`;
}

/** Sets the address, default route and resolv.conf with `ip` directly; DHCP would need a client, so it is refused. */
export function iproute2Backend(iface: string, ip: IpRoute, resolvConf: string): NetworkBackend<IpSnapshot> {
  return {
    name: 'iproute2',
    supportsDhcp: false,
    async snapshot() {
      return { addresses: await ip.addresses(iface), gateway: await ip.defaultGateway(iface), resolvConf: await readTextIfExists(resolvConf) };
    },
    async apply(settings) {
      if (settings.mode !== 'static') throw new Error('DHCP needs console.applyWith: networkd');
      await ip.linkUp(iface);
      await ip.flushAddresses(iface);
      await ip.addAddress(iface, { address: settings.address, prefix: settings.prefix });
      await ip.replaceDefault(iface, settings.gateway);
      await writeFileDurable(resolvConf, renderResolvConf(settings.dns));
    },
    async restore(snap) {
      await ip.flushAddresses(iface);
      for (const a of snap.addresses) await ip.addAddress(iface, a);
      if (snap.gateway) await ip.replaceDefault(iface, snap.gateway);
      else await ip.deleteDefault(iface);
      if (snap.resolvConf === undefined) await removeDurable(resolvConf);
      else await writeFileDurable(resolvConf, snap.resolvConf);
    },
  };
}
