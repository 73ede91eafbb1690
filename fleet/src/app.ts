// Wires the fleet's parts once (DB, write queue, CA, command key, policies, registry, command queue, hub, audit); no singletons.
import { join, resolve } from 'node:path';
import { SocketClose } from '../../lib/fleet/protocol.js';
import type { Logger } from '../../lib/log/index.js';
import { AuditLog } from './audit/index.js';
import { loadAuthority, type CertificateAuthority } from './ca/index.js';
import { CommandService, loadCommandKey, type CommandKey, type CommandRecord } from './commands/index.js';
import type { Config } from './config/index.js';
import { openFleetDb, WriteQueue, type StateDb } from './db/index.js';
import { DeviceRegistry } from './devices/index.js';
import { RateLimiter, type EnrollDeps } from './enroll/index.js';
import { ErrorCode, FleetError } from './errors.js';
import { Hub } from './hub/index.js';
import { PolicyService } from './policy/index.js';
import { packageVersion } from '../../lib/package-root.js';

export interface Fleet {
  readonly config: Config;
  readonly dataDir: string;
  readonly log: Logger;
  readonly version: string;
  readonly clock: () => number;
  readonly startedAt: number;
  readonly state: StateDb;
  readonly writes: WriteQueue;
  readonly ca: CertificateAuthority;
  readonly commandKey: CommandKey;
  readonly policies: PolicyService;
  readonly registry: DeviceRegistry;
  readonly commands: CommandService;
  readonly hub: Hub;
  readonly audit: AuditLog;
  readonly enrollLimiter: RateLimiter;
  readonly enrollDeps: EnrollDeps;
  /** Retire now: status retired, certificates revoked, pending commands ended, socket closed with 4001. */
  finishRetire(deviceId: string): Promise<void>;
  /** Queue a `retire` command (or retire at once when forced or when the device cannot connect any more). */
  retire(deviceId: string, opts: { force: boolean; createdBy: string }): Promise<{ status: 'retiring' | 'retired'; command: CommandRecord | null }>;
  close(): Promise<void>;
}

export function dbFile(dataDir: string): string {
  return join(dataDir, 'fleet.db');
}

/** Just the DB, for commands that work on the data dir without a running fleet (keys). */
export async function openFleetState(config: Config): Promise<{ dataDir: string; state: StateDb }> {
  const dataDir = resolve(config.dataDir);
  return { dataDir, state: await openFleetDb(dbFile(dataDir)) };
}

/** Everything `serve` needs. Creates the CA and the command key on the first start. */
export async function openFleet(config: Config, log: Logger, clock: () => number = Date.now): Promise<Fleet> {
  const dataDir = resolve(config.dataDir);
  const ca = await loadAuthority(dataDir, config, log, clock);
  const commandKey = loadCommandKey(dataDir);
  const state = await openFleetDb(dbFile(dataDir));
  const writes = new WriteQueue(state.client, log);
  const policies = new PolicyService(state.db, clock);
  await policies.init();
  const registry = new DeviceRegistry(state.db, clock);
  const commands = new CommandService({ db: state.db, client: state.client, writes, key: commandKey, log, clock });
  await commands.init();
  const hub = new Hub({
    registry,
    commands,
    policies,
    writes,
    deviceCaFingerprint: ca.deviceCaFingerprint,
    log,
    clock,
    pingIntervalMs: config.hub.pingIntervalSeconds * 1000,
    flushIntervalMs: config.hub.heartbeatFlushMs,
    maxMessageBytes: config.hub.maxMessageBytes,
  });
  commands.setDelivery(hub);

  const finishRetire = async (deviceId: string): Promise<void> => {
    await registry.endIdentity(deviceId, 'retired', 'retired');
    await commands.cancelPending(deviceId, 'E_DEVICE_RETIRED: the device was retired before answering');
    hub.disconnect(deviceId, SocketClose.RETIRED, 'device retired');
    log.info('device retired', { deviceId });
  };
  commands.setEffects({
    retired: finishRetire,
    async wiped(deviceId) {
      await registry.endIdentity(deviceId, 'wiped', 'wiped');
      hub.disconnect(deviceId, SocketClose.REVOKED, 'wiped: enroll again');
      log.info('device wiped', { deviceId });
    },
    async policyApplied(deviceId, version) {
      await writes.write([{ sql: 'UPDATE devices SET applied_policy_version = ? WHERE id = ?', args: [version, deviceId] }]);
    },
  });

  return {
    config,
    dataDir,
    log,
    version: packageVersion(),
    clock,
    startedAt: clock(),
    state,
    writes,
    ca,
    commandKey,
    policies,
    registry,
    commands,
    hub,
    audit: new AuditLog(state.db, clock, writes),
    enrollLimiter: new RateLimiter({ burst: config.enroll.rateBurst, perMinute: config.enroll.ratePerMinute }),
    enrollDeps: {
      db: state.db,
      client: state.client,
      writes,
      ca,
      commandKey,
      policies,
      registry,
      deviceCertDays: config.ca.deviceCertDays,
      log,
      disconnect: (id, code, reason) => hub.disconnect(id, code, reason),
      forget: (id) => hub.state.forget(id),
      clock,
    },
    finishRetire,
    async retire(deviceId, opts) {
      const device = await registry.require(deviceId);
      if (device.status === 'retired') throw new FleetError(ErrorCode.DEVICE_RETIRED, `device ${deviceId} is already retired.`);
      if (opts.force || device.status === 'wiped') {
        await finishRetire(deviceId);
        return { status: 'retired', command: null };
      }
      // Retiring first: a device that answers at once finds its status ready to move to retired.
      await state.client.execute({ sql: "UPDATE devices SET status = 'retiring', updated_at = ? WHERE id = ? AND status = 'active'", args: [clock(), deviceId] });
      const [command] = await commands.create({ kind: 'retire', args: {}, target: { deviceIds: [deviceId] }, ttlMs: config.commands.ttlHours * 3_600_000, createdBy: opts.createdBy });
      return { status: 'retiring', command: command ?? null };
    },
    async close() {
      await writes.close();
      state.close();
    },
  };
}
