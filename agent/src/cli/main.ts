#!/usr/bin/env node
// The `plugsrv` command: declares the program, registers each command group, maps errors to exit codes.
import { Command } from 'commander';
import { isPlugsrvError } from '../../../lib/errors.js';
import { agentVersion } from '../app.js';
import { registerCatalogCommands } from '../catalog/publish/index.js';
import { exitCodeOf } from '../errors.js';
import { registerConsoleCommand } from './console-command.js';
import { registerFetchCommand } from './fetch-command.js';
import { registerHwCommands } from './hw-command.js';
import { registerFleetCommands } from './fleet-commands.js';
import { registerDemoCommand, registerServeCommand } from './serve-commands.js';
import { registerSelfcheckCommand } from './selfcheck-command.js';
import { registerImportCommand, registerLockCommands } from './store-commands.js';
import { registerSyncCommands } from './sync-commands.js';

const program = new Command('plugsrv')
  .description('Dealer-site update data server: serves vehicle software and map packages on the LAN.')
  .version(agentVersion(), '-V, --version')
  .option('-c, --config <file>', 'YAML configuration file (default /etc/plugsrv/plugsrv.yaml when it exists)')
  .option('-d, --data-dir <dir>', 'data directory holding the state DB and the package store')
  .showHelpAfterError();

registerServeCommand(program);
registerImportCommand(program);
registerSelfcheckCommand(program);
registerLockCommands(program);
registerCatalogCommands(program);
registerSyncCommands(program);
registerFetchCommand(program);
registerHwCommands(program);
registerFleetCommands(program);
registerConsoleCommand(program);
registerDemoCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const code = isPlugsrvError(err) ? `${err.code}: ` : '';
  process.stderr.write(`plugsrv: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isPlugsrvError(err) ? exitCodeOf(err) : 2;
});
