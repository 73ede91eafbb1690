// Builds the fleet's Config from defaults < YAML file < PLUGSRV_FLEET_* environment < command-line flags, validated by the schema.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ErrorCode, FleetError } from '../errors.js';
import { configSchema, DEFAULT_CONFIG, type Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/plugsrv/fleet.yaml';
const ENV_PREFIX = 'PLUGSRV_FLEET_';
/** Variables with the prefix that are not options: the config file, and the operator CLI's own settings. */
export const NON_OPTION_ENV = new Set(['PLUGSRV_FLEET_CONFIG', 'PLUGSRV_FLEET_URL', 'PLUGSRV_FLEET_API_KEY']);

type Tree = { [key: string]: unknown };

export interface ConfigSources {
  /** Explicit file (from --config or PLUGSRV_FLEET_CONFIG); an error if it does not exist. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Overrides from flags, keyed by dotted path (`serve.port`). */
  flags?: Record<string, unknown>;
}

/** Every leaf option as a dotted path with its default, e.g. `serve.port` -> 8443. */
export function leafPaths(tree: Tree = DEFAULT_CONFIG as unknown as Tree, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [p, v] of leafPaths(value as Tree, path)) out.set(p, v);
    } else out.set(path, value);
  }
  return out;
}

/** `serve.maxConnections` -> `PLUGSRV_FLEET_SERVE_MAX_CONNECTIONS`. */
export function envNameOf(path: string): string {
  return ENV_PREFIX + path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
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

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetError(ErrorCode.CONFIG, `cannot read the configuration file ${file}: ${(err as Error).message}. Check the path given with --config or PLUGSRV_FLEET_CONFIG.`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw new FleetError(ErrorCode.CONFIG, `${file} is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}. Fix the syntax and start again.`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new FleetError(ErrorCode.CONFIG, `${file} must hold a YAML mapping of options (for example "serve:\\n  port: 8443"), not a ${Array.isArray(doc) ? 'list' : typeof doc}.`);
  }
  return doc as Tree;
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string {
  const path = issue.path.join('.');
  const source = origin.get(path) ?? origin.get(issue.path.slice(0, -1).join('.'));
  const from = source ? ` (from ${source})` : '';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    const sources = [...new Set(keys.map((k) => origin.get(k) ?? [...origin].find(([p]) => p.startsWith(`${k}.`))?.[1]).filter(Boolean))];
    const keyFrom = sources.length > 0 ? ` (from ${sources.join(', ')})` : '';
    return `unknown option ${keys.join(', ')}${keyFrom}; known options are: ${[...leafPaths().keys()].join(', ')}`;
  }
  return `${path || '(root)'}: ${issue.message}${from}`;
}

/** Given certificates come as a set: all five files or none (the generated CA is used then). */
function checkTlsFiles(config: Config): void {
  const files = Object.entries(config.tls);
  const given = files.filter(([, v]) => v !== '');
  if (given.length > 0 && given.length < files.length) {
    const missing = files.filter(([, v]) => v === '').map(([k]) => `tls.${k}`);
    throw new FleetError(
      ErrorCode.CONFIG,
      `invalid configuration: given certificates need all of tls.certFile, tls.keyFile, tls.rootCaFile, tls.deviceCaCertFile and tls.deviceCaKeyFile; missing ${missing.join(', ')}. Give them all, or none to use the CA generated in <dataDir>/ca.`,
    );
  }
}

/** Loads and validates the configuration; throws E_CONFIG naming every bad key and what it expects. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const origin = new Map<string, string>();
  let merged: Tree = {};

  const file = sources.file ?? env.PLUGSRV_FLEET_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) {
    const fromFile = readConfigFile(file);
    for (const path of leafPaths(fromFile).keys()) origin.set(path, file);
    merged = deepMerge(merged, fromFile);
  }

  const leaves = leafPaths();
  const envNames = new Map([...leaves.keys()].map((p) => [envNameOf(p), p]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_OPTION_ENV.has(name) || raw === undefined) continue;
    const path = envNames.get(name);
    if (!path) {
      throw new FleetError(ErrorCode.CONFIG, `unknown environment variable ${name}; known ones are ${[...NON_OPTION_ENV, ...envNames.keys()].join(', ')}. Remove it or fix its name.`);
    }
    setPath(merged, path, coerce(raw, leaves.get(path)));
    origin.set(path, `environment ${name}`);
  }

  for (const [path, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path, typeof value === 'string' ? coerce(value, leaves.get(path)) : value);
    origin.set(path, `flag --${path.split('.').pop()?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${describeIssue(i, origin)}`);
    throw new FleetError(ErrorCode.CONFIG, `invalid configuration:\n${lines.join('\n')}`, { details: { issues: parsed.error.issues } });
  }
  checkTlsFiles(parsed.data);
  return parsed.data;
}
