// The command a command line names, past the global options: main.ts registers only that command's group.
import t from 'tap';
import { commandNamed as named } from '../../../agent/src/cli/command-name.js';

// The global options of `plugsrv` that take a value.
const commandNamed = (args: string[]): string | undefined => named(args, ['-c', '--config', '-d', '--data-dir']);

t.test('the first word past the global options', async (t) => {
  t.equal(commandNamed(['sync', 'now', '--json']), 'sync');
  t.equal(commandNamed(['--data-dir', '/var/lib/plugsrv', 'sync', 'now']), 'sync');
  t.equal(commandNamed(['-d', '/data', '-c', '/etc/p.yaml', 'serve']), 'serve');
  t.equal(commandNamed(['--config=/etc/p.yaml', 'fetch', '--server', 'x']), 'fetch');
  t.equal(commandNamed(['-d/data', 'lock']), 'lock', 'a short option with its value attached');
  t.equal(commandNamed(['--data-dir', 'sync', 'import', 'a.bin']), 'import', 'the value of a global option is not the command');
});

t.test('nothing to go by: every group (the help needs them all)', async (t) => {
  t.equal(commandNamed([]), undefined);
  t.equal(commandNamed(['--help']), undefined);
  t.equal(commandNamed(['-V']), undefined);
  t.equal(commandNamed(['--verbose', 'sync']), undefined, 'an unknown option first: let the full program judge it');
  t.equal(commandNamed(['-d']), undefined, 'a value option without its value');
});
