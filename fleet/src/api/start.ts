// Starts the fleet on an opened Fleet: expiry sweeper, hub timers, the listening HTTPS server, and a graceful stop.
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Fleet } from '../app.js';
import { createFleetServer } from './server.js';

export interface RunningFleet {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** https URL a local client reaches the fleet at. */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startFleetServer(fleet: Fleet): Promise<RunningFleet> {
  const cfg = fleet.config.serve;
  let port = cfg.port;
  const eventLoop = monitorEventLoopDelay({ resolution: 10 });
  eventLoop.enable();
  const server = createFleetServer({ fleet, port: () => port, eventLoop });
  fleet.hub.start();
  const sweep = setInterval(() => {
    fleet.commands.sweepExpired().catch((err: unknown) => fleet.log.warn('commands: expiry sweep failed', { error: err }));
  }, fleet.config.commands.expirySweepSeconds * 1000);
  sweep.unref();
  await fleet.commands.sweepExpired();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const host = cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
  return {
    server,
    host: cfg.host,
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async stop() {
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await fleet.hub.stop();
      server.closeIdleConnections();
      // Requests in flight get a moment to finish their DB writes, then the rest is cut.
      const timer = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(timer);
      eventLoop.disable();
    },
  };
}
