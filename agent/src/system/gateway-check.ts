// After a change: is the link up, is the address there, does the gateway answer? Answered with the kernel's own ARP:
// forget the gateway's neighbour entry, send it one UDP datagram (discard port) and wait for the entry to become REACHABLE.
// A router that drops ping still answers ARP, and this needs nothing but iproute2 (iputils-ping is not on the image).
import { createSocket } from 'node:dgram';
import type { FailureReason, NetworkSettings } from '../console/index.js';
import { CONFIRMED_NEIGHBOUR_STATES, type Ipv4Address } from './iproute.js';

/** What the check reads from the system; the real one is IpRoute + sysfs + a UDP socket, tests pass fakes. */
export interface LinkChecks {
  carrier(iface: string): Promise<boolean>;
  addresses(iface: string): Promise<Ipv4Address[]>;
  defaultGateway(iface: string): Promise<string | undefined>;
  neighbourState(iface: string, address: string): Promise<string[]>;
  flushNeighbour(iface: string, address: string): Promise<void>;
  /** Sends one datagram towards `address`, which makes the kernel resolve it with ARP. Never throws. */
  sendProbe(address: string): Promise<void>;
}

export type GatewayCheck = { readonly ok: true; readonly gateway: string } | { readonly ok: false; readonly reason: FailureReason };

export interface WaitOptions {
  iface: string;
  settings: NetworkSettings;
  checks: LinkChecks;
  /** Epoch ms at which the check gives up. */
  deadline: number;
  /** The limit in seconds, for the reason's sentence. */
  seconds: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Pause between rounds, and between a probe and reading the neighbour entry. */
  pollMs?: number;
  probeWaitMs?: number;
  /** Called once the gateway is known (DHCP learns it along the way). */
  onGateway?: (gateway: string) => void;
}

/** Sends one byte to UDP port 9 (discard); errors (no route yet) are ignored: the next round tries again. */
export function udpProbe(address: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (): void => {
      socket.close();
      resolve();
    };
    socket.on('error', done);
    socket.send(Buffer.from([0]), 9, address, done);
  });
}

/** Polls until the link, the address and the gateway are all there, or the deadline passes; says which was missing last. */
export async function waitForGateway(o: WaitOptions): Promise<GatewayCheck> {
  const pollMs = o.pollMs ?? 500;
  const probeWaitMs = o.probeWaitMs ?? 250;
  let flushedFor: string | undefined;
  let announced: string | undefined;

  const round = async (): Promise<GatewayCheck> => {
    if (!(await o.checks.carrier(o.iface))) return { ok: false, reason: { code: 'linkDown', iface: o.iface, seconds: o.seconds } };
    const addresses = await o.checks.addresses(o.iface);
    const s = o.settings;
    const hasAddress = s.mode === 'static' ? addresses.some((a) => a.address === s.address && a.prefix === s.prefix) : addresses.length > 0;
    if (!hasAddress) return { ok: false, reason: { code: 'noAddress', iface: o.iface, seconds: o.seconds } };
    const gateway = s.mode === 'static' ? s.gateway : await o.checks.defaultGateway(o.iface);
    if (!gateway) return { ok: false, reason: { code: 'noGateway', iface: o.iface, seconds: o.seconds } };
    if (announced !== gateway) {
      announced = gateway;
      o.onGateway?.(gateway);
    }
    // A REACHABLE entry left from before the change proves nothing: only a reply to our own request counts.
    if (flushedFor !== gateway) {
      await o.checks.flushNeighbour(o.iface, gateway);
      flushedFor = gateway;
    }
    await o.checks.sendProbe(gateway);
    await o.sleep(probeWaitMs);
    const states = await o.checks.neighbourState(o.iface, gateway);
    if (states.some((st) => (CONFIRMED_NEIGHBOUR_STATES as readonly string[]).includes(st))) return { ok: true, gateway };
    return { ok: false, reason: { code: 'gatewayUnreachable', gateway, seconds: o.seconds } };
  };

  for (;;) {
    let result: GatewayCheck;
    try {
      result = await round();
    } catch (err) {
      result = { ok: false, reason: { code: 'applyFailed', detail: err instanceof Error ? err.message : String(err) } };
    }
    if (result.ok || o.now() >= o.deadline) return result;
    await o.sleep(Math.min(pollMs, Math.max(0, o.deadline - o.now())));
  }
}
