// The monthly licence report from the DB: distinct devices that sent a heartbeat, per dealer per month.
import type { Client } from '@libsql/client';
import type { ActiveUnitsRow } from './active-units.js';

export async function activeUnits(client: Client, from: string, to: string): Promise<ActiveUnitsRow[]> {
  const rs = await client.execute({
    sql: 'SELECT month, dealer_code, count(DISTINCT device_id) AS n FROM device_activity WHERE month >= ? AND month <= ? GROUP BY month, dealer_code ORDER BY month, dealer_code',
    args: [from, to],
  });
  return rs.rows.map((r) => ({ month: String(r.month), dealerCode: String(r.dealer_code), activeUnits: Number(r.n) }));
}
