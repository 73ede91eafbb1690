// Test helper: a real chronyd serving NTP on 127.0.0.1 at a free unprivileged port, never touching the system clock.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodePacket, encodeRequest, msToNtp, sameTimestamp } from '../../agent/src/selfcheck/probes/sntp-packet.js';

export interface Chronyd {
  readonly port: number;
  readonly stop: () => Promise<void>;
}

export type ChronydStart = { readonly ok: true; readonly chronyd: Chronyd } | { readonly ok: false; readonly reason: string };

const CANDIDATES = ['/usr/sbin/chronyd', '/usr/bin/chronyd', '/sbin/chronyd', '/usr/local/sbin/chronyd'];

async function findChronyd(): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(':').filter(Boolean);
  for (const path of [...dirs.map((d) => join(d, 'chronyd')), ...CANDIDATES]) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A UDP port free right now on 127.0.0.1 (bind port 0, read it, close). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** One raw SNTP exchange: true if a server-mode reply echoing our timestamp came back within ms. */
async function answers(port: number, ms: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  try {
    const sent = msToNtp(Date.now());
    const got = new Promise<boolean>((resolve) => {
      socket.on('message', (msg) => {
        const reply = decodePacket(msg);
        if (reply && reply.mode === 4 && reply.stratum !== 0 && sameTimestamp(reply.originate, sent)) resolve(true);
      });
    });
    socket.send(encodeRequest(sent), port, '127.0.0.1');
    return await Promise.race([got, sleep(ms, false)]);
  } finally {
    socket.close();
  }
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts chronyd in the foreground (-d), with -x so it never steers the clock; resolves once it answers. */
export async function startChronyd(readyTimeoutMs = 10_000): Promise<ChronydStart> {
  const bin = await findChronyd();
  if (bin === undefined) return { ok: false, reason: 'chronyd not found (apt-get install -y chrony)' };

  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-chronyd-'));
  const port = await freeUdpPort();
  const conf = join(dir, 'chrony.conf');
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bindaddress 127.0.0.1',
      'local stratum 8',
      'allow 127.0.0.1',
      'cmdport 0',
      // "/" disables the Unix command socket, which would otherwise go to /run/chrony.
      'bindcmdaddress /',
      `pidfile ${join(dir, 'chronyd.pid')}`,
      `driftfile ${join(dir, 'chrony.drift')}`,
      '',
    ].join('\n'),
  );

  // -d: foreground, log to stderr; -x: never touch the system clock; -u: stay as the current user
  // (no switch to _chrony, which could not read the temp dir); -U: allow running without root.
  const args = ['-d', '-x', '-u', userInfo().username, '-f', conf];
  if (process.getuid?.() !== 0) args.unshift('-U');
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const spawnError = new Promise<string>((resolve) => child.once('error', (err) => resolve(err.message)));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await waitExit(child);
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    const early = await Promise.race([spawnError, sleep(0, undefined)]);
    if (early !== undefined || child.exitCode !== null) {
      await stop();
      return { ok: false, reason: `chronyd did not start: ${early ?? `exit ${child.exitCode}`} ${stderr.trim()}` };
    }
    if (await answers(port, 200)) return { ok: true, chronyd: { port, stop } };
  }
  await stop();
  return { ok: false, reason: `chronyd did not answer on 127.0.0.1:${port} within ${readyTimeoutMs} ms: ${stderr.trim()}` };
}
