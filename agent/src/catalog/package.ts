// The Package a dealer PC can download, and the metadata an import or a sync must supply for it.
import { z } from 'zod';

export const PACKAGE_KINDS = ['soft', 'map'] as const;
export type PackageKind = (typeof PACKAGE_KINDS)[number];

/** What describes a package besides its bytes; validated the same way from flags, manifests and the catalog. */
export const packageMetaSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^/\\\0\r\n"]+$/, 'a file name without slashes, quotes or control characters'),
    kind: z.enum(PACKAGE_KINDS),
    headUnit: z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9 ._+-]*$/, 'a head unit name such as R-LINK2, EASY-LINK, OPENR-LINK, IVI'),
    models: z.array(z.string().regex(/^[A-Z0-9]{2,8}$/, 'a vehicle project code such as XFK, BJA, HHN')).min(1),
    version: z.string().min(1).max(64),
    releaseNotes: z.string().max(20_000).optional(),
  })
  .strict();

export type PackageMeta = z.infer<typeof packageMetaSchema>;

export interface Package extends PackageMeta {
  /** sha256 of the bytes, lowercase hex: the package's id. */
  readonly id: string;
  readonly size: number;
  readonly source: 'import' | 'sync';
  /** Milliseconds since the epoch. */
  readonly addedAt: number;
}

/** The JSON shape of a package in /v1/packages. */
export function packageToJson(p: Package): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    size: p.size,
    kind: p.kind,
    headUnit: p.headUnit,
    models: p.models,
    version: p.version,
    addedAt: new Date(p.addedAt).toISOString(),
    ...(p.releaseNotes ? { releaseNotes: p.releaseNotes } : {}),
  };
}
