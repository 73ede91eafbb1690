// memtester: locks a block of memory and runs its pattern tests over it; any FAILURE line is a bad module.
import { measure } from '../evaluate.js';
import { memoryBytes, type LevelSpec } from '../levels.js';
import { MEMTESTER_TESTS, parseMemtester } from '../parse.js';
import { runTool, tail } from '../proc.js';
import { commandLine, toolOrOutcome, type StepDef, type StepOutcome } from '../step.js';

const MiB = 1024 * 1024;
/** Seconds per MiB per loop measured on a slow 2-core VM (~0.14); real hardware is faster, so this errs long. */
const SECONDS_PER_MIB = 0.15;

function plannedMiB(spec: LevelSpec, available: number): number {
  return memoryBytes(available, spec.memtesterShare, spec.memtesterMaxBytes) / MiB;
}

export const memtesterStep: StepDef = {
  id: 'memtester',
  title: 'Memory patterns (memtester)',
  required: (p) => p.burnin.memtester.required,
  expectedSeconds: (spec, c) => Math.ceil(plannedMiB(spec, c.availableMemoryBytes) * spec.memtesterLoops * SECONDS_PER_MIB),
  async run(ctx): Promise<StepOutcome> {
    const required = ctx.profile.burnin.memtester.required;
    const tool = await toolOrOutcome(ctx, 'memtester', required);
    if (typeof tool !== 'string') return tool;
    const mib = plannedMiB(ctx.spec, ctx.availableMemoryBytes);
    const loops = ctx.spec.memtesterLoops;
    const args = [`${mib}M`, String(loops)];
    const total = MEMTESTER_TESTS.length * loops;
    let out = '';
    let last = 0;
    const run = await runTool(tool, args, {
      ...ctx.toolOptions,
      maxOutputBytes: 8 * MiB,
      onStdout: (chunk) => {
        out += chunk;
        if (ctx.now() - last < 500) return;
        last = ctx.now();
        const r = parseMemtester(out, false);
        ctx.progress(Math.min(1, (r.passed + r.failed.length) / total), `${r.passed}/${total} tests`);
        if (out.length > 4 * MiB) out = out.slice(-MiB);
      },
    });
    const result = parseMemtester(run.stdout, !run.aborted);
    // Failing tests print FAILURE lines on stderr and no "ok" on stdout.
    const failures = Math.max(result.failed.length, /FAILURE/.test(run.stderr) ? 1 : 0);
    const measures = [
      measure({ id: 'failures', label: 'Failed tests', value: run.aborted && failures === 0 ? null : failures, threshold: { max: 0 }, required: !run.aborted }),
      measure({ id: 'passed', label: 'Tests passed', value: result.passed, note: `${total} planned (${MEMTESTER_TESTS.length} per loop × ${loops})` }),
      measure({ id: 'tested', label: 'Memory tested', unit: 'MiB', value: result.testedMiB, ...(result.testedMiB !== null && result.testedMiB < mib ? { note: `asked for ${mib} MiB; memtester got less (mlock limit: run as root)` } : {}) }),
      measure({ id: 'exit', label: 'memtester exit status', value: run.aborted ? null : run.code, threshold: { equals: 0 }, required: !run.aborted, note: 'bit 1: allocation/lock error, 2: stuck address, 4: another test failed' }),
    ];
    const failed = measures.some((m) => m.status === 'fail');
    return {
      measures,
      chart: null,
      message: failed
        ? `memtester found errors${result.failed.length > 0 ? ` in: ${result.failed.join(', ')}` : ''}. Reseat the SO-DIMMs, test them one at a time, and replace the faulty one.`
        : `${result.passed} memtester tests passed over ${result.testedMiB ?? mib} MiB${result.locked ? ' (locked in RAM)' : ' (not locked: run as root to lock it)'}.`,
      commands: [commandLine(tool, args)],
      ...(failed ? { logTail: tail(`${run.stdout}\n${run.stderr}`) } : {}),
    };
  },
};
