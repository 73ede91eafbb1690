// The agent's configuration schema, its defaults, and the types derived from it: the one place options are defined.
import { z } from 'zod';

/** The site keyboards `plugsrv console` translates for (console/layouts.ts has their keys). */
export const KEYBOARD_LAYOUTS = ['fr', 'be', 'ch', 'de', 'gb', 'us', 'es', 'it'] as const;

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

export const configSchema = z
  .object({
    /** Where the state DB and the blob store live. The appliance sets /var/lib/plugsrv. */
    dataDir: z.string().min(1).default('./plugsrv-data'),
    /** The production line's unit record (serial, dealer code, site) as JSON; empty = none. The appliance sets /etc/plugsrv/unit.json. */
    unitFile: z.string().default(''),
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
        readChunkBytes: positiveInt.min(4096).max(16 * 1024 * 1024).default(512 * 1024),
        /** How often a running server re-reads the lock state written by `plugsrv lock`. */
        lockPollMs: positiveInt.default(1000),
        /** Advertise the box on the LAN with DNS-SD (`_plugsrv._tcp`), so `plugsrv fetch` finds it without --server. */
        advertise: z.boolean().default(true),
        /** IPv4 address or interface name to advertise on; empty = serve.host when it is one address, else every interface. */
        advertiseInterface: z.string().default(''),
        /** DNS-SD instance name shown to dealer PCs; empty = `plugsrv-<hostname>`. */
        advertiseName: z.string().max(63).default(''),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    sync: z
      .object({
        /** Base URL of the origin's TUF repository (with metadata/ and targets/); empty = no sync. */
        originUrl: z.string().default(''),
        /** The catalog's root.json this box trusts first (pinned at provisioning). */
        trustedRoot: z.string().default(''),
        /** dockerignore-style patterns over target paths; include empty = all. */
        include: z.array(z.string()).default([]),
        exclude: z.array(z.string()).default([]),
        /** Head units and vehicle project codes this site handles; empty = all. */
        headUnits: z.array(z.string()).default([]),
        models: z.array(z.string()).default([]),
        /** Night window, local time, `HH:MM-HH:MM` (may cross midnight). */
        window: z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'a window such as 22:00-06:30').default('22:00-06:30'),
        /** IANA time zone of the window; empty = the system's. */
        timeZone: z.string().default(''),
        /** Bandwidth cap by night, bytes/s; 0 = no cap. */
        nightRateBytesPerSec: z.number().int().min(0).default(0),
        /** Bandwidth for urgent campaigns (recalls) by day, bytes/s; 0 = no download by day. */
        dayRateBytesPerSec: z.number().int().min(0).default(0),
        /** How often a running agent looks for a new catalog inside the window. */
        intervalMinutes: positiveInt.default(30),
        parallelTargets: positiveInt.max(16).default(2),
        maxConnectionsPerHost: positiveInt.max(32).default(4),
        segmentBytes: positiveInt.default(64 * 1024 * 1024),
        /** Write downloads with O_DIRECT where the filesystem allows it (past the page cache); false = buffered writes. */
        directIo: z.boolean().default(true),
        fetchTimeoutMs: positiveInt.default(30_000),
        /** A synced package no longer selected is deleted after this long (a PC may still be fetching it). */
        gcGraceHours: z.number().min(0).default(72),
      })
      .strict()
      .prefault({}),
    selfcheck: z
      .object({
        /** Flows file replacing the shipped list (agent/src/selfcheck/data/required-flows.yaml); empty = shipped. */
        flowsFile: z.string().default(''),
        /** NTP servers to query, `host` or `host:port`. */
        ntpServers: z.array(z.string().min(1)).default(['time.windows.com']),
        /** DNS servers (`ip` or `ip:port`); empty = the system's (/etc/resolv.conf). */
        dnsServers: z.array(z.string().min(1)).default([]),
        timeoutMs: positiveInt.default(3000),
        /** Probes in flight at once: one slow host cannot stall the report. */
        concurrency: positiveInt.max(256).default(16),
        /** Run once when `plugsrv serve` starts. */
        atStartup: z.boolean().default(true),
        /** Then every N hours; 0 = never. */
        intervalHours: z.number().min(0).max(24 * 7).default(6),
        /** LAN interface to check; empty = the first with a non-internal IPv4 address. */
        lanInterface: z.string().default(''),
        diskWarnFreeBytes: z.number().int().min(0).default(20 * 1024 ** 3),
        diskFailFreeBytes: z.number().int().min(0).default(2 * 1024 ** 3),
        ntpWarnOffsetMs: positiveInt.default(1000),
        ntpFailOffsetMs: positiveInt.default(60_000),
        /** base64 sha256 SPKI pins by host, for our own origin and fleet hosts. */
        pins: z.record(z.string(), z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 sha256 SPKI pin'))).default({}),
        /** Self-check runs kept in the state DB. */
        historySize: positiveInt.default(200),
      })
      .strict()
      .prefault({}),
    fetch: z
      .object({
        /** The catalog's root.json a dealer PC trusts: `plugsrv fetch` then verifies packages against the box's signed metadata. */
        trustedRoot: z.string().default(''),
        /** Where `plugsrv fetch` keeps the signed metadata it verified (rollback protection); empty = the user's cache folder. */
        cacheDir: z.string().default(''),
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
    fleet: z
      .object({
        /** Base URL of the fleet service (https://...): enrollment and renewal; empty = no fleet management. */
        url: z.string().regex(/^(https:\/\/[^\s/?#]+[^\s]*)?$/, 'an https:// URL, or empty').default(''),
        /** false turns the fleet client off even when `url` is set. */
        enabled: z.boolean().default(true),
        /** PEM file of the CA that signs the fleet's server certificate (given at provisioning); empty = the OS trust store. */
        caFile: z.string().default(''),
        /** The single-use bootstrap token the production line wrote; deleted after a successful enrollment. */
        tokenFile: z.string().default('/etc/plugsrv/bootstrap-token'),
        /** Hardware serial sent at enrollment; empty = DMI (/sys/class/dmi/id/product_serial). */
        serial: z.string().default(''),
        /** What the `reboot` command runs (argv, no shell). */
        rebootCommand: z.array(z.string().min(1)).min(1).default(['systemctl', 'reboot']),
      })
      .strict()
      .prefault({}),
    /** `plugsrv console`, the first-boot text UI on tty1 (runs as root: it writes the network set-up). */
    console: z
      .object({
        /** `scrypt$N$r$p$saltB64$hashB64` of the console password, written by the production line; changed from the console. */
        passwordFile: z.string().min(1).default('/etc/plugsrv/console-password'),
        /** Where the `10-plugsrv-<interface>.network` file is written. */
        networkDir: z.string().min(1).default('/etc/systemd/network'),
        /** Interface to set up; empty = the first physical ethernet interface in /sys/class/net. */
        interface: z.string().regex(/^([A-Za-z0-9_.-]{1,15})?$/, 'an interface name such as eth0 or enp1s0').default(''),
        /** networkd: `networkctl reload` + `reconfigure`; iproute2: `ip addr`/`ip route` and resolvConf (no DHCP). */
        applyWith: z.enum(['networkd', 'iproute2']).default('networkd'),
        /** iproute2 only: the resolv.conf written with the DNS servers. */
        resolvConf: z.string().min(1).default('/etc/resolv.conf'),
        /** A change whose link or gateway does not answer within this is rolled back; also the keep-or-revert countdown. */
        rollbackSeconds: positiveInt.min(5).max(600).default(30),
        /** Language at start (F2 switches). */
        lang: z.enum(['fr', 'en']).default('fr'),
        /**
         * The site keyboard's layout (the menu switches it): the kernel reads keys with the US keymap, the console
         * translates them to this layout's characters. The production line sets it from the order.
         */
        keyboard: z.enum(KEYBOARD_LAYOUTS).default('us'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export const DEFAULT_CONFIG: Config = configSchema.parse({});
