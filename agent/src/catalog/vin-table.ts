// Loads the VIN-prefix table (data file) and resolves a VIN to the vehicle project codes it belongs to.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../../../lib/package-root.js';
import { AgentError, ErrorCode } from '../errors.js';

const tableSchema = z
  .object({
    version: z.literal(1),
    checkDigitWmis: z.array(z.string().regex(/^[A-HJ-NPR-Z0-9]{3}$/)).default([]),
    prefixes: z.array(
      z
        .object({
          prefix: z.string().regex(/^[A-HJ-NPR-Z0-9]{3,16}$/, 'a VIN prefix: 3 to 16 VIN characters'),
          models: z.array(z.string().min(1)).min(1),
          line: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict();

export interface VinTable {
  readonly checkDigitWmis: ReadonlySet<string>;
  /** Vehicle project codes for the VIN, from the longest matching prefix; empty when none matches. */
  modelsFor(vin: string): readonly string[];
}

export const DEFAULT_VIN_TABLE_FILE = join(packageRoot(), 'agent', 'src', 'catalog', 'data', 'vin-prefixes.yaml');

export function vinTableFrom(doc: unknown, source = 'VIN table'): VinTable {
  const parsed = tableSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AgentError(ErrorCode.CONFIG, `${source} is invalid: ${issues}`);
  }
  const entries = [...parsed.data.prefixes].sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    checkDigitWmis: new Set(parsed.data.checkDigitWmis),
    modelsFor(vin) {
      return entries.find((e) => vin.startsWith(e.prefix))?.models ?? [];
    },
  };
}

export function loadVinTable(file = DEFAULT_VIN_TABLE_FILE): VinTable {
  return vinTableFrom(parseYaml(readFileSync(file, 'utf8')), file);
}
