// The logger: JSON lines, journald's native protocol over a real unix datagram socket, and redaction of secrets.
import t from 'tap';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createLogger, defaultSink, encodeJournalEntry, journalFieldName, jsonLinesSink, redact, REDACTED } from '../../../lib/log/index.js';
import { tempDir } from '../../helpers/agent-process.js';

function collect(): { lines: string[]; out: { write(s: string): boolean } } {
  const lines: string[] = [];
  return { lines, out: { write: (s: string) => lines.push(s) > 0 } };
}

t.test('JSON lines with time, level, message and fields; levels filter', async (t) => {
  const { lines, out } = collect();
  const log = createLogger({ sink: jsonLinesSink(out), level: 'info', clock: () => new Date('2026-11-25T10:00:00Z') });
  log.debug('hidden');
  log.info('serving', { port: 8080 });
  log.child({ role: 'serve' }).warn('slow client', { ms: 12 });
  t.equal(lines.length, 2);
  t.same(JSON.parse(lines[0]!), { time: '2026-11-25T10:00:00.000Z', level: 'info', msg: 'serving', port: 8080 });
  t.match(JSON.parse(lines[1]!), { level: 'warn', role: 'serve', ms: 12 });
});

t.test('secrets never reach a sink', async (t) => {
  const { lines, out } = collect();
  const log = createLogger({ sink: jsonLinesSink(out) });
  log.info('enrolling', { token: 'tok-123', password: 'hunter2', nested: { apiKey: 'k', privateKey: 'pk', ok: 1 }, list: [{ secret: 's' }] });
  const text = lines.join('');
  for (const s of ['tok-123', 'hunter2', '"k"', 'pk', '"s"']) t.notMatch(text, s, `${s} is redacted`);
  t.match(JSON.parse(text), { token: REDACTED, nested: { apiKey: REDACTED, privateKey: REDACTED, ok: 1 } });
  t.same(redact({ error: new Error('boom') }), { error: { name: 'Error', message: 'boom', code: undefined } });
});

t.test('journald native protocol encoding', async (t) => {
  t.equal(journalFieldName('sha256'), 'SHA256');
  t.equal(journalFieldName('dataDir'), 'DATA_DIR');
  t.equal(journalFieldName('_private'), 'PRIVATE', 'no leading underscore: those are trusted fields');
  t.equal(encodeJournalEntry({ MESSAGE: 'hello', PRIORITY: '6' }).toString(), 'MESSAGE=hello\nPRIORITY=6\n');
  const multi = encodeJournalEntry({ MESSAGE: 'a\nb' });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(3n);
  t.ok(multi.equals(Buffer.concat([Buffer.from('MESSAGE\n'), len, Buffer.from('a\nb'), Buffer.from('\n')])), 'binary-safe form for newlines');
});

interface DgramServer {
  bind(path: string): void;
  on(event: 'message', cb: (msg: Buffer) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  close(): void;
}

let unixDgram: { createSocket(type: 'unix_dgram'): DgramServer } | undefined;
try {
  unixDgram = createRequire(import.meta.url)('unix-dgram') as typeof unixDgram;
} catch {
  unixDgram = undefined;
}

t.test('journald sink sends datagrams to the journal socket', unixDgram ? {} : { skip: 'the optional unix-dgram addon did not build (needs g++ and python3 for node-gyp)' }, async (t) => {
  const dir = await tempDir(t);
  const socketPath = join(dir, 'journal.sock');
  const server = unixDgram!.createSocket('unix_dgram');
  const received = new Promise<Buffer>((resolve) => server.on('message', resolve));
  server.bind(socketPath);
  t.teardown(() => server.close());
  const { lines, out } = collect();
  const log = createLogger({ sink: defaultSink('plugsrv-test', out, socketPath) });
  log.warn('disk almost full', { freeBytes: 1024, token: 'secret-token' });
  const msg = (await received).toString();
  t.match(msg, /^MESSAGE=disk almost full$/m);
  t.match(msg, /^PRIORITY=4$/m);
  t.match(msg, /^SYSLOG_IDENTIFIER=plugsrv-test$/m);
  t.match(msg, /^PLUGSRV_FREE_BYTES=1024$/m);
  t.notMatch(msg, 'secret-token');
  t.equal(lines.length, 0, 'nothing on stdout when journald is there');
  log.close();
});

t.test('no journal socket: JSON lines on the fallback stream', async (t) => {
  const { lines, out } = collect();
  createLogger({ sink: defaultSink('x', out, '/nonexistent/journal.sock') }).info('hello');
  t.match(JSON.parse(lines[0]!), { msg: 'hello' });
});
