// Audit log, live statistics, and the monthly licence report.
import type { IntervalHistogram } from 'node:perf_hooks';
import { activeUnits, activeUnitsCsv, parseMonthRange } from '../../reports/index.js';
import { ErrorCode, FleetError } from '../../errors.js';
import { json, queryInt, type Route } from '../route.js';

/** `loop` measures the event loop's delay since the start (or the last `?reset=true`). */
export function reportRoutes(loop: IntervalHistogram): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/audit$/,
      scope: 'admin',
      async handle(ctx, fleet) {
        const since = ctx.query.get('since');
        const sinceMs = since ? Date.parse(since) : undefined;
        if (since && !Number.isFinite(sinceMs)) throw new FleetError(ErrorCode.BAD_REQUEST, `since must be a date such as 2025-01-31 or 2025-01-31T08:00:00Z, not ${JSON.stringify(since.slice(0, 40))}.`);
        const entries = await fleet.audit.list({
          limit: queryInt(ctx, 'limit', 100, 1, 1000),
          before: queryInt(ctx, 'before', undefined, 1, Number.MAX_SAFE_INTEGER),
          since: sinceMs,
          actor: ctx.query.get('actor') ?? undefined,
          action: ctx.query.get('action') ?? undefined,
        });
        return json(200, { entries });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/stats$/,
      scope: 'read',
      async handle(ctx, fleet) {
        const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
        const eventLoop = loop.count > 0 ? { p50Ms: ms(loop.percentile(50)), p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max), samples: loop.count } : null;
        if (ctx.query.get('reset') === 'true') loop.reset();
        const mem = process.memoryUsage();
        const [devices, commandStates] = await Promise.all([fleet.registry.countByStatus(), fleet.commands.countByState()]);
        return json(200, {
          version: fleet.version,
          uptimeSeconds: Math.round((fleet.clock() - fleet.startedAt) / 1000),
          connected: fleet.hub.connectedCount,
          devices,
          commands: { pending: fleet.commands.pendingTotal, byState: commandStates, ...fleet.commands.stats },
          hub: fleet.hub.stats,
          heartbeats: { ...fleet.hub.state.stats, dirty: fleet.hub.state.dirtyCount },
          writes: { ...fleet.writes.stats, queued: fleet.writes.depth },
          eventLoop,
          memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/reports\/active-units$/,
      scope: 'read',
      async handle(ctx, fleet) {
        const { from, to } = parseMonthRange(ctx.query.get('from'), ctx.query.get('to'), fleet.clock());
        const rows = await activeUnits(fleet.state.client, from, to);
        const format = ctx.query.get('format') ?? 'json';
        if (format === 'csv') {
          return { status: 200, text: activeUnitsCsv(rows), contentType: 'text/csv; charset=utf-8', headers: { 'Content-Disposition': `attachment; filename="active-units-${from}-${to}.csv"` } };
        }
        if (format !== 'json') throw new FleetError(ErrorCode.BAD_REQUEST, `format must be json or csv, not ${JSON.stringify(format.slice(0, 20))}.`);
        return json(200, { from, to, rows });
      },
    },
  ];
}
