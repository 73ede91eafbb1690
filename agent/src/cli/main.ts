#!/usr/bin/env node
// The `plugsrv` command: parses arguments, wires the agent once, runs one command, maps errors to exit codes.
import { resolve, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { createLogger, defaultSink, type Logger } from '../../../lib/log/index.js';
import { isPlugsrvError } from '../../../lib/errors.js';
import { agentVersion, openAgent } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';
import { ensureSamples } from '../demo/samples.js';
import { startDemo } from '../demo/origin.js';
import { AgentError, exitCodeOf, type ErrorCode } from '../errors.js';
import { importPackages, itemsFromFlags, parseManifest, type ImportItem } from '../import/index.js';
import { clearLock, readLock, setLock } from '../lock/index.js';
import { startServeRole } from '../serve/index.js';
import { exitCodeOfReport, formatReport, parseOnly, planFromConfig, recordRun, runSelfcheck, SelfcheckScheduler, type Lang, type SelfcheckEnv } from '../selfcheck/index.js';
import { formatSyncSummary, importProgress, syncProgress } from './progress.js';
import { registerCatalogCommands } from '../catalog/publish/index.js';
import { SyncScheduler, syncOnce, syncSummary, trustedMetadataExpiry } from '../sync/index.js';

interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

function configFrom(cmd: Command, extra: Record<string, unknown> = {}): Config {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ file: g.config, flags: { dataDir: g.dataDir, ...extra } });
}

