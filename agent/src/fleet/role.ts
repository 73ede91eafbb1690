// The fleet role of `plugsrv serve`: applies the stored policy, enrolls when it can, keeps the device socket, renews the certificate.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { desc, inArray } from 'drizzle-orm';
import type { PolicyDocument } from '../../../lib/fleet/protocol.js';
import type { Logger } from '../../../lib/log/index.js';
import type { Agent } from '../app.js';
import { tables } from '../db/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { LockState } from '../lock/index.js';
import { latestRuns, statusSummary, type SelfcheckPlan, type SelfcheckReport, type SelfcheckTrigger } from '../selfcheck/index.js';
import type { SyncOutcome } from '../sync/index.js';
import { Backoff } from './backoff.js';
import { FleetClient } from './client.js';
import { CommandRunner, type CommandAdapters, type CommandOutcome } from './commands.js';
import { enrollDevice, isRetryable, readToken } from './enroll.js';
import { buildHeartbeat, type HeartbeatMessage } from './heartbeat.js';
import { readCaFile } from './https.js';
import { loadIdentity, type DeviceIdentity } from './identity.js';
import { collectInventory, readSerial } from './inventory.js';
import { logSource, type LogRing } from './logs.js';
import { applyPolicyToConfig, requiredHostFlows, withRequiredHosts } from './policy.js';
import { certificateValidity, needsRenewal, renewCertificate } from './renew.js';
import { lockQuery, readPolicy, writeLink } from './state.js';
import { EXIT_WIPED, markWipePending } from './wipe.js';
import { createKeyAndCsr } from './csr.js';

/** The running parts the fleet acts on, handed over once `serve` has started them. */
export interface FleetRoleParts {
  lock: { readonly current: LockState; refresh(): Promise<void> };
  sync: { runNow(): Promise<SyncOutcome>; interrupt(reason: string): void };
  selfcheck: { runNow(trigger: SelfcheckTrigger): Promise<SelfcheckReport>; start(o: { atStartup: boolean; intervalHours: number }): void; stop(): Promise<void> };
  /** Ends `serve`: every role stops, the DB closes, a pending wipe is finished, the process exits with `code`. */
  exit(code: number): void;
}

export interface FleetRoleOptions {
  logs: LogRing;
  clock?: () => number;
  random?: () => number;
  /** How often an un-enrolled agent looks for a (new) bootstrap token or an identity written by `plugsrv fleet enroll`. */
  tokenPollMs?: number;
  renewCheckMs?: number;
}

const DAY = 24 * 3600_000;

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function run(argv: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    execFile(cmd as string, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) || err.message;
      reject(new AgentError(ErrorCode.COMMAND_FAILED, `${argv.join(' ')} failed: ${why}. Check fleet.rebootCommand and the service's rights (polkit/sudoers for systemctl reboot).`));
    });
  });
}

