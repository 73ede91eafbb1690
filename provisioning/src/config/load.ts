// The line's Config from defaults < YAML file < PLUGSRV_LINE_* environment < flags (lib/config), validated by the schema.
import { loadLayeredConfig, type ConfigSources, type LayeredConfig } from '../../../lib/config/layered.js';
import { ErrorCode, LineError } from '../errors.js';
import { configSchema, DEFAULT_CONFIG, type LineConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/plugsrv/line.yaml';

const spec: LayeredConfig<LineConfig> = {
  schema: configSchema as unknown as LayeredConfig<LineConfig>['schema'],
  defaults: DEFAULT_CONFIG,
  envPrefix: 'PLUGSRV_LINE_',
  configEnv: 'PLUGSRV_LINE_CONFIG',
  defaultFile: DEFAULT_CONFIG_FILE,
  example: 'fleet:\n  url: https://fleet.example.com:8443',
  error: (message, options) => new LineError(ErrorCode.CONFIG, message, options),
};

export function loadConfig(sources: ConfigSources = {}): LineConfig {
  return loadLayeredConfig(spec, sources);
}
