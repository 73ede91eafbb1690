// `plugsrv-line produce | flash | replace`: one or several units through the line, resumable.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { renderTable } from '../../../lib/cli/table.js';
import { ErrorCode, LineError } from '../errors.js';
import { formatBytes, type FlashPlan } from '../flash/index.js';
import { produce, replaceUnit, type ProduceOptions, type ProduceOutcome, type UnitJob } from '../produce/index.js';
import { pendingSteps } from '../units/index.js';
import { openContext } from './context.js';
import { lineProgress } from './progress.js';

interface UnitFlags {
  target: string[];
  serial?: string[];
  detect?: boolean;
  hwRoot?: string;
  tpmTcti?: string;
  mac?: string[];
  image: string;
  bmap?: string;
  manifest?: string;
  burninReport?: string;
  skipBurnin?: string;
  reflash?: boolean;
  yes?: boolean;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function unitOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--target <disk-or-file>', "the unit's disk (/dev/sdX, /dev/nvme0n1) or a disk-image file; repeat for several units at once", collect)
    .option('--serial <serial>', "the unit's serial, as on its label; one per --target, in the same order", collect)
    .option('--detect', 'plugsrv-line runs on the unit itself: read the serial, MACs, disk serial and TPM key from this machine')
    .option('--hw-root <dir>', 'with --detect: read /sys and /proc under this root (a captured tree)')
    .option('--tpm-tcti <tcti>', 'with --detect: tpm2-tools TCTI for the TPM endorsement key ("none" to skip)')
    .option('--mac <mac>', 'a MAC address of the unit (without --detect); repeatable', collect)
    .requiredOption('--image <file>', 'the golden image (.raw) built by npm run image:build')
    .option('--bmap <file>', 'its block map (.raw.bmap): only mapped blocks are written, each range verified')
    .option('--manifest <file>', "the image's manifest.json (default: next to the image); the image must match it")
    .option('--yes', 'do not ask for confirmation before writing (the line automation)')
    .option('--json', 'JSON lines of progress and a JSON result');
}

function jobsOf(flags: UnitFlags): UnitJob[] {
  const serials = flags.serial ?? [];
  if (flags.detect) {
    if (flags.target.length !== 1) throw new LineError(ErrorCode.USAGE, '--detect reads this machine: it produces one unit, so give one --target (its own disk).');
    return [{ target: flags.target[0] as string, identity: { serial: serials[0], detectRoot: flags.hwRoot ?? '/', ...(flags.tpmTcti ? { tpmTcti: flags.tpmTcti } : {}) } }];
  }
  if (serials.length !== flags.target.length) {
    throw new LineError(ErrorCode.USAGE, `give one --serial per --target (got ${serials.length} serial(s) for ${flags.target.length} target(s)), in the same order, or --detect on the unit itself.`);
  }
  if (flags.mac && flags.target.length > 1) throw new LineError(ErrorCode.USAGE, '--mac is for a single unit; with several targets the MACs are read later (--detect) or left empty.');
  return flags.target.map((target, i) => ({ target, identity: { serial: serials[i] as string, ...(flags.mac ? { macs: flags.mac } : {}) } }));
}

function confirmer(flags: UnitFlags): (plan: FlashPlan) => Promise<boolean> {
  return async (plan) => {
    if (flags.yes) return true;
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new LineError(ErrorCode.NOT_CONFIRMED, 'writing a disk needs a confirmation: run on a terminal and answer, or pass --yes in line automation. Nothing was written.');
    }
    const lines = [
      `About to write ${plan.image.path} (${formatBytes(plan.image.bytes)}, sha256 ${plan.image.sha256.slice(0, 16)}..., ${formatBytes(plan.writeBytes)} to write${plan.bmap ? ' by its bmap' : ', whole image'}) onto:`,
      ...plan.targets.map((t) => `  ${t.path}  ${t.kind}  ${formatBytes(t.sizeBytes)}${t.description ? `  ${t.description}` : ''}`),
      'Everything on these targets will be lost.',
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question('Type "yes" to write: ');
      return answer.trim().toLowerCase() === 'yes';
    } finally {
      rl.close();
    }
  };
}

function burninOf(flags: UnitFlags): ProduceOptions['burnin'] {
  if (flags.burninReport && flags.skipBurnin) throw new LineError(ErrorCode.USAGE, 'give --burnin-report or --skip-burnin, not both.');
  if (flags.burninReport) return { report: flags.burninReport };
  if (flags.skipBurnin !== undefined) return { skipReason: flags.skipBurnin };
  return undefined;
}

