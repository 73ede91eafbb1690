// Public surface of the configuration module.
export { loadConfig, envNameOf, leafPaths, DEFAULT_CONFIG_FILE, type ConfigSources } from './load.js';
export { configSchema, DEFAULT_CONFIG, type Config } from './schema.js';
