// Global options of `plugsrv-line`, the configuration, and the opened parts a command needs (DB, fleet, documents).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type LineConfig } from '../config/index.js';
import { openLineDb, type LineState } from '../db/index.js';
import { ErrorCode, LineError } from '../errors.js';
import { LineFleet } from '../fleet/index.js';
import type { LineContext } from '../produce/context.js';
import { noProgress, type ProgressSink } from '../progress.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  fleetUrl?: string;
  fleetCa?: string;
  operator?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function configOf(cmd: Command): LineConfig {
  const g = globalOptions(cmd);
  const flags: Record<string, unknown> = {};
  if (g.dataDir) flags.dataDir = g.dataDir;
  if (g.fleetUrl) flags['fleet.url'] = g.fleetUrl;
  if (g.fleetCa) flags['fleet.caFile'] = g.fleetCa;
  if (g.operator) flags.operator = g.operator;
  return loadConfig({ file: g.config, flags });
}

function operatorOf(config: LineConfig): string {
  if (config.operator) return config.operator;
  const sudo = process.env.SUDO_USER;
  if (sudo) return sudo;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Opens the line DB and builds the context; `close()` when done. */
export async function openContext(cmd: Command, progress: ProgressSink = noProgress): Promise<{ ctx: LineContext; state: LineState; close(): void }> {
  const config = configOf(cmd);
  const state = await openLineDb(join(config.dataDir, 'plugsrv-line.db'));
  let fleet: LineFleet | undefined;
  const ctx: LineContext = {
    db: state.db,
    config,
    docsDir: join(config.dataDir, 'documents'),
    operator: operatorOf(config),
    progress,
    now: Date.now,
    fleet() {
      if (fleet) return fleet;
      if (!config.fleet.url) throw new LineError(ErrorCode.CONFIG, 'the fleet is not configured: set fleet.url in the line configuration, PLUGSRV_LINE_FLEET_URL, or --fleet-url.');
      let ca: string | undefined;
      if (config.fleet.caFile) {
        try {
          ca = readFileSync(config.fleet.caFile, 'utf8');
        } catch (err) {
          throw new LineError(ErrorCode.CONFIG, `cannot read the fleet CA ${config.fleet.caFile}: ${(err as Error).message}.`, { cause: err });
        }
      }
      fleet = new LineFleet({ url: config.fleet.url, ca, apiKey: process.env.PLUGSRV_FLEET_API_KEY });
      return fleet;
    },
  };
  return { ctx, state, close: () => state.close() };
}

/** Runs `fn` with an opened context and always closes the DB. */
export async function withContext<T>(cmd: Command, fn: (ctx: LineContext) => Promise<T>, progress?: ProgressSink): Promise<T> {
  const opened = await openContext(cmd, progress);
  try {
    return await fn(opened.ctx);
  } finally {
    opened.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
