// iproute2 (`ip -j ...`) for one interface: IPv4 addresses, default route, neighbour (ARP) state, and the changes the iproute2 backend makes.
import type { RunCommand } from './exec.js';

export interface Ipv4Address {
  readonly address: string;
  readonly prefix: number;
}

interface AddrJson {
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

function parseJson<T>(text: string): T[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const v = JSON.parse(trimmed) as unknown;
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Neighbour states that prove the gateway answered ARP (PERMANENT/NOARP: configured by hand, trusted as is). */
export const CONFIRMED_NEIGHBOUR_STATES = ['REACHABLE', 'PERMANENT', 'NOARP'] as const;

export class IpRoute {
  readonly #run: RunCommand;
  readonly #ip: string;

  constructor(run: RunCommand, ip = 'ip') {
    this.#run = run;
    this.#ip = ip;
  }

  /** The interface's global-scope IPv4 addresses. */
  async addresses(iface: string): Promise<Ipv4Address[]> {
    const rows = parseJson<AddrJson>(await this.#run(this.#ip, ['-j', '-4', 'addr', 'show', 'dev', iface]));
    const out: Ipv4Address[] = [];
    for (const row of rows) {
      for (const a of row.addr_info ?? []) {
        if (a.family === 'inet' && a.scope === 'global' && typeof a.local === 'string' && typeof a.prefixlen === 'number') {
          out.push({ address: a.local, prefix: a.prefixlen });
        }
      }
    }
    return out;
  }

  /** The gateway of the main table's IPv4 default route through this interface, if any. */
  async defaultGateway(iface: string): Promise<string | undefined> {
    const rows = parseJson<{ gateway?: string }>(await this.#run(this.#ip, ['-j', '-4', 'route', 'show', 'default', 'dev', iface]));
    return rows.find((r) => typeof r.gateway === 'string')?.gateway;
  }

  /** The kernel's neighbour-table states for `address` on this interface (empty when there is no entry). */
  async neighbourState(iface: string, address: string): Promise<string[]> {
    const rows = parseJson<{ dst?: string; state?: string[] }>(await this.#run(this.#ip, ['-j', '-4', 'neigh', 'show', 'to', address, 'dev', iface]));
    return rows.filter((r) => r.dst === address).flatMap((r) => r.state ?? []);
  }

  /** Forgets `address`'s neighbour entry, so only a fresh ARP reply can make it REACHABLE again. */
  async flushNeighbour(iface: string, address: string): Promise<void> {
    await this.#run(this.#ip, ['-4', 'neigh', 'flush', 'to', address, 'dev', iface]).catch(() => undefined);
  }

  async linkUp(iface: string): Promise<void> {
    await this.#run(this.#ip, ['link', 'set', 'dev', iface, 'up']);
  }

  async flushAddresses(iface: string): Promise<void> {
    await this.#run(this.#ip, ['-4', 'addr', 'flush', 'dev', iface, 'scope', 'global']);
  }

  async addAddress(iface: string, a: Ipv4Address): Promise<void> {
    await this.#run(this.#ip, ['-4', 'addr', 'add', `${a.address}/${a.prefix}`, 'broadcast', '+', 'dev', iface]);
  }

  async replaceDefault(iface: string, gateway: string): Promise<void> {
    await this.#run(this.#ip, ['-4', 'route', 'replace', 'default', 'via', gateway, 'dev', iface]);
  }

  /** Removes the default route through this interface; none is fine. */
  async deleteDefault(iface: string): Promise<void> {
    if ((await this.defaultGateway(iface)) === undefined) return;
    await this.#run(this.#ip, ['-4', 'route', 'del', 'default', 'dev', iface]);
  }
}
