// The device registry: rows of enrolled devices, their certificates, and the lifecycle changes (retire, wipe) made to them.
import { and, desc, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import type { FleetDb } from '../db/index.js';
import { tables } from '../db/index.js';
import { ErrorCode, FleetError } from '../errors.js';

export type DeviceStatus = 'active' | 'retiring' | 'retired' | 'wiped';
export type DeviceRow = typeof tables.devices.$inferSelect;

export interface DeviceFilter {
  dealerCode?: string | undefined;
  status?: DeviceStatus | undefined;
  limit?: number | undefined;
}

/** What the hub needs to admit a socket presenting a certificate with this serial. */
export interface Admission {
  deviceId: string;
  certRevokedAt: number | null;
  status: DeviceStatus;
  dealerCode: string;
  policyVersion: number | null;
}

export class DeviceRegistry {
  constructor(
    private readonly db: FleetDb,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(id: string): Promise<DeviceRow | undefined> {
    return (await this.db.select().from(tables.devices).where(eq(tables.devices.id, id)).limit(1))[0];
  }

  /** The device or E_NOT_FOUND. */
  async require(id: string): Promise<DeviceRow> {
    const d = await this.get(id);
    if (!d) throw new FleetError(ErrorCode.NOT_FOUND, `no device ${id}; list devices with GET /v1/devices (plugsrv-fleet devices).`);
    return d;
  }

  /** E_DEVICE_RETIRED / E_DEVICE_WIPED when the device can receive no command. */
  static requireReachable(d: DeviceRow): void {
    if (d.status === 'retired') throw new FleetError(ErrorCode.DEVICE_RETIRED, `device ${d.id} is retired; it will never connect again. Enroll the unit anew to manage it.`);
    if (d.status === 'wiped') throw new FleetError(ErrorCode.DEVICE_WIPED, `device ${d.id} was wiped and has no identity until it enrolls again with a new bootstrap token.`);
  }

  async list(filter: DeviceFilter = {}): Promise<DeviceRow[]> {
    const where: SQL[] = [];
    if (filter.dealerCode) where.push(eq(tables.devices.dealerCode, filter.dealerCode));
    if (filter.status) where.push(eq(tables.devices.status, filter.status));
    return this.db
      .select()
      .from(tables.devices)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(tables.devices.dealerCode, tables.devices.id)
      .limit(Math.min(Math.max(filter.limit ?? 100_000, 1), 100_000));
  }

  async countByStatus(): Promise<Record<DeviceStatus, number>> {
    const out: Record<DeviceStatus, number> = { active: 0, retiring: 0, retired: 0, wiped: 0 };
    const rows = await this.db.select({ status: tables.devices.status, id: tables.devices.id }).from(tables.devices);
    for (const r of rows) out[r.status]++;
    return out;
  }

  async admission(certSerial: string): Promise<Admission | undefined> {
    const rows = await this.db
      .select({
        deviceId: tables.certificates.deviceId,
        certRevokedAt: tables.certificates.revokedAt,
        status: tables.devices.status,
        dealerCode: tables.devices.dealerCode,
        policyVersion: tables.devices.policyVersion,
      })
      .from(tables.certificates)
      .innerJoin(tables.devices, eq(tables.devices.id, tables.certificates.deviceId))
      .where(eq(tables.certificates.serial, certSerial))
      .limit(1);
    return rows[0];
  }

  async certificates(deviceId: string): Promise<Array<typeof tables.certificates.$inferSelect>> {
    return this.db.select().from(tables.certificates).where(eq(tables.certificates.deviceId, deviceId)).orderBy(desc(tables.certificates.issuedAt));
  }

  async setStatus(id: string, status: DeviceStatus): Promise<void> {
    await this.db.update(tables.devices).set({ status, updatedAt: this.clock() }).where(eq(tables.devices.id, id));
  }

  /** Retired for good (or wiped): every certificate revoked in the same transaction. */
  async endIdentity(id: string, status: 'retired' | 'wiped', reason: string): Promise<void> {
    const now = this.clock();
    await this.db.batch([
      this.db
        .update(tables.devices)
        .set({ status, updatedAt: now, ...(status === 'retired' ? { retiredAt: now } : {}) })
        .where(and(eq(tables.devices.id, id), inArray(tables.devices.status, status === 'retired' ? ['active', 'retiring', 'wiped'] : ['active', 'retiring']))),
      this.db
        .update(tables.certificates)
        .set({ revokedAt: now, revokeReason: reason })
        .where(and(eq(tables.certificates.deviceId, id), isNull(tables.certificates.revokedAt))),
    ]);
  }
}
