// Builds the agent's Config from defaults < YAML file < PLUGSRV_* environment < command-line flags (lib/config), validated by the schema.
import { envName, leafPaths as leaves, loadLayeredConfig, type ConfigSources, type LayeredConfig } from '../../../lib/config/layered.js';
import { AgentError, ErrorCode } from '../errors.js';
import { configSchema, DEFAULT_CONFIG, type Config } from './schema.js';

export type { ConfigSources };
export const DEFAULT_CONFIG_FILE = '/etc/plugsrv/plugsrv.yaml';
const ENV_PREFIX = 'PLUGSRV_';

const spec: LayeredConfig<Config> = {
  schema: configSchema as unknown as LayeredConfig<Config>['schema'],
  defaults: DEFAULT_CONFIG,
  envPrefix: ENV_PREFIX,
  configEnv: 'PLUGSRV_CONFIG',
  defaultFile: DEFAULT_CONFIG_FILE,
  example: 'serve:\n  port: 8080',
  error: (message, options) => new AgentError(ErrorCode.CONFIG, message, options),
};

/** Every leaf option as a dotted path with its default, e.g. `serve.port` -> 8080. */
export function leafPaths(tree: object = DEFAULT_CONFIG, prefix = ''): Map<string, unknown> {
  return leaves(tree, prefix);
}

/** `serve.maxConnections` -> `PLUGSRV_SERVE_MAX_CONNECTIONS`. */
export function envNameOf(path: string): string {
  return envName(ENV_PREFIX, path);
}

/** Loads and validates the configuration; throws E_CONFIG naming every bad key and what it expects. */
export function loadConfig(sources: ConfigSources = {}): Config {
  return loadLayeredConfig(spec, sources);
}
