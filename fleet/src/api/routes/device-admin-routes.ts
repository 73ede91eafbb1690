// Devices and commands for operators: list, show, send commands (one device or many), retire, follow results.
import { deviceId as deviceIdSchema, type CommandKind } from '../../../../lib/fleet/protocol.js';
import { COMMAND_SCOPE, commandTtlMs, parseArgs, parseKind, type CommandState } from '../../commands/index.js';
import { DeviceRegistry, type DeviceStatus } from '../../devices/index.js';
import { ErrorCode, FleetError } from '../../errors.js';
import { actorOf, asObject, json, queryInt, requireScope, type Route } from '../route.js';
import { deviceDetail, deviceSummary } from '../views.js';

const DEVICE = '(dev_[a-z0-9]{20,40})';
const STATUSES: readonly DeviceStatus[] = ['active', 'retiring', 'retired', 'wiped'];
const STATES: readonly CommandState[] = ['queued', 'delivered', 'ok', 'failed', 'rejected', 'expired'];

function oneOf<T extends string>(name: string, value: string | null, allowed: readonly T[]): T | undefined {
  if (value === null || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new FleetError(ErrorCode.BAD_REQUEST, `${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value.slice(0, 30))}.`);
  return value as T;
}

export function deviceAdminRoutes(): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/devices$/,
      scope: 'read',
      async handle(ctx, fleet) {
        const status = oneOf('status', ctx.query.get('status'), STATUSES);
        const dealer = ctx.query.get('dealerCode') ?? undefined;
        const online = ctx.query.get('online');
        let rows = await fleet.registry.list({ dealerCode: dealer, status, limit: queryInt(ctx, 'limit', undefined, 1, 100_000) });
        if (online === 'true' || online === 'false') rows = rows.filter((d) => fleet.hub.isOnline(d.id) === (online === 'true'));
        return json(200, { devices: rows.map((d) => deviceSummary(fleet, d)) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/devices/${DEVICE}$`),
      scope: 'read',
      async handle(ctx, fleet) {
        return json(200, await deviceDetail(fleet, await fleet.registry.require(ctx.params[0] as string)));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/devices/${DEVICE}/commands$`),
      scope: 'read',
      async handle(ctx, fleet) {
        const id = ctx.params[0] as string;
        await fleet.registry.require(id);
        return json(200, { commands: await fleet.commands.list({ deviceId: id, state: oneOf('state', ctx.query.get('state'), STATES), limit: queryInt(ctx, 'limit', 100, 1, 10_000) }) });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/devices/${DEVICE}/commands$`),
      scope: 'operate',
      action: 'command.create',
      async handle(ctx, fleet) {
        const id = ctx.params[0] as string;
        ctx.audit.target = id;
        const body = asObject(await ctx.body());
        const kind = parseKind(body.kind);
        ctx.audit.action = `command.${kind}`;
        requireScope(ctx, COMMAND_SCOPE[kind]);
        const args = parseArgs(kind, body.args);
        ctx.audit.detail = { kind, args };
        const ttlMs = commandTtlMs(body.ttlSeconds, fleet.config.commands.ttlHours);
        const device = await fleet.registry.require(id);
        DeviceRegistry.requireReachable(device);
        const [command] = await fleet.commands.create({ kind, args, target: { deviceIds: [id] }, ttlMs, createdBy: actorOf(ctx) });
        if (!command) throw new FleetError(ErrorCode.CONFLICT, `device ${id} changed state meanwhile and takes no command now; look at it with GET /v1/devices/${id}.`);
        ctx.audit.detail = { ...ctx.audit.detail, commandId: command.id, seq: command.seq };
        return json(201, { command, online: fleet.hub.isOnline(id) });
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/commands$/,
      scope: 'operate',
      action: 'command.bulk',
      async handle(ctx, fleet) {
        const body = asObject(await ctx.body());
        const kind = parseKind(body.kind);
        ctx.audit.action = `command.${kind}.bulk`;
        requireScope(ctx, COMMAND_SCOPE[kind]);
        const args = parseArgs(kind, body.args);
        const ttlMs = commandTtlMs(body.ttlSeconds, fleet.config.commands.ttlHours);
        const target = asObject(body.target ?? null);
        let created;
        if (target.all === true) {
          ctx.audit.target = 'all';
          created = await fleet.commands.create({ kind, args, target: { allActive: true }, ttlMs, createdBy: actorOf(ctx) });
        } else if (Array.isArray(target.deviceIds) && target.deviceIds.length > 0 && target.deviceIds.length <= 100_000) {
          const ids = target.deviceIds.map((d) => {
            const parsed = deviceIdSchema.safeParse(d);
            if (!parsed.success) throw new FleetError(ErrorCode.BAD_REQUEST, `target.deviceIds holds ${JSON.stringify(d)}, which is not a device id.`);
            return parsed.data;
          });
          ctx.audit.target = `${ids.length} devices`;
          created = await fleet.commands.create({ kind, args, target: { deviceIds: ids }, ttlMs, createdBy: actorOf(ctx) });
        } else if (typeof target.dealerCode === 'string') {
          ctx.audit.target = `dealer:${target.dealerCode}`;
          const ids = (await fleet.registry.list({ dealerCode: target.dealerCode, status: 'active' })).map((d) => d.id);
          created = ids.length > 0 ? await fleet.commands.create({ kind, args, target: { deviceIds: ids }, ttlMs, createdBy: actorOf(ctx) }) : [];
        } else {
          throw new FleetError(ErrorCode.BAD_REQUEST, 'target must be {"all": true}, {"deviceIds": ["dev_..."]} or {"dealerCode": "12345678"}.');
        }
        ctx.audit.detail = { kind, args, count: created.length };
        return json(201, { count: created.length, commands: created.map((c) => ({ id: c.id, deviceId: c.deviceId, seq: c.seq, state: c.state, expiresAt: c.expiresAt })) });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/devices/${DEVICE}/retire$`),
      scope: 'provision',
      action: 'device.retire',
      async handle(ctx, fleet) {
        const id = ctx.params[0] as string;
        ctx.audit.target = id;
        const body = asObject(await ctx.body());
        const force = body.force === true;
        ctx.audit.detail = { force };
        const outcome = await fleet.retire(id, { force, createdBy: actorOf(ctx) });
        return json(outcome.status === 'retired' ? 200 : 202, outcome);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/commands$/,
      scope: 'read',
      async handle(ctx, fleet) {
        const deviceId = ctx.query.get('deviceId') ?? undefined;
        const kind = ctx.query.get('kind') ?? undefined;
        return json(200, {
          commands: await fleet.commands.list({
            deviceId,
            kind: kind as CommandKind | undefined,
            state: oneOf('state', ctx.query.get('state'), STATES),
            limit: queryInt(ctx, 'limit', 100, 1, 10_000),
          }),
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/commands\/(cmd_[a-z0-9]{20,40})$/,
      scope: 'read',
      async handle(ctx, fleet) {
        return json(200, await fleet.commands.get(ctx.params[0] as string));
      },
    },
  ];
}