function printOutcomes(outcomes: ProduceOutcome[], json: boolean): void {
  if (json) {
    // JSON lines: the progress events came first, the result is the last line.
    const units = outcomes.map((o) => ({ unitId: o.unit.id, serial: o.unit.serial, status: o.unit.status, resumed: o.resumed, done: o.done, toDo: pendingSteps(o.unit.steps), error: o.error ?? null, notes: o.notes }));
    process.stdout.write(`${JSON.stringify({ event: 'result', units })}\n`);
    return;
  }
  process.stdout.write(
    `${renderTable(
      ['UNIT', 'SERIAL', 'STATUS', 'DONE NOW', 'TO DO'],
      outcomes.map((o) => [o.unit.id, o.unit.serial, o.unit.status, o.done.join(',') || '-', pendingSteps(o.unit.steps).join(',') || '-']),
    )}\n`,
  );
  for (const o of outcomes) {
    if (o.error) process.stdout.write(`${o.unit.serial}: ${o.error.code}: ${o.error.message}\n`);
    for (const n of o.notes) process.stdout.write(`${o.unit.serial}: ${n}\n`);
  }
}

async function run(cmd: Command, flags: UnitFlags, fn: (opts: Omit<ProduceOptions, 'order'>, ctx: Awaited<ReturnType<typeof openContext>>['ctx']) => Promise<ProduceOutcome[]>): Promise<void> {
  const progress = lineProgress({ json: flags.json === true, tty: process.stderr.isTTY === true });
  const opened = await openContext(cmd, progress.sink);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new LineError(ErrorCode.NOT_CONFIRMED, 'interrupted (Ctrl-C): the unit is marked failed; run the same command again to redo it.'));
  process.once('SIGINT', onSigint);
  let outcomes: ProduceOutcome[];
  try {
    const burnin = burninOf(flags);
    outcomes = await fn(
      {
        jobs: jobsOf(flags),
        image: { image: flags.image, ...(flags.bmap ? { bmap: flags.bmap } : {}), ...(flags.manifest ? { manifest: flags.manifest } : {}) },
        confirm: confirmer(flags),
        ...(burnin ? { burnin } : {}),
        ...(flags.reflash ? { reflash: true } : {}),
        signal: ac.signal,
        say: flags.json ? undefined : (u, m) => process.stderr.write(`${u.serial}: ${m}\n`),
      },
      opened.ctx,
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.stop();
    opened.close();
  }
  printOutcomes(outcomes, flags.json === true);
  const failed = outcomes.find((o) => o.error);
  if (failed?.error) {
    // The exit code of the first failure, so automation can tell "target bad" (4) from "fleet" (5).
    throw new LineError(failed.error.code as ErrorCode, `${outcomes.filter((o) => o.error).length} of ${outcomes.length} unit(s) failed; see above. Rerun the same command to resume them.`);
  }
}

export function registerProduceCommands(program: Command): void {
  unitOptions(
    program
      .command('produce')
      .description('register, flash, personalise (token, password, dealer letter), record the burn-in and print the label of one or several units; resumable')
      .requiredOption('--order <order>', 'order id or reference')
      .option('--burnin-report <file>', 'the JSON report (or its folder) of "plugsrv hw burnin" run on the unit')
      .option('--skip-burnin <reason>', 'record the burn-in as skipped, with the reason')
      .option('--reflash', 'flash again even if this unit was flashed already'),
  ).action(async (flags: UnitFlags & { order: string }, cmd: Command) => run(cmd, flags, (opts, ctx) => produce(ctx, { ...opts, order: flags.order })));

  unitOptions(
    program
      .command('flash')
      .description('register and flash one or several units (in parallel) with read-back verification; "produce" then does the rest')
      .requiredOption('--order <order>', 'order id or reference')
      .option('--reflash', 'flash again even if this unit was flashed already'),
  ).action(async (flags: UnitFlags & { order: string }, cmd: Command) => run(cmd, flags, (opts, ctx) => produce(ctx, { ...opts, order: flags.order, flashOnly: true })));

  unitOptions(
    program
      .command('replace')
      .description('warranty replacement: produce a new unit for the old unit\'s dealer and site, retire the old device at the fleet, link both records')
      .requiredOption('--unit <old>', 'the unit being replaced (unit id or serial)')
      .option('--burnin-report <file>', 'the JSON report of "plugsrv hw burnin" run on the new unit')
      .option('--skip-burnin <reason>', 'record the burn-in as skipped, with the reason'),
  ).action(async (flags: UnitFlags & { unit: string }, cmd: Command) =>
    run(cmd, flags, async (opts, ctx) => {
      const r = await replaceUnit(ctx, flags.unit, opts);
      if (r.retired) r.replacement.notes.push(`replaces ${r.old.id} (serial ${r.old.serial}); fleet: ${r.retired.deviceId ?? 'no device'} ${r.retired.status}${r.retired.note ? ` (${r.retired.note})` : ''}`);
      else r.replacement.notes.push(`the old unit ${r.old.id} is retired at the fleet once this unit is ready: rerun the same command.`);
      return [r.replacement];
    }),
  );
}
