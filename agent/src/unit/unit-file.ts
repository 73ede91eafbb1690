// The unit record the production line wrote (`unit.json`, imported by the image's first boot into /etc/plugsrv):
// the box's serial, its dealer's code and site. Shown on the status page and advertised in DNS-SD, so the
// dealer's staff and PCs see which box this is before it ever enrolls.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { systemErrorCode } from '../../../lib/errors.js';

const unitSchema = z.object({
  unitId: z.string().max(64).optional(),
  serial: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  dealerCode: z.string().regex(/^\d{8}$/),
  site: z.string().max(200).optional(),
  orderRef: z.string().max(64).optional(),
  imageVersion: z.string().max(64).optional(),
  producedAt: z.string().max(64).optional(),
});

export type UnitInfo = z.infer<typeof unitSchema>;

/** Pure: the unit record from the file's text, or why it is not one. Unknown fields are ignored (newer lines). */
export function parseUnitFile(text: string): { unit: UnitInfo } | { why: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { why: `not JSON (${(err as Error).message})` };
  }
  const parsed = unitSchema.safeParse(json);
  if (!parsed.success) return { why: parsed.error.issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`).join('; ') };
  return { unit: parsed.data };
}

/** Reads the unit record; null when none is configured or the file is absent. A bad file is a warning, not a stop. */
export async function readUnitFile(path: string, warn: (message: string) => void): Promise<UnitInfo | null> {
  if (!path) return null;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (systemErrorCode(err) !== 'ENOENT') warn(`cannot read the unit record ${path}: ${(err as Error).message}`);
    return null;
  }
  const r = parseUnitFile(text);
  if ('why' in r) {
    warn(`the unit record ${path} is not valid (${r.why}); the box's serial and dealer code stay unknown until the production line's file is fixed.`);
    return null;
  }
  return r.unit;
}
