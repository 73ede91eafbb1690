// Tables of the fleet's DB (drizzle schema); migrations under fleet/drizzle are generated from it (npm run db:generate:fleet).
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Operator API keys `pak_<id>_<secret>`: only sha256(secret) is kept. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull().default(''),
  scope: text('scope', { enum: ['read', 'operate', 'provision', 'admin'] }).notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Key id of the creator, or `local` for `plugsrv-fleet keys create` on the data dir. */
  createdBy: text('created_by').notNull(),
  revokedAt: integer('revoked_at'),
});

/** Single-use bootstrap tokens `pbt_<id>_<secret>` for one dealer (and optionally one serial); only sha256(secret) is kept. */
export const bootstrapTokens = sqliteTable(
  'bootstrap_tokens',
  {
    id: text('id').primaryKey(),
    secretHash: text('secret_hash').notNull(),
    dealerCode: text('dealer_code').notNull(),
    serial: text('serial'),
    note: text('note').notNull().default(''),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** Set once, atomically, by the enrollment that wins the token. */
    usedAt: integer('used_at'),
    usedSerial: text('used_serial'),
    deviceId: text('device_id'),
  },
  (t) => [index('bootstrap_tokens_dealer').on(t.dealerCode)],
);

/** One enrolled appliance. `lastSeq` is the highest command seq allocated to it. */
export const devices = sqliteTable(
  'devices',
  {
    id: text('id').primaryKey(),
    dealerCode: text('dealer_code').notNull(),
    serial: text('serial').notNull(),
    status: text('status', { enum: ['active', 'retiring', 'retired', 'wiped'] }).notNull(),
    enrolledAt: integer('enrolled_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    tokenId: text('token_id').notNull(),
    certSerial: text('cert_serial').notNull(),
    certNotAfter: integer('cert_not_after').notNull(),
    lastSeq: integer('last_seq').notNull().default(0),
    /** The highest seq the agent said it accepted (hello). */
    ackedSeq: integer('acked_seq').notNull().default(0),
    /** Policy assigned to this device alone; null = the fleet's default policy. */
    policyVersion: integer('policy_version'),
    /** Policy version the device reports applied. */
    appliedPolicyVersion: integer('applied_policy_version'),
    agentVersion: text('agent_version').notNull().default(''),
    /** JSON inventory (enrollment, refreshed by heartbeats that carry one). */
    inventory: text('inventory').notNull().default('{}'),
    lastSeenAt: integer('last_seen_at'),
    /** JSON of the latest heartbeat message. */
    lastHeartbeat: text('last_heartbeat'),
    locked: integer('locked', { mode: 'boolean' }).notNull().default(false),
    lockReason: text('lock_reason').notNull().default(''),
    retiredAt: integer('retired_at'),
  },
  (t) => [index('devices_serial').on(t.serial), index('devices_dealer').on(t.dealerCode), index('devices_status').on(t.status)],
);

/** Every device certificate issued; a connection is accepted only with a known, unrevoked one. */
export const certificates = sqliteTable(
  'certificates',
  {
    /** Lowercase hex without leading zeros. */
    serial: text('serial').primaryKey(),
    deviceId: text('device_id').notNull(),
    /** sha256 of the DER, lowercase hex. */
    fingerprint: text('fingerprint').notNull(),
    issuedAt: integer('issued_at').notNull(),
    notAfter: integer('not_after').notNull(),
    revokedAt: integer('revoked_at'),
    revokeReason: text('revoke_reason'),
  },
  (t) => [index('certificates_device').on(t.deviceId)],
);

/** Signed commands: queued -> delivered -> ok | failed | rejected, or expired. */
export const commands = sqliteTable(
  'commands',
  {
    id: text('id').primaryKey(),
    deviceId: text('device_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    /** JSON arguments. */
    args: text('args').notNull(),
    state: text('state', { enum: ['queued', 'delivered', 'ok', 'failed', 'rejected', 'expired'] }).notNull(),
    issuedAt: integer('issued_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    deliveredAt: integer('delivered_at'),
    resultAt: integer('result_at'),
    detail: text('detail'),
    /** JSON result data (collect-logs lines). */
    data: text('data'),
    /** The exact signed payload text, its signature and key id: redelivery sends the same bytes. */
    payload: text('payload').notNull(),
    signature: text('signature').notNull(),
    keyId: text('key_id').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('commands_device_seq').on(t.deviceId, t.seq), index('commands_state').on(t.state, t.expiresAt), index('commands_issued').on(t.issuedAt)],
);

/** Versioned management policies (JSON documents valid for lib/fleet/protocol policyDocument). */
export const policies = sqliteTable('policies', {
  version: integer('version').primaryKey(),
  document: text('document').notNull(),
  note: text('note').notNull().default(''),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
});

/** Small fleet-wide facts by key (the default policy version). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Every operator action (and enrollments): who, what, on what, how it ended. Never a secret. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** API key id, `local` (CLI on the data dir), or `token:<id>` for an enrollment. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull().default(''),
    outcome: text('outcome', { enum: ['ok', 'denied', 'failed'] }).notNull(),
    code: text('code'),
    /** JSON details (arguments, counts); never tokens or keys. */
    detail: text('detail'),
    remote: text('remote').notNull().default(''),
  },
  (t) => [index('audit_at').on(t.at)],
);

/** Heartbeats per device per calendar month (UTC): the licence report counts units active per dealer per month. */
export const deviceActivity = sqliteTable(
  'device_activity',
  {
    deviceId: text('device_id').notNull(),
    /** YYYY-MM, UTC. */
    month: text('month').notNull(),
    dealerCode: text('dealer_code').notNull(),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    heartbeats: integer('heartbeats').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.month] }), index('device_activity_month').on(t.month, t.dealerCode)],
);