export class FleetRole {
  private stopped = false;
  private started = false;
  private identity: DeviceIdentity | undefined;
  private client: FleetClient | undefined;
  private runner: CommandRunner | undefined;
  private parts: FleetRoleParts | undefined;
  private policy: PolicyDocument | undefined;
  private caFileCerts: string[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();
  private exiting = false;
  /** An enrollment request in flight: a stop waits for it, so a spent token's identity is not lost half-saved. */
  private enrolling: Promise<unknown> | undefined;
  private readonly clock: () => number;
  private readonly log: Logger;

  private constructor(
    private readonly agent: Agent,
    private readonly opts: FleetRoleOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.log = agent.log;
  }

  /** Before the other roles start: the stored policy goes into the configuration they read. */
  static async open(agent: Agent, opts: FleetRoleOptions): Promise<FleetRole> {
    const role = new FleetRole(agent, opts);
    role.policy = await readPolicy(agent.state.db);
    if (role.policy) {
      applyPolicyToConfig(agent.config, role.policy);
      agent.log.info('fleet: policy applied', { version: role.policy.version });
    }
    return role;
  }

  get managed(): boolean {
    return this.agent.config.fleet.enabled && this.agent.config.fleet.url !== '';
  }

  /** The self-check plan with the policy's required hosts. */
  selfcheckPlan(plan: SelfcheckPlan): SelfcheckPlan {
    return this.policy ? withRequiredHosts(plan, this.policy.requiredHosts) : plan;
  }

  /** Starts in the background; never throws and never stops `serve` on a fleet problem. */
  start(parts: FleetRoleParts): void {
    if (this.started) return;
    this.started = true;
    this.parts = parts;
    if (!this.managed) {
      this.log.info(this.agent.config.fleet.url === '' ? 'fleet: not set up (fleet.url is empty); this unit is managed locally only' : 'fleet: turned off (fleet.enabled is false)');
      return;
    }
    this.run().catch((err: unknown) =>
      this.log.error('fleet: the fleet client stopped; the unit keeps serving. Fix what the error says and restart the service', { code: (err as AgentError).code, error: err }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    if (this.renewTimer) clearTimeout(this.renewTimer);
    await this.client?.stop();
    if (this.enrolling) await Promise.race([this.enrolling.catch(() => undefined), this.sleep(10_000, true)]);
    if (this.runner) await Promise.race([this.runner.idle(), this.sleep(2000, true)]);
  }

  /** Resolves after `ms`, or at once when the role stops. */
  private sleep(ms: number, ignoreStop = false): Promise<void> {
    if (this.stopped && !ignoreStop) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      if (!ignoreStop) this.sleepers.add(done);
    });
  }

  private async run(): Promise<void> {
    this.caFileCerts = await readCaFile(this.agent.config.fleet.caFile);
    this.identity = (await loadIdentity(this.agent.dataDir)) ?? (await this.enrollWhenPossible());
    if (!this.identity || this.stopped) return;
    const parts = this.parts as FleetRoleParts;
    this.runner = new CommandRunner({
      db: this.agent.state.db,
      dataDir: this.agent.dataDir,
      log: this.log,
      clock: this.clock,
      identity: () => this.identity as DeviceIdentity,
      send: (msg) => this.client?.send(msg) ?? Promise.resolve(false),
      adapters: this.adapters(parts),
    });
    await this.runner.recoverInterrupted();
    if (this.stopped) return;
    const runner = this.runner;
    this.client = new FleetClient({
      identity: () => this.identity as DeviceIdentity,
      caFileCerts: this.caFileCerts,
      log: this.log,
      clock: this.clock,
      random: this.opts.random ?? Math.random,
      agentVersion: this.agent.version,
      hello: async () => ({ lastSeq: await runner.lastSeq(), policyVersion: await runner.policyVersion() }),
      heartbeat: (first) => this.heartbeat(first),
      onCommand: (command) => void runner.handle(command),
      onWelcome: async () => {
        const n = await runner.resendUnsent();
        if (n > 0) this.log.info('fleet: results stored while offline sent', { count: n });
      },
      onLink: (link) => void writeLink(this.agent.state.db, link, this.clock()).catch((err: unknown) => this.log.debug('fleet: link state not recorded', { error: err })),
      onRetired: () => void this.wipe('retired-by-fleet'),
      onRevoked: () => undefined,
      heartbeatSeconds: this.policy?.heartbeatSeconds ?? 30,
    });
    this.client.start();
    this.scheduleRenewal(0);
  }

  /** Un-enrolled: enrolls with the token file when there is one; waits for a token (or an identity from the CLI) otherwise. */
  private async enrollWhenPossible(): Promise<DeviceIdentity | undefined> {
    const cfg = this.agent.config.fleet;
    const backoff = new Backoff(this.opts.random ?? Math.random);
    const poll = this.opts.tokenPollMs ?? 2000;
    let refused: string | undefined;
    let waitingLogged = false;
    let keyFor: { token: string; keyAndCsr: { keyPem: string; csrPem: string } } | undefined;
    let serial: string;
    try {
      serial = await readSerial(cfg.serial);
    } catch (err) {
      this.log.error('fleet: cannot enroll without a serial', { code: (err as AgentError).code, error: (err as Error).message });
      return undefined;
    }
    while (!this.stopped) {
      const existing = await loadIdentity(this.agent.dataDir);
      if (existing) return existing;
      let token: string;
      try {
        token = await readToken(cfg.tokenFile);
      } catch (err) {
        if (!waitingLogged) this.log.info('fleet: not enrolled; waiting for a bootstrap token', { file: cfg.tokenFile, why: (err as Error).message });
        waitingLogged = true;
        await this.sleep(poll);
        continue;
      }
      const tokenHash = createHash('sha256').update(token).digest('hex');
      if (tokenHash === refused) {
        await this.sleep(poll);
        continue;
      }
      // One key and CSR per token: a retry after a lost answer sends the same request.
      if (keyFor?.token !== tokenHash) keyFor = { token: tokenHash, keyAndCsr: await createKeyAndCsr(serial) };
      try {
        const enrolling = enrollDevice({
          dataDir: this.agent.dataDir,
          db: this.agent.state.db,
          fleetUrl: cfg.url,
          caFileCerts: this.caFileCerts,
          token,
          tokenFile: cfg.tokenFile,
          serial,
          inventory: await collectInventory(this.agent.version, { dataDir: this.agent.dataDir }),
          log: this.log,
          keyAndCsr: keyFor.keyAndCsr,
          now: this.clock,
        });
        this.enrolling = enrolling;
        const identity = await enrolling.finally(() => (this.enrolling = undefined));
        this.policy = await readPolicy(this.agent.state.db);
        if (this.policy) this.applyPolicy(this.policy);
        return identity;
      } catch (err) {
        const e = err as AgentError;
        if (isRetryable(err)) {
          const retryAfter = typeof e.details?.retryAfterSeconds === 'number' ? e.details.retryAfterSeconds * 1000 : 0;
          const delay = Math.max(backoff.next(), retryAfter);
          this.log.warn('fleet: enrollment failed; retrying', { code: e.code, error: e.message, retryInMs: delay });
          await this.sleep(delay);
        } else {
          refused = tokenHash;
          this.log.error('fleet: enrollment refused; not retried with this token', { code: e.code, error: e.message });
        }
      }
    }
    return undefined;
  }

  private applyPolicy(policy: PolicyDocument): string {
    const before = this.agent.config.selfcheck.intervalHours;
    const settings = applyPolicyToConfig(this.agent.config, policy);
    this.policy = policy;
    this.client?.setHeartbeatSeconds(settings.heartbeatSeconds);
    if (this.parts && settings.selfcheckIntervalHours !== before) {
      // stop() clears the timer at once (it then only waits for a run in flight); start() arms the new period.
      void this.parts.selfcheck.stop();
      this.parts.selfcheck.start({ atStartup: false, intervalHours: settings.selfcheckIntervalHours });
    }
    const { flows, invalid } = requiredHostFlows(policy.requiredHosts);
    if (invalid.length > 0) this.log.warn('fleet: policy required hosts ignored (not host or host:port)', { invalid });
    const s = settings.sync;
    return (
      `applied now: heartbeat every ${settings.heartbeatSeconds} s, self-check every ${policy.selfcheckIntervalMinutes} min; ` +
      `from the next sync run: window ${s.window}, night rate ${s.nightRateBytesPerSec || 'unlimited'}, day rate ${s.dayRateBytesPerSec || 'none'}, include ${s.include.length ? s.include.join(' ') : 'all'}; ` +
      `from the next self-check: ${flows.length} required host(s)${invalid.length ? ` (${invalid.length} ignored)` : ''}`
    );
  }

  private adapters(parts: FleetRoleParts): CommandAdapters {
    const fleet = this.agent.config.fleet;
    const collect = logSource(this.opts.logs);
    return {
      refreshLock: () => parts.lock.refresh(),
      pauseSync: (reason) => parts.sync.interrupt(reason),
      syncNow: async (): Promise<CommandOutcome> => {
        if (parts.lock.current.locked) return { status: 'failed', detail: 'E_LOCKED: the device is locked; unlock it before a sync.' };
        try {
          const o = await parts.sync.runNow();
          const data = { runId: o.runId, result: o.result, bytesFetched: o.bytesFetched, ready: o.ready, failed: o.failed, catalogVersion: o.catalogVersion ?? null };
          if (o.result === 'failed') return { status: 'failed', detail: `${o.errorCode ?? 'E_SYNC'}: ${o.message ?? 'the sync failed'}`, data };
          return { status: 'ok', detail: `sync ${o.result}: ${o.ready} ready, ${o.failed} failed`, data };
        } catch (err) {
          return { status: 'failed', detail: `${(err as AgentError).code ?? 'E_SYNC'}: ${(err as Error).message}` };
        }
      },
      selfcheckNow: async (): Promise<CommandOutcome> => {
        const report = await parts.selfcheck.runNow('command');
        const summary = statusSummary({ id: 0, trigger: 'command', status: report.status, startedAt: report.startedAt, finishedAt: report.finishedAt, results: report.results });
        return { status: 'ok', detail: `self-check ${report.status}: ${report.counts.ok} ok, ${report.counts.warn} warn, ${report.counts.fail} fail`, data: summary };
      },
      reboot: () => run(fleet.rebootCommand, 60_000),
      applyPolicy: (policy) => this.applyPolicy(policy),
      collectLogs: async (lines): Promise<CommandOutcome> => {
        const r = await collect(lines);
        return { status: 'ok', detail: `${r.lines.length} line(s) from ${r.source}${r.truncated ? ', cut to 1 MiB' : ''}${r.note ? `; ${r.note}` : ''}`, data: { lines: r.lines, source: r.source, truncated: r.truncated } };
      },
      wipeNow: () => this.exit(),
      bootId,
    };
  }

  /** The fleet closed with "retired": same end as a wipe command, without a result to send. */
  private async wipe(why: 'retired-by-fleet'): Promise<void> {
    try {
      await markWipePending(this.agent.dataDir, { requestedAt: this.clock(), why });
      await lockQuery(this.agent.state.db, 'retired by fleet operations', '', this.clock());
      await this.parts?.lock.refresh();
    } catch (err) {
      this.log.error('fleet: cannot prepare the wipe of a retired device', { error: err });
    }
    this.exit();
  }

  private exit(): void {
    if (this.exiting) return;
    this.exiting = true;
    this.log.warn('fleet: wiping this device and stopping the service; it restarts un-enrolled', { exitCode: EXIT_WIPED });
    this.parts?.exit(EXIT_WIPED);
  }

  private scheduleRenewal(delayMs: number): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => {
      this.checkRenewal().then(
        () => this.scheduleRenewal(this.opts.renewCheckMs ?? DAY),
        (err: unknown) => {
          this.log.warn('fleet: certificate renewal failed; trying again in an hour', { code: (err as AgentError).code, error: (err as Error).message });
          this.scheduleRenewal(Math.min(3600_000, this.opts.renewCheckMs ?? DAY));
        },
      );
    }, delayMs);
    this.renewTimer.unref();
  }

  private async checkRenewal(): Promise<void> {
    const identity = this.identity;
    if (!identity || this.stopped) return;
    const validity = certificateValidity(identity.certPem);
    const now = this.clock();
    if (now > validity.notAfter) {
      this.log.error('fleet: the device certificate has expired; it cannot be renewed. Wipe the unit and enroll it again with a new bootstrap token.', { expiredAt: new Date(validity.notAfter).toISOString() });
      return;
    }
    if (!needsRenewal(validity, now)) return;
    this.identity = await renewCertificate({ dataDir: this.agent.dataDir, identity, caFileCerts: this.caFileCerts });
    this.log.info('fleet: device certificate renewed', { notAfter: new Date(certificateValidity(this.identity.certPem).notAfter).toISOString() });
    this.client?.reconnectNow();
  }

  private async heartbeat(first: boolean): Promise<HeartbeatMessage> {
    const db = this.agent.state.db;
    const [run] = await db.select().from(tables.syncRuns).orderBy(desc(tables.syncRuns.id)).limit(1);
    const targets = await db
      .select({ state: tables.syncTargets.state, size: tables.syncTargets.size, doneBytes: tables.syncTargets.doneBytes })
      .from(tables.syncTargets)
      .where(inArray(tables.syncTargets.state, ['queued', 'downloading']));
    const ready = await this.agent.packages.listReady();
    const { free, total } = await this.agent.store.freeBytes();
    const [sc] = await latestRuns(db, 1);
    const lock = this.parts?.lock.current ?? { locked: false };
    return buildHeartbeat({
      now: this.clock(),
      agentVersion: this.agent.version,
      lock: lock.locked ? { locked: true, reason: lock.reason } : { locked: false },
      policyVersion: this.policy?.version ?? 0,
      ...(run ? { lastSyncRun: { result: run.result, startedAt: run.startedAt, finishedAt: run.finishedAt, catalogVersion: run.catalogVersion, errorCode: run.errorCode } } : {}),
      targets,
      packagesReady: ready.length,
      storage: { totalBytes: total, freeBytes: free, usedBytes: ready.reduce((n, p) => n + p.size, 0) },
      ...(sc ? { lastSelfcheck: { finishedAt: sc.finishedAt, status: sc.status, results: sc.results } } : {}),
      ...(first ? { inventory: await collectInventory(this.agent.version, { dataDir: this.agent.dataDir }) } : {}),
    });
  }
}
