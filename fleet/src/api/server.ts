// The fleet's HTTPS server: operator API (bearer keys), enrollment, renewal (mTLS), and the device socket upgrade.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { IntervalHistogram } from 'node:perf_hooks';
import { FleetPaths } from '../../../lib/fleet/protocol.js';
import type { Fleet } from '../app.js';
import { authenticate, keyIdOf } from '../auth/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { readJson } from './body.js';
import { errorResponse, rawErrorResponse, sendJson, sendText } from './respond.js';
import type { RequestContext, Route } from './route.js';
import { deviceAdminRoutes } from './routes/device-admin-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { reportRoutes } from './routes/report-routes.js';
import { tokenRoutes } from './routes/token-routes.js';

export const MAX_URL_LENGTH = 4096;

export interface ServerDeps {
  fleet: Fleet;
  /** The port actually bound (known after listen). */
  port: () => number;
  eventLoop: IntervalHistogram;
}

export function allRoutes(deps: ServerDeps): Route[] {
  return [...deviceRoutes(deps.port), ...tokenRoutes(), ...deviceAdminRoutes(), ...policyRoutes(), ...reportRoutes(deps.eventLoop)];
}

function outcomeOf(err: unknown): 'denied' | 'failed' {
  const code = (err as { code?: unknown })?.code;
  return code === ErrorCode.UNAUTHORIZED || code === ErrorCode.FORBIDDEN ? 'denied' : 'failed';
}

export function createFleetServer(deps: ServerDeps): Server {
  const { fleet } = deps;
  const cfg = fleet.config.serve;
  const routes = allRoutes(deps);
  const server = createServer({
    key: fleet.ca.serverKeyPem,
    cert: fleet.ca.serverCertPem,
    // Client certificates are asked for but not required: operators and enrolling devices have none. The
    // device socket and renewal check `authorized` themselves; both CAs are here so the chain can complete.
    ca: [fleet.ca.rootPem, fleet.ca.deviceCaPem],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    headersTimeout: cfg.headersTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    keepAliveTimeout: cfg.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, cfg.headersTimeoutMs / 2)),
    maxHeaderSize: 16 * 1024,
  });
  server.maxConnections = cfg.maxConnections;

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
    socket.end(rawErrorResponse(status, reason, { code: ErrorCode.BAD_REQUEST, message }));
  });
  // A TLS handshake that fails (wrong protocol, a scanner) is not worth a log line per attempt.
  server.on('tlsClientError', (_err, socket) => socket.destroy());

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== FleetPaths.deviceSocket) {
      socket.end(rawErrorResponse(404, 'Not Found', { code: ErrorCode.NOT_FOUND, message: `no WebSocket at ${String(path).slice(0, 100)}; devices connect to ${FleetPaths.deviceSocket}.` }));
      return;
    }
    fleet.hub.handleUpgrade(req, socket, head);
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const { status, body } = errorResponse(err);
      if (status >= 500) fleet.log.error('api: request failed', { method: req.method, path: (req.url ?? '').split('?')[0], error: err });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds;
      sendJson(res, status, body, retry ? { 'Retry-After': retry } : {});
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    if (rawUrl.length > MAX_URL_LENGTH) throw new FleetError(ErrorCode.BAD_REQUEST, `the URL is longer than ${MAX_URL_LENGTH} characters; shorten the query.`);
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let params: string[] = [];
    const allowed: string[] = [];
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      allowed.push(r.method);
      if (r.method === method) {
        route = r;
        params = m.slice(1);
        break;
      }
    }
    if (!route) {
      if (allowed.length > 0) {
        res.setHeader('Allow', [...new Set(allowed)].join(', '));
        throw new FleetError(ErrorCode.METHOD, `${method} is not allowed on ${path}; use ${[...new Set(allowed)].join(' or ')}.`);
      }
      throw new FleetError(ErrorCode.NOT_FOUND, `no such resource: ${path.slice(0, 200)}. The API is under /v1/ (devices, commands, tokens, policies, audit, stats, reports).`);
    }
    let bodyRead: Promise<unknown> | undefined;
    const ctx: RequestContext = {
      req,
      path,
      query,
      params,
      remote: req.socket.remoteAddress ?? '',
      principal: undefined,
      audit: {},
      body: () => (bodyRead ??= readJson(req, cfg.maxBodyBytes)),
    };
    try {
      if (route.scope) ctx.principal = await authenticate(fleet.state.db, req.headers.authorization, route.scope);
      const reply = await route.handle(ctx, fleet);
      if (route.action) await audit(route, ctx, 'ok');
      if ('json' in reply) sendJson(res, reply.status, reply.json);
      else sendText(res, reply.status, reply.text, reply.contentType, reply.headers ?? {});
    } catch (err) {
      // A refused enrollment is worth a line (a wrong or reused token); a rate-limited one is not (it would let a flood write).
      if (route.action && (err as { code?: unknown })?.code !== ErrorCode.RATE_LIMITED) await audit(route, ctx, outcomeOf(err), err);
      throw err;
    }
  }

  async function audit(route: Route, ctx: RequestContext, outcome: 'ok' | 'denied' | 'failed', err?: unknown): Promise<void> {
    try {
      await fleet.audit.record({
        actor: ctx.audit.actor ?? ctx.principal?.keyId ?? keyIdOf(ctx.req.headers.authorization) ?? 'anonymous',
        action: ctx.audit.action ?? (route.action as string),
        target: ctx.audit.target ?? '',
        outcome,
        code: err ? String((err as { code?: unknown }).code ?? ErrorCode.INTERNAL) : undefined,
        detail: ctx.audit.detail,
        remote: ctx.remote,
      });
    } catch (e) {
      fleet.log.error('audit: writing an entry failed', { error: e, action: route.action });
    }
  }

  return server;
}
