// Enrollment: bootstrap token + serial + CSR + inventory to POST /v1/enroll; the answer becomes the device identity.
import { createPublicKey, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { bootstrapToken, EnrollErrorCode, enrollResponse, errorBody, FleetPaths, type EnrollResponse, type Inventory } from '../../../lib/fleet/protocol.js';
import { systemErrorCode } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/log/index.js';
import type { AgentDb } from '../db/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { createKeyAndCsr } from './csr.js';
import { fleetEndpoint, fleetTrustAnchors, postJson, type JsonResponse } from './https.js';
import { loadIdentity, saveIdentity, type DeviceIdentity } from './identity.js';
import { policyQuery } from './state.js';

/** Reads a bootstrap token from a file (or stdin with "-"); its value never goes to a log or an error message. */
export async function readToken(file: string, stdin: () => Promise<string> = readStdin): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? await stdin() : await readFile(file, 'utf8');
  } catch (err) {
    const why = systemErrorCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${systemErrorCode(err) ?? (err as Error).message})`;
    throw new AgentError(ErrorCode.TOKEN_MISSING, `the bootstrap token file ${file} ${why}: write the token the fleet operator gave for this unit into it (or pass --token-file), then enroll again.`, { cause: err });
  }
  const token = text.trim();
  if (!bootstrapToken.safeParse(token).success) {
    throw new AgentError(ErrorCode.TOKEN_MISSING, `${file === '-' ? 'standard input' : file} does not hold a bootstrap token (pbt_<id>_<secret>, on one line): check what was written there.`);
  }
  return token;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The fleet's enrollment refusal as an agent error whose message says what to do. */
export function enrollError(res: JsonResponse, ctx: { tokenFile: string; serial: string }): AgentError {
  const parsed = errorBody.safeParse(res.body);
  const fleetCode = parsed.success ? parsed.data.code : '';
  const fleetMessage = parsed.success ? ` (fleet: ${parsed.data.message.slice(0, 300)})` : '';
  const newToken = `ask the fleet operator for a new bootstrap token for this unit, write it to ${ctx.tokenFile} and enroll again`;
  const byCode: Record<string, () => AgentError> = {
    [EnrollErrorCode.UNKNOWN_TOKEN]: () => new AgentError(ErrorCode.TOKEN_UNKNOWN, `the fleet does not know this bootstrap token${fleetMessage}: check that ${ctx.tokenFile} holds the token written for this unit, or ${newToken}.`),
    [EnrollErrorCode.USED_TOKEN]: () => new AgentError(ErrorCode.TOKEN_USED, `this bootstrap token was already used (tokens are single-use)${fleetMessage}: ${newToken}.`),
    [EnrollErrorCode.EXPIRED_TOKEN]: () => new AgentError(ErrorCode.TOKEN_EXPIRED, `this bootstrap token has expired${fleetMessage}: ${newToken}.`),
    [EnrollErrorCode.SERIAL_MISMATCH]: () =>
      new AgentError(ErrorCode.SERIAL_MISMATCH, `the token was issued for another unit: this unit's serial is ${ctx.serial}${fleetMessage}. Check fleet.serial against the unit's label, or ask for a token issued for serial ${ctx.serial}.`),
    [EnrollErrorCode.BAD_CSR]: () => new AgentError(ErrorCode.BAD_CSR, `the fleet refused this unit's certificate request${fleetMessage}: the agent and the fleet disagree (versions?); report it to the fleet operator.`),
    [EnrollErrorCode.RATE_LIMITED]: () =>
      new AgentError(ErrorCode.RATE_LIMITED, `too many enrollment attempts from this address${fleetMessage}: wait${res.retryAfterSeconds ? ` ${res.retryAfterSeconds} s` : ''} and try again.`, {
        details: { retryAfterSeconds: res.retryAfterSeconds },
      }),
  };
  const byStatus: Record<number, string> = { 401: EnrollErrorCode.UNKNOWN_TOKEN, 409: EnrollErrorCode.USED_TOKEN, 410: EnrollErrorCode.EXPIRED_TOKEN, 403: EnrollErrorCode.SERIAL_MISMATCH, 429: EnrollErrorCode.RATE_LIMITED };
  const make = byCode[fleetCode] ?? byCode[byStatus[res.status] ?? ''];
  if (make) return make();
  if (res.status >= 500) return new AgentError(ErrorCode.FLEET_UNREACHABLE, `the fleet failed to answer (HTTP ${res.status})${fleetMessage}: it will be tried again later.`);
  return new AgentError(ErrorCode.FLEET_REFUSED, `the fleet refused the enrollment (HTTP ${res.status}${fleetCode ? `, ${fleetCode}` : ''})${fleetMessage}: report it to the fleet operator.`);
}

