// What every command shares: global options, configuration and logger from them, argument parsers.
import type { Command } from 'commander';
import { createLogger, defaultSink, type Logger } from '../../../lib/log/index.js';
import { loadConfig, type Config } from '../config/index.js';
import type { SelfcheckEnv } from '../selfcheck/index.js';
import { trustedMetadataExpiry } from '../sync/index.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

export function configFrom(cmd: Command, extra: Record<string, unknown> = {}): Config {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ file: g.config, flags: { dataDir: g.dataDir, ...extra } });
}

export function makeLogger(config: Config): Logger {
  return createLogger({ sink: defaultSink('plugsrv'), level: config.log.level });
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer from 0 to 65535, not "${value}"`);
  return n;
}

/** What the self-check reads from the rest of the agent: the clock, the environment, the signed catalog's expiry. */
export async function selfcheckEnv(dataDir: string): Promise<SelfcheckEnv> {
  const metadataExpiresAt = await trustedMetadataExpiry(dataDir);
  return { clock: Date.now, env: process.env, ...(metadataExpiresAt !== undefined ? { signedTimes: { metadataExpiresAt } } : {}) };
}

