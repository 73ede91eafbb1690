// `plugsrv catalog init|add|remove|publish|rotate-keys`: the publisher's command line, over the functions in commands.ts.
import { Command, Option } from 'commander';
import { addTargets, initRepo, publish, removeTarget, rotateKeys } from './commands.js';
import { ROLES, type RoleName } from './layout.js';
import { CAMPAIGNS, targetInputFromFlags, type TargetFlags } from './staging.js';

interface RepoFlag {
  repo: string;
}

/** Where the commands' result lines go: stdout unless a caller (a test) captures them. */
export type Print = (line: string) => void;

const toStdout: Print = (line) => {
  process.stdout.write(`${line}\n`);
};

function repoOption(): Option {
  return new Option('--repo <dir>', 'the publishing repository (keys, staging list, static TUF tree)').makeOptionMandatory();
}

function initCommand(say: Print): Command {
  return new Command('init')
    .description('create keys, configuration and version 1 of the TUF metadata')
    .addOption(repoOption())
    .option('--expires <spec>', 'metadata lifetimes, e.g. root=365d,targets=90d,snapshot=7d,timestamp=1d')
    .action(async (opts: RepoFlag & { expires?: string }) => {
      const r = await initRepo(opts.repo, { expires: opts.expires }, new Date());
      say(`initialised ${r.dir}: serve ${r.dir}/repository; clients pin ${r.dir}/repository/metadata/1.root.json`);
      for (const role of ROLES) say(`  ${role.padEnd(9)} key ${r.keyIds[role]}  expires after ${r.expires[role]}`);
    });
}

function addCommand(say: Print): Command {
  return new Command('add')
    .description('copy package files into the targets tree and stage them for the next publish')
    .argument('<files...>', 'package files')
    .addOption(repoOption())
    .addOption(new Option('--kind <kind>', 'package kind').choices(['soft', 'map']).makeOptionMandatory())
    .requiredOption('--head-unit <name>', 'head unit (R-LINK2, EASY-LINK, OPENR-LINK, IVI ...)')
    .requiredOption('--models <codes>', 'comma-separated vehicle project codes (XFK,BJA,HHN)')
    .requiredOption('--package-version <version>', 'package version')
    .option('--region <code>', 'region the package is for')
    .addOption(new Option('--campaign <type>', 'campaign the package belongs to').choices([...CAMPAIGNS]))
    .option('--priority <n>', 'priority from 0 to 1000')
    .option('--supersedes <targetPath>', 'target path this package replaces')
    .option('--notes <text>', 'release notes')
    .option('--path <targetPath>', 'target path (default: the file name); one file only')
    .action(async (files: string[], opts: RepoFlag & TargetFlags) => {
      const added = await addTargets(opts.repo, files, targetInputFromFlags(opts));
      for (const a of added) say(`${a.replaced ? 'replaced' : 'staged'} ${a.path}  ${a.length} bytes  sha256 ${a.sha256}`);
      say('run `plugsrv catalog publish` to sign and publish');
    });
}

function removeCommand(say: Print): Command {
  return new Command('remove')
    .description('drop a target from the staging list (published metadata keeps it until the next publish)')
    .argument('<targetPath>', 'target path as staged')
    .addOption(repoOption())
    .action(async (targetPath: string, opts: RepoFlag) => {
      await removeTarget(opts.repo, targetPath);
      say(`unstaged ${targetPath}; run \`plugsrv catalog publish\` to publish without it`);
    });
}

function publishCommand(say: Print): Command {
  return new Command('publish')
    .description('sign the staged targets as new targets, snapshot and timestamp metadata')
    .addOption(repoOption())
    .action(async (opts: RepoFlag) => {
      const r = await publish(opts.repo, new Date());
      say(`published ${r.targets} targets: targets v${r.targetsVersion}, snapshot v${r.snapshotVersion}, timestamp v${r.timestampVersion} (root v${r.rootVersion})`);
    });
}

function rotateCommand(say: Print): Command {
  return new Command('rotate-keys')
    .description('replace a role key: a new root version lists it, then all metadata is re-signed')
    .addOption(repoOption())
    .addOption(new Option('--role <role>', 'role whose key to replace').choices([...ROLES]).makeOptionMandatory())
    .action(async (opts: RepoFlag & { role: RoleName }) => {
      const r = await rotateKeys(opts.repo, opts.role, new Date());
      say(`rotated the ${r.role} key ${r.oldKeyId.slice(0, 12)}… -> ${r.newKeyId}: root v${r.rootVersion}, targets v${r.targetsVersion}, snapshot v${r.snapshotVersion}, timestamp v${r.timestampVersion}`);
    });
}

/** The `catalog` command with its subcommands, ready for `program.addCommand`. */
export function catalogCommand(say: Print = toStdout): Command {
  return new Command('catalog')
    .description('publish packages as a static TUF repository (the carmaker origin side)')
    .addCommand(initCommand(say))
    .addCommand(addCommand(say))
    .addCommand(removeCommand(say))
    .addCommand(publishCommand(say))
    .addCommand(rotateCommand(say));
}

export function registerCatalogCommands(program: Command, say: Print = toStdout): void {
  program.addCommand(catalogCommand(say));
}
