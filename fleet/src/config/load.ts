// Builds the fleet's Config from defaults < YAML file < PLUGSRV_FLEET_* environment < command-line flags (lib/config), validated by the schema.
import { envName, leafPaths as leaves, loadLayeredConfig, type ConfigSources, type LayeredConfig } from '../../../lib/config/layered.js';
import { ErrorCode, FleetError } from '../errors.js';
import { configSchema, DEFAULT_CONFIG, type Config } from './schema.js';

export type { ConfigSources };
export const DEFAULT_CONFIG_FILE = '/etc/plugsrv/fleet.yaml';
const ENV_PREFIX = 'PLUGSRV_FLEET_';
/** Variables with the prefix that are not options: the config file, and the operator CLI's own settings. */
export const NON_OPTION_ENV = new Set(['PLUGSRV_FLEET_CONFIG', 'PLUGSRV_FLEET_URL', 'PLUGSRV_FLEET_API_KEY']);

const spec: LayeredConfig<Config> = {
  schema: configSchema as unknown as LayeredConfig<Config>['schema'],
  defaults: DEFAULT_CONFIG,
  envPrefix: ENV_PREFIX,
  configEnv: 'PLUGSRV_FLEET_CONFIG',
  otherEnv: [...NON_OPTION_ENV],
  defaultFile: DEFAULT_CONFIG_FILE,
  example: 'serve:\n  port: 8443',
  error: (message, options) => new FleetError(ErrorCode.CONFIG, message, options),
};

/** Every leaf option as a dotted path with its default, e.g. `serve.port` -> 8443. */
export function leafPaths(tree: object = DEFAULT_CONFIG, prefix = ''): Map<string, unknown> {
  return leaves(tree, prefix);
}

/** `serve.maxConnections` -> `PLUGSRV_FLEET_SERVE_MAX_CONNECTIONS`. */
export function envNameOf(path: string): string {
  return envName(ENV_PREFIX, path);
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
  const config = loadLayeredConfig(spec, sources);
  checkTlsFiles(config);
  return config;
}
