// Finds plugsrv boxes on the LAN: DNS-SD queries for `_plugsrv._tcp` for a bounded time (bonjour-service).
import type { EventEmitter } from 'node:events';
import Bonjour from 'bonjour-service';
import { AgentError, ErrorCode } from '../errors.js';
import { boxFromService, SERVICE_PROTOCOL, SERVICE_TYPE, uniqueBoxes, type DiscoveredBox, type SeenService } from './records.js';

/** Queries are repeated at these times (ms after the start) while browsing, in case one was lost (RFC 6762 5.2 spacing). */
const REQUERY_AT_MS = [1_000, 3_000, 7_000];
const CLOSE_TIMEOUT_MS = 1_000;

export interface BrowseOptions {
  /** Longest time to wait for answers. */
  timeoutMs: number;
  /** Stop this long after the first answer (other boxes answer the same query at once); undefined = browse for the whole timeout. */
  settleMs?: number;
  /** IPv4 address of the interface to query on; undefined = every interface. */
  interface?: string;
  onFound?(box: DiscoveredBox): void;
}

/** The boxes that answered within the time; throws E_NO_SERVER when the PC cannot listen for DNS-SD answers at all. */
export async function browseBoxes(o: BrowseOptions): Promise<DiscoveredBox[]> {
  let failure: Error | undefined;
  let finishEarly: (() => void) | undefined;
  const onError = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    finishEarly?.();
  };
  const bonjour = new Bonjour((o.interface ? { interface: o.interface, bind: '0.0.0.0' } : {}) as never, onError);
  (bonjour as unknown as { server: { mdns: EventEmitter } }).server.mdns.on('error', onError);
  const found: DiscoveredBox[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await new Promise<void>((resolve) => {
      const browser = bonjour.find({ type: SERVICE_TYPE, protocol: SERVICE_PROTOCOL });
      const finish = (): void => {
        for (const t of timers) clearTimeout(t);
        browser.stop();
        resolve();
      };
      browser.on('up', (service) => {
        const box = boxFromService(service as unknown as SeenService);
        if (!box) return;
        const first = found.length === 0;
        found.push(box);
        o.onFound?.(box);
        if (first && o.settleMs !== undefined) timers.push(setTimeout(finish, o.settleMs));
      });
      for (const at of REQUERY_AT_MS) if (at < o.timeoutMs) timers.push(setTimeout(() => browser.update(), at));
      timers.push(setTimeout(finish, o.timeoutMs));
      finishEarly = finish;
      if (failure) finish();
    });
  } finally {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      bonjour.destroy(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  if (failure && found.length === 0) {
    const code = (failure as NodeJS.ErrnoException).code ?? failure.message;
    throw new AgentError(
      ErrorCode.NO_SERVER,
      `cannot look for plugsrv boxes on the LAN: listening for DNS-SD answers on UDP port 5353 failed (${code}). Give the box's address with --server http://ADDRESS:8080 (it is on the box's status page), or allow UDP 5353 (mDNS) for node in this PC's firewall.`,
      { cause: failure },
    );
  }
  return uniqueBoxes(found);
}
