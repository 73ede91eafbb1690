// `plugsrv-fleet policy list|show|create|assign`: versioned management policies (create and assign need admin).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, FleetError } from '../errors.js';
import { clientFrom, parsePositiveInt } from './context.js';
import { printJson, renderTable, time } from './table.js';

interface PolicyJson {
  version: number;
  document: Record<string, unknown> & { heartbeatSeconds: number; selfcheckIntervalMinutes: number; sync: { window: string } };
  note: string;
  createdAt: number;
  isDefault: boolean;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('versioned management policies: heartbeat and self-check intervals, sync window and bandwidth, include patterns, required hosts');
  policy
    .command('list')
    .description('every policy version; * marks the fleet default')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const res = await clientFrom(cmd).json<{ defaultVersion: number; policies: PolicyJson[] }>('GET', '/v1/policies');
      if (opts.json) return printJson(res);
      console.log(
        renderTable(
          ['VERSION', 'HEARTBEAT', 'SELFCHECK', 'WINDOW', 'CREATED', 'NOTE'],
          res.policies.map((p) => [`${p.version}${p.isDefault ? ' *' : ''}`, `${p.document.heartbeatSeconds}s`, `${p.document.selfcheckIntervalMinutes}min`, p.document.sync.window, time(p.createdAt), p.note]),
        ),
      );
    });
  policy
    .command('show')
    .argument('<version>', 'policy version', parsePositiveInt('version'))
    .description('one policy document')
    .action(async (version: number, _opts: unknown, cmd: Command) => {
      printJson(await clientFrom(cmd).json('GET', `/v1/policies/${version}`));
    });
  policy
    .command('create')
    .description('make a new version from a YAML or JSON file (without "version"), optionally assigning it')
    .requiredOption('-f, --file <file>', 'the policy document')
    .option('--note <text>', 'why')
    .option('--assign <target>', '"all" (the new fleet default) or a device id')
    .option('--json', 'as JSON')
    .action(async (opts: { file: string; note?: string; assign?: string; json?: boolean }, cmd: Command) => {
      let doc: unknown;
      try {
        doc = parseYaml(await readFile(opts.file, 'utf8'));
      } catch (err) {
        throw new FleetError(ErrorCode.BAD_REQUEST, `cannot read the policy file ${opts.file}: ${(err as Error).message}`);
      }
      const res = await clientFrom(cmd).json<{ version: number; assigned: { queued: number; target: string } | null }>('POST', '/v1/policies', { policy: doc, note: opts.note, assign: opts.assign });
      if (opts.json) return printJson(res);
      console.log(`policy version ${res.version} created${res.assigned ? `, assigned to ${res.assigned.target} (${res.assigned.queued} device(s) get it)` : ''}`);
    });
  policy
    .command('assign')
    .description('make a version the fleet default (--all) or one device\'s policy (--device)')
    .argument('<version>', 'policy version', parsePositiveInt('version'))
    .option('--all', 'the fleet default: every device without its own policy')
    .option('--device <id>', 'one device')
    .option('--json', 'as JSON')
    .action(async (version: number, opts: { all?: boolean; device?: string; json?: boolean }, cmd: Command) => {
      if (Boolean(opts.all) === Boolean(opts.device)) throw new FleetError(ErrorCode.BAD_REQUEST, 'give --all or --device ID.');
      const res = await clientFrom(cmd).json<{ queued: number; target: string }>('POST', `/v1/policies/${version}/assign`, { target: opts.all ? 'all' : opts.device });
      if (opts.json) return printJson(res);
      console.log(`policy ${version} assigned to ${res.target}; set-policy queued for ${res.queued} device(s)`);
    });
}
