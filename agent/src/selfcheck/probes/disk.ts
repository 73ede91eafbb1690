// Disk probe: free space for the package store, with warn and fail thresholds.
import { statfs } from 'node:fs/promises';
import type { ProbeResult } from '../probe.js';

export interface DiskProbeOptions {
  dir: string;
  warnFreeBytes: number;
  failFreeBytes: number;
  statfsFn?: (dir: string) => Promise<{ bavail: number; bsize: number; blocks: number }>;
}

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`;

export async function probeDisk(opts: DiskProbeOptions): Promise<ProbeResult> {
  const base = { id: 'disk:store', kind: 'disk' as const, target: opts.dir, latencyMs: 0 };
  let free: number;
  let total: number;
  try {
    const s = await (opts.statfsFn ?? statfs)(opts.dir);
    free = s.bavail * s.bsize;
    total = s.blocks * s.bsize;
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      reason: 'unreadable',
      evidence: { error: (err as Error).message },
      remediation: { en: `The store directory ${opts.dir} cannot be read: check the data disk.`, fr: `Le répertoire ${opts.dir} est illisible : vérifiez le disque de données.` },
    };
  }
  const evidence = { freeBytes: free, totalBytes: total };
  if (free >= opts.warnFreeBytes) return { ...base, status: 'ok', reason: 'ok', evidence };
  return {
    ...base,
    status: free < opts.failFreeBytes ? 'fail' : 'warn',
    reason: 'low-space',
    evidence,
    remediation: {
      en: `Only ${gib(free)} free of ${gib(total)} for packages: new updates may not fit. Old packages are evicted automatically; if this persists, the site needs a larger disk (contact the helpdesk).`,
      fr: `Seulement ${gib(free)} libres sur ${gib(total)} pour les paquets : les nouvelles mises à jour risquent de ne pas tenir. Les anciens paquets sont supprimés automatiquement ; si cela persiste, le site a besoin d'un disque plus grand (contactez le support).`,
    },
  };
}
