// `plugsrv serve` and `plugsrv demo`: run the agent's roles until a signal stops them.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from '../../../lib/log/index.js';
import { openAgent } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';
import { startDemo } from '../demo/origin.js';
import { finishPendingWipe, FleetRole, LogRing } from '../fleet/index.js';
import { ensureSamples } from '../demo/samples.js';
import { planFromConfig, SelfcheckScheduler } from '../selfcheck/index.js';
import { startServeRole } from '../serve/index.js';
import { SyncScheduler, syncOnce } from '../sync/index.js';
import { configFrom, makeLogger, parsePort, selfcheckEnv, type GlobalOptions } from './context.js';
import { syncProgress } from './progress.js';

/** Runs until SIGINT/SIGTERM, then stops the server and closes the DB. */
export async function serveUntilSignal(config: Config, baseLog: Logger, banner?: (port: number) => void): Promise<void> {
  // Recent log lines stay in memory for the fleet's collect-logs when journald is not there to ask.
  const logs = new LogRing({ level: config.log.level });
  const log = logs.wrap(baseLog);
  const agent = await openAgent(config, log, { recover: true });
  // Before the other roles start: a stored fleet policy sets the sync window and rates, the self-check period.
  const fleet = await FleetRole.open(agent, { logs });
  const running = await startServeRole(agent);
  const selfcheck = new SelfcheckScheduler({
    db: agent.state.db,
    log,
    historySize: config.selfcheck.historySize,
    // The LAN check must probe the port actually bound (it differs from the config when that says 0).
    plan: () => fleet.selfcheckPlan({ ...planFromConfig(config), servePort: running.port }),
    env: async () => selfcheckEnv(agent.dataDir),
  });
  selfcheck.start({ atStartup: config.selfcheck.atStartup, intervalHours: config.selfcheck.intervalHours });
  // The lock pauses the sync: no scheduled run starts while the device is locked.
  const sync = new SyncScheduler(agent, Date.now, { paused: () => running.lock.current.locked });
  sync.start();
  log.info('serving', { url: `http://${running.host === '0.0.0.0' ? '127.0.0.1' : running.host}:${running.port}`, host: running.host, port: running.port, dataDir: agent.dataDir });
  banner?.(running.port);
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string, exitCode = 0): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      Promise.all([running.stop(), selfcheck.stop(), sync.stop(), fleet.stop()]).then(async () => {
        agent.close();
        if (exitCode !== 0) {
          // A wipe ordered by the fleet: erased once nothing holds the DB; systemd restarts the unit un-enrolled.
          process.exitCode = exitCode;
          await finishPendingWipe(agent.dataDir, config.fleet.tokenFile, log).catch((err: unknown) => log.error('wipe: not finished; the next start finishes it', { error: err }));
          setTimeout(() => process.exit(exitCode), 5000).unref();
        }
        log.close();
        resolveStop();
      });
    };
    fleet.start({ lock: running.lock, sync, selfcheck, exit: (code) => stop('fleet', code) });
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** plugsrv serve. */
export function registerServeCommand(program: Command): void {
  program
      .command('serve')
    .description('run the serve role: packages, status and metrics over HTTP on the LAN (port 8080)')
    .option('--host <address>', 'address to listen on')
    .option('-p, --port <port>', 'TCP port to listen on (0 = any free port)', parsePort)
    .action(async (opts: { host?: string; port?: number }, cmd: Command) => {
      const config = configFrom(cmd, { 'serve.host': opts.host, 'serve.port': opts.port });
      await serveUntilSignal(config, makeLogger(config));
    });
}

/** plugsrv demo: what `npm start` runs. */
export function registerDemoCommand(program: Command): void {
  program
      .command('demo')
    .description('publish sample packages from a local demo origin, sync them, and serve them (what `npm start` runs)')
    .option('-p, --port <port>', 'TCP port to listen on', parsePort)
    .action(async (opts: { port?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const demoDir = resolve('demo-data');
      console.log(`plugsrv demo: preparing sample packages in ${join(demoDir, 'samples')} ...`);
      const items = await ensureSamples(join(demoDir, 'samples'));
      const origin = await startDemo(join(demoDir, 'origin'), items);
      console.log(`plugsrv demo: signed catalog published in ${join(demoDir, 'origin')}, served by the demo origin at ${origin.url}`);
      // The demo never probes the carmaker's hosts by itself (`plugsrv selfcheck` does that on demand),
      // and it syncs from its own loopback origin.
      const config = loadConfig({
        file: g.config,
        flags: {
          dataDir: g.dataDir ?? join(demoDir, 'store'),
          'serve.port': opts.port,
          'selfcheck.atStartup': false,
          'selfcheck.intervalHours': 0,
          'sync.originUrl': origin.url,
          'sync.trustedRoot': origin.trustedRoot,
        },
      });
      const log = makeLogger(config);
      const agent = await openAgent(config, log, { recover: true });
      try {
        const progress = syncProgress({ json: false, tty: process.stdout.isTTY === true });
        const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: 0, onProgress: progress.event });
        progress.done(outcome);
      } finally {
        agent.close();
      }
      await serveUntilSignal(config, log, (port) => {
        const base = `http://127.0.0.1:${port}`;
        console.log(
          [
            '',
            `plugsrv is serving the demo packages on port ${port} (all interfaces), synced from ${origin.url}.`,
            `  status page:    ${base}/`,
            `  package list:   ${base}/v1/packages`,
            `  for a vehicle:  ${base}/v1/packages?vin=VF1RJA00012345678`,
            `  status:         ${base}/v1/status`,
            `  signed catalog: ${base}/tuf/metadata/timestamp.json (verify end to end with any TUF client)`,
            `  metrics:        ${base}/metrics`,
            'Try a download:',
            `  curl -OJ "${base}/v1/packages/$(curl -s '${base}/v1/packages?headUnit=IVI' | node -pe 'JSON.parse(require("fs").readFileSync(0)).packages[0].id')"`,
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        );
      });
      await origin.close();
    });
}
