// Policy application to the configuration (pure), required hosts for the self-check, and the log ring behind collect-logs.
import t from 'tap';
import { policyDocument } from '../../../lib/fleet/protocol.js';
import { silentLogger } from '../../../lib/log/index.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import { applyPolicyToConfig, capLines, LogRing, logSource, MAX_LOG_BYTES, requiredHostFlows, withRequiredHosts } from '../../../agent/src/fleet/index.js';
import { planFromConfig } from '../../../agent/src/selfcheck/index.js';

t.test('a policy replaces the sync window and rates and the self-check period; empty include keeps the local patterns', async (t) => {
  const config = loadConfig({ env: {}, flags: { 'sync.include': ['maps/**'], 'sync.window': '21:00-05:00', 'selfcheck.intervalHours': 0 } });
  const policy = policyDocument.parse({ version: 2, heartbeatSeconds: 15, selfcheckIntervalMinutes: 90, sync: { window: '23:00-04:00', nightRateBytesPerSec: 5_000_000, dayRateBytesPerSec: 100_000 } });
  const settings = applyPolicyToConfig(config, policy);
  t.same(config.sync.window, '23:00-04:00');
  t.equal(config.sync.nightRateBytesPerSec, 5_000_000);
  t.equal(config.sync.dayRateBytesPerSec, 100_000);
  t.same(config.sync.include, ['maps/**'], 'the policy did not set include');
  t.equal(config.selfcheck.intervalHours, 1.5);
  t.equal(settings.heartbeatSeconds, 15);
  applyPolicyToConfig(config, policyDocument.parse({ version: 3, sync: { include: ['soft/**'] } }));
  t.same(config.sync.include, ['soft/**']);
  t.equal(config.sync.window, '22:00-06:30', 'the next version\'s defaults apply');
});

t.test('required hosts become management flows probed by the self-check', async (t) => {
  const { flows, invalid } = requiredHostFlows(['fleet.example.com', 'cdn.example.com:8443', 'not a host', 'bad.example.com:99999', '*.wild.example.com']);
  t.same(flows, [
    { host: 'fleet.example.com', port: 443, protocol: 'tcp', purpose: 'management' },
    { host: 'cdn.example.com', port: 8443, protocol: 'tcp', purpose: 'management' },
  ]);
  t.same(invalid, ['not a host', 'bad.example.com:99999', '*.wild.example.com']);
  const plan = planFromConfig(loadConfig({ env: {} }));
  const more = withRequiredHosts(plan, ['fleet.example.com']);
  t.equal(more.flows.length, plan.flows.length + 1);
  t.equal(withRequiredHosts(plan, []), plan, 'no hosts: the same plan');
});

t.test('collect-logs data stays under 1 MiB, newest lines kept', async (t) => {
  const lines = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(500)}`);
  const capped = capLines(lines);
  t.ok(capped.truncated);
  t.ok(Buffer.byteLength(JSON.stringify({ lines: capped.lines, source: 'journald', truncated: true })) <= MAX_LOG_BYTES, 'the serialised result fits');
  t.equal(capped.lines[capped.lines.length - 1], lines[lines.length - 1], 'the newest line is kept');
  t.ok(capped.lines.length > 1500, `most of it kept (${capped.lines.length} lines)`);
  t.same(capLines(['a', 'b']), { lines: ['a', 'b'], truncated: false });
});

t.test('the log ring records what passes through the logger, redacted and bounded', async (t) => {
  const ring = new LogRing({ maxLines: 5, level: 'info' });
  const seen: string[] = [];
  const inner = { ...silentLogger(), info: (m: string) => seen.push(m) };
  const log = ring.wrap(inner);
  log.debug('not kept below the level');
  for (let i = 0; i < 8; i++) log.info(`line ${i}`, { token: 'pbt_secret', privateKey: 'PEM', n: i });
  log.child({ part: 'fleet' }).warn('from a child');
  t.same(seen.slice(0, 2), ['line 0', 'line 1'], 'the inner logger still gets every entry');
  const tail = ring.tail(100).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(tail.length, 5, 'bounded');
  t.same(tail.map((l) => l.msg), ['line 4', 'line 5', 'line 6', 'line 7', 'from a child']);
  t.match(tail[0], { level: 'info', token: '[redacted]', privateKey: '[redacted]', n: 4 });
  t.match(tail[4], { level: 'warn', part: 'fleet' });
  t.notMatch(ring.tail(100).join('\n'), /pbt_secret/, 'no secret in the ring');
  const r = await logSource(ring, { useJournald: false })(2);
  t.same(r.lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['line 7', 'from a child']);
  t.equal(r.source, 'memory');
});
