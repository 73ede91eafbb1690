// What a route is: method, path pattern, the scope an API key needs, the audit action name, and its handler.
import type { IncomingMessage } from 'node:http';
import type { Scope } from '../../../lib/fleet/protocol.js';
import type { Principal } from '../auth/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { scopeAllows } from '../auth/index.js';
import type { Fleet } from '../app.js';

export type Reply = { status: number; json: unknown } | { status: number; text: string; contentType: string; headers?: Record<string, string> };

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Captures of the route's pattern. */
  readonly params: string[];
  readonly remote: string;
  /** Set for routes with a scope, once the key is checked. */
  principal: Principal | undefined;
  /** Audit fields the handler fills in (target, details) for routes with an action. */
  readonly audit: { actor?: string; action?: string; target?: string; detail?: Record<string, unknown> };
  body(): Promise<unknown>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly pattern: RegExp;
  /** Operator scope needed; undefined = no API key (enrollment, device routes, health). */
  readonly scope?: Scope;
  /** Audit action (`token.create`); routes without one (reads) are not audited. */
  readonly action?: string;
  handle(ctx: RequestContext, fleet: Fleet): Promise<Reply>;
}

/** For handlers whose scope depends on the body (wipe needs admin). */
export function requireScope(ctx: RequestContext, need: Scope): void {
  const p = ctx.principal;
  if (!p || !scopeAllows(p.scope, need)) {
    throw new FleetError(ErrorCode.FORBIDDEN, `this API key has the ${p?.scope ?? 'no'} scope; this action needs ${need}. Ask an admin for a key with that scope.`);
  }
}

/** A principal's id for the audit and `createdBy` columns. */
export function actorOf(ctx: RequestContext): string {
  return ctx.principal?.keyId ?? 'anonymous';
}

export function json(status: number, body: unknown): Reply {
  return { status, json: body };
}

/** Reads a query integer within bounds, or the default. */
export function queryInt(ctx: RequestContext, name: string, def: number | undefined, min: number, max: number): number | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new FleetError(ErrorCode.BAD_REQUEST, `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw.slice(0, 30))}.`);
  return n;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new FleetError(ErrorCode.BAD_REQUEST, 'the request body must be a JSON object.');
  return body as Record<string, unknown>;
}
