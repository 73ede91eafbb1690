// Loads hardware profiles from YAML: errors name the file, the key path and its line, and say what to fix.
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { packageRoot } from '../../../lib/package-root.js';
import { HardwareError, HwErrorCode } from '../errors.js';
import { profileSchema, type Profile } from './schema.js';

/** The profiles shipped with plugsrv. */
export function defaultProfilesDir(): string {
  return join(packageRoot(), 'hardware', 'profiles');
}

export interface LoadedProfile {
  profile: Profile;
  /** The file it came from. */
  file: string;
}

function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  // The deepest node that exists along the path (a missing key is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    if (node && Array.isArray(node.range)) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Parses and validates one profile's text; `file` is used in messages only. */
export function parseProfile(textContent: string, file: string): Profile {
  const lc = new LineCounter();
  const doc = parseDocument(textContent, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos ? ` (line ${e.linePos[0].line})` : '';
    throw new HardwareError(HwErrorCode.PROFILE, `${file}${where} is not valid YAML: ${e.message.split('\n')[0]}. Fix the file.`);
  }
  const parsed = profileSchema.safeParse(doc.toJS());
  if (parsed.success) {
    const ids = new Set<string>();
    for (const [i, b] of parsed.data.bios.entries()) {
      if (ids.has(b.id)) throw new HardwareError(HwErrorCode.PROFILE, `${file}: bios.${i}.id (line ${lineOf(doc, lc, ['bios', i, 'id'])}): "${b.id}" appears twice; BIOS item ids must be unique.`);
      ids.add(b.id);
    }
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
    const line = lineOf(doc, lc, path);
    const key = path.map(String).join('.') || '(top level)';
    return `${key}${line !== undefined ? ` (line ${line})` : ''}: ${issue.message}`;
  });
  throw new HardwareError(HwErrorCode.PROFILE, `${file} is not a valid hardware profile: ${problems.join('; ')}. Fix the file (see hardware/profiles/ for examples).`, {
    details: { file, problems },
  });
}

export async function loadProfileFile(file: string): Promise<LoadedProfile> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw new HardwareError(HwErrorCode.PROFILE, `cannot read the hardware profile ${file}: ${(err as Error).message}.`, { cause: err });
  }
  return { profile: parseProfile(content, file), file };
}

/** Every profile in a directory (`*.yaml`), sorted by id; a profile whose id differs from its file name is refused. */
export async function listProfiles(dir = defaultProfilesDir()): Promise<LoadedProfile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (err) {
    throw new HardwareError(HwErrorCode.PROFILE, `cannot list hardware profiles in ${dir}: ${(err as Error).message}.`, { cause: err });
  }
  const out: LoadedProfile[] = [];
  for (const name of names) {
    const loaded = await loadProfileFile(join(dir, name));
    const stem = basename(name, extname(name));
    if (loaded.profile.id !== stem) throw new HardwareError(HwErrorCode.PROFILE, `${loaded.file}: id "${loaded.profile.id}" must equal the file name "${stem}".`);
    out.push(loaded);
  }
  return out;
}

/**
 * A profile by name (a file stem in `dir`, e.g. `dell-optiplex-7010-micro`) or by path (anything with a `/` or a
 * `.yaml` ending: a profile of one's own, e.g. a test profile with other thresholds).
 */
export async function loadProfile(nameOrPath: string, dir = defaultProfilesDir()): Promise<LoadedProfile> {
  if (nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath)) return loadProfileFile(nameOrPath);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(nameOrPath)) throw new HardwareError(HwErrorCode.PROFILE, `"${nameOrPath}" is not a profile name (lower-case letters, digits and dashes) nor a path to a .yaml file.`);
  const file = join(dir, `${nameOrPath}.yaml`);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.yaml')).map((n) => basename(n, '.yaml')).sort();
  } catch (err) {
    throw new HardwareError(HwErrorCode.PROFILE, `cannot list hardware profiles in ${dir}: ${(err as Error).message}.`, { cause: err });
  }
  if (!names.includes(nameOrPath)) {
    throw new HardwareError(HwErrorCode.PROFILE, `no hardware profile "${nameOrPath}" in ${dir}. Known profiles: ${names.join(', ') || 'none'} (\`plugsrv hw profiles\` lists them).`);
  }
  const loaded = await loadProfileFile(file);
  if (loaded.profile.id !== nameOrPath) throw new HardwareError(HwErrorCode.PROFILE, `${file}: id "${loaded.profile.id}" must equal the file name "${nameOrPath}".`);
  return loaded;
}
