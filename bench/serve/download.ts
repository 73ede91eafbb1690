// Full-download scenarios: N concurrent curl processes each fetch the whole file; sizes and statuses are checked.
import { spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.js';
import { CURL } from './setup.js';

const CURL_MAX_SECONDS = 600;

export interface DownloadResult {
  clients: number;
  /** Bytes received by all clients together. */
  bytes: number;
  /** Wall-clock seconds from the first start to the last finish. */
  seconds: number;
  mibPerSecond: number;
  /** curl's own time_total of each client, seconds. */
  clientSeconds: number[];
  errors: string[];
}

interface CurlOutcome {
  bytes: number;
  seconds: number;
  error?: string;
}

/** One `curl` download to /dev/null; reports what curl measured and anything that was not a full 200. */
function curlOnce(url: string, size: number, cleanup: Cleanup): Promise<CurlOutcome> {
  const args = ['-s', '-o', '/dev/null', '--noproxy', '*', '--max-time', String(CURL_MAX_SECONDS), '-w', '%{http_code} %{size_download} %{time_total}', url];
  return new Promise((resolve) => {
    const child = cleanup.track(spawn(CURL, args, { stdio: ['ignore', 'pipe', 'ignore'] }));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => resolve({ bytes: 0, seconds: 0, error: `curl could not run: ${err.message}` }));
    child.once('close', (code) => {
      const [status, bytesText, secondsText] = out.trim().split(' ');
      const bytes = Number(bytesText) || 0;
      const seconds = Number(secondsText) || 0;
      const error =
        code !== 0 ? `curl exit ${code}` : status !== '200' ? `HTTP ${status}` : bytes !== size ? `received ${bytes} of ${size} bytes` : undefined;
      resolve(error ? { bytes, seconds, error } : { bytes, seconds });
    });
  });
}

export async function downloadScenario(url: string, size: number, clients: number, cleanup: Cleanup): Promise<DownloadResult> {
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: clients }, () => curlOnce(url, size, cleanup)));
  const seconds = (performance.now() - started) / 1000;
  const bytes = outcomes.reduce((n, o) => n + o.bytes, 0);
  return {
    clients,
    bytes,
    seconds,
    mibPerSecond: bytes / 1048576 / seconds,
    clientSeconds: outcomes.map((o) => o.seconds),
    errors: outcomes.flatMap((o, i) => (o.error ? [`client ${i}: ${o.error}`] : [])),
  };
}
