// Test fixture for the publisher: a static HTTP server over a repository tree and a tuf-js client pinned to a root.
import { createServer, type Server } from 'node:http';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { Updater } from 'tuf-js';
import { tempDir } from '../../../helpers/agent-process.js';

type Teardown = { teardown(fn: () => unknown): void };

/** Serves `root` read-only on 127.0.0.1 at a free port; returns the base URL. */
export async function serveStatic(t: Teardown, root: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(path).then(
      (body) => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface TufClient {
  readonly updater: Updater;
  readonly targetDir: string;
  /**
   * A new Updater over the same local metadata cache: tuf-js keeps the trusted set in memory and refuses
   * a second refresh() on one instance ("Cannot update timestamp after snapshot").
   */
  reopen(): Updater;
}

/** A client whose trust starts from `trustedRoot` (a copy of some N.root.json), with its own cache dirs. */
export async function clientPinnedTo(t: Teardown, base: string, trustedRoot: string): Promise<TufClient> {
  const dir = await tempDir(t, 'plugsrv-tuf-client-');
  const metadataDir = join(dir, 'metadata');
  const targetDir = join(dir, 'targets');
  await mkdir(metadataDir);
  await mkdir(targetDir);
  await copyFile(trustedRoot, join(metadataDir, 'root.json'));
  const reopen = (): Updater =>
    new Updater({ metadataBaseUrl: `${base}/metadata`, targetBaseUrl: `${base}/targets`, metadataDir, targetDir, config: { fetchRetry: 0 } });
  return { updater: reopen(), targetDir, reopen };
}
