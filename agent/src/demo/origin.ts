// The demo's stand-in for the carmaker's cloud origin: publishes the samples as a signed catalog and serves it on loopback.
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { addTargets, initRepo, publish, type TargetCustom } from '../catalog/publish/index.js';
import type { ImportItem } from '../import/index.js';

export interface DemoOrigin {
  url: string;
  trustedRoot: string;
  close(): Promise<void>;
}

/** Creates the demo repository once, then re-publishes at each start so its timestamp never expires. */
export async function publishDemoCatalog(dir: string, samples: readonly ImportItem[], now = new Date()): Promise<string> {
  if (!existsSync(join(dir, 'config.json'))) {
    await initRepo(dir, {}, now);
    for (const [i, s] of samples.entries()) {
      const custom: TargetCustom = {
        kind: s.meta.kind,
        headUnit: s.meta.headUnit,
        models: s.meta.models,
        version: s.meta.version,
        ...(s.meta.releaseNotes ? { releaseNotes: s.meta.releaseNotes } : {}),
        ...(/recall/i.test(s.meta.releaseNotes ?? '') ? { campaign: 'recall' as const, priority: 10 } : { priority: samples.length - i }),
      };
      await addTargets(dir, [s.path], { custom, path: `${s.meta.headUnit}/${s.meta.name}` });
    }
  }
  await publish(dir, now);
  return join(dir, 'repository', 'metadata', '1.root.json');
}

/** A static file server for the repository on 127.0.0.1 (Range-capable, as any cloud bucket is). */
export async function startDemoOrigin(repository: string): Promise<Server> {
  const root = resolve(repository);
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) {
      res.writeHead(404).end();
      return;
    }
    stat(file).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end();
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const end = m && m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
        if (start > end) return void res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
        res.writeHead(m ? 206 : 200, {
          'Content-Length': end - start + 1,
          'Accept-Ranges': 'bytes',
          'Last-Modified': st.mtime.toUTCString(),
          ...(m ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}),
        });
        createReadStream(file, { start, end }).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

export async function startDemo(dir: string, samples: readonly ImportItem[]): Promise<DemoOrigin> {
  const trustedRoot = await publishDemoCatalog(dir, samples);
  const server = await startDemoOrigin(join(dir, 'repository'));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    trustedRoot,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
