// The line station's configuration: where its DB and documents live, the fleet, what every unit's agent gets.
import { z } from 'zod';

export const configSchema = z
  .object({
    /** The line DB (plugsrv-line.db) and the documents folder (letters, labels) live here. */
    dataDir: z.string().min(1).default('./plugsrv-line-data'),
    /** Who runs the station (recorded on every step); empty = the login name. */
    operator: z.string().max(64).default(''),
    fleet: z
      .object({
        /** https URL of the fleet: tokens are minted there, replaced units retired there. */
        url: z.string().regex(/^(https:\/\/[^\s/?#]+[^\s]*)?$/, 'an https:// URL, or empty').default(''),
        /** The URL the units use to reach the fleet, when it differs from the line's (empty = url). */
        unitUrl: z.string().regex(/^(https:\/\/[^\s/?#]+[^\s]*)?$/, 'an https:// URL, or empty').default(''),
        /** PEM file of the fleet's root CA: the line trusts it, and every unit gets it. */
        caFile: z.string().default(''),
        /** Lifetime of a minted bootstrap token: the unit must reach the dealer and first boot within it. */
        tokenHours: z.number().int().min(1).max(24 * 90).default(24 * 45),
      })
      .strict()
      .prefault({}),
    unit: z
      .object({
        /** YAML of the agent configuration every unit gets (origin URL, sync window ...); empty = the image's defaults. */
        siteTemplate: z.string().default(''),
        /** The catalog's root.json every unit pins (sync.trustedRoot on the unit); empty = none written. */
        catalogRoot: z.string().default(''),
      })
      .strict()
      .prefault({}),
    /** Burn-in run on the unit by `produce --burnin`: quick | standard | extended (hardware/'s levels). */
    burninLevel: z.enum(['quick', 'standard', 'extended']).default('quick'),
  })
  .strict();

export type LineConfig = z.infer<typeof configSchema>;
export const DEFAULT_CONFIG: LineConfig = configSchema.parse({});
