// Small-range scenario: a keep-alive pool of N connections sends Range GETs at random offsets for a fixed time; records latency.
import { Agent, get } from 'node:http';
import { closeSync, openSync, readSync } from 'node:fs';

const MAX_ERRORS = 100;

export interface RangeOptions {
  url: string;
  /** The file being served, read back to check a sample of the bodies. */
  filePath: string;
  size: number;
  connections: number;
  rangeBytes: number;
  durationMs: number;
  /** Hard cap on requests, so the loop is bounded even with a broken clock. */
  maxRequests: number;
  /** Every Nth response body is compared with the file. */
  verifyEvery: number;
  seed: number;
}

export interface RangeResult {
  connections: number;
  rangeBytes: number;
  requests: number;
  bytes: number;
  seconds: number;
  requestsPerSecond: number;
  mibPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  bodiesVerified: number;
  errors: string[];
  errorCount: number;
}

interface Reply {
  status: number;
  contentLength: string | undefined;
  contentRange: string | undefined;
  bytes: number;
  body: Buffer | undefined;
}

/** Small deterministic PRNG (mulberry32), so every server gets the same offsets. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fetchRange(url: string, agent: Agent, start: number, end: number, keepBody: boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, headers: { Range: `bytes=${start}-${end}` } }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
      });
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentLength: res.headers['content-length'],
          contentRange: res.headers['content-range'],
          bytes,
          body: keepBody ? Buffer.concat(chunks) : undefined,
        }),
      );
    });
    req.once('error', reject);
  });
}

/** What is wrong with a reply to `bytes=start-end`, or undefined when it is a correct 206. */
function checkReply(reply: Reply, start: number, end: number, size: number, fd: number): string | undefined {
  const length = end - start + 1;
  if (reply.status !== 206) return `HTTP ${reply.status} instead of 206`;
  if (reply.contentLength !== String(length)) return `Content-Length ${reply.contentLength} instead of ${length}`;
  if (reply.contentRange !== `bytes ${start}-${end}/${size}`) return `Content-Range "${reply.contentRange}" instead of bytes ${start}-${end}/${size}`;
  if (reply.bytes !== length) return `received ${reply.bytes} of ${length} bytes`;
  if (reply.body) {
    const expected = Buffer.allocUnsafe(length);
    readSync(fd, expected, 0, length, start);
    if (!expected.equals(reply.body)) return `body of bytes ${start}-${end} differs from the file`;
  }
  return undefined;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

export async function rangeScenario(o: RangeOptions): Promise<RangeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const fd = openSync(o.filePath, 'r');
  const latencies = new Float64Array(o.maxRequests);
  const errors: string[] = [];
  let requests = 0;
  let errorCount = 0;
  let bodiesVerified = 0;
  let bytes = 0;
  const started = performance.now();
  const deadline = started + o.durationMs;

  const noteError = (message: string): void => {
    errorCount += 1;
    if (errors.length < 10) errors.push(message);
  };

  async function connectionLoop(id: number): Promise<void> {
    const random = prng(o.seed + id);
    while (performance.now() < deadline && requests < o.maxRequests && errorCount < MAX_ERRORS) {
      const index = requests++;
      const start = Math.floor(random() * (o.size - o.rangeBytes + 1));
      const end = start + o.rangeBytes - 1;
      const keepBody = index % o.verifyEvery === 0;
      const t0 = performance.now();
      try {
        const reply = await fetchRange(o.url, agent, start, end, keepBody);
        latencies[index] = performance.now() - t0;
        const problem = checkReply(reply, start, end, o.size, fd);
        if (problem) noteError(problem);
        else {
          bytes += reply.bytes;
          if (keepBody) bodiesVerified += 1;
        }
      } catch (err) {
        latencies[index] = performance.now() - t0;
        noteError((err as Error).message);
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: o.connections }, (_, id) => connectionLoop(id)));
  } finally {
    agent.destroy();
    closeSync(fd);
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.slice(0, requests).sort();
  return {
    connections: o.connections,
    rangeBytes: o.rangeBytes,
    requests,
    bytes,
    seconds,
    requestsPerSecond: requests / seconds,
    mibPerSecond: bytes / 1048576 / seconds,
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: percentile(sorted, 1) },
    bodiesVerified,
    errors,
    errorCount,
  };
}
