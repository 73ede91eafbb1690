// Policies in the DB: versions (immutable once made), the fleet's default, per-device assignment.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { PolicyDocument } from '../../../lib/fleet/protocol.js';
import type { FleetDb } from '../db/index.js';
import { tables } from '../db/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { buildPolicy, DEFAULT_POLICY, effectiveVersion } from './policy.js';

const DEFAULT_KEY = 'default_policy_version';

export interface PolicyInfo {
  version: number;
  document: PolicyDocument;
  note: string;
  createdAt: number;
  createdBy: string;
  isDefault: boolean;
}

/** Policies are immutable once created, so their documents are cached; the default version is cached too (this process is the only writer). */
export class PolicyService {
  private readonly docs = new Map<number, PolicyDocument>();
  private defaultVersion = 1;

  constructor(
    private readonly db: FleetDb,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates version 1 and makes it the default on a new DB; loads the cache. */
  async init(): Promise<void> {
    const now = this.clock();
    await this.db
      .insert(tables.policies)
      .values({ version: 1, document: JSON.stringify(DEFAULT_POLICY), note: 'built-in default', createdAt: now, createdBy: 'fleet' })
      .onConflictDoNothing();
    await this.db.insert(tables.settings).values({ key: DEFAULT_KEY, value: '1', updatedAt: now }).onConflictDoNothing();
    const row = (await this.db.select().from(tables.settings).where(eq(tables.settings.key, DEFAULT_KEY)))[0];
    this.defaultVersion = Number(row?.value ?? 1);
    for (const p of await this.db.select().from(tables.policies)) this.docs.set(p.version, JSON.parse(p.document) as PolicyDocument);
  }

  get defaultPolicyVersion(): number {
    return this.defaultVersion;
  }

  document(version: number): PolicyDocument {
    const doc = this.docs.get(version);
    if (!doc) throw new FleetError(ErrorCode.NOT_FOUND, `no policy version ${version}; list them with GET /v1/policies.`);
    return doc;
  }

  /** The policy a device with this assignment gets (in its enrollment response and set-policy commands). */
  effective(assigned: number | null): PolicyDocument {
    return this.document(effectiveVersion(assigned, this.defaultVersion));
  }

  async list(): Promise<PolicyInfo[]> {
    const rows = await this.db.select().from(tables.policies).orderBy(tables.policies.version);
    return rows.map((r) => ({ ...r, document: JSON.parse(r.document) as PolicyDocument, isDefault: r.version === this.defaultVersion }));
  }

  async create(input: unknown, note: string, createdBy: string): Promise<PolicyDocument> {
    const version = Math.max(0, ...this.docs.keys()) + 1;
    const doc = buildPolicy(input, version);
    await this.db.insert(tables.policies).values({ version, document: JSON.stringify(doc), note, createdAt: this.clock(), createdBy });
    this.docs.set(version, doc);
    return doc;
  }

  /**
   * Makes `version` the default: devices without their own assignment follow it. Returns the ids of the
   * active devices that must receive it.
   */
  async assignDefault(version: number): Promise<string[]> {
    this.document(version);
    await this.db.update(tables.settings).set({ value: String(version), updatedAt: this.clock() }).where(eq(tables.settings.key, DEFAULT_KEY));
    this.defaultVersion = version;
    const rows = await this.db
      .select({ id: tables.devices.id })
      .from(tables.devices)
      .where(and(isNull(tables.devices.policyVersion), inArray(tables.devices.status, ['active'])));
    return rows.map((r) => r.id);
  }

  /** Assigns `version` to one device (null: back to the default). */
  async assignDevice(deviceId: string, version: number | null): Promise<void> {
    if (version !== null) this.document(version);
    await this.db.update(tables.devices).set({ policyVersion: version, updatedAt: this.clock() }).where(eq(tables.devices.id, deviceId));
  }
}
