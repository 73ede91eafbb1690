// Parses an import manifest (YAML or JSON): the files to side-load and each one's package metadata.
import { dirname, resolve, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { packageMetaSchema, type PackageMeta } from '../catalog/index.js';
import { AgentError, ErrorCode } from '../errors.js';

export interface ImportItem {
  /** Absolute path of the file to import. */
  path: string;
  meta: PackageMeta;
  /** When given, the file must hash to this value or nothing is imported from it. */
  sha256?: string;
}

const entrySchema = packageMetaSchema
  .extend({
    path: z.string().min(1),
    name: packageMetaSchema.shape.name.optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits').optional(),
  })
  .strict();

const manifestSchema = z.object({ packages: z.array(entrySchema).min(1) }).strict();

/** Paths in a manifest are relative to the manifest's folder, so a disk brought to the site can be imported as it is. */
export function parseManifest(text: string, manifestPath: string): ImportItem[] {
  let doc: unknown;
  try {
    // Every manifest value is a string: the failsafe schema keeps a hash such as 1e50... or a version such as 2.10 as written.
    doc = parseYaml(text, { schema: 'failsafe' });
  } catch (err) {
    throw new AgentError(ErrorCode.MANIFEST, `${manifestPath} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const parsed = manifestSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new AgentError(ErrorCode.MANIFEST, `${manifestPath} is not a valid import manifest:\n${issues}\nEach entry needs path, kind (soft|map), headUnit, models and version.`);
  }
  const base = dirname(resolve(manifestPath));
  return parsed.data.packages.map(({ path, sha256, ...meta }) => {
    const abs = resolve(base, path);
    return { path: abs, meta: { ...meta, name: meta.name ?? basename(abs) }, ...(sha256 ? { sha256 } : {}) };
  });
}

export interface ImportFlags {
  kind?: string;
  headUnit?: string;
  models?: string;
  version?: string;
  notes?: string;
}

/** The same metadata for every PATH given on the command line; the name of each package is its file name. */
export function itemsFromFlags(paths: string[], flags: ImportFlags): ImportItem[] {
  const missing = (['kind', 'headUnit', 'models', 'version'] as const).filter((k) => !flags[k]);
  if (missing.length > 0) {
    const flag = (k: string): string => (k === 'version' ? '--package-version' : `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    const names = missing.map(flag).join(', ');
    throw new AgentError(ErrorCode.IMPORT_INPUT, `missing ${names}: give the package metadata as flags, or use --manifest FILE.`);
  }
  return paths.map((p) => {
    const abs = resolve(p);
    const candidate = {
      name: basename(abs),
      kind: flags.kind,
      headUnit: flags.headUnit,
      models: (flags.models ?? '').split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== ''),
      version: flags.version,
      ...(flags.notes ? { releaseNotes: flags.notes } : {}),
    };
    const parsed = packageMetaSchema.safeParse(candidate);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new AgentError(ErrorCode.IMPORT_INPUT, `invalid package metadata for ${p}: ${issues}`);
    }
    return { path: abs, meta: parsed.data };
  });
}
