// Bootstrap tokens for the operator and the production line (provision scope): mint (shown once), list, revoke.
import { dealerCode, serialNumber } from '../../../../lib/fleet/protocol.js';
import { createToken, listTokens, revokeToken, tokenExpiry } from '../../enroll/index.js';
import { ErrorCode, FleetError } from '../../errors.js';
import { actorOf, asObject, json, queryInt, type Route } from '../route.js';

export function tokenRoutes(): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/tokens$/,
      scope: 'provision',
      action: 'token.create',
      async handle(ctx, fleet) {
        const body = asObject(await ctx.body());
        const dealer = dealerCode.safeParse(body.dealerCode);
        if (!dealer.success) throw new FleetError(ErrorCode.BAD_REQUEST, `dealerCode must be the dealer's entity code of 8 digits, not ${JSON.stringify(body.dealerCode)}.`);
        let serial: string | null = null;
        if (body.serial !== undefined && body.serial !== null && body.serial !== '') {
          const s = serialNumber.safeParse(body.serial);
          if (!s.success) throw new FleetError(ErrorCode.BAD_REQUEST, `serial must be 1-64 letters, digits, dot, dash or underscore, not ${JSON.stringify(body.serial)}.`);
          serial = s.data;
        }
        if (body.expiresInHours !== undefined && typeof body.expiresInHours !== 'number') throw new FleetError(ErrorCode.BAD_REQUEST, 'expiresInHours must be a number of hours.');
        const note = typeof body.note === 'string' ? body.note.slice(0, 500) : '';
        const now = fleet.clock();
        const expiresAt = tokenExpiry(now, body.expiresInHours as number | undefined, { defaultHours: fleet.config.enroll.tokenDefaultHours, maxDays: fleet.config.enroll.tokenMaxDays });
        const { token, info } = await createToken(fleet.state.db, fleet.writes, { dealerCode: dealer.data, serial, note, expiresAt, createdBy: actorOf(ctx), now });
        ctx.audit.target = `token:${info.id}`;
        ctx.audit.detail = { dealerCode: info.dealerCode, serial: info.serial, expiresAt };
        // The only time the token's secret leaves the fleet.
        return json(201, { ...info, token });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/tokens$/,
      scope: 'provision',
      async handle(ctx, fleet) {
        const dealer = ctx.query.get('dealerCode') ?? undefined;
        const tokens = await listTokens(fleet.state.db, { dealerCode: dealer, unusedOnly: ctx.query.get('unused') === 'true', limit: queryInt(ctx, 'limit', 1000, 1, 10_000) }, fleet.clock());
        return json(200, { tokens });
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/tokens\/([a-z0-9]{12,32})$/,
      scope: 'provision',
      action: 'token.revoke',
      async handle(ctx, fleet) {
        const id = ctx.params[0] as string;
        ctx.audit.target = `token:${id}`;
        return json(200, await revokeToken(fleet.state.db, id, fleet.clock()));
      },
    },
  ];
}
