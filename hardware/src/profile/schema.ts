// What a hardware profile is (hardware/profiles/*.yaml): how to recognise the model, what it must have, the BIOS
// settings the role needs, and the burn-in thresholds. Validated with zod; every key is checked (strict objects).
import { z } from 'zod';

const text = z.string().trim().min(1);
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const oneOrMore = z.array(text).min(1);
const positive = z.number().positive();
const count = z.number().int().min(0);
const regex = text.refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'a valid regular expression' },
);

/** DMI fields (/sys/class/dmi/id) that identify the model; each lists the accepted values, compared exactly after trimming. */
const matchSchema = z.strictObject({
  sysVendor: oneOrMore,
  productName: oneOrMore,
  boardVendor: oneOrMore.optional(),
  boardName: oneOrMore.optional(),
  /** Dell's 4-hex-digit system ID (product_sku), the most precise identifier when known. */
  productSku: oneOrMore.optional(),
});

export const DISK_TYPES = ['nvme', 'ssd', 'hdd', 'virtual'] as const;

const requiresSchema = z.strictObject({
  cpu: z
    .strictObject({
      minCores: z.number().int().min(1),
      minThreads: z.number().int().min(1).optional(),
      /** /proc/cpuinfo vendor_id values accepted, e.g. GenuineIntel. */
      vendors: oneOrMore.optional(),
    })
    .optional(),
  memory: z
    .strictObject({
      /** Installed memory the role needs, in GiB. */
      minGiB: positive,
      /** MemTotal is lower than what is installed (firmware, integrated graphics, kernel): accept this much less, in %. */
      tolerancePercent: z.number().min(0).max(30).default(8),
    })
    .optional(),
  disk: z
    .strictObject({
      types: z.array(z.enum(DISK_TYPES)).min(1),
      /** Marketed size in GB (10^9 bytes), as on the spec sheet. */
      minGB: positive,
    })
    .optional(),
  nic: z
    .strictObject({
      /** Kernel drivers accepted for the wired NIC (e1000e = Intel I219, r8169 = Realtek). */
      drivers: oneOrMore.optional(),
      minSpeedMbps: z.number().int().positive(),
      /** The role's cable is plugged in during the check: no link is a failure. */
      linkRequired: z.boolean().default(true),
    })
    .optional(),
  tpm: z.strictObject({ version: z.literal('2.0') }).optional(),
  firmware: z
    .strictObject({
      /** true = must boot in UEFI mode, false = legacy; absent = either. */
      uefi: z.boolean().optional(),
      secureBoot: z.enum(['enabled', 'disabled', 'any']),
    })
    .optional(),
  usb3: z
    .strictObject({
      /** Physical USB 3.x ports on the unit (spec sheet); the SuperSpeed root hubs must offer at least this many. */
      minPorts: z.number().int().min(1),
      /** Where they are, for the person who counts them. */
      layout: text.optional(),
    })
    .optional(),
});

/**
 * A BIOS setting the role needs. Each `read` source is used when Linux can read it on this unit; when none can, the item
 * becomes a checklist entry a person attests, following `howTo`.
 */
const biosSchema = z
  .strictObject({
    id: slug,
    title: text,
    /** A firmware attribute (/sys/class/firmware-attributes/<driver>/attributes/<name>/current_value, dell-wmi-sysman). */
    firmwareAttribute: z.strictObject({ name: text, expect: oneOrMore }).optional(),
    /** The first entry of the UEFI BootOrder must have a description matching this regular expression. */
    efiBootFirst: regex.optional(),
    /** No entry of the UEFI BootOrder may be a USB device (evidence only: an absent USB entry proves nothing). */
    efiNoUsbBoot: z.literal(true).optional(),
    /** The BIOS admin (setup) password is set (firmware-attributes authentication/Admin/is_enabled). */
    adminPasswordSet: z.literal(true).optional(),
    /** What to do in BIOS setup, for the person when it must be attested or fixed. */
    howTo: text,
  });

const step = { required: z.boolean().default(true) };

const burninSchema = z.strictObject({
  cpu: z
    .strictObject({
      ...step,
      maxTempC: positive,
      /** Fail when no temperature sensor is readable (real hardware always has one). */
      requireTemperature: z.boolean().default(true),
      minBogoOpsPerSec: positive.optional(),
      /** Thermal throttle events (Intel core/package throttle counters) allowed during the stress; absent = reported only. */
      maxThrottleEvents: count.optional(),
    })
    .default({ required: true, maxTempC: 95, requireTemperature: true }),
  memory: z.strictObject({ ...step }).default({ required: true }),
  memtester: z.strictObject({ ...step }).default({ required: true }),
  disk: z
    .strictObject({
      ...step,
      minSeqReadMBps: positive,
      minSeqWriteMBps: positive,
      minRandReadIops: positive,
      minRandWriteIops: positive,
    }),
  smart: z
    .strictObject({
      ...step,
      maxTempC: positive.default(70),
      maxPercentageUsed: count.default(10),
      maxMediaErrors: count.default(0),
      maxReallocatedSectors: count.default(0),
      maxPendingSectors: count.default(0),
    })
    .default({ required: true, maxTempC: 70, maxPercentageUsed: 10, maxMediaErrors: 0, maxReallocatedSectors: 0, maxPendingSectors: 0 }),
  nic: z.strictObject({ ...step, minSpeedMbps: z.number().int().positive() }).default({ required: true, minSpeedMbps: 1000 }),
  iperf: z.strictObject({ minMbps: positive }).default({ minMbps: 900 }),
  tpm: z.strictObject({ ...step }).default({ required: true }),
  rtc: z
    .strictObject({
      ...step,
      maxDriftSeconds: positive.default(5),
      /** An RTC reading before this year means the coin cell is flat (the clock reset to the BIOS's epoch). */
      minYear: z.number().int().min(2000).default(2024),
    })
    .default({ required: true, maxDriftSeconds: 5, minYear: 2024 }),
});

export const profileSchema = z.strictObject({
  version: z.literal(1),
  id: slug,
  name: text,
  /** Where the figures come from, shown in reports. */
  source: text,
  /** false until the profile was checked against a real unit (reports say so). */
  verified: z.boolean(),
  match: matchSchema,
  requires: requiresSchema,
  bios: z.array(biosSchema).default([]),
  burnin: burninSchema,
});

export type Profile = z.infer<typeof profileSchema>;
export type BiosSetting = Profile['bios'][number];
export type BurninThresholds = Profile['burnin'];
export type DiskType = (typeof DISK_TYPES)[number];
