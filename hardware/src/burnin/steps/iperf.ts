// iperf3 against the line's server (only when --iperf-server is given): TCP throughput both ways, per-second samples.
import { measure } from '../evaluate.js';
import { parseIperfJson } from '../parse.js';
import { runTool, tail } from '../proc.js';
import { commandLine, toolOrOutcome, type StepDef, type StepOutcome } from '../step.js';
import type { Measure, Series } from '../types.js';

export const iperfStep: StepDef = {
  id: 'iperf',
  title: 'Network throughput (iperf3)',
  // Required once asked for: the line gave a server to measure against.
  required: () => true,
  expectedSeconds: (spec, c) => (c.iperf ? 2 * spec.iperfSeconds + 1 : 0),
  async run(ctx): Promise<StepOutcome> {
    const server = ctx.iperfServer;
    if (!server) return { status: 'skipped', message: 'skipped: not requested (give --iperf-server HOST[:PORT] to measure throughput against the line\'s iperf3 server)' };
    const tool = await toolOrOutcome(ctx, 'iperf3', true);
    if (typeof tool !== 'string') return tool;
    const min = ctx.profile.burnin.iperf.minMbps;
    const seconds = ctx.spec.iperfSeconds;
    const measures: Measure[] = [];
    const series: Series[] = [];
    const commands: string[] = [];
    const errors: string[] = [];
    let offset = 0;
    for (const [i, dir] of (['upload', 'download'] as const).entries()) {
      if (ctx.signal.aborted) break;
      const args = ['-c', server.host, '-p', String(server.port), '-t', String(seconds), '-i', '1', '-J', '--connect-timeout', '5000', ...(dir === 'download' ? ['-R'] : [])];
      commands.push(commandLine(tool, args));
      ctx.progress(i / 2, dir);
      const run = await runTool(tool, args, ctx.toolOptions);
      if (run.aborted) break;
      const r = parseIperfJson(run.stdout);
      if (!r || r.error || run.code !== 0) errors.push(`${dir}: ${r?.error ?? (tail(run.stderr, 2) || `exit status ${run.code}`)}`);
      const mbps = r?.receivedBitsPerSecond != null && !r.error ? r.receivedBitsPerSecond / 1e6 : null;
      const label = dir === 'upload' ? `Unit → ${server.host}` : `${server.host} → unit`;
      measures.push(measure({ id: dir, label, unit: 'Mb/s', value: mbps, threshold: { min }, required: true }));
      if (r && r.intervals.length > 0) series.push({ id: dir, label, unit: 'Mb/s', points: r.intervals.map(([t, bps]): [number, number] => [offset + t, bps / 1e6]), threshold: { value: min, kind: 'min' } });
      offset += seconds;
    }
    ctx.progress(1);
    const failed = measures.filter((m) => m.status === 'fail');
    let message = `TCP throughput with ${server.host}:${server.port}: ${measures.map((m) => `${m.label} ${m.value === null ? 'n/a' : Math.round(m.value as number)} Mb/s`).join(', ')}.`;
    if (errors.length > 0) message = `iperf3 failed (${errors.join('; ')}): check the line's iperf3 server runs (iperf3 -s) at ${server.host}:${server.port} and is reachable.`;
    else if (failed.length > 0) message = `Throughput below ${min} Mb/s (${failed.map((m) => `${m.label} ${Math.round(m.value as number)} Mb/s`).join(', ')}): check the cable, the switch port and the link speed.`;
    return { measures, series, chart: series.length > 0 ? 'line' : 'bars', message, commands };
  },
};
