// `plugsrv import`, `lock` and `unlock`: what an operator does to the store and the device by hand.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { openAgent } from '../app.js';
import { importPackages, itemsFromFlags, parseManifest, type ImportItem } from '../import/index.js';
import { clearLock, readLock, setLock } from '../lock/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { configFrom, makeLogger } from './context.js';
import { importProgress } from './progress.js';

/** plugsrv import. */
export function registerImportCommand(program: Command): void {
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
}

/** plugsrv lock and unlock. */
export function registerLockCommands(program: Command): void {
  program
      .command('lock')
    .description('lock this device: package routes answer 423 until unlocked (survives restarts)')
    .requiredOption('-r, --reason <text>', 'why, shown to the dealer and in /v1/status')
    .action(async (opts: { reason: string }, cmd: Command) => {
      const config = configFrom(cmd);
      const agent = await openAgent(config, makeLogger(config));
      try {
        const was = await readLock(agent.state.db);
        if (was.locked && was.source === 'fleet') {
          // Re-locking locally would turn the fleet's lock into one a local unlock lifts.
          console.log(`already locked by the fleet: ${was.reason}`);
          return;
        }
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
        if (was.locked && was.source === 'fleet') {
          throw new AgentError(
            ErrorCode.LOCKED,
            `this device was locked by the fleet ("${was.reason}"); a local unlock cannot lift it. Ask the fleet operator to unlock it (plugsrv-fleet unlock DEVICE).`,
          );
        }
        await clearLock(agent.state.db);
        console.log(was.locked ? 'unlocked' : 'was not locked');
      } finally {
        agent.close();
      }
    });
}