/** Enrollment errors worth retrying with backoff; the others need a person (a new token, a serial, a fix). */
export function isRetryable(err: unknown): boolean {
  return err instanceof AgentError && (err.code === ErrorCode.FLEET_UNREACHABLE || err.code === ErrorCode.RATE_LIMITED || err.code === ErrorCode.FLEET_PROTOCOL);
}

/** Checks the fleet's answer fits this request: a certificate for our key, issued by the CA it names, a usable command key. */
export function checkEnrollResponse(body: unknown, keyPem: string): EnrollResponse {
  const parsed = enrollResponse.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AgentError(ErrorCode.FLEET_PROTOCOL, `the fleet's enrollment answer does not follow the protocol (${issues}); the agent and the fleet versions disagree: report it.`);
  }
  const r = parsed.data;
  try {
    const cert = new X509Certificate(r.certificate);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the certificate is not for the key this device generated');
    const issuer = new X509Certificate(r.caChain[0] as string);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new Error('the certificate is not signed by the first CA of caChain');
    const commandKey = createPublicKey(r.commandKey);
    if (commandKey.asymmetricKeyType !== 'ed25519') throw new Error(`the command key is ${commandKey.asymmetricKeyType}, not Ed25519`);
    if (!/^wss:$/.test(new URL(r.socketUrl).protocol)) throw new Error(`socketUrl ${r.socketUrl} is not a wss:// URL`);
  } catch (err) {
    throw new AgentError(ErrorCode.FLEET_PROTOCOL, `the fleet's enrollment answer is not usable: ${(err as Error).message}. Report it to the fleet operator.`, { cause: err });
  }
  return r;
}

export interface EnrollOptions {
  dataDir: string;
  db: AgentDb;
  fleetUrl: string;
  /** Certificates of fleet.caFile (empty = OS trust store). */
  caFileCerts: string[];
  token: string;
  /** Where the token came from (named in error messages, deleted after success unless "-"). */
  tokenFile: string;
  serial: string;
  inventory: Inventory;
  log: Logger;
  /** Replace an existing identity (a revoked or moved unit). */
  force?: boolean;
  /** The same key and CSR for every retry of one token, so a fleet may answer a retried request idempotently. */
  keyAndCsr?: { keyPem: string; csrPem: string };
  now?: () => number;
  timeoutMs?: number;
}

/** Enrolls this device; returns the saved identity. Deletes the token file once the identity is durable. */
export async function enrollDevice(o: EnrollOptions): Promise<DeviceIdentity> {
  const existing = await loadIdentity(o.dataDir);
  if (existing && !o.force) {
    throw new AgentError(ErrorCode.ALREADY_ENROLLED, `this unit is already enrolled as ${existing.deviceId} (dealer ${existing.dealerCode}); to enroll it again (a new token), use --force.`);
  }
  const url = fleetEndpoint(o.fleetUrl, FleetPaths.enroll);
  const { keyPem, csrPem } = o.keyAndCsr ?? (await createKeyAndCsr(o.serial));
  o.log.info('fleet: enrolling', { fleet: new URL(url).host, serial: o.serial });
  const res = await postJson(url, { token: o.token, serial: o.serial, csr: csrPem, inventory: o.inventory }, { ca: fleetTrustAnchors(o.caFileCerts) }, o.timeoutMs);
  if (res.status !== 200 && res.status !== 201) throw enrollError(res, { tokenFile: o.tokenFile, serial: o.serial });
  const r = checkEnrollResponse(res.body, keyPem);
  const now = (o.now ?? Date.now)();
  const identity: DeviceIdentity = {
    deviceId: r.deviceId,
    dealerCode: r.dealerCode,
    fleetUrl: o.fleetUrl,
    socketUrl: r.socketUrl,
    enrolledAt: new Date(now).toISOString(),
    serial: o.serial,
    keyPem,
    certPem: r.certificate.endsWith('\n') ? r.certificate : `${r.certificate}\n`,
    caChain: r.caChain.map((c) => (c.endsWith('\n') ? c : `${c}\n`)),
    commandKeyPem: r.commandKey,
  };
  try {
    await saveIdentity(o.dataDir, identity);
    await policyQuery(o.db, r.policy, now);
  } catch (err) {
    throw new AgentError(ErrorCode.STORE_IO, `the fleet enrolled this unit as ${r.deviceId} but its identity could not be saved (${(err as Error).message}); the token is spent: free space or fix the data directory, then ask for a new token.`, { cause: err });
  }
  if (o.tokenFile !== '-') {
    await rm(o.tokenFile, { force: true }).catch((err: unknown) =>
      o.log.warn('fleet: enrolled, but the spent bootstrap token file cannot be deleted; delete it by hand', { file: o.tokenFile, error: err }),
    );
  }
  o.log.info('fleet: enrolled', { deviceId: r.deviceId, dealerCode: r.dealerCode, policyVersion: r.policy.version });
  return identity;
}
