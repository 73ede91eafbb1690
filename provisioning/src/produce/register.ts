// Who the unit is: its serial given by the operator (scanned from the box), or detected when the line runs on the
// unit itself (hardware/'s inventory: DMI serial, MACs, disk serial; the TPM endorsement key's hash).
import { ErrorCode, LineError } from '../errors.js';
import { identityFromInventory, registerUnit, tpmEkSha256, type Unit, type UnitIdentity } from '../units/index.js';
import type { LineContext } from './context.js';

export interface IdentitySource {
  serial?: string;
  macs?: string[];
  diskSerial?: string;
  /** Detect from this machine (or a captured sysfs/procfs tree). */
  detectRoot?: string;
  /** tpm2-tools TCTI for the EK hash (detect only); "none" skips it. */
  tpmTcti?: string;
  target?: string;
}

export async function identityOf(src: IdentitySource): Promise<{ identity: UnitIdentity; notes: string[] }> {
  const notes: string[] = [];
  if (src.detectRoot === undefined) {
    if (!src.serial) throw new LineError(ErrorCode.USAGE, 'the unit needs its serial: pass --serial (as on the unit\'s label), or --detect when plugsrv-line runs on the unit itself.');
    return { identity: { serial: src.serial.trim(), macs: (src.macs ?? []).map((m) => m.toLowerCase()), diskSerial: src.diskSerial ?? null, tpmEkSha256: null, inventory: null }, notes };
  }
  const { detectHardware } = await import('../../../hardware/src/index.js');
  const inv = await detectHardware({ root: src.detectRoot });
  const id = identityFromInventory(inv, src.target);
  const serial = src.serial?.trim() || id.serial;
  if (!serial) throw new LineError(ErrorCode.USAGE, 'no serial could be read from DMI (product_serial is empty or unreadable: run as root); pass --serial from the unit\'s label.');
  if (src.serial && id.serial && src.serial.trim() !== id.serial) {
    throw new LineError(ErrorCode.USAGE, `--serial ${src.serial} differs from the unit's DMI serial ${id.serial}: check which unit is on the bench.`);
  }
  let ek: string | null = null;
  if (src.tpmTcti !== 'none' && inv.tpm) {
    const r = await tpmEkSha256(src.tpmTcti);
    ek = r.sha256;
    if (r.note) notes.push(r.note);
  } else if (!inv.tpm) notes.push('no TPM detected');
  return { identity: { serial, macs: id.macs, diskSerial: id.diskSerial, tpmEkSha256: ek, inventory: inv }, notes };
}

export async function registerStep(ctx: LineContext, orderId: string, src: IdentitySource, replacesUnitId?: string): Promise<{ unit: Unit; resumed: boolean; notes: string[] }> {
  const { identity, notes } = await identityOf(src);
  const r = await registerUnit(ctx.db, { orderId, identity, operator: ctx.operator, now: ctx.now(), ...(replacesUnitId ? { replacesUnitId } : {}) });
  return { ...r, notes };
}
