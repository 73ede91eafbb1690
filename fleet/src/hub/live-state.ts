// What connected devices last said, kept in memory and written to the DB in one transaction per flush.
import type { InStatement } from '@libsql/client';
import type { DeviceMessage } from '../../../lib/fleet/protocol.js';
import { monthOf } from '../reports/index.js';

export type Heartbeat = Extract<DeviceMessage, { type: 'heartbeat' }>;

interface DeviceLive {
  dealerCode: string;
  lastSeenAt: number;
  /** The latest heartbeat without its inventory (kept apart: it can be large and rarely changes). */
  heartbeat: Omit<Heartbeat, 'inventory'> | undefined;
  agentVersion: string | undefined;
  policyVersion: number | undefined;
  ackedSeq: number | undefined;
  inventory: string | undefined;
  /** Heartbeats since the last flush, for the monthly activity. */
  beats: number;
  dirty: boolean;
}

export interface LiveView {
  lastSeenAt: number;
  heartbeat: Omit<Heartbeat, 'inventory'> | undefined;
}

/**
 * Heartbeats cost one map update each; flush() turns every device that changed since the last flush into
 * an UPDATE of its row and an upsert of its month's activity, for one batch. Last-seen stays exact in memory
 * between flushes (the API reads it from here).
 */
export class LiveState {
  private readonly devices = new Map<string, DeviceLive>();
  readonly stats = { heartbeats: 0, flushes: 0, lastFlushDevices: 0 };

  private entry(deviceId: string, dealerCode: string, at: number): DeviceLive {
    let e = this.devices.get(deviceId);
    if (!e) {
      e = { dealerCode, lastSeenAt: at, heartbeat: undefined, agentVersion: undefined, policyVersion: undefined, ackedSeq: undefined, inventory: undefined, beats: 0, dirty: true };
      this.devices.set(deviceId, e);
    }
    e.dealerCode = dealerCode;
    e.lastSeenAt = Math.max(e.lastSeenAt, at);
    e.dirty = true;
    return e;
  }

  /** Any sign of life: a connection, a hello, a disconnection. */
  seen(deviceId: string, dealerCode: string, at: number, hello?: { agentVersion: string; policyVersion: number; ackedSeq: number }): void {
    const e = this.entry(deviceId, dealerCode, at);
    if (hello) {
      e.agentVersion = hello.agentVersion;
      e.policyVersion = hello.policyVersion;
      e.ackedSeq = hello.ackedSeq;
    }
  }

  heartbeat(deviceId: string, dealerCode: string, at: number, msg: Heartbeat): void {
    const e = this.entry(deviceId, dealerCode, at);
    const { inventory, ...rest } = msg;
    e.heartbeat = rest;
    e.agentVersion = msg.agentVersion;
    e.policyVersion = msg.policyVersion;
    if (inventory !== undefined) e.inventory = JSON.stringify(inventory);
    e.beats++;
    this.stats.heartbeats++;
  }

  view(deviceId: string): LiveView | undefined {
    const e = this.devices.get(deviceId);
    return e ? { lastSeenAt: e.lastSeenAt, heartbeat: e.heartbeat } : undefined;
  }

  /** A retired or re-enrolled device starts afresh. */
  forget(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  /** Statements for every device changed since the last call; the in-memory state is marked clean. */
  takeStatements(): InStatement[] {
    const stmts: InStatement[] = [];
    let n = 0;
    for (const [id, e] of this.devices) {
      if (!e.dirty) continue;
      e.dirty = false;
      n++;
      const hb = e.heartbeat;
      stmts.push({
        sql:
          'UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), ?), last_heartbeat = coalesce(?, last_heartbeat), agent_version = coalesce(?, agent_version), ' +
          'applied_policy_version = coalesce(?, applied_policy_version), acked_seq = coalesce(?, acked_seq), locked = coalesce(?, locked), lock_reason = coalesce(?, lock_reason), ' +
          'inventory = coalesce(?, inventory) WHERE id = ?',
        args: [
          e.lastSeenAt,
          hb ? JSON.stringify(hb) : null,
          e.agentVersion ?? null,
          e.policyVersion ?? null,
          e.ackedSeq ?? null,
          hb ? (hb.lock.locked ? 1 : 0) : null,
          hb ? hb.lock.reason : null,
          e.inventory ?? null,
          id,
        ],
      });
      e.inventory = undefined;
      if (e.beats > 0) {
        stmts.push({
          sql:
            'INSERT INTO device_activity (device_id, month, dealer_code, first_seen_at, last_seen_at, heartbeats) VALUES (?, ?, ?, ?, ?, ?) ' +
            'ON CONFLICT (device_id, month) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at), heartbeats = heartbeats + excluded.heartbeats, dealer_code = excluded.dealer_code',
          args: [id, monthOf(e.lastSeenAt), e.dealerCode, e.lastSeenAt, e.lastSeenAt, e.beats],
        });
        e.beats = 0;
      }
    }
    this.stats.lastFlushDevices = n;
    if (n > 0) this.stats.flushes++;
    return stmts;
  }

  get dirtyCount(): number {
    let n = 0;
    for (const e of this.devices.values()) if (e.dirty) n++;
    return n;
  }
}
