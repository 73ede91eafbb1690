#!/usr/bin/env node
// The `plugsrv-line` command (the integrator's production line): declares the program, registers each command
// group, maps errors to exit codes.
import './threadpool.js';
import { Command } from 'commander';
import { isPlugsrvError } from '../../../lib/errors.js';
import { exitCodeOf } from '../errors.js';
import { registerOrdersCommands } from './orders-commands.js';
import { registerProduceCommands } from './produce-commands.js';
import { registerReportCommand } from './report-command.js';
import { registerUnitsCommands } from './units-commands.js';

const program = new Command('plugsrv-line')
  .description('Production line for plugsrv appliances: dealer orders, flashing with bmap verification, per-unit personalisation, burn-in records, labels, dealer letters, replacements.')
  .option('-c, --config <file>', 'YAML configuration (default /etc/plugsrv/line.yaml when it exists)')
  .option('-d, --data-dir <dir>', 'the line DB and documents folder (default ./plugsrv-line-data)')
  .option('--fleet-url <url>', 'the fleet (https) that mints bootstrap tokens and retires replaced units')
  .option('--fleet-ca <file>', "the fleet's root CA (PEM): trusted by the line and written to every unit")
  .option('--operator <name>', 'who runs the station (default: the login name)')
  .addHelpText(
    'after',
    '\nThe fleet API key (scope provision) is read from PLUGSRV_FLEET_API_KEY only, never from a flag.\nExit codes: 2 bad input, 3 target refused, 4 verification failed (do not ship), 5 fleet, 6 not found or wrong state.',
  )
  .showHelpAfterError();

registerOrdersCommands(program);
registerProduceCommands(program);
registerUnitsCommands(program);
registerReportCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const code = isPlugsrvError(err) ? `${err.code}: ` : '';
  process.stderr.write(`plugsrv-line: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isPlugsrvError(err) ? exitCodeOf(err) : 2;
});
