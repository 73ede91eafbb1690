// The wire contract between the agent's fleet client and the fleet service: every body and message, as zod schemas.
// Both ends parse what they receive with these schemas; anything else is refused with E_FLEET_PROTOCOL.
// Every time (`issuedAt`, `expiresAt`, `at`, `serverTime`, `lastRunAt`) is integer milliseconds since the Unix epoch (Date.now()).
import { z } from 'zod';

/** Protocol version carried in `hello`; the fleet refuses a device speaking a newer major. */
export const FLEET_PROTOCOL_VERSION = 1;

/** Paths on the fleet's HTTPS server. */
export const FleetPaths = {
  /** POST, no auth (the token is the credential), rate-limited per client address. */
  enroll: '/v1/enroll',
  /** POST over mTLS with the current device certificate: a fresh certificate for a new CSR. */
  renew: '/v1/device/renew',
  /** WebSocket upgrade over mTLS (device certificate as client certificate). */
  deviceSocket: '/v1/device/ws',
  /** Operator API (bearer API key). */
  tokens: '/v1/tokens',
  devices: '/v1/devices',
  policies: '/v1/policies',
  audit: '/v1/audit',
} as const;

/** Dealer entity code: 8 digits. */
export const dealerCode = z.string().regex(/^\d{8}$/, 'a dealer entity code of 8 digits');
/** Hardware serial (Dell service tag or DMI serial): printable, no spaces. */
export const serialNumber = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a serial of 1-64 letters, digits, dot, dash or underscore');
export const deviceId = z.string().regex(/^dev_[a-z0-9]{20,40}$/, 'a device id such as dev_...');
/** Bootstrap token as shown once to the operator: `pbt_<tokenId>_<secret>`. Stored hashed at the fleet. */
export const bootstrapToken = z.string().regex(/^pbt_[a-z0-9]{12,32}_[A-Za-z0-9_-]{32,64}$/, 'a bootstrap token pbt_<id>_<secret>');
/** Operator API key: `pak_<keyId>_<secret>`, sent as `Authorization: Bearer <key>`. Stored hashed. */
export const apiKey = z.string().regex(/^pak_[a-z0-9]{12,32}_[A-Za-z0-9_-]{32,64}$/, 'an API key pak_<id>_<secret>');
export const scope = z.enum(['read', 'operate', 'provision', 'admin']);
export type Scope = z.infer<typeof scope>;

