// Advertises the serve role on the LAN with DNS-SD (`_plugsrv._tcp`, bonjour-service) and says goodbye (TTL 0) when it stops.
import type { EventEmitter } from 'node:events';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import Bonjour from 'bonjour-service';
import type { Logger } from '../../../lib/log/index.js';
import { advertiseScope, conflictName, instanceName, mdnsHostName, SERVICE_PROTOCOL, SERVICE_TYPE, txtRecord, type BoxFacts } from './records.js';

/** bonjour-service probes the name 3 x 250 ms after a random 0-250 ms, then announces: up well within this, unless the name is taken. */
const UP_TIMEOUT_MS = 3_000;
/** Renames tried after name conflicts ("name (2)" ...) before giving up. */
const MAX_RENAMES = 5;
/** Bound on sending the goodbye packets and closing the socket at stop. */
const STOP_TIMEOUT_MS = 1_500;

export interface AdvertiseOptions {
  /** The TCP port the server is bound to. */
  port: number;
  /** serve.host: the address the server listens on. */
  serveHost: string;
  /** serve.advertiseInterface */
  interface: string;
  /** serve.advertiseName */
  name: string;
  facts: BoxFacts;
  log: Pick<Logger, 'info' | 'warn'>;
  /** For tests; defaults to the OS's. */
  hostname?: string;
}

export interface Advertiser {
  /** The instance name in use (after any rename). */
  readonly name: string;
  /** Sends the goodbye packets (TTL 0) and closes the multicast socket; safe to call twice. */
  stop(): Promise<void>;
}

type Published = ReturnType<Bonjour['publish']>;
type Record_ = ReturnType<Published['records']>[number];

function withTimeout(start: (done: () => void) => void, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    start(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves true once the service is announced, false when it was not within the timeout (its name is taken). */
function announced(service: Published): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      service.off('up', onUp);
      resolve(false);
    }, UP_TIMEOUT_MS);
    const onUp = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    service.once('up', onUp);
  });
}

/**
 * Starts advertising, or returns undefined (with the reason logged) when the server cannot be reached from
 * the LAN or multicast is not possible. Never throws: a box that cannot advertise still serves.
 */
export async function startAdvertising(o: AdvertiseOptions): Promise<Advertiser | undefined> {
  const scope = advertiseScope(o.interface, o.serveHost, networkInterfaces());
  if (scope.kind === 'off') {
    o.log.info('dns-sd: not advertising', { reason: scope.reason });
    return undefined;
  }
  const host = o.hostname ?? osHostname();
  // bind 0.0.0.0 even for one interface: a socket bound to a unicast address receives no multicast queries on Linux.
  const mdnsOptions = scope.kind === 'address' ? { interface: scope.address, bind: '0.0.0.0' } : {};
  let failed: Error | undefined;
  const onError = (err: unknown): void => {
    failed ??= err instanceof Error ? err : new Error(String(err));
    o.log.warn('dns-sd: multicast error; the box may not be found on the LAN (give the PCs its address with --server)', { error: failed.message });
  };
  let bonjour: Bonjour;
  try {
    bonjour = new Bonjour(mdnsOptions as never, onError);
  } catch (err) {
    onError(err);
    return undefined;
  }
  // multicast-dns emits 'error' when it cannot bind UDP 5353; without a listener that would end the process.
  (bonjour as unknown as { server: { mdns: EventEmitter } }).server.mdns.on('error', onError);
  const base = instanceName(o.name, host);
  let name = base;
  let service: Published | undefined;
  try {
    for (let tries = 0; tries <= MAX_RENAMES && !failed && !service; tries++) {
      name = tries === 0 ? base : conflictName(base, tries);
      const s = bonjour.publish({ name, type: SERVICE_TYPE, protocol: SERVICE_PROTOCOL, port: o.port, host: mdnsHostName(host), txt: txtRecord(o.facts), disableIPv6: o.serveHost !== '::' });
      if (scope.kind === 'address') {
        // bonjour-service lists every interface's address; a box bound to one address must only advertise that one.
        const all = s.records.bind(s);
        s.records = (): Record_[] => all().filter((r) => (r.type !== 'A' && r.type !== 'AAAA') || r.data === scope.address);
      }
      if (await announced(s)) service = s;
      else {
        s.stop();
        if (!failed) o.log.warn('dns-sd: the instance name is taken on the LAN; trying another', { name });
      }
    }
  } catch (err) {
    onError(err);
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await withTimeout((done) => bonjour.unpublishAll(done), STOP_TIMEOUT_MS);
    await withTimeout((done) => bonjour.destroy(done), STOP_TIMEOUT_MS);
  };
  if (!service) {
    o.log.warn('dns-sd: not advertising', { reason: failed ? failed.message : `no free instance name after ${MAX_RENAMES} renames; set serve.advertiseName` });
    await stop();
    return undefined;
  }
  o.log.info('dns-sd: advertising', { name, type: `_${SERVICE_TYPE}._${SERVICE_PROTOCOL}`, port: o.port, on: scope.kind === 'address' ? scope.address : 'all interfaces' });
  return { name, stop };
}
