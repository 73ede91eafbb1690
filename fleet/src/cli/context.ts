// What every command shares: global options, configuration and logger, the API client, argument parsers.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger, defaultSink, type Logger } from '../../../lib/log/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { ErrorCode, FleetError } from '../errors.js';
import { FleetClient } from './client.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  url?: string;
  ca?: string;
}

export const DEFAULT_URL = 'https://127.0.0.1:8443';

export function configFrom(cmd: Command, extra: Record<string, unknown> = {}): Config {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ file: g.config, flags: { dataDir: g.dataDir, ...extra } });
}

export function makeLogger(config: Config): Logger {
  return createLogger({ sink: defaultSink('plugsrv-fleet'), level: config.log.level });
}

/**
 * The API client: --url (or PLUGSRV_FLEET_URL, default https://127.0.0.1:8443), --ca (default the data dir's
 * generated root when it exists), and the key from PLUGSRV_FLEET_API_KEY only.
 */
export function clientFrom(cmd: Command): FleetClient {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const url = g.url ?? process.env.PLUGSRV_FLEET_URL ?? DEFAULT_URL;
  let caFile = g.ca;
  if (!caFile) {
    const dataDir = g.dataDir ?? process.env.PLUGSRV_FLEET_DATA_DIR ?? safeDataDir(g.config);
    const generated = join(resolve(dataDir), 'ca', 'root.pem');
    if (existsSync(generated)) caFile = generated;
  }
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new FleetError(ErrorCode.CONFIG, `cannot read --ca ${caFile}: ${(err as Error).message}. Give the fleet's root CA certificate (PEM).`);
    }
  }
  return new FleetClient({ url, ca, apiKey: process.env.PLUGSRV_FLEET_API_KEY });
}

/** The data dir from the config, or the default when there is no usable config (an operator's workstation). */
function safeDataDir(file: string | undefined): string {
  try {
    return loadConfig({ file, env: {} }).dataDir;
  } catch {
    return './plugsrv-fleet-data';
  }
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer from 0 to 65535, not "${value}"`);
  return n;
}

export function parsePositiveInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${value}"`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
