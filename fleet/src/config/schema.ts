// The fleet's configuration schema, its defaults, and the types derived from it: the one place options are defined.
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

export const configSchema = z
  .object({
    /** State DB (fleet.db), generated CA (ca/) and command signing key (keys/). */
    dataDir: z.string().min(1).default('./plugsrv-fleet-data'),
    serve: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(8443),
        /** Names and addresses the generated server certificate covers, besides localhost and 127.0.0.1. */
        publicNames: z.array(z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a DNS name or an IP address')).default([]),
        /** Base URL devices use (https://fleet.example.com); empty = the Host the device enrolled through. */
        publicUrl: z.string().regex(/^$|^https:\/\/[^/?#]+$/, 'an https:// origin without a path, such as https://fleet.example.com').default(''),
        /** Sockets beyond this are refused at accept time (each connected device holds one). */
        maxConnections: positiveInt.default(20_000),
        headersTimeoutMs: positiveInt.default(10_000),
        requestTimeoutMs: positiveInt.default(30_000),
        keepAliveTimeoutMs: positiveInt.default(5_000),
        /** Request bodies beyond this are refused with 413. */
        maxBodyBytes: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        /** Given certificates instead of the generated CA: all five files, or none. PEM. */
        certFile: z.string().default(''),
        keyFile: z.string().default(''),
        rootCaFile: z.string().default(''),
        deviceCaCertFile: z.string().default(''),
        deviceCaKeyFile: z.string().default(''),
      })
      .strict()
      .prefault({}),
    ca: z
      .object({
        /** Validity of device certificates. */
        deviceCertDays: positiveInt.max(825).default(90),
        /** Validity of the generated server certificate (renewed at start when under 30 days are left). */
        serverCertDays: positiveInt.max(825).default(397),
      })
      .strict()
      .prefault({}),
    enroll: z
      .object({
        /** Enrollment attempts one client address may make at once... */
        rateBurst: positiveInt.default(30),
        /** ...and per minute after that (token bucket). */
        ratePerMinute: positiveInt.default(30),
        /** Lifetime of a bootstrap token when `tokens create` gives none. */
        tokenDefaultHours: positiveInt.default(72),
        tokenMaxDays: positiveInt.max(3650).default(90),
      })
      .strict()
      .prefault({}),
    commands: z
      .object({
        /** A command not delivered and answered within this time expires. */
        ttlHours: positiveInt.max(24 * 90).default(24 * 7),
        /** How often expired commands are marked so. */
        expirySweepSeconds: positiveInt.default(60),
      })
      .strict()
      .prefault({}),
    hub: z
      .object({
        /** WebSocket pings; a device that misses one is dropped and shown offline. */
        pingIntervalSeconds: positiveInt.default(30),
        /** Heartbeats are kept in memory and written in one transaction this often. */
        heartbeatFlushMs: positiveInt.max(60_000).default(1000),
        /** Largest device message (a collect-logs result is up to 1 MiB). */
        maxMessageBytes: positiveInt.default(2 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export const DEFAULT_CONFIG: Config = configSchema.parse({});
