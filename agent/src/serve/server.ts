// The LAN HTTP server (serve role): package list and bytes by hash, status (JSON and the staff's page), health and metrics, on plain node:http.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Logger } from '../../../lib/log/index.js';
import { matchesFilter, packageToJson, parsePackageQuery, type Package, type PackageRepository, type VinTable } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { LockState } from '../lock/index.js';
import type { BlobStore } from '../store/index.js';
import { BufferPool, FileHandleCache, streamRange } from './blob-stream.js';
import { evaluatePreconditions, ifRangeAllows, type Validators } from './conditional.js';
import type { ServeMetrics } from './metrics.js';
import { loadStatusPage, type StatusPage } from './page/index.js';
import { parseRange } from './range.js';
import { errorResponse, rawErrorResponse, sendJson } from './respond.js';
import type { UnitInfo } from '../unit/index.js';

export const MAX_URL_LENGTH = 2048;
const BLOB_ROUTE = /^\/v1\/packages\/([0-9a-fA-F]{64})(?:\/([^/]{1,255}))?$/;
/** TUF metadata under consistent-snapshot names, served verbatim from the verified mirror. */
const TUF_METADATA_ROUTE = /^\/tuf\/metadata\/((?:\d{1,10}\.)?(?:root|timestamp|snapshot|targets)\.json)$/;
/** TUF targets by their consistent-snapshot name `<dirs>/<sha256>.<name>`: served from the store by hash. */
const TUF_TARGET_ROUTE = /^\/tuf\/targets\/(?:[^/]{1,255}\/){0,8}([0-9a-f]{64})\.[^/]{1,255}$/;

export interface ServeDeps {
  config: Config['serve'];
  packages: PackageRepository;
  store: BlobStore;
  vinTable: VinTable;
  lock: () => LockState;
  metrics: ServeMetrics;
  log: Logger;
  version: string;
  /** Folder of the verified TUF metadata mirror (served under /tuf/metadata/), when sync is set up. */
  tufMirrorDir?: string;
  /** The latest sync run, summarised for /v1/status (null before the first run). */
  sync?: () => Promise<Record<string, unknown> | null>;
  /** The latest self-check, summarised for /v1/status (null before the first run). */
  selfcheck?: () => Promise<Record<string, unknown> | null>;
  /** The production line's unit record (serial, dealer code, site) for /v1/status; null when the box has none. */
  unit?: UnitInfo | null;
  /** Fleet enrollment (enrolled, device id, dealer code, link) for /v1/status. */
  enrollment?: () => Promise<object>;
  clock?: () => number;
}

type Route = 'page' | 'packages' | 'package' | 'tuf-metadata' | 'tuf-target' | 'status' | 'healthz' | 'metrics' | 'other';

