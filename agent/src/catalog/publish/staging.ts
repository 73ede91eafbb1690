// The staging list (targets the next publish will sign) and the validation of what `add` is given.
import { z } from 'zod';
import { AgentError, ErrorCode } from '../../errors.js';
import { packageMetaSchema } from '../package.js';
import { readJson, writeJsonAtomic } from './fs-atomic.js';

export const CAMPAIGNS = ['recall', 'compliance', 'part-replacement', 'customer-complaint', 'technical-campaign'] as const;
export type Campaign = (typeof CAMPAIGNS)[number];

function isSafeSegment(segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false;
  return [...segment].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f && c !== '\\' && c !== '"');
}

/** A TUF target path: relative, `/`-separated, no `.`/`..` segments, no backslashes, quotes or control characters. */
export const targetPathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((p) => p.split('/').every(isSafeSegment), {
    message: 'a relative path of names separated by "/", without "." or "..", backslashes, quotes or control characters',
  });

/** The `custom` object of a target: what the agent needs to list and filter the package. */
export const targetCustomSchema = packageMetaSchema
  .omit({ name: true })
  .extend({
    region: z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'a region code such as EU, FR, LATAM').optional(),
    campaign: z.enum(CAMPAIGNS).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    supersedes: targetPathSchema.optional(),
  })
  .strict();
export type TargetCustom = z.infer<typeof targetCustomSchema>;

export const stagedTargetSchema = z
  .object({
    length: z.number().int().min(0),
    hashes: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    custom: targetCustomSchema,
  })
  .strict();
export type StagedTarget = z.infer<typeof stagedTargetSchema>;

const stagingSchema = z.object({ targets: z.record(targetPathSchema, stagedTargetSchema) }).strict();
export type Staging = z.infer<typeof stagingSchema>;

export async function readStaging(path: string): Promise<Staging> {
  const parsed = stagingSchema.safeParse(await readJson(path, 'staging list'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentError(ErrorCode.MANIFEST, `the staging list ${path} is invalid at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function writeStaging(path: string, staging: Staging): Promise<void> {
  await writeJsonAtomic(path, staging);
}

/** `add` flags as the command line gives them: strings, models comma-separated. */
export interface TargetFlags {
  kind?: string;
  headUnit?: string;
  models?: string;
  packageVersion?: string;
  region?: string;
  campaign?: string;
  priority?: string;
  supersedes?: string;
  notes?: string;
  path?: string;
}

/** What `addTargets` records for each file; `path` is the target path (default: the file's base name). */
export interface TargetInput {
  readonly custom: TargetCustom;
  readonly path?: string;
}

const FLAG_OF: Record<string, string> = { headUnit: '--head-unit', version: '--package-version', releaseNotes: '--notes' };

function flagName(key: PropertyKey | undefined): string {
  const name = String(key ?? '');
  return FLAG_OF[name] ?? `--${name}`;
}

function parsePriority(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new AgentError(ErrorCode.IMPORT_INPUT, `--priority must be a whole number from 0 to 1000, not "${text}"`);
  return Number(text);
}

/** Validates the custom fields, naming the flag at fault. */
export function validateCustom(raw: Readonly<Record<string, unknown>>): TargetCustom {
  const parsed = targetCustomSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path[0];
  const problem = field !== undefined && raw[String(field)] === undefined ? 'is required' : `is invalid: ${issue?.message ?? ''}`;
  throw new AgentError(ErrorCode.IMPORT_INPUT, `${flagName(issue?.path[0])} ${problem}`);
}

export function validateTargetPath(path: string): string {
  const parsed = targetPathSchema.safeParse(path);
  if (!parsed.success) throw new AgentError(ErrorCode.IMPORT_INPUT, `"${path}" is not a valid target path: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Turns command-line flags into a validated TargetInput (pure: no file is read). */
export function targetInputFromFlags(flags: TargetFlags): TargetInput {
  const models = flags.models?.split(',').map((m) => m.trim()).filter((m) => m !== '');
  const custom = validateCustom({
    kind: flags.kind,
    headUnit: flags.headUnit,
    models,
    version: flags.packageVersion,
    region: flags.region,
    campaign: flags.campaign,
    priority: parsePriority(flags.priority),
    supersedes: flags.supersedes,
    releaseNotes: flags.notes,
  });
  return { custom: dropUndefined(custom), ...(flags.path === undefined ? {} : { path: validateTargetPath(flags.path) }) };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
