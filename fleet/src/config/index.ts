// Public surface of the fleet's configuration module.
export { loadConfig, envNameOf, leafPaths, DEFAULT_CONFIG_FILE, NON_OPTION_ENV, type ConfigSources } from './load.js';
export { configSchema, DEFAULT_CONFIG, type Config } from './schema.js';
