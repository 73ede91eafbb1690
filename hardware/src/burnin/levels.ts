// Burn-in levels as data: how long each stress runs and how much memory and disk it uses. `scale` multiplies every
// duration and size (a trial or a test runs the same steps shorter and smaller); floors keep each step meaningful.
import type { Level } from './types.js';

const MiB = 1024 * 1024;

export interface LevelSpec {
  level: Level;
  scale: number;
  cpuSeconds: number;
  memorySeconds: number;
  /** stress-ng --vm memory, as a share of the memory available at the start, capped. */
  memoryShare: number;
  memoryMaxBytes: number;
  /** memtester memory, as a share of available memory, capped, and its loop count. */
  memtesterShare: number;
  memtesterMaxBytes: number;
  memtesterLoops: number;
  fioSeqBytes: number;
  /** Per direction (write, then read). */
  fioSeqSeconds: number;
  fioRandBytes: number;
  fioRandSeconds: number;
  iperfSeconds: number;
  /** How long the RTC is watched to see it tick. */
  rtcSeconds: number;
}

/**
 * The levels as defined (scale 1). quick is a sanity check for the line's first look and CI (~30-45 s on a 2-core VM);
 * standard ~25 min; extended ~3 h on a 16 GB unit.
 */
export const LEVEL_SPECS: Readonly<Record<Level, Omit<LevelSpec, 'scale'>>> = {
  quick: {
    level: 'quick',
    cpuSeconds: 8,
    memorySeconds: 5,
    memoryShare: 0.05,
    memoryMaxBytes: 256 * MiB,
    memtesterShare: 0.02,
    memtesterMaxBytes: 16 * MiB,
    memtesterLoops: 1,
    fioSeqBytes: 128 * MiB,
    fioSeqSeconds: 2,
    fioRandBytes: 64 * MiB,
    fioRandSeconds: 2,
    iperfSeconds: 3,
    rtcSeconds: 2,
  },
  standard: {
    level: 'standard',
    cpuSeconds: 600,
    memorySeconds: 300,
    memoryShare: 0.5,
    memoryMaxBytes: 64 * 1024 * MiB,
    memtesterShare: 0.1,
    memtesterMaxBytes: 1024 * MiB,
    memtesterLoops: 1,
    fioSeqBytes: 4096 * MiB,
    fioSeqSeconds: 60,
    fioRandBytes: 1024 * MiB,
    fioRandSeconds: 60,
    iperfSeconds: 30,
    rtcSeconds: 10,
  },
  extended: {
    level: 'extended',
    cpuSeconds: 3600,
    memorySeconds: 1800,
    memoryShare: 0.7,
    memoryMaxBytes: 64 * 1024 * MiB,
    memtesterShare: 0.5,
    memtesterMaxBytes: 64 * 1024 * MiB,
    memtesterLoops: 2,
    fioSeqBytes: 16384 * MiB,
    fioSeqSeconds: 300,
    fioRandBytes: 4096 * MiB,
    fioRandSeconds: 300,
    iperfSeconds: 120,
    rtcSeconds: 60,
  },
};

export function levelSpec(level: Level, scale = 1): LevelSpec {
  const base = LEVEL_SPECS[level];
  const s = (v: number, floor: number): number => Math.max(floor, Math.round(v * scale));
  const b = (v: number, floor: number): number => Math.max(floor, Math.round((v * scale) / MiB) * MiB);
  return {
    ...base,
    scale,
    cpuSeconds: s(base.cpuSeconds, 1),
    memorySeconds: s(base.memorySeconds, 1),
    memoryMaxBytes: b(base.memoryMaxBytes, 16 * MiB),
    memtesterMaxBytes: b(base.memtesterMaxBytes, 4 * MiB),
    fioSeqBytes: b(base.fioSeqBytes, 16 * MiB),
    fioSeqSeconds: s(base.fioSeqSeconds, 1),
    fioRandBytes: b(base.fioRandBytes, 16 * MiB),
    fioRandSeconds: s(base.fioRandSeconds, 1),
    iperfSeconds: s(base.iperfSeconds, 1),
    // Two seconds at least: since_epoch counts whole seconds, so a shorter watch cannot tell a stopped clock.
    rtcSeconds: s(base.rtcSeconds, 2),
  };
}

/** Bytes for a memory step: a share of what is available, capped, in whole MiB, at least 4 MiB. */
export function memoryBytes(availableBytes: number, share: number, maxBytes: number): number {
  return Math.max(4 * MiB, Math.floor(Math.min(availableBytes * share, maxBytes) / MiB) * MiB);
}
