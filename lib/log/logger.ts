// Structured logger: message + fields, to journald when it runs, else JSON lines on stdout; secrets are redacted.
import { existsSync } from 'node:fs';
import { encodeJournalEntry, JOURNAL_SOCKET, openUnixDatagramSender, type DatagramSender } from './journald.js';
import { redact, type LogFields } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** syslog priorities, as journald's PRIORITY field expects them. */
const SYSLOG_PRIORITY: Record<LogLevel, string> = { debug: '7', info: '6', warn: '4', error: '3' };

export interface LogEntry {
  readonly time: string;
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

export interface LogSink {
  write(entry: LogEntry): void;
  close?(): void;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  close(): void;
}

export function jsonLinesSink(out: { write(chunk: string): unknown }): LogSink {
  return {
    write(entry) {
      out.write(`${JSON.stringify({ time: entry.time, level: entry.level, msg: entry.msg, ...entry.fields })}\n`);
    },
  };
}

export function journaldSink(sender: DatagramSender, identifier: string): LogSink {
  return {
    write(entry) {
      const fields: Record<string, string> = {
        MESSAGE: entry.msg,
        PRIORITY: SYSLOG_PRIORITY[entry.level],
        SYSLOG_IDENTIFIER: identifier,
      };
      for (const [k, v] of Object.entries(entry.fields)) {
        if (v === undefined) continue;
        fields[`PLUGSRV_${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
      }
      sender.send(encodeJournalEntry(fields));
    },
    close() {
      sender.close();
    },
  };
}

export function createLogger(options: {
  sink: LogSink;
  level?: LogLevel;
  clock?: () => Date;
  fields?: LogFields;
}): Logger {
  const minRank = LEVEL_RANK[options.level ?? 'info'];
  const clock = options.clock ?? (() => new Date());
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_RANK[level] < minRank) return;
    options.sink.write({ time: clock().toISOString(), level, msg, fields: redact({ ...base, ...fields }) });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    close: () => options.sink.close?.(),
  };
}

/** journald when its socket exists and the datagram addon loads, JSON lines on `fallback` otherwise. */
export function defaultSink(
  identifier: string,
  fallback: { write(chunk: string): unknown } = process.stdout,
  socketPath = JOURNAL_SOCKET,
): LogSink {
  if (existsSync(socketPath)) {
    const sender = openUnixDatagramSender(socketPath, (err) => {
      fallback.write(`${JSON.stringify({ level: 'warn', msg: 'journald send failed', error: err.message })}\n`);
    });
    if (sender) return journaldSink(sender, identifier);
  }
  return jsonLinesSink(fallback);
}

export function silentLogger(): Logger {
  return createLogger({ sink: { write() {} } });
}
