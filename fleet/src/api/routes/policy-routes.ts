// Policies: versions (admin creates), the fleet default or one device's assignment, each change queued as set-policy.
import { deviceId as deviceIdSchema } from '../../../../lib/fleet/protocol.js';
import { DeviceRegistry } from '../../devices/index.js';
import { ErrorCode, FleetError } from '../../errors.js';
import type { Fleet } from '../../app.js';
import type { CommandRecord } from '../../commands/index.js';
import { actorOf, asObject, json, type RequestContext, type Route } from '../route.js';

/** Assigns `version` to the fleet (target "all") or one device, and queues set-policy to the devices it changes. */
async function assign(fleet: Fleet, ctx: RequestContext, version: number, target: unknown): Promise<{ version: number; target: string; queued: number }> {
  const policy = fleet.policies.document(version);
  const ttlMs = fleet.config.commands.ttlHours * 3_600_000;
  let created: CommandRecord[];
  let targetName: string;
  if (target === 'all') {
    targetName = 'all';
    // Agents refuse a policy older than the one they applied (E_POLICY_VERSION): going back is a new version.
    if (version < fleet.policies.defaultPolicyVersion) {
      throw new FleetError(ErrorCode.CONFLICT, `version ${version} is older than the default ${fleet.policies.defaultPolicyVersion}; devices only move forward. Create a new version with the old content (POST /v1/policies).`);
    }
    const ids = await fleet.policies.assignDefault(version);
    created = ids.length > 0 ? await fleet.commands.create({ kind: 'set-policy', args: { policy }, target: { deviceIds: ids }, ttlMs, createdBy: actorOf(ctx) }) : [];
  } else {
    const id = deviceIdSchema.safeParse(target);
    if (!id.success) throw new FleetError(ErrorCode.BAD_REQUEST, 'assign needs "target": "all" or a device id (dev_...).');
    targetName = id.data;
    const device = await fleet.registry.require(id.data);
    DeviceRegistry.requireReachable(device);
    if (device.appliedPolicyVersion !== null && version < device.appliedPolicyVersion) {
      throw new FleetError(ErrorCode.CONFLICT, `${id.data} applied version ${device.appliedPolicyVersion}; it refuses older ones. Create a new version with the content you want (POST /v1/policies).`);
    }
    await fleet.policies.assignDevice(id.data, version);
    created = await fleet.commands.create({ kind: 'set-policy', args: { policy }, target: { deviceIds: [id.data] }, ttlMs, createdBy: actorOf(ctx) });
  }
  ctx.audit.target = targetName;
  ctx.audit.detail = { version, queued: created.length };
  return { version, target: targetName, queued: created.length };
}

export function policyRoutes(): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/policies$/,
      scope: 'read',
      async handle(_ctx, fleet) {
        return json(200, { defaultVersion: fleet.policies.defaultPolicyVersion, policies: await fleet.policies.list() });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/policies\/(\d{1,9})$/,
      scope: 'read',
      async handle(ctx, fleet) {
        const version = Number(ctx.params[0]);
        return json(200, { version, isDefault: version === fleet.policies.defaultPolicyVersion, document: fleet.policies.document(version) });
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/policies$/,
      scope: 'admin',
      action: 'policy.create',
      async handle(ctx, fleet) {
        const body = asObject(await ctx.body());
        const doc = await fleet.policies.create(body.policy ?? {}, typeof body.note === 'string' ? body.note.slice(0, 500) : '', actorOf(ctx));
        ctx.audit.target = `policy:${doc.version}`;
        const assigned = body.assign !== undefined ? await assign(fleet, ctx, doc.version, body.assign) : null;
        ctx.audit.target = `policy:${doc.version}`;
        return json(201, { version: doc.version, document: doc, assigned });
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/policies\/(\d{1,9})\/assign$/,
      scope: 'admin',
      action: 'policy.assign',
      async handle(ctx, fleet) {
        const body = asObject(await ctx.body());
        return json(200, await assign(fleet, ctx, Number(ctx.params[0]), body.target));
      },
    },
  ];
}
