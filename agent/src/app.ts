// Wires the agent's parts once (state DB, blob store, repositories, VIN table) for the CLI commands; no singletons.
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/log/index.js';
import { packageVersion } from '../../lib/package-root.js';
import { loadVinTable, PackageRepository, type VinTable } from './catalog/index.js';
import type { Config } from './config/index.js';
import { openStateDb, type StateDb } from './db/index.js';
import { finishPendingWipe } from './fleet/index.js';
import { BlobStore } from './store/index.js';

export interface Agent {
  readonly config: Config;
  readonly dataDir: string;
  readonly log: Logger;
  readonly state: StateDb;
  readonly store: BlobStore;
  readonly packages: PackageRepository;
  readonly vinTable: VinTable;
  readonly version: string;
  close(): void;
}

/** Opens the state DB (applying migrations) and the store; `recover` runs the store's start-up recovery. */
export async function openAgent(config: Config, log: Logger, options: { recover?: boolean } = {}): Promise<Agent> {
  const dataDir = resolve(config.dataDir);
  // A wipe ordered by the fleet and cut short (kill, power cut) is finished before anything else reads the data.
  await finishPendingWipe(dataDir, config.fleet.tokenFile, log);
  const state = await openStateDb(join(dataDir, 'state.db'));
  const store = new BlobStore({ root: dataDir, db: state.db, log, reserveBytes: config.store.reserveBytes });
  await store.init();
  if (options.recover) {
    const report = await store.recover();
    if (report.tempFilesRemoved + report.adopted + report.discarded + report.missing > 0) log.warn('store: recovered after an interrupted write', { ...report });
  }
  return {
    config,
    dataDir,
    log,
    state,
    store,
    packages: new PackageRepository(state.db),
    vinTable: loadVinTable(),
    version: packageVersion(),
    close: () => state.close(),
  };
}
