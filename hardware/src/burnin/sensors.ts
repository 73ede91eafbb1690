// Temperatures and CPU state read from sysfs during a stress step: hwmon (coretemp, k10temp, nvme), thermal zones as a
// fallback, CPU frequency, Intel's thermal throttle counters. Read through a SysReader so tests use fixture trees.
import type { SysReader } from '../detect/index.js';

/** hwmon drivers that measure the CPU package or cores. */
const CPU_SENSORS = new Set(['coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'x86_pkg_temp']);

export interface TempReading {
  /** The hottest CPU sensor, °C; null when no CPU sensor exists. */
  cpuC: number | null;
  /** The hottest NVMe sensor, °C. */
  nvmeC: number | null;
}

async function hwmonMax(r: SysReader, accept: (name: string) => boolean): Promise<number | null> {
  let max: number | null = null;
  for (const h of await r.list('/sys/class/hwmon')) {
    const base = `/sys/class/hwmon/${h}`;
    const name = (await r.text(`${base}/name`))?.trim() ?? '';
    if (!accept(name)) continue;
    for (const f of await r.list(base)) {
      if (!/^temp\d+_input$/.test(f)) continue;
      const milli = Number((await r.text(`${base}/${f}`))?.trim());
      if (Number.isFinite(milli) && milli > -40000 && milli < 150000) max = Math.max(max ?? -Infinity, milli / 1000);
    }
  }
  return max;
}

async function thermalZoneMax(r: SysReader): Promise<number | null> {
  let max: number | null = null;
  for (const z of await r.list('/sys/class/thermal')) {
    if (!z.startsWith('thermal_zone')) continue;
    const type = (await r.text(`/sys/class/thermal/${z}/type`))?.trim() ?? '';
    if (!/^(x86_pkg_temp|cpu|acpitz|soc)/i.test(type)) continue;
    const milli = Number((await r.text(`/sys/class/thermal/${z}/temp`))?.trim());
    if (Number.isFinite(milli) && milli > 0 && milli < 150000) max = Math.max(max ?? -Infinity, milli / 1000);
  }
  return max;
}

export async function readTemperatures(r: SysReader): Promise<TempReading> {
  const cpuC = (await hwmonMax(r, (n) => CPU_SENSORS.has(n))) ?? (await thermalZoneMax(r));
  const nvmeC = await hwmonMax(r, (n) => n === 'nvme');
  return { cpuC, nvmeC };
}

/** The mean current CPU frequency in MHz (cpufreq, else /proc/cpuinfo), null when neither says. */
export async function readCpuMhz(r: SysReader): Promise<number | null> {
  const values: number[] = [];
  for (const c of await r.list('/sys/devices/system/cpu')) {
    if (!/^cpu\d+$/.test(c)) continue;
    const khz = Number((await r.text(`/sys/devices/system/cpu/${c}/cpufreq/scaling_cur_freq`))?.trim());
    if (Number.isFinite(khz) && khz > 0) values.push(khz / 1000);
  }
  if (values.length === 0) {
    const info = (await r.text('/proc/cpuinfo')) ?? '';
    for (const m of info.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)) values.push(Number(m[1]));
  }
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/**
 * Intel's thermal throttle events: core counters of every CPU plus the package counter (repeated in each CPU's folder,
 * so read once per package from the first CPU). null when the kernel exposes none (AMD, virtual machines).
 */
export async function readThrottleCount(r: SysReader): Promise<number | null> {
  let total: number | null = null;
  const add = (raw: string | undefined): void => {
    const n = Number(raw?.trim());
    if (raw !== undefined && Number.isFinite(n)) total = (total ?? 0) + n;
  };
  const cpus = (await r.list('/sys/devices/system/cpu')).filter((c) => /^cpu\d+$/.test(c));
  for (const c of cpus) add(await r.text(`/sys/devices/system/cpu/${c}/thermal_throttle/core_throttle_count`));
  if (cpus[0] !== undefined) add(await r.text(`/sys/devices/system/cpu/${cpus[0]}/thermal_throttle/package_throttle_count`));
  return total;
}
