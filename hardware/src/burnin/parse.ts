// Pure parsers of the burn-in tools' output: stress-ng YAML metrics, fio JSON and logs, smartctl JSON, iperf3 JSON,
// memtester's text. Each takes what the tool printed and returns plain values (null where the tool said nothing).
import { parse as parseYaml } from 'yaml';

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The first JSON object in a text (tools may print warnings before it). */
export function firstJson(text: string): unknown {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start));
  } catch {
    return undefined;
  }
}

export interface StressMetric {
  stressor: string;
  bogoOps: number | null;
  bogoOpsPerSecond: number | null;
  wallClockSeconds: number | null;
}

/** stress-ng --yaml FILE with --metrics-brief. */
export function parseStressNgYaml(text: string): StressMetric[] {
  let doc: unknown;
  try {
    doc = parseYaml(text.replace(/\n\.\.\.[\s\S]*$/, '\n'));
  } catch {
    return [];
  }
  const metrics = obj(doc).metrics;
  if (!Array.isArray(metrics)) return [];
  return metrics.map((m) => {
    const o = obj(m);
    return {
      stressor: String(o.stressor ?? '?'),
      bogoOps: num(o['bogo-ops']),
      bogoOpsPerSecond: num(o['bogo-ops-per-second-real-time']),
      wallClockSeconds: num(o['wall-clock-time']),
    };
  });
}

export interface FioDirection {
  bytesPerSecond: number;
  iops: number;
  ioBytes: number;
}

export interface FioResult {
  error: number;
  read: FioDirection | null;
  write: FioDirection | null;
}

/** fio --output-format=json: the first job's read and write figures (null when that direction did no I/O). */
export function parseFioJson(text: string): FioResult | null {
  const jobs = obj(firstJson(text)).jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) return null;
  const job = obj(jobs[0]);
  const dir = (d: unknown): FioDirection | null => {
    const o = obj(d);
    const io = num(o.io_bytes) ?? 0;
    if (io === 0) return null;
    return { bytesPerSecond: num(o.bw_bytes) ?? 0, iops: num(o.iops) ?? 0, ioBytes: io };
  };
  return { error: num(job.error) ?? 0, read: dir(job.read), write: dir(job.write) };
}

/** A fio log (--write_bw_log / --write_iops_log): "msec, value, direction, blocksize, offset" lines -> [seconds, value]. */
export function parseFioLog(text: string, scale = 1): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    const parts = line.split(',').map((s) => s.trim());
    if (parts.length < 2) continue;
    const t = Number(parts[0]);
    const v = Number(parts[1]);
    if (Number.isFinite(t) && Number.isFinite(v)) points.push([t / 1000, v * scale]);
  }
  return points;
}

export interface SmartData {
  /** smartctl's exit status bits (see smartctl(8) RETURN VALUES). */
  exitStatus: number | null;
  model: string | null;
  serial: string | null;
  /** The overall-health self-assessment; null when smartctl could not get it. */
  passed: boolean | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  nvme: { criticalWarning: number | null; percentageUsed: number | null; mediaErrors: number | null; errorLogEntries: number | null; unsafeShutdowns: number | null } | null;
  ata: { reallocated: number | null; pending: number | null; offlineUncorrectable: number | null; crcErrors: number | null } | null;
  messages: string[];
}

/** smartctl --json -i -H -A DEVICE. */
export function parseSmartctlJson(text: string): SmartData | null {
  const doc = firstJson(text);
  if (doc === undefined) return null;
  const d = obj(doc);
  const sm = obj(d.smartctl);
  const messages = Array.isArray(sm.messages) ? sm.messages.map((m) => String(obj(m).string ?? '')).filter(Boolean) : [];
  const health = obj(d.smart_status);
  const nv = d.nvme_smart_health_information_log === undefined ? null : obj(d.nvme_smart_health_information_log);
  let ata: SmartData['ata'] = null;
  const table = obj(d.ata_smart_attributes).table;
  if (Array.isArray(table)) {
    const raw = (id: number): number | null => {
      const row = table.map(obj).find((r) => r.id === id);
      return row ? num(obj(row.raw).value) : null;
    };
    ata = { reallocated: raw(5), pending: raw(197), offlineUncorrectable: raw(198), crcErrors: raw(199) };
  }
  return {
    exitStatus: num(sm.exit_status),
    model: typeof d.model_name === 'string' ? d.model_name : null,
    serial: typeof d.serial_number === 'string' ? d.serial_number : null,
    passed: typeof health.passed === 'boolean' ? health.passed : null,
    temperatureC: num(obj(d.temperature).current),
    powerOnHours: num(obj(d.power_on_time).hours),
    nvme: nv
      ? {
          criticalWarning: num(nv.critical_warning),
          percentageUsed: num(nv.percentage_used),
          mediaErrors: num(nv.media_errors),
          errorLogEntries: num(nv.num_err_log_entries),
          unsafeShutdowns: num(nv.unsafe_shutdowns),
        }
      : null,
    ata,
    messages,
  };
}

