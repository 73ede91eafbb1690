// Watches a server while a scenario runs: its CPU time, its RSS (sampled and kernel peak), and how busy the machine was.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchServer } from './servers.js';
import { busyShare, cpuSeconds, machineCpu, resetPeakRss, statusBytes } from './procfs.js';

const RSS_POLL_MS = 100;
const QUIET_SAMPLE_MS = 500;
const QUIET_MAX_WAIT_MS = 20_000;
const QUIET_BUSY_SHARE = 0.1;

export interface Usage {
  /** Share of all CPUs busy just before the run (other processes on the machine), 0..1; high values make figures unreliable. */
  backgroundBusy: number;
  /** Wall-clock seconds of the scenario. */
  seconds: number;
  /** CPU seconds used by the server's processes. */
  serverCpuSeconds: number;
  /** serverCpuSeconds / seconds: 1.0 is one core fully busy. */
  serverCores: number;
  /** Share of all CPUs of the machine that was busy (server + clients + rest), 0..1. */
  machineBusy: number;
  /** Highest VmRSS seen by 100 ms polling, summed over the server's processes. */
  peakRssSampled: number;
  /** Kernel peak (VmHWM) since the scenario started, summed over the server's processes; 0 if it could not be reset. */
  peakRssKernel: number;
}

/** Waits (bounded) until the machine is nearly idle, so other processes disturb the figures less; returns the last busy share. */
export async function waitForQuiet(): Promise<number> {
  let busy = 1;
  for (let waited = 0; waited < QUIET_MAX_WAIT_MS && busy >= QUIET_BUSY_SHARE; waited += QUIET_SAMPLE_MS) {
    const before = machineCpu();
    await sleep(QUIET_SAMPLE_MS);
    busy = busyShare(before, machineCpu());
  }
  return busy;
}

function sum(pids: number[], read: (pid: number) => number): number {
  return pids.reduce((total, pid) => total + read(pid), 0);
}

/** Runs `work` and reports what the server used meanwhile. */
export async function withUsage<T>(server: BenchServer, work: () => Promise<T>): Promise<{ result: T; usage: Usage }> {
  const backgroundBusy = await waitForQuiet();
  const pids = server.pids();
  const peakResettable = pids.every((pid) => resetPeakRss(pid));
  const cpuBefore = sum(pids, cpuSeconds);
  const machineBefore = machineCpu();
  let peakRssSampled = sum(pids, (pid) => statusBytes(pid, 'VmRSS'));
  const poll = setInterval(() => {
    peakRssSampled = Math.max(peakRssSampled, sum(pids, (pid) => statusBytes(pid, 'VmRSS')));
  }, RSS_POLL_MS);
  const started = performance.now();
  try {
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = sum(pids, cpuSeconds) - cpuBefore;
    return {
      result,
      usage: {
        backgroundBusy,
        seconds,
        serverCpuSeconds,
        serverCores: seconds > 0 ? serverCpuSeconds / seconds : 0,
        machineBusy: busyShare(machineBefore, machineCpu()),
        peakRssSampled,
        peakRssKernel: peakResettable ? sum(pids, (pid) => statusBytes(pid, 'VmHWM')) : 0,
      },
    };
  } finally {
    clearInterval(poll);
  }
}
