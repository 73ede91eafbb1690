// The agent's configuration schema, its defaults, and the types derived from it: the one place options are defined.
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

export const configSchema = z
  .object({
    /** Where the state DB and the blob store live. The appliance sets /var/lib/plugsrv. */
    dataDir: z.string().min(1).default('./plugsrv-data'),
    serve: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(8080),
        /** Connections beyond this are refused at accept time. */
        maxConnections: positiveInt.default(512),
        /** Time allowed to receive the request headers (slowloris guard). */
        headersTimeoutMs: positiveInt.default(10_000),
        /** Time allowed to receive the whole request (not the response: downloads take long). */
        requestTimeoutMs: positiveInt.default(30_000),
        /** Idle keep-alive sockets are closed after this. */
        keepAliveTimeoutMs: positiveInt.default(5_000),
        /** A response socket that accepts no data for this long is destroyed. */
        idleSocketTimeoutMs: positiveInt.default(120_000),
        /** Read size when streaming a blob. Bigger chunks mean fewer syscalls on the hot path. */
        readChunkBytes: positiveInt.min(4096).max(16 * 1024 * 1024).default(1024 * 1024),
        /** How often a running server re-reads the lock state written by `plugsrv lock`. */
        lockPollMs: positiveInt.default(1000),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        /** Import and sync refuse to leave less than this free on the store's filesystem. */
        reserveBytes: z.number().int().min(0).default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export const DEFAULT_CONFIG: Config = configSchema.parse({});
