// `plugsrv hw detect|profiles|check|burnin`: what this unit is, whether it is what a profile expects, and whether it
// survives a burn-in. The work is in hardware/ (the one component the agent CLI may import); this file is the CLI.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import {
  BURNIN_DIR_NAME,
  checkInventory,
  detectInventory,
  formatBurninReport,
  formatCheckReport,
  formatInventory,
  fsReader,
  HardwareError,
  HwErrorCode,
  identifyProfiles,
  killGroup,
  LEVELS,
  listProfiles,
  loadProfile,
  parseStepList,
  runBurnin,
  STEP_IDS,
  summarizeBurnin,
  writeBurninReport,
  type BurninEvent,
  type Level,
  type StepId,
} from '../../../hardware/src/index.js';
import { configFrom } from './context.js';

interface CommonOptions {
  json?: boolean;
  root: string;
  profilesDir?: string;
}

function parseScale(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 10) throw new Error(`--duration-scale must be a number above 0 and at most 10, not "${value}"`);
  return n;
}

/** The shipped profiles, or none when they cannot be read (a wrong-model hint is then just less precise). */
async function knownProfiles(dir?: string) {
  return (await listProfiles(dir).catch(() => [])).map((p) => p.profile);
}

/** Progress of a burn-in: a bar per step on a TTY, JSON lines with --json, one line per step otherwise. */
export function burninProgress(mode: { json: boolean; tty: boolean }, out: NodeJS.WritableStream = process.stdout): (e: BurninEvent) => void {
  let bar: cliProgress.SingleBar | undefined;
  let lastJson = 0;
  let started = 0;
  let expected = 0;
  return (e) => {
    if (mode.json) {
      if (e.event !== 'step-progress' || Date.now() - lastJson >= 1000) {
        if (e.event === 'step-progress') lastJson = Date.now();
        out.write(`${JSON.stringify(e)}\n`);
      }
      return;
    }
    switch (e.event) {
      case 'burnin-start':
        out.write(`burn-in ${e.level} with profile ${e.profile}: ${e.steps.length} steps, about ${Math.ceil(e.expectedSeconds)} s\n`);
        break;
      case 'step-start':
        started = Date.now();
        expected = Math.max(1, e.expectedSeconds);
        if (mode.tty) {
          bar = new cliProgress.SingleBar(
            { format: ` [${e.index}/${e.count}] {title} [{bar}] {percentage}% | {elapsed}/{expected} s {note}`, stream: out as NodeJS.WriteStream, hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(100, 0, { title: e.id.padEnd(11), elapsed: 0, expected: Math.ceil(expected), note: '' });
        } else out.write(`[${e.index}/${e.count}] ${e.title} (about ${Math.ceil(e.expectedSeconds)} s, limit ${e.timeLimitSeconds} s)\n`);
        break;
      case 'step-progress':
        bar?.update(Math.round(e.fraction * 100), { elapsed: Math.round((Date.now() - started) / 1000), note: e.note ?? '' });
        break;
      case 'step-done':
        bar?.stop();
        bar = undefined;
        out.write(`${e.status.toUpperCase().padEnd(11)} ${e.id} (${e.durationSeconds} s): ${e.message}\n`);
        break;
      case 'burnin-done':
        break;
    }
  };
}

/** plugsrv hw ... */
export function registerHwCommands(program: Command): void {
  const hw = program
    .command('hw')
    .description('hardware: detect this unit, check it against a model profile, run the burn-in')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 2 bad input or profile, 3 scratch directory unusable, 6 `hw check` found a mismatch, 7 the burn-in failed, 130 the burn-in was interrupted (Ctrl-C).',
    );
  const rootOption = (): Option => new Option('--root <dir>', 'read /sys and /proc under this directory (a captured tree) instead of /').default('/');
  const profilesDirOption = (): Option => new Option('--profiles-dir <dir>', 'where profiles are (default: the shipped hardware/profiles)');

  hw.command('detect')
    .description('read this unit\'s hardware: DMI model, CPU, memory, disks, NICs, TPM, UEFI and Secure Boot, USB, readable BIOS settings')
    .option('--json', 'the inventory as JSON (what the fleet inventory carries)')
    .addOption(rootOption())
    .addOption(profilesDirOption())
    .option('--capture <dir>', 'also copy every file read into DIR (serial numbers redacted): a fixture tree for tests and support')
    .action(async (opts: CommonOptions & { capture?: string }) => {
      const inv = await detectInventory(fsReader(opts.root, opts.capture ? { capture: resolve(opts.capture) } : {}));
      if (opts.json) process.stdout.write(`${JSON.stringify(inv, null, 2)}\n`);
      else process.stdout.write(formatInventory(inv, identifyProfiles(inv, await knownProfiles(opts.profilesDir)).map((p) => p.id)));
      if (opts.capture) process.stderr.write(`captured the files read into ${resolve(opts.capture)}\n`);
    });

  hw.command('profiles')
    .description('list the hardware profiles')
    .option('--json', 'as JSON')
    .addOption(profilesDirOption())
    .action(async (opts: { json?: boolean; profilesDir?: string }) => {
      const all = await listProfiles(opts.profilesDir);
      if (opts.json) process.stdout.write(`${JSON.stringify(all.map((p) => ({ id: p.profile.id, name: p.profile.name, verified: p.profile.verified, file: p.file })), null, 2)}\n`);
      else for (const p of all) process.stdout.write(`${p.profile.id.padEnd(28)} ${p.profile.name}${p.profile.verified ? '' : '  (not yet verified on a real unit)'}\n`);
    });

  hw.command('check')
    .description('check this unit against a profile: what matches, what is missing, what to do; BIOS settings Linux cannot read are listed to attest')
    .requiredOption('-p, --profile <name|file>', 'profile name (see `plugsrv hw profiles`) or path to a profile YAML')
    .option('--json', 'the check report as JSON')
    .addOption(rootOption())
    .addOption(profilesDirOption())
    .action(async (opts: CommonOptions & { profile: string }) => {
      const { profile } = await loadProfile(opts.profile, opts.profilesDir);
      const inv = await detectInventory(fsReader(opts.root));
      const report = checkInventory(inv, profile, { profiles: await knownProfiles(opts.profilesDir) });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report, process.stdout.isTTY === true));
      if (report.verdict === 'fail') {
        const failed = report.items.filter((i) => i.status === 'fail').map((i) => i.id);
        throw new HardwareError(HwErrorCode.MISMATCH, `this unit does not match profile ${profile.id}: ${failed.join(', ')} failed (see above for what to do).`, { details: { failed } });
      }
    });

  hw.command('burnin')
    .description('stress and measure this unit (CPU, memory, disk, SMART, NIC, TPM, RTC, optional iperf3) and write a JSON + HTML report')
    .requiredOption('-p, --profile <name|file>', 'profile name or path to a profile YAML: its thresholds judge the results')
    .addOption(new Option('-l, --level <level>', 'how long and how hard').choices([...LEVELS]).default('quick'))
    .option('-o, --out <dir>', `where the reports go (default: <data dir>/${BURNIN_DIR_NAME}, which the fleet inventory reads)`)
    .option('--scratch-dir <dir>', 'directory on the disk under test for fio\'s scratch file (default: the data dir; not tmpfs)')
    .option('--iperf-server <host[:port]>', 'the line\'s iperf3 server: adds a throughput test (port 5201 by default)')
    .option('--only <steps>', `comma-separated steps to run: ${STEP_IDS.join(',')}`)
    .option('--skip <steps>', 'comma-separated steps not to run')
    .addOption(new Option('--duration-scale <factor>', 'multiply every step\'s duration and size (a trial run, tests); the report says so').argParser(parseScale).default(1))
    .option('--json', 'progress and the result as JSON lines')
    .addOption(rootOption())
    .addOption(new Option('--dev-dir <dir>', 'where device nodes are').default('/dev').hideHelp())
    .addOption(profilesDirOption())
    .addHelpText('after', '\nCtrl-C stops the running step (its tools are killed), writes a partial report marked "interrupted" and exits with 130.')
    .action(async (opts: CommonOptions & { profile: string; level: Level; out?: string; scratchDir?: string; iperfServer?: string; only?: string; skip?: string; durationScale: number; devDir: string }, cmd: Command) => {
      const loaded = await loadProfile(opts.profile, opts.profilesDir);
      const only: StepId[] | undefined = opts.only ? parseStepList(opts.only, '--only') : undefined;
      const skip: StepId[] | undefined = opts.skip ? parseStepList(opts.skip, '--skip') : undefined;
      const dataDir = opts.out === undefined || opts.scratchDir === undefined ? configFrom(cmd).dataDir : '';
      const outDir = resolve(opts.out ?? join(dataDir, BURNIN_DIR_NAME));
      const scratchDir = resolve(opts.scratchDir ?? dataDir);
      await mkdir(scratchDir, { recursive: true }).catch((err: unknown) => {
        throw new HardwareError(HwErrorCode.SCRATCH, `cannot create the scratch directory ${scratchDir}: ${(err as Error).message}. Give --scratch-dir on the disk under test.`, { cause: err });
      });
      const controller = new AbortController();
      // The tools' process groups, so a second Ctrl-C that exits at once takes them down too.
      const tools = new Set<number>();
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) {
          process.stderr.write(`plugsrv: ${signal} again: exiting now without a report\n`);
          for (const pid of tools) killGroup(pid, 'SIGKILL');
          process.exit(130);
        }
        stopping = true;
        process.stderr.write(`\nplugsrv: ${signal}: stopping the burn-in and writing a partial report (again to exit at once)\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const json = Boolean(opts.json);
      let report;
      try {
        report = await runBurnin({
          profile: loaded,
          level: opts.level,
          scale: opts.durationScale,
          root: opts.root,
          devDir: opts.devDir,
          scratchDir,
          ...(opts.iperfServer ? { iperfServer: opts.iperfServer } : {}),
          ...(only ? { only } : {}),
          ...(skip ? { skip } : {}),
          signal: controller.signal,
          onToolSpawn: (pid) => tools.add(pid),
          onToolExit: (pid) => tools.delete(pid),
          onEvent: burninProgress({ json, tty: process.stdout.isTTY === true }),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const files = await writeBurninReport(report, outDir);
      if (json) process.stdout.write(`${JSON.stringify({ event: 'report', ...files, summary: summarizeBurnin(report, files.json) })}\n`);
      else process.stdout.write(`\n${formatBurninReport(report, process.stdout.isTTY === true)}Reports: ${files.html}\n         ${files.json}\n`);
      if (report.verdict === 'interrupted') throw new HardwareError(HwErrorCode.BURNIN_INTERRUPTED, `the burn-in was interrupted; partial report in ${files.json}. Run it again to completion before shipping the unit.`);
      if (report.verdict === 'fail') {
        const failed = report.steps.filter((s) => s.status === 'fail').map((s) => s.id);
        throw new HardwareError(HwErrorCode.BURNIN_FAILED, `burn-in failed: ${failed.join(', ')}. See ${files.html} for what was measured and what to do.`, { details: { failed, report: files.json } });
      }
    });
}
