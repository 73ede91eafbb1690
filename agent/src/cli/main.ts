#!/usr/bin/env node
// The `plugsrv` command: declares the program, registers the command group that is run (every group for the help),
// maps errors to exit codes.
import { Command } from 'commander';
import { isPlugsrvError } from '../../../lib/errors.js';
import { packageVersion } from '../../../lib/package-root.js';
import { exitCodeOf } from '../errors.js';
import { commandNamed } from './command-name.js';

type Register = (program: Command) => void;

/**
 * The command groups in help order, each with the commands it declares. A group's module is imported only when one
 * of its commands runs: importing all of them (the web server, the terminal UI, the fleet client ...) cost every
 * start of every command about a second on the appliance's class of CPU.
 */
const GROUPS: ReadonlyArray<{ commands: readonly string[]; load(): Promise<Register> }> = [
  { commands: ['serve'], load: async () => (await import('./serve-commands.js')).registerServeCommand },
  { commands: ['import'], load: async () => (await import('./store-commands.js')).registerImportCommand },
  { commands: ['selfcheck'], load: async () => (await import('./selfcheck-command.js')).registerSelfcheckCommand },
  { commands: ['lock', 'unlock'], load: async () => (await import('./store-commands.js')).registerLockCommands },
  { commands: ['catalog'], load: async () => (await import('../catalog/publish/index.js')).registerCatalogCommands },
  { commands: ['sync'], load: async () => (await import('./sync-commands.js')).registerSyncCommands },
  { commands: ['fetch'], load: async () => (await import('./fetch-command.js')).registerFetchCommand },
  { commands: ['hw'], load: async () => (await import('./hw-command.js')).registerHwCommands },
  { commands: ['fleet'], load: async () => (await import('./fleet-commands.js')).registerFleetCommands },
  { commands: ['console'], load: async () => (await import('./console-command.js')).registerConsoleCommand },
  { commands: ['demo'], load: async () => (await import('./serve-commands.js')).registerDemoCommand },
];

async function main(): Promise<void> {
  const program = new Command('plugsrv')
    .description('Dealer-site update data server: serves vehicle software and map packages on the LAN.')
    .version(packageVersion(), '-V, --version')
    .option('-c, --config <file>', 'YAML configuration file (default /etc/plugsrv/plugsrv.yaml when it exists)')
    .option('-d, --data-dir <dir>', 'data directory holding the state DB and the package store')
    .showHelpAfterError();
  const valueFlags = program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const name = commandNamed(process.argv.slice(2), valueFlags);
  const wanted = GROUPS.filter((g) => name !== undefined && g.commands.includes(name));
  for (const group of wanted.length > 0 ? wanted : GROUPS) (await group.load())(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  const code = isPlugsrvError(err) ? `${err.code}: ` : '';
  process.stderr.write(`plugsrv: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isPlugsrvError(err) ? exitCodeOf(err) : 2;
});
