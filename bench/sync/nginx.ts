// Serves a published catalog's repository/ directory with a local nginx on 127.0.0.1 (sendfile on), as the sync origin.
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { childPids, cpuSeconds } from '../serve/procfs.js';
import { nginxConfig, waitUntilServing } from '../serve/servers.js';
import { freePort, NGINX, readText } from '../serve/setup.js';
import type { GroupCleanup } from './cleanup.js';

export interface Origin {
  /** Base URL of the TUF repository (with metadata/ and targets/). */
  url: string;
  /** CPU seconds used so far by the nginx master and workers. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Starts nginx serving `repository`; ready once `probe` (a target's path) answers 200 with `probeSize` bytes. */
export async function startOrigin(workDir: string, repository: string, probe: { urlPath: string; size: number }, cleanup: GroupCleanup): Promise<Origin> {
  const dir = join(workDir, 'nginx');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const workers = process.env.BENCH_SYNC_NGINX_WORKERS ?? '1';
  await writeFile(conf, nginxConfig({ dir, port, workers, tcpNopush: 'off', by: 'sync bench', server: `    root ${repository};` }));
  const errorLog = join(dir, 'error.log');
  const child: ChildProcess = cleanup.spawn(NGINX, ['-p', dir, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${url}/${probe.urlPath}`, probe.size, async () => `nginx stderr:\n${stderr}\nerror.log:\n${await readText(errorLog)}`);
  const pid = child.pid as number;
  return {
    url,
    cpuSeconds: () => [pid, ...childPids(pid)].reduce((n, p) => n + cpuSeconds(p), 0),
    stop: () => cleanup.stop(child),
  };
}
