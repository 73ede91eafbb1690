#!/usr/bin/env node
// The `plugsrv-fleet` command: declares the program, registers each command group, maps errors to exit codes.
import { Command } from 'commander';
import { isPlugsrvError } from '../../../lib/errors.js';
import { packageVersion } from '../../../lib/package-root.js';
import { exitCodeOf } from '../errors.js';
import { DEFAULT_URL } from './context.js';
import { registerDeviceCommands } from './device-commands.js';
import { registerKeyCommands } from './keys-commands.js';
import { registerOpsCommands } from './ops-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerTokenCommands } from './token-commands.js';

const program = new Command('plugsrv-fleet')
  .description('Fleet service for plugsrv appliances: enrollment CA, device registry, command hub, operator API and audit.')
  .version(packageVersion(), '-V, --version')
  .option('-c, --config <file>', 'YAML configuration file (default /etc/plugsrv/fleet.yaml when it exists)')
  .option('-d, --data-dir <dir>', 'fleet data directory (DB, generated CA, command key)')
  .option('--url <url>', `fleet API for client commands (default PLUGSRV_FLEET_URL or ${DEFAULT_URL})`)
  .option('--ca <file>', 'root CA that issued the fleet\'s certificate (default <data-dir>/ca/root.pem when present)')
  .addHelpText(
    'after',
    '\nClient commands read the API key from the environment variable PLUGSRV_FLEET_API_KEY only; there is no\nflag for it because other users could read it in the process list. Make one with "keys create" on the fleet host.',
  )
  .showHelpAfterError();

registerServeCommand(program);
registerKeyCommands(program);
registerDeviceCommands(program);
registerTokenCommands(program);
registerPolicyCommands(program);
registerOpsCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const code = isPlugsrvError(err) ? `${err.code}: ` : '';
  process.stderr.write(`plugsrv-fleet: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isPlugsrvError(err) ? exitCodeOf(err) : 2;
});
