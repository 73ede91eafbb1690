// The unit's identity for its record: serial, MACs, the target disk's serial (from hardware/'s inventory), and the
// TPM endorsement key's hash (tpm2-tools, when the unit has a TPM and the tools are there).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Inventory } from '../../../hardware/src/index.js';
import type { UnitIdentity } from './repository.js';

/** Pure: the identity fields from an inventory; `targetDisk` (sda, nvme0n1) picks the disk whose serial is recorded. */
export function identityFromInventory(inv: Inventory, targetDisk?: string): Omit<UnitIdentity, 'tpmEkSha256'> & { serialSource: string | null } {
  const serial = (inv.dmi.productSerial ?? '').trim();
  const macs = inv.nics
    .filter((n) => n.mac && n.mac !== '00:00:00:00:00:00')
    .map((n) => (n.mac as string).toLowerCase())
    .sort();
  const disks = inv.disks.filter((d) => !d.removable && d.kind !== 'usb');
  const disk = (targetDisk ? inv.disks.find((d) => d.name === basename(targetDisk)) : undefined) ?? disks[0];
  return { serial, serialSource: serial ? 'dmi product_serial' : null, macs, diskSerial: disk?.serial ?? null, inventory: inv };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr.trim() || err.message}`)) : resolve()));
  });
}

/**
 * sha256 (hex) of the TPM's RSA endorsement key public area (`tpm2_createek`: the EK is derived from the TPM's
 * endorsement seed, so it is the same every time for one TPM). `tcti` selects the TPM (e.g. swtpm:port=... in tests;
 * default the tools' own: /dev/tpmrm0). Returns null with the reason when there is no TPM or no tpm2-tools.
 */
export async function tpmEkSha256(tcti?: string): Promise<{ sha256: string | null; note: string | null }> {
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-ek-'));
  try {
    const env = { ...process.env, ...(tcti ? { TPM2TOOLS_TCTI: tcti } : {}) };
    await run('tpm2_createek', ['-c', join(dir, 'ek.ctx'), '-G', 'rsa', '-u', join(dir, 'ek.pub')], env);
    const pub = await readFile(join(dir, 'ek.pub'));
    return { sha256: createHash('sha256').update(pub).digest('hex'), note: null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { sha256: null, note: e.code === 'ENOENT' ? 'tpm2-tools is not installed (apt-get install tpm2-tools)' : `no TPM endorsement key read: ${e.message.slice(0, 300)}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
