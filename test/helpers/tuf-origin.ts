// Test helper: a signed catalog published with our publisher into a temp dir and served by a static HTTP server on loopback, counting bytes (optionally paced like a slow link).
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { addTargets, initRepo, publish, type TargetCustom } from '../../agent/src/catalog/publish/index.js';
import { throttle, TokenBucket } from '../../agent/src/sync/policy/index.js';
import { tempDir } from './agent-process.js';

export interface TufOrigin {
  dir: string;
  repository: string;
  url: string;
  trustedRoot: string;
  /** Body bytes sent for target files. */
  targetBytesSent(): number;
  requests: string[];
  /** The most target requests in flight at once so far. */
  peakTargetRequests(): number;
  /** TCP connections that carried at least one target request. */
  targetConnections(): number;
  add(name: string, size: number, custom: TargetCustom, path?: string): Promise<{ path: string; sha256: string; bytes: Buffer }>;
  publish(now?: Date): Promise<void>;
}

export interface TufOriginOptions {
  /**
   * Paces target bodies to this many bytes per second in total, like the site's link (0 = as fast as
   * loopback goes). With a pace below the agent's own cap, the agent reads every byte as it arrives, so
   * the kernel's socket buffers stay nearly empty and targetBytesSent() is close to what really reached it.
   */
  rateBytesPerSec?: number;
}

export async function startTufOrigin(t: { teardown(fn: () => unknown): void }, opts: TufOriginOptions = {}): Promise<TufOrigin> {
  const dir = await tempDir(t, 'plugsrv-origin-');
  await initRepo(dir, {}, new Date());
  const repository = join(dir, 'repository');
  let sent = 0;
  const requests: string[] = [];
  const link = opts.rateBytesPerSec ? new TokenBucket({ rateBytesPerSec: opts.rateBytesPerSec }) : undefined;
  let inFlight = 0;
  let peak = 0;
  const targetSockets = new WeakSet<object>();
  let targetSocketCount = 0;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    requests.push(path);
    if (path.startsWith('/targets/')) {
      peak = Math.max(peak, ++inFlight);
      res.once('close', () => inFlight--);
      if (!targetSockets.has(req.socket)) {
        targetSockets.add(req.socket);
        targetSocketCount++;
      }
    }
    const file = resolve(repository, `.${path}`);
    if (!file.startsWith(repository + sep)) {
      res.writeHead(400).end();
      return;
    }
    stat(file).then(
      (st) => {
        if (!st.isFile()) throw new Error('not a file');
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const end = m && m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
        res.writeHead(m ? 206 : 200, {
          'Content-Length': end - start + 1,
          ...(m ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}),
          'Accept-Ranges': 'bytes',
        });
        const source = createReadStream(file, { start, end });
        let stream: NodeJS.ReadableStream = source;
        if (link && path.startsWith('/targets/')) {
          // A client gone (killed) hands its place in the link's queue back at once.
          const gone = new AbortController();
          res.once('close', () => {
            gone.abort();
            source.destroy();
          });
          const paced = throttle(link, gone.signal);
          paced.on('error', () => res.destroy());
          stream = source.pipe(paced);
        }
        if (path.startsWith('/targets/')) stream.on('data', (c) => (sent += (c as Buffer).length));
        stream.pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    dir,
    repository,
    url,
    trustedRoot: join(repository, 'metadata', '1.root.json'),
    targetBytesSent: () => sent,
    requests,
    peakTargetRequests: () => peak,
    targetConnections: () => targetSocketCount,
    async add(name, size, custom, path) {
      const bytes = randomBytes(size);
      const file = join(dir, name);
      await writeFile(file, bytes);
      const [added] = await addTargets(dir, [file], { custom, ...(path ? { path } : {}) });
      return { path: added!.path, sha256: added!.sha256, bytes };
    },
    async publish(now = new Date()) {
      await publish(dir, now);
    },
  };
}