function makeLogger(config: Config): Logger {
  return createLogger({ sink: defaultSink('plugsrv'), level: config.log.level });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer from 0 to 65535, not "${value}"`);
  return n;
}

/** What the self-check reads from the rest of the agent: the clock, the environment, the signed catalog's expiry. */
async function selfcheckEnv(dataDir: string): Promise<SelfcheckEnv> {
  const metadataExpiresAt = await trustedMetadataExpiry(dataDir);
  return { clock: Date.now, env: process.env, ...(metadataExpiresAt !== undefined ? { signedTimes: { metadataExpiresAt } } : {}) };
}

/** Runs until SIGINT/SIGTERM, then stops the server and closes the DB. */
async function serveUntilSignal(config: Config, log: Logger, banner?: (port: number) => void): Promise<void> {
  const agent = await openAgent(config, log, { recover: true });
  const running = await startServeRole(agent);
  const selfcheck = new SelfcheckScheduler({
    db: agent.state.db,
    log,
    historySize: config.selfcheck.historySize,
    // The LAN check must probe the port actually bound (it differs from the config when that says 0).
    plan: () => ({ ...planFromConfig(config), servePort: running.port }),
    env: async () => selfcheckEnv(agent.dataDir),
  });
  selfcheck.start({ atStartup: config.selfcheck.atStartup, intervalHours: config.selfcheck.intervalHours });
  const sync = new SyncScheduler(agent);
  sync.start();
  log.info('serving', { url: `http://${running.host === '0.0.0.0' ? '127.0.0.1' : running.host}:${running.port}`, host: running.host, port: running.port, dataDir: agent.dataDir });
  banner?.(running.port);
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      log.info('stopping', { signal });
      Promise.all([running.stop(), selfcheck.stop(), sync.stop()]).then(() => {
        agent.close();
        log.close();
        resolveStop();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

const program = new Command('plugsrv')
  .description('Dealer-site update data server: serves vehicle software and map packages on the LAN.')
  .version(agentVersion(), '-V, --version')
  .option('-c, --config <file>', 'YAML configuration file (default /etc/plugsrv/plugsrv.yaml when it exists)')
  .option('-d, --data-dir <dir>', 'data directory holding the state DB and the package store')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the serve role: packages, status and metrics over HTTP on the LAN (port 8080)')
  .option('--host <address>', 'address to listen on')
  .option('-p, --port <port>', 'TCP port to listen on (0 = any free port)', parsePort)
  .action(async (opts: { host?: string; port?: number }, cmd: Command) => {
    const config = configFrom(cmd, { 'serve.host': opts.host, 'serve.port': opts.port });
    await serveUntilSignal(config, makeLogger(config));
  });

program
  .command('import')
  .description('side-load package files into the store (the offline seeding path)')
  .argument('[paths...]', 'package files; all get the metadata given as flags')
  .option('-m, --manifest <file>', 'YAML/JSON manifest listing files and each one\'s metadata')
  .addOption(new Option('--kind <kind>', 'package kind').choices(['soft', 'map']))
  .option('--head-unit <name>', 'head unit (R-LINK2, EASY-LINK, OPENR-LINK, IVI, IVC ...)')
  .option('--models <codes>', 'comma-separated vehicle project codes (XFK,BJA,HHN)')
  .option('--package-version <version>', 'package version')
  .option('--notes <text>', 'release notes')
  .option('--json', 'progress and results as JSON lines')
  .action(async (paths: string[], opts: { manifest?: string; kind?: string; headUnit?: string; models?: string; packageVersion?: string; notes?: string; json?: boolean }, cmd: Command) => {
    let items: ImportItem[];
    if (opts.manifest) {
      if (paths.length > 0) throw new Error('give either --manifest or paths, not both');
      items = parseManifest(await readFile(opts.manifest, 'utf8'), opts.manifest);
    } else {
      if (paths.length === 0) throw new Error('nothing to import: give package paths with --kind, --head-unit, --models and --package-version, or --manifest FILE');
      items = itemsFromFlags(paths, { ...opts, version: opts.packageVersion });
    }
    const config = configFrom(cmd);
    const log = makeLogger(config);
    const agent = await openAgent(config, log, { recover: true });
    try {
      await importPackages(items, { store: agent.store, packages: agent.packages, progress: importProgress({ json: Boolean(opts.json), tty: process.stdout.isTTY === true }) });
    } finally {
      agent.close();
    }
  });

program
  .command('selfcheck')
  .description('check the network flows, TLS interception, time, LAN and disk; exit 0 ok, 1 warnings, 2 failures')
  .option('--json', 'the full report as JSON')
  .option('--only <checks>', 'comma-separated: dns,tcp,tls,proxy,ntp,clock,lan,disk')
  .addOption(new Option('--lang <lang>', 'language of the report').choices(['fr', 'en']).default('en'))
  .action(async (opts: { json?: boolean; only?: string; lang: Lang }, cmd: Command) => {
    const config = configFrom(cmd);
    const only = parseOnly(opts.only);
    const plan = planFromConfig(config, only);
    const agent = await openAgent(config, makeLogger(config));
    try {
      const report = await runSelfcheck(plan, await selfcheckEnv(agent.dataDir));
      await recordRun(agent.state.db, report, 'cli', config.selfcheck.historySize);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, opts.lang, process.stdout.isTTY === true));
      process.exitCode = exitCodeOfReport(report);
    } finally {
      agent.close();
    }
  });

program
  .command('lock')
  .description('lock this device: package routes answer 423 until unlocked (survives restarts)')
  .requiredOption('-r, --reason <text>', 'why, shown to the dealer and in /v1/status')
  .action(async (opts: { reason: string }, cmd: Command) => {
    const config = configFrom(cmd);
    const agent = await openAgent(config, makeLogger(config));
    try {
      await setLock(agent.state.db, opts.reason, Date.now());
      console.log(`locked: ${opts.reason}`);
    } finally {
      agent.close();
    }
  });

program
  .command('unlock')
  .description('unlock this device: packages are served again')
  .action(async (_opts: unknown, cmd: Command) => {
    const config = configFrom(cmd);
    const agent = await openAgent(config, makeLogger(config));
    try {
      const was = await readLock(agent.state.db);
      await clearLock(agent.state.db);
      console.log(was.locked ? 'unlocked' : 'was not locked');
    } finally {
      agent.close();
    }
  });

registerCatalogCommands(program);

const syncCmd = program.command('sync').description('mirror the signed catalog\'s targets for this site from the origin');
syncCmd
  .command('now', { isDefault: true })
  .description('run a sync immediately, whatever the night window (bandwidth cap: sync.nightRateBytesPerSec)')
  .option('--json', 'progress and the outcome as JSON lines')
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    const agent = await openAgent(config, makeLogger(config), { recover: true });
    const controller = new AbortController();
    const onSignal = (): void => controller.abort(new Error('interrupted'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const progress = syncProgress({ json: Boolean(opts.json), tty: process.stdout.isTTY === true });
      const outcome = await syncOnce(agent, { trigger: 'now', rateBytesPerSec: config.sync.nightRateBytesPerSec, signal: controller.signal, onProgress: progress.event });
      progress.done(outcome);
      process.exitCode = outcome.result === 'ok' ? 0 : outcome.errorCode ? exitCodeOf(new AgentError(outcome.errorCode as ErrorCode, '')) : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      agent.close();
    }
  });
syncCmd
  .command('status')
  .description('the last sync run, downloads in progress, failures and the next window')
  .option('--json', 'as JSON')
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    const agent = await openAgent(config, makeLogger(config));
    try {
      const summary = await syncSummary(agent);
      if (opts.json) console.log(JSON.stringify(summary, null, 2));
      else if (!summary) console.log('sync is not set up (sync.originUrl is empty).');
      else console.log(formatSyncSummary(summary));
    } finally {
      agent.close();
    }
  });

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

program.parseAsync(process.argv).catch((err: unknown) => {
  const code = isPlugsrvError(err) ? `${err.code}: ` : '';
  process.stderr.write(`plugsrv: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isPlugsrvError(err) ? exitCodeOf(err) : 2;
});
