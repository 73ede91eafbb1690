// smartctl on every internal NVMe/SATA disk: overall health, temperature, wear, media errors, reallocated and pending
// sectors. A virtual disk has no SMART: with a profile that allows it the step is skipped and says so.
import { join } from 'node:path';
import type { Disk } from '../../detect/index.js';
import { measure } from '../evaluate.js';
import { parseSmartctlJson, smartctlCouldNotRun } from '../parse.js';
import { runTool, tail } from '../proc.js';
import { absent, commandLine, toolOrOutcome, type StepDef, type StepOutcome } from '../step.js';
import type { Measure } from '../types.js';

const SMART_KINDS = new Set(['nvme', 'ssd', 'hdd']);

function describe(disks: readonly Disk[]): string {
  return disks.map((d) => `${d.name} (${d.kind}${d.driver ? `, ${d.driver}` : ''})`).join(', ');
}

export const smartStep: StepDef = {
  id: 'smart',
  title: 'Disk health (SMART)',
  required: (p) => p.burnin.smart.required,
  expectedSeconds: () => 2,
  async run(ctx): Promise<StepOutcome> {
    const t = ctx.profile.burnin.smart;
    const disks = ctx.inventory.disks.filter((d) => SMART_KINDS.has(d.kind) && !d.removable);
    if (disks.length === 0) {
      const others = ctx.inventory.disks;
      const reason = others.length > 0 ? `no SMART-capable disk found (${others.every((d) => d.kind === 'virtual') ? 'virtual disk' : 'only'} ${describe(others)})` : 'no disk found';
      return absent(t.required, reason, 'Fit the ordered NVMe SSD, check it is enabled in BIOS setup > Storage, and run the burn-in again.');
    }
    const tool = await toolOrOutcome(ctx, 'smartctl', t.required);
    if (typeof tool !== 'string') return tool;
    const measures: Measure[] = [];
    const commands: string[] = [];
    const problems: string[] = [];
    let logTail: string | undefined;
    for (const [i, disk] of disks.entries()) {
      ctx.progress(i / disks.length, disk.name);
      const args = ['--json=c', '-i', '-H', '-A', join(ctx.devDir, disk.name)];
      commands.push(commandLine(tool, args));
      const run = await runTool(tool, args, ctx.toolOptions);
      if (run.aborted) break;
      const data = parseSmartctlJson(run.stdout);
      const exitStatus = data?.exitStatus ?? run.code;
      const m = (id: string, label: string, value: number | string | null, threshold?: { max?: number; equals?: string | number }, unit?: string, required = false): void => {
        measures.push(measure({ id: `${disk.name}.${id}`, label: `${disk.name} ${label}`, value, ...(threshold ? { threshold } : {}), ...(unit ? { unit } : {}), required }));
      };
      if (!data || smartctlCouldNotRun(exitStatus)) {
        const why = data?.messages.join('; ') || tail(run.stderr || run.stdout, 3) || `exit status ${run.code}`;
        m('health', 'SMART health', null, { equals: 'PASSED' }, undefined, true);
        problems.push(`smartctl could not read ${disk.name} (${why})${process.getuid?.() === 0 ? '' : ': run the burn-in as root'}`);
        logTail = tail(run.stdout + run.stderr);
        continue;
      }
      m('health', 'SMART health', data.passed === null ? null : data.passed ? 'PASSED' : 'FAILED', { equals: 'PASSED' }, undefined, true);
      m('temp', 'temperature', data.temperatureC, { max: t.maxTempC }, '°C');
      if (data.nvme) {
        m('critical-warning', 'critical warning', data.nvme.criticalWarning, { equals: 0 });
        m('used', 'percentage used', data.nvme.percentageUsed, { max: t.maxPercentageUsed }, '%');
        m('media-errors', 'media errors', data.nvme.mediaErrors, { max: t.maxMediaErrors });
        m('error-log', 'error log entries', data.nvme.errorLogEntries);
      }
      if (data.ata) {
        m('reallocated', 'reallocated sectors', data.ata.reallocated, { max: t.maxReallocatedSectors });
        m('pending', 'pending sectors', data.ata.pending, { max: t.maxPendingSectors });
        m('uncorrectable', 'offline uncorrectable', data.ata.offlineUncorrectable, { max: t.maxPendingSectors });
        m('crc', 'interface CRC errors', data.ata.crcErrors);
      }
      m('hours', 'power-on hours', data.powerOnHours, undefined, 'h');
    }
    ctx.progress(1);
    const failed = measures.filter((x) => x.status === 'fail');
    const message =
      problems.length > 0
        ? `${problems.join('; ')}.`
        : failed.length > 0
          ? `SMART says the disk is not fit to ship (${failed.map((x) => `${x.label} ${x.value ?? 'n/a'}`).join(', ')}): replace the SSD.`
          : `SMART health PASSED on ${disks.map((d) => d.name).join(', ')}.`;
    return { measures, chart: null, message, commands, ...(logTail ? { logTail } : {}) };
  },
};
