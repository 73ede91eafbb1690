// Runs one client command under GNU time: wall clock, user and system CPU seconds and peak RSS of the command, its output.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { GroupCleanup } from './cleanup.js';

export const TIME = '/usr/bin/time';
const OUTPUT_CAP = 4 * 1024 * 1024;

export interface TimedRun {
  exitCode: number | null;
  /** Measured here around the child, not GNU time's 10 ms resolution. */
  wallSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  /** Largest resident set of the command (GNU time %M: ru_maxrss of the waited child). */
  maxRssBytes: number;
  stdout: string;
  stderr: string;
}

export function ensureTime(): void {
  if (!existsSync(TIME)) throw new Error(`${TIME} is required to measure the clients' CPU and peak RSS; install it with: apt-get install -y time`);
}

/** GNU time's report: the last line is "user sys maxrss-kB" (a line before it may say the command failed). */
function parseTimeReport(text: string): { user: number; sys: number; rssKb: number } {
  const last = text.trim().split('\n').at(-1) ?? '';
  const [user, sys, rssKb] = last.trim().split(/\s+/).map(Number);
  if (user === undefined || sys === undefined || rssKb === undefined || [user, sys, rssKb].some((n) => !Number.isFinite(n))) {
    throw new Error(`cannot read the GNU time report: ${JSON.stringify(text)}`);
  }
  return { user, sys, rssKb };
}

function capped(buffer: string, d: Buffer): string {
  return buffer.length < OUTPUT_CAP ? buffer + d.toString() : buffer;
}

export async function timed(command: string, args: string[], env: NodeJS.ProcessEnv, cleanup: GroupCleanup): Promise<TimedRun> {
  const report = join(tmpdir(), `plugsrv-bench-time-${process.pid}-${randomBytes(4).toString('hex')}.txt`);
  const started = performance.now();
  const child = cleanup.spawn(TIME, ['-f', '%U %S %M', '-o', report, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout = capped(stdout, d)));
  child.stderr?.on('data', (d: Buffer) => (stderr = capped(stderr, d)));
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const { user, sys, rssKb } = parseTimeReport(await readFile(report, 'utf8'));
    return { exitCode, wallSeconds, userSeconds: user, sysSeconds: sys, maxRssBytes: rssKb * 1024, stdout, stderr };
  } finally {
    await rm(report, { force: true });
  }
}
