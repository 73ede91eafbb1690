// collect-logs: the agent's recent log lines, from journald when the service runs under it, else from a bounded ring in memory.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { JOURNAL_SOCKET, redact, type Logger, type LogFields, type LogLevel } from '../../../lib/log/index.js';

/** The result data of collect-logs is capped at 1 MiB once serialised (protocol). */
export const MAX_LOG_BYTES = 1024 * 1024;
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keeps the newest lines whose JSON array fits in `maxBytes` (pure). */
export function capLines(lines: readonly string[], maxBytes = MAX_LOG_BYTES): { lines: string[]; truncated: boolean } {
  // Room for the envelope around the array ({"lines":[...],"source":"...","truncated":true}).
  let budget = maxBytes - 128;
  const kept: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const cost = Buffer.byteLength(JSON.stringify(lines[i])) + 1;
    if (cost > budget) return { lines: kept.reverse(), truncated: true };
    budget -= cost;
    kept.push(lines[i] as string);
  }
  return { lines: kept.reverse(), truncated: false };
}

/**
 * The agent's own recent log lines (JSON, secrets redacted), kept in memory for collect-logs when journald is not
 * there to ask. Bounded by line count and by bytes, so a chatty failure cannot grow it.
 */
export class LogRing {
  private readonly lines: string[] = [];
  private bytes = 0;

  constructor(
    private readonly opts: { maxLines?: number; maxBytes?: number; level?: LogLevel; clock?: () => Date } = {},
  ) {}

  record(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.opts.level ?? 'info']) return;
    const time = (this.opts.clock ?? (() => new Date()))().toISOString();
    let line = JSON.stringify({ time, level, msg, ...redact(fields) });
    if (line.length > 8192) line = `${line.slice(0, 8180)}…(cut)`;
    this.lines.push(line);
    this.bytes += line.length;
    const maxLines = this.opts.maxLines ?? 10_000;
    const maxBytes = this.opts.maxBytes ?? 2 * MAX_LOG_BYTES;
    while (this.lines.length > maxLines || this.bytes > maxBytes) this.bytes -= (this.lines.shift() as string).length;
  }

  /** The newest `n` lines, oldest first. */
  tail(n: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - n));
  }

  /** A logger that records every entry here, then passes it on to `inner`. */
  wrap(inner: Logger, base: LogFields = {}): Logger {
    const at = (level: LogLevel) => (msg: string, fields?: LogFields): void => {
      this.record(level, msg, { ...base, ...fields });
      inner[level](msg, fields);
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => this.wrap(inner.child(fields), { ...base, ...fields }),
      close: () => inner.close(),
    };
  }
}

export interface LogSource {
  (lines: number): Promise<{ lines: string[]; source: 'journald' | 'memory'; truncated: boolean; note?: string }>;
}

/** True when this process runs as a systemd service whose journal can be read back. */
export function journaldInUse(env: NodeJS.ProcessEnv = process.env, socketPath = JOURNAL_SOCKET): boolean {
  return existsSync(socketPath) && typeof env.INVOCATION_ID === 'string' && env.INVOCATION_ID !== '';
}

function journalctl(lines: number, unit: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'journalctl',
      ['-u', unit, '-o', 'json', '-n', String(lines), '--no-pager', '-q'],
      { maxBuffer: 16 * MAX_LOG_BYTES, timeout: 15_000, env: { ...process.env, SYSTEMD_PAGER: '' } },
      (err, stdout) => (err ? reject(err) : resolve(stdout.split('\n').filter((l) => l.trim() !== ''))),
    );
  });
}

/** collect-logs: `journalctl -u plugsrv -o json` when journald is in use, else the ring; at most 1 MiB either way. */
export function logSource(ring: LogRing, opts: { unit?: string; useJournald?: boolean } = {}): LogSource {
  return async (n) => {
    if (opts.useJournald ?? journaldInUse()) {
      try {
        const lines = await journalctl(n, opts.unit ?? 'plugsrv');
        // An empty answer usually means the service user may not read the system journal (group systemd-journal).
        if (lines.length > 0) return { ...capLines(lines), source: 'journald' };
        return { ...capLines(ring.tail(n)), source: 'memory', note: 'journalctl returned nothing (is the service user in the systemd-journal group?); lines from the agent\'s memory instead' };
      } catch (err) {
        return { ...capLines(ring.tail(n)), source: 'memory', note: `journalctl failed (${(err as Error).message.split('\n')[0]}); lines from the agent's memory instead` };
      }
    }
    return { ...capLines(ring.tail(n)), source: 'memory' };
  };
}