/** smartctl's exit bits 0 and 1: the command line was wrong or the device could not be opened. */
export function smartctlCouldNotRun(exitStatus: number | null): boolean {
  return exitStatus !== null && (exitStatus & 0b11) !== 0;
}

export interface IperfResult {
  error: string | null;
  /** What the receiving side got, in bits/s. */
  receivedBitsPerSecond: number | null;
  sentBitsPerSecond: number | null;
  retransmits: number | null;
  /** [seconds since start, bits/s] per interval. */
  intervals: Array<[number, number]>;
}

/** iperf3 -J. */
export function parseIperfJson(text: string): IperfResult | null {
  const doc = firstJson(text);
  if (doc === undefined) return null;
  const d = obj(doc);
  const end = obj(d.end);
  const intervals: Array<[number, number]> = [];
  if (Array.isArray(d.intervals)) {
    for (const i of d.intervals) {
      const sum = obj(obj(i).sum);
      const t = num(sum.end);
      const bps = num(sum.bits_per_second);
      if (t !== null && bps !== null) intervals.push([t, bps]);
    }
  }
  return {
    error: typeof d.error === 'string' ? d.error : null,
    receivedBitsPerSecond: num(obj(end.sum_received).bits_per_second),
    sentBitsPerSecond: num(obj(end.sum_sent).bits_per_second),
    retransmits: num(obj(end.sum_sent).retransmits),
    intervals,
  };
}

/** memtester's tests, in the order it runs them (memtester 4.x). */
export const MEMTESTER_TESTS = [
  'Stuck Address',
  'Random Value',
  'Compare XOR',
  'Compare SUB',
  'Compare MUL',
  'Compare DIV',
  'Compare OR',
  'Compare AND',
  'Sequential Increment',
  'Solid Bits',
  'Block Sequential',
  'Checkerboard',
  'Bit Spread',
  'Bit Flip',
  'Walking Ones',
  'Walking Zeroes',
  '8-bit Writes',
  '16-bit Writes',
] as const;

/** Applies backspaces the way a terminal would (memtester draws spinners with them). */
export function applyBackspaces(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const buf: string[] = [];
    for (const ch of line) {
      if (ch === '\b') buf.pop();
      else buf.push(ch);
    }
    out.push(buf.join(''));
  }
  return out.join('\n');
}

export interface MemtesterResult {
  /** Memory actually tested (memtester reduces it when it cannot lock as much as asked). */
  testedMiB: number | null;
  locked: boolean;
  passed: number;
  failed: string[];
  /** Tests started but not finished (interrupted or timed out). */
  incomplete: number;
}

/** memtester's stdout (test results) and stderr (FAILURE lines). */
export function parseMemtester(stdout: string, finished: boolean): MemtesterResult {
  const text = applyBackspaces(stdout);
  const got = /got\s+(\d+)MB/.exec(text);
  const names = MEMTESTER_TESTS.map((n) => n.replace(/[-]/g, '\\-')).join('|');
  const re = new RegExp(`(${names})\\s*:`, 'g');
  const marks: Array<{ name: string; at: number; end: number }> = [];
  for (let m = re.exec(text); m; m = re.exec(text)) marks.push({ name: m[1]!, at: m.index, end: m.index + m[0].length });
  let passed = 0;
  let incomplete = 0;
  const failed: string[] = [];
  marks.forEach((mark, i) => {
    const next = marks[i + 1];
    const body = text.slice(mark.end, next ? next.at : undefined);
    if (/\bok\b/.test(body)) passed++;
    else if (!next && !finished) incomplete++;
    else failed.push(mark.name);
  });
  return { testedMiB: got ? Number(got[1]) : null, locked: /locked\./.test(text), passed, failed, incomplete };
}
