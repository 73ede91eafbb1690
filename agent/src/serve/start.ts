// Starts the serve role on an opened agent: lock watcher, metrics, listening socket, and a graceful stop.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from '../app.js';
import { startAdvertising } from '../discovery/index.js';
import { enrollmentSummary } from '../fleet/index.js';
import { LockWatcher } from '../lock/index.js';
import { latestRuns, statusSummary } from '../selfcheck/index.js';
import { syncConfigured, syncSummary, tufMirrorDir } from '../sync/index.js';
import { readUnitFile } from '../unit/index.js';
import { createServeMetrics } from './metrics.js';
import { createServeServer } from './server.js';

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly host: string;
  /** The lock as this server sees it; `refresh()` makes a lock written by the fleet client take effect at once. */
  readonly lock: LockWatcher;
  stop(): Promise<void>;
}

export async function startServeRole(agent: Agent): Promise<RunningServer> {
  const cfg = agent.config.serve;
  const lock = new LockWatcher(agent.state.db, agent.log, cfg.lockPollMs);
  await lock.start();
  const unit = await readUnitFile(agent.config.unitFile, (message) => agent.log.warn(message));
  const server = createServeServer({
    config: cfg,
    packages: agent.packages,
    store: agent.store,
    vinTable: agent.vinTable,
    lock: () => lock.current,
    metrics: createServeMetrics(),
    log: agent.log,
    version: agent.version,
    selfcheck: async () => statusSummary((await latestRuns(agent.state.db, 1))[0]),
    sync: () => syncSummary(agent),
    enrollment: () => enrollmentSummary({ config: agent.config, dataDir: agent.dataDir, db: agent.state.db }),
    unit,
    ...(syncConfigured(agent) ? { tufMirrorDir: tufMirrorDir(agent.dataDir) } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // In the background: probing the name on the LAN takes up to a second, serving need not wait for it.
  const advertising = cfg.advertise
    ? startAdvertising({ port, serveHost: cfg.host, interface: cfg.advertiseInterface, name: cfg.advertiseName, facts: { version: agent.version, tuf: syncConfigured(agent), serial: unit?.serial, dealer: unit?.dealerCode }, log: agent.log })
    : Promise.resolve(undefined);
  return {
    server,
    port,
    host: cfg.host,
    lock,
    async stop() {
      // Goodbye packets first, so PCs stop offering a box that is going away.
      await (await advertising)?.stop();
      lock.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Downloads in flight would hold close() for minutes; a stopping service drops them (clients resume with Range).
        server.closeAllConnections();
      });
    },
  };
}