/** Versioned management policy; the device reports the version it applied. */
export const policyDocument = z
  .object({
    version: z.number().int().min(1),
    heartbeatSeconds: z.number().int().min(5).max(3600).default(30),
    selfcheckIntervalMinutes: z.number().int().min(5).max(10_080).default(360),
    sync: z
      .object({
        window: z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/).default('22:00-06:30'),
        nightRateBytesPerSec: z.number().int().min(0).default(0),
        dayRateBytesPerSec: z.number().int().min(0).default(0),
        include: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
    requiredHosts: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type PolicyDocument = z.infer<typeof policyDocument>;

/** What a device says about itself at enrollment and in each heartbeat (hardware is hardware/'s detectHardware output). */
export const inventory = z
  .object({
    agentVersion: z.string().min(1),
    hostname: z.string().default(''),
    os: z.string().default(''),
    macs: z.array(z.string()).default([]),
    hardware: z.unknown().optional(),
    burnin: z.unknown().optional(),
  })
  .passthrough();
export type Inventory = z.infer<typeof inventory>;

export const enrollRequest = z
  .object({
    token: bootstrapToken,
    serial: serialNumber,
    /** PKCS#10 request in PEM (ECDSA P-256 key generated on the device; the private key never leaves it). */
    csr: z.string().min(100).max(16_384),
    inventory,
  })
  .strict();
export type EnrollRequest = z.infer<typeof enrollRequest>;

export const enrollResponse = z
  .object({
    deviceId,
    dealerCode,
    /** Device certificate (PEM) signed by the fleet's device CA; CN = deviceId. */
    certificate: z.string(),
    /** Device CA then fleet root (PEM): the agent pins the root for the WebSocket's server certificate too. */
    caChain: z.array(z.string()).min(1),
    /** Ed25519 public key (SPKI PEM) that signs every command; the agent pins it. */
    commandKey: z.string(),
    policy: policyDocument,
    /** wss URL of the device channel. */
    socketUrl: z.string().url(),
  })
  .strict();
export type EnrollResponse = z.infer<typeof enrollResponse>;

export const renewRequest = z.object({ csr: z.string().min(100).max(16_384) }).strict();
export const renewResponse = z.object({ certificate: z.string(), caChain: z.array(z.string()).min(1) }).strict();

/** Error body of every fleet 4xx/5xx: a stable code and what to do. */
export const errorBody = z.object({ code: z.string(), message: z.string() });

/** Stable error codes of enrollment. */
export const EnrollErrorCode = {
  UNKNOWN_TOKEN: 'E_TOKEN_UNKNOWN', // 401
  USED_TOKEN: 'E_TOKEN_USED', // 409
  EXPIRED_TOKEN: 'E_TOKEN_EXPIRED', // 410
  SERIAL_MISMATCH: 'E_SERIAL_MISMATCH', // 403
  BAD_CSR: 'E_BAD_CSR', // 400
  RATE_LIMITED: 'E_RATE_LIMITED', // 429
} as const;

export const commandKind = z.enum([
  'lock',
  'unlock',
  'wipe',
  'sync-now',
  'selfcheck-now',
  'reboot',
  'set-policy',
  'collect-logs',
  'retire',
]);
export type CommandKind = z.infer<typeof commandKind>;

/** Arguments per command kind (checked by both ends). */
export const commandArgs = {
  lock: z.object({ reason: z.string().min(1).max(500) }).strict(),
  unlock: z.object({}).strict(),
  wipe: z.object({}).strict(),
  'sync-now': z.object({}).strict(),
  'selfcheck-now': z.object({}).strict(),
  reboot: z.object({}).strict(),
  'set-policy': z.object({ policy: policyDocument }).strict(),
  'collect-logs': z.object({ lines: z.number().int().min(1).max(10_000).default(500) }).strict(),
  retire: z.object({}).strict(),
} satisfies Record<CommandKind, z.ZodType>;

/** What the fleet signs. `seq` is per device, strictly increasing; the agent refuses seq <= the last one it accepted. */
export const commandPayload = z
  .object({
    id: z.string().regex(/^cmd_[a-z0-9]{20,40}$/),
    deviceId,
    seq: z.number().int().min(1),
    kind: commandKind,
    args: z.record(z.string(), z.unknown()),
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
  })
  .strict();
export type CommandPayload = z.infer<typeof commandPayload>;

/** A command on the wire: the payload as the exact JSON text that was signed, and its Ed25519 signature (base64). */
export const signedCommand = z
  .object({
    payload: z.string().min(2).max(65_536),
    signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
    /** sha256 (hex, first 16) of the command key's SPKI DER, so a key rotation can be recognised. */
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
  })
  .strict();
export type SignedCommand = z.infer<typeof signedCommand>;

export const resultStatus = z.enum(['ok', 'failed', 'rejected']);

/** Device → fleet messages on the WebSocket (JSON text frames). */
export const deviceMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      protocol: z.number().int(),
      agentVersion: z.string(),
      /** Highest command seq the agent accepted; the fleet redelivers pending commands above it. */
      lastSeq: z.number().int().min(0),
      policyVersion: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('heartbeat'),
      at: z.number().int(),
      agentVersion: z.string(),
      catalogVersion: z.number().int().nullable().default(null),
      lock: z.object({ locked: z.boolean(), reason: z.string().default('') }).strict(),
      policyVersion: z.number().int().min(0),
      sync: z
        .object({
          state: z.enum(['idle', 'running', 'failed', 'never']),
          bytesDone: z.number().int().min(0).default(0),
          bytesTotal: z.number().int().min(0).default(0),
          lastRunAt: z.number().int().nullable().default(null),
          lastResult: z.string().nullable().default(null),
          packagesReady: z.number().int().min(0).default(0),
        })
        .strict(),
      storage: z.object({ totalBytes: z.number().min(0), freeBytes: z.number().min(0), usedBytes: z.number().min(0) }).strict(),
      selfcheck: z
        .object({ at: z.number().int().nullable(), status: z.enum(['ok', 'warn', 'fail', 'none']), failed: z.array(z.string()).default([]) })
        .strict(),
      inventory: inventory.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('result'),
      commandId: z.string(),
      seq: z.number().int().min(0),
      status: resultStatus,
      /** For failed/rejected: what went wrong (a stable code first, e.g. `E_COMMAND_REPLAY: ...`). */
      detail: z.string().max(4_000).default(''),
      /** Command output (collect-logs: {lines: string[]}), at most 1 MiB once serialised. */
      data: z.unknown().optional(),
    })
    .strict(),
]);
export type DeviceMessage = z.infer<typeof deviceMessage>;

/** Fleet → device messages on the WebSocket. */
export const fleetMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), deviceId, serverTime: z.number().int(), heartbeatSeconds: z.number().int().min(1) }).strict(),
  z.object({ type: z.literal('command'), command: signedCommand }).strict(),
]);
export type FleetMessage = z.infer<typeof fleetMessage>;

/** Close codes of the device socket (4000-4999 are application codes). */
export const SocketClose = {
  RETIRED: 4001, // the device was retired: stop reconnecting, wipe identity
  REVOKED: 4003, // certificate revoked or unknown device: re-enroll needed
  PROTOCOL: 4002, // a message did not parse
  REPLACED: 4009, // a newer connection of the same device took over
} as const;
