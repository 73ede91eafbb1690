// Routes devices use: enrollment (token), certificate renewal (mTLS), and health.
import type { TLSSocket } from 'node:tls';
import { enrollRequest, FleetPaths, renewRequest, SocketClose } from '../../../../lib/fleet/protocol.js';
import { normalizeSerial } from '../../ca/index.js';
import { enroll, parseBootstrapToken, renew } from '../../enroll/index.js';
import { ErrorCode, FleetError } from '../../errors.js';
import { checkPeer, decideAdmission } from '../../hub/index.js';
import type { Fleet } from '../../app.js';
import { json, type RequestContext, type Route } from '../route.js';

const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

/** Base URL a device should use: serve.publicUrl, else the Host it reached us through. */
export function publicBase(fleet: Fleet, ctx: RequestContext, port: number): string {
  if (fleet.config.serve.publicUrl) return fleet.config.serve.publicUrl;
  const host = ctx.req.headers.host;
  if (host && HOST.test(host)) return `https://${host}`;
  return `https://127.0.0.1:${port}`;
}

function protocolError(err: { issues: Array<{ path: PropertyKey[]; message: string }> }): FleetError {
  return new FleetError(ErrorCode.PROTOCOL, `the body does not follow the fleet protocol: ${err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
}

/** The device a request's client certificate belongs to, if it may still act (renewal). */
async function deviceOfPeer(fleet: Fleet, ctx: RequestContext): Promise<string> {
  const tls = ctx.req.socket as TLSSocket;
  const cert = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate(true) : undefined;
  const peer = {
    authorized: tls.authorized === true,
    serial: cert?.serialNumber ? normalizeSerial(cert.serialNumber) : undefined,
    commonName: typeof cert?.subject?.CN === 'string' ? cert.subject.CN : undefined,
    issuerFingerprint: cert?.issuerCertificate?.fingerprint256,
  };
  const first = checkPeer(peer, fleet.ca.deviceCaFingerprint);
  if ('kind' in first) throw new FleetError(ErrorCode.CERT_REQUIRED, first.message);
  const decision = decideAdmission(peer, await fleet.registry.admission(first.serial));
  if (decision.kind === 'accept') return decision.deviceId;
  if (decision.kind === 'close' && decision.code === SocketClose.RETIRED) throw new FleetError(ErrorCode.DEVICE_RETIRED, 'this device is retired; it cannot renew its certificate.');
  throw new FleetError(ErrorCode.CERT_REVOKED, 'this certificate is revoked or unknown; enroll again with a new bootstrap token.');
}

export function deviceRoutes(port: () => number): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/healthz$/,
      async handle() {
        return json(200, { status: 'ok' });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${FleetPaths.enroll}$`),
      action: 'device.enroll',
      async handle(ctx, fleet) {
        const decision = fleet.enrollLimiter.take(ctx.remote);
        if (!decision.ok) {
          throw new FleetError(ErrorCode.RATE_LIMITED, `too many enrollment attempts from this address; retry in ${decision.retryAfterSeconds} s.`, {
            details: { retryAfterSeconds: decision.retryAfterSeconds },
          });
        }
        const body = await ctx.body();
        const tokenId = typeof body === 'object' && body !== null && typeof (body as { token?: unknown }).token === 'string' ? parseBootstrapToken((body as { token: string }).token)?.id : undefined;
        ctx.audit.actor = tokenId ? `token:${tokenId}` : 'token:?';
        const parsed = enrollRequest.safeParse(body);
        if (!parsed.success) throw protocolError(parsed.error);
        ctx.audit.detail = { serial: parsed.data.serial, agentVersion: parsed.data.inventory.agentVersion };
        const outcome = await enroll(fleet.enrollDeps, parsed.data, publicBase(fleet, ctx, port()));
        ctx.audit.target = outcome.response.deviceId;
        ctx.audit.detail = { ...ctx.audit.detail, dealerCode: outcome.response.dealerCode, reenrolled: outcome.reenrolled };
        fleet.log.info('device enrolled', { deviceId: outcome.response.deviceId, dealerCode: outcome.response.dealerCode, serial: parsed.data.serial, reenrolled: outcome.reenrolled });
        return json(201, outcome.response);
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${FleetPaths.renew}$`),
      action: 'device.renew',
      async handle(ctx, fleet) {
        const deviceId = await deviceOfPeer(fleet, ctx);
        ctx.audit.actor = `device:${deviceId}`;
        ctx.audit.target = deviceId;
        const parsed = renewRequest.safeParse(await ctx.body());
        if (!parsed.success) throw protocolError(parsed.error);
        return json(200, await renew(fleet.enrollDeps, deviceId, parsed.data.csr));
      },
    },
  ];
}