/** RFC 6266 Content-Disposition with an ASCII fallback and the exact UTF-8 name. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function createServeServer(deps: ServeDeps): Server {
  const clock = deps.clock ?? Date.now;
  const startedAt = clock();
  const buffers = new BufferPool(deps.config.readChunkBytes);
  const handles = new FileHandleCache();
  // Package rows change only on import/sync: a short cache spares a DB query per small Range request.
  const lookups = new Map<string, { pkg: Package | undefined; at: number }>();
  const getReady = async (sha256: string): Promise<Package | undefined> => {
    const hit = lookups.get(sha256);
    if (hit && clock() - hit.at < 1000) return hit.pkg;
    const pkg = await deps.packages.getReady(sha256);
    if (lookups.size > 10_000) lookups.clear();
    lookups.set(sha256, { pkg, at: clock() });
    return pkg;
  };
  // The status page is read once (at start; again on the next request if that read failed).
  let page: Promise<StatusPage> | undefined;
  const statusPage = (): Promise<StatusPage> =>
    (page ??= loadStatusPage().catch((err: unknown) => {
      page = undefined;
      throw err;
    }));
  statusPage().catch((err: unknown) => deps.log.warn('serve: the status page cannot be read; / will answer 500', { error: err }));
  const server = createServer({
    headersTimeout: deps.config.headersTimeoutMs,
    requestTimeout: deps.config.requestTimeoutMs,
    keepAliveTimeout: deps.config.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default, too lax against slowloris).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, deps.config.headersTimeoutMs / 2)),
    // Request lines and headers beyond 16 KiB are refused by the parser (431) before we see them.
    maxHeaderSize: 16 * 1024,
  });
  server.maxConnections = deps.config.maxConnections;
  server.setTimeout(deps.config.idleSocketTimeoutMs);

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request line or headers are larger than 16 KiB; shorten them.']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'the request was not received in time; send it again without pausing.']
          : [400, 'Bad Request', `malformed HTTP request (${err.code ?? 'parse error'}); send a valid HTTP/1.1 request.`];
    deps.metrics.requests.inc({ route: 'other', status: String(status) });
    socket.end(rawErrorResponse(status, reason, { code: ErrorCode.BAD_REQUEST, message }));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let route: Route = 'other';
    const done = (): void => {
      deps.metrics.requests.inc({ route, status: String(res.statusCode) });
    };
    res.once('finish', done);
    res.once('close', () => {
      if (!res.writableFinished) done();
    });
    handle(req, res, (r) => (route = r)).catch((err: unknown) => fail(res, err, req));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, setRoute: (r: Route) => void): Promise<void> {
    const rawUrl = req.url ?? '/';
    if (rawUrl.length > MAX_URL_LENGTH) throw new AgentError(ErrorCode.URI_TOO_LONG, `the URL is longer than ${MAX_URL_LENGTH} characters; shorten the query.`);
    if (!rawUrl.startsWith('/')) throw new AgentError(ErrorCode.BAD_REQUEST, 'the request target must be an absolute path such as /v1/packages.');
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    const headOnly = method === 'HEAD';

    const blobMatch = BLOB_ROUTE.exec(path) ?? TUF_TARGET_ROUTE.exec(path);
    const metaMatch = TUF_METADATA_ROUTE.exec(path);
    const route: Route = blobMatch
      ? path.startsWith('/tuf/')
        ? 'tuf-target'
        : 'package'
      : metaMatch
        ? 'tuf-metadata'
        : path === '/' || path === '/index.html'
        ? 'page'
        : path === '/v1/packages' || path === '/v1/packages/'
        ? 'packages'
        : path === '/v1/status'
          ? 'status'
          : path === '/healthz'
            ? 'healthz'
            : path === '/metrics'
              ? 'metrics'
              : 'other';
    setRoute(route);
    if (route === 'other') {
      throw new AgentError(ErrorCode.NOT_FOUND, `no such resource: ${path.slice(0, 200)}. The status page is at /; the API is under /v1/packages, /v1/status, /tuf/, /healthz and /metrics.`);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new AgentError(ErrorCode.METHOD, `${method} is not allowed here; this server is read-only: use GET or HEAD.`);
    }

    switch (route) {
      case 'page': {
        const p = await statusPage();
        // Served whatever the lock: the page itself tells the staff the box is locked and why.
        if (evaluatePreconditions(req.headers, { etag: p.etag, lastModified: startedAt }) === 'not-modified') {
          res.writeHead(304, { ETag: p.etag, 'Cache-Control': 'no-cache' });
          res.end();
          return;
        }
        res.writeHead(200, p.headers);
        res.end(headOnly ? undefined : p.body);
        return;
      }
      case 'healthz':
        return sendJson(res, 200, { status: 'ok' }, {}, headOnly);
      case 'metrics': {
        const text = await deps.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType, 'Cache-Control': 'no-store' });
        res.end(headOnly ? undefined : text);
        return;
      }
      case 'status':
        return sendJson(res, 200, await status(), {}, headOnly);
      case 'packages': {
        guardLock();
        const filter = parsePackageQuery(new URLSearchParams(query), deps.vinTable);
        const list = (await deps.packages.listReady()).filter((p) => matchesFilter(p, filter));
        return sendJson(res, 200, { packages: list.map(packageToJson) }, {}, headOnly);
      }
      case 'tuf-metadata': {
        guardLock();
        return sendMetadata(res, metaMatch?.[1] as string, headOnly);
      }
      case 'tuf-target':
      case 'package': {
        guardLock();
        const sha256 = (blobMatch?.[1] as string).toLowerCase();
        const pkg = await getReady(sha256);
        if (!pkg) throw new AgentError(ErrorCode.NOT_FOUND, `no ready package has sha256 ${sha256}; list them with GET /v1/packages.`);
        return sendBlob(req, res, pkg, headOnly);
      }
    }
  }

  function guardLock(): void {
    const lock = deps.lock();
    if (lock.locked) {
      throw new AgentError(
        ErrorCode.LOCKED,
        `this update server is locked by fleet operations since ${new Date(lock.since).toISOString()}: ${lock.reason || 'no reason given'}. Packages cannot be downloaded; contact your helpdesk.`,
      );
    }
  }

  async function status(): Promise<Record<string, unknown>> {
    const lock = deps.lock();
    const list = await deps.packages.listReady();
    const { free, total } = await deps.store.freeBytes();
    return {
      version: deps.version,
      uptimeSeconds: Math.round((clock() - startedAt) / 1000),
      locked: lock.locked,
      ...(lock.locked ? { lockReason: lock.reason, lockedSince: new Date(lock.since).toISOString() } : {}),
      storage: { usedBytes: list.reduce((n, p) => n + p.size, 0), freeBytes: free, totalBytes: total },
      packages: { ready: list.length },
      sync: deps.sync ? await deps.sync() : null,
      selfcheck: deps.selfcheck ? await deps.selfcheck() : null,
      enrollment: deps.enrollment ? await deps.enrollment() : null,
      unit: deps.unit ? { serial: deps.unit.serial, dealerCode: deps.unit.dealerCode, site: deps.unit.site ?? null, unitId: deps.unit.unitId ?? null } : null,
    };
  }

  async function sendMetadata(res: ServerResponse, name: string, headOnly: boolean): Promise<void> {
    if (!deps.tufMirrorDir) throw new AgentError(ErrorCode.NOT_FOUND, 'this box has no signed catalog yet (sync is not set up); nothing under /tuf/.');
    let bytes: Buffer;
    try {
      bytes = await readFile(join(deps.tufMirrorDir, name));
    } catch {
      throw new AgentError(ErrorCode.NOT_FOUND, `no TUF metadata ${name} on this box; the sync has not verified it (yet).`);
    }
    // Versioned files never change; root.json and timestamp.json do, so clients must revalidate them.
    const immutable = /^\d/.test(name);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': bytes.length,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(headOnly ? undefined : bytes);
  }

  async function sendBlob(req: IncomingMessage, res: ServerResponse, pkg: Package, headOnly: boolean): Promise<void> {
    const v: Validators = { etag: `"${pkg.id}"`, lastModified: pkg.addedAt };
    const common = {
      ETag: v.etag,
      'Last-Modified': new Date(v.lastModified).toUTCString(),
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Accept-Ranges': 'bytes',
    };
    const pre = evaluatePreconditions(req.headers, v);
    if (pre === 'not-modified') {
      res.writeHead(304, common);
      res.end();
      return;
    }
    if (pre === 'precondition-failed') {
      return sendJson(res, 412, { code: ErrorCode.BAD_REQUEST, message: 'the If-Match / If-Unmodified-Since precondition does not hold for this package.' }, common, headOnly);
    }
    const ifRange = req.headers['if-range'];
    const rangeHeader = ifRangeAllows(typeof ifRange === 'string' ? ifRange : undefined, v) ? req.headers.range : undefined;
    const range = parseRange(rangeHeader, pkg.size);
    if (range.kind === 'unsatisfiable') {
      deps.metrics.errors.inc({ code: ErrorCode.RANGE });
      return sendJson(
        res,
        416,
        { code: ErrorCode.RANGE, message: `the requested range "${String(rangeHeader).slice(0, 100)}" is not satisfiable for this package of ${pkg.size} bytes.` },
        { ...common, 'Content-Range': `bytes */${pkg.size}` },
        headOnly,
      );
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : pkg.size - 1;
    const length = pkg.size === 0 ? 0 : end - start + 1;
    const headers: Record<string, string | number> = {
      ...common,
      'Content-Type': 'application/octet-stream',
      'Content-Length': length,
      'Content-Disposition': contentDisposition(pkg.name),
    };
    if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${pkg.size}`;
    const status = range.kind === 'partial' ? 206 : 200;

    if (headOnly || length === 0) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    // Open before sending headers, so a vanished blob is a clean error rather than a cut response.
    const { file, release } = await handles.acquire(deps.store.blobPath(pkg.id)).catch((err: unknown) => {
      throw new AgentError(ErrorCode.STORE_IO, `package ${pkg.id} is recorded but its file cannot be opened; the store will re-check it at next start.`, { cause: err });
    });
    // Held while the bytes go out: a sync (here or in another process) never evicts a blob mid-download. A lease
    // that cannot be written (a full or failing data disk) does not stop the download: serving comes first.
    const unlease = await deps.store.leases.hold(pkg.id).catch((err: unknown) => {
      deps.log.warn('serve: cannot record the serving lease; the package is served without it', { sha256: pkg.id, error: err });
      return async (): Promise<void> => {};
    });
    res.writeHead(status, headers);
    deps.metrics.activeDownloads.inc();
    let sent = 0;
    try {
      sent = await streamRange(file, res, start, end, buffers);
      res.end();
    } catch (err) {
      deps.log.warn('serve: download failed', { sha256: pkg.id, error: err });
      res.destroy();
    } finally {
      release();
      await unlease().catch((err: unknown) => deps.log.warn('serve: cannot remove a serving lease', { sha256: pkg.id, error: err }));
      deps.metrics.activeDownloads.dec();
      deps.metrics.bytesServed.inc(sent);
    }
  }

  function fail(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    const { status, body } = errorResponse(err);
    deps.metrics.errors.inc({ code: body.code });
    if (status >= 500) deps.log.error('serve: request failed', { method: req.method, url: req.url?.slice(0, 300), error: err });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, body, {}, req.method === 'HEAD');
  }

  server.on('close', () => void handles.close());
  return server;
}
