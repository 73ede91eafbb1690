// Layered configuration shared by the agent and the fleet: defaults < YAML file < <PREFIX>* environment < flags,
// validated by the component's zod schema, with errors that name each bad key, where it came from and what it expects.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';

type Tree = { [key: string]: unknown };

export interface ConfigSources {
  /** Explicit file (from --config or the component's config variable); an error if it does not exist. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Overrides from flags, keyed by dotted path (`serve.port`). */
  flags?: Record<string, unknown>;
}

export interface LayeredConfig<T> {
  schema: z.ZodType<T>;
  /** The schema's defaults (every leaf option with its value). */
  defaults: object;
  /** `PLUGSRV_` or `PLUGSRV_FLEET_`: every option has a variable `<prefix><PATH>`. */
  envPrefix: string;
  /** The variable naming the config file (`PLUGSRV_CONFIG`). */
  configEnv: string;
  /** Other variables with the prefix that are not options (a CLI's own settings). */
  otherEnv?: readonly string[];
  /** Read when it exists and no file is named. */
  defaultFile: string;
  /** A YAML example for the "must hold a mapping" message, e.g. `serve:\n  port: 8080`. */
  example: string;
  /** The component's configuration error (its E_CONFIG), from a message saying what to do. */
  error(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): Error;
}

/** Every leaf option as a dotted path with its default, e.g. `serve.port` -> 8080. */
export function leafPaths(tree: object, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [p, v] of leafPaths(value as Tree, path)) out.set(p, v);
    } else out.set(path, value);
  }
  return out;
}

/** (`PLUGSRV_`, `serve.maxConnections`) -> `PLUGSRV_SERVE_MAX_CONNECTIONS`. */
export function envName(prefix: string, path: string): string {
  return prefix + path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && prev !== null && typeof prev === 'object' && !Array.isArray(prev)) {
      out[key] = deepMerge(prev as Tree, value as Tree);
    } else out[key] = value;
  }
  return out;
}

/** Env values are strings; turn them into the type the option's default has, leaving bad input for the schema to report. */
function coerce(raw: string, like: unknown): unknown {
  if (typeof like === 'number') {
    const n = Number(raw.trim());
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (Array.isArray(like)) return raw.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (typeof like === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
  }
  return raw;
}

function readConfigFile<T>(spec: LayeredConfig<T>, file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw spec.error(`cannot read the configuration file ${file}: ${(err as Error).message}. Check the path given with --config or ${spec.configEnv}.`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw spec.error(`${file} is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}. Fix the syntax and start again.`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw spec.error(`${file} must hold a YAML mapping of options (for example "${spec.example.replace(/\n/g, '\\n')}"), not a ${Array.isArray(doc) ? 'list' : typeof doc}.`);
  }
  return doc as Tree;
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>, known: Iterable<string>): string {
  const path = issue.path.join('.');
  const source = origin.get(path) ?? origin.get(issue.path.slice(0, -1).join('.'));
  const from = source ? ` (from ${source})` : '';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    const sources = [...new Set(keys.map((k) => origin.get(k) ?? [...origin].find(([p]) => p.startsWith(`${k}.`))?.[1]).filter(Boolean))];
    const keyFrom = sources.length > 0 ? ` (from ${sources.join(', ')})` : '';
    return `unknown option ${keys.join(', ')}${keyFrom}; known options are: ${[...known].join(', ')}`;
  }
  return `${path || '(root)'}: ${issue.message}${from}`;
}

/** Loads and validates a configuration; throws the component's config error naming every bad key and what it expects. */
export function loadLayeredConfig<T>(spec: LayeredConfig<T>, sources: ConfigSources = {}): T {
  const env = sources.env ?? process.env;
  const origin = new Map<string, string>();
  let merged: Tree = {};

  const file = sources.file ?? env[spec.configEnv] ?? (existsSync(spec.defaultFile) ? spec.defaultFile : undefined);
  if (file) {
    const fromFile = readConfigFile(spec, file);
    for (const path of leafPaths(fromFile).keys()) origin.set(path, file);
    merged = deepMerge(merged, fromFile);
  }

  const leaves = leafPaths(spec.defaults);
  const envNames = new Map([...leaves.keys()].map((p) => [envName(spec.envPrefix, p), p]));
  const notOptions = new Set([spec.configEnv, ...(spec.otherEnv ?? [])]);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(spec.envPrefix) || notOptions.has(name) || raw === undefined) continue;
    const path = envNames.get(name);
    if (!path) {
      throw spec.error(`unknown environment variable ${name}; known ones are ${[...notOptions, ...envNames.keys()].join(', ')}. Remove it or fix its name.`);
    }
    setPath(merged, path, coerce(raw, leaves.get(path)));
    origin.set(path, `environment ${name}`);
  }

  for (const [path, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path, typeof value === 'string' ? coerce(value, leaves.get(path)) : value);
    origin.set(path, `flag --${path.split('.').pop()?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }

  const parsed = spec.schema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${describeIssue(i, origin, leaves.keys())}`);
    throw spec.error(`invalid configuration:\n${lines.join('\n')}`, { details: { issues: parsed.error.issues } });
  }
  return parsed.data;
}
