// What every production step gets: the opened DB, the configuration, the fleet client, the documents folder, the operator.
import type { LineConfig } from '../config/index.js';
import type { LineDb } from '../db/index.js';
import type { LineFleet } from '../fleet/index.js';
import type { ProgressSink } from '../progress.js';

export interface LineContext {
  db: LineDb;
  config: LineConfig;
  /** The fleet client; throws E_CONFIG with what to set when the fleet is not configured. */
  fleet(): LineFleet;
  /** Letters and labels are written under `<docsDir>/<order ref>/`. */
  docsDir: string;
  operator: string;
  progress: ProgressSink;
  now(): number;
}
