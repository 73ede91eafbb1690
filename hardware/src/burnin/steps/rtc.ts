// RTC sanity: the battery-backed clock reads a plausible date (a flat coin cell resets it), agrees with the system
// clock, and ticks at the right rate while watched.
import { parseIntOrNull } from '../../detect/index.js';
import { measure } from '../evaluate.js';
import { sleep } from '../proc.js';
import { absent, type StepDef, type StepOutcome } from '../step.js';

const RTC = '/sys/class/rtc/rtc0';

export const rtcStep: StepDef = {
  id: 'rtc',
  title: 'Real-time clock',
  required: (p) => p.burnin.rtc.required,
  expectedSeconds: (spec) => spec.rtcSeconds,
  async run(ctx): Promise<StepOutcome> {
    const t = ctx.profile.burnin.rtc;
    const first = parseIntOrNull(await ctx.reader.text(`${RTC}/since_epoch`));
    const wall0 = ctx.now();
    if (first === null) return absent(t.required, `no RTC device (${ctx.reader.root === '/' ? '' : ctx.reader.root}${RTC}/since_epoch is missing)`, 'Check the RTC is enabled in the kernel (rtc_cmos) and the board is not faulty.');
    const seconds = ctx.spec.rtcSeconds;
    const end = wall0 + seconds * 1000;
    while (ctx.now() < end && !ctx.signal.aborted) {
      await sleep(Math.min(500, end - ctx.now()), ctx.signal);
      ctx.progress(Math.min(1, (ctx.now() - wall0) / (seconds * 1000)));
    }
    const second = parseIntOrNull(await ctx.reader.text(`${RTC}/since_epoch`));
    const wall1 = ctx.now();
    const drift = first - Math.floor(wall0 / 1000);
    const advanced = second === null ? null : second - first;
    const elapsed = (wall1 - wall0) / 1000;
    const year = new Date(first * 1000).getUTCFullYear();
    const measures = [
      measure({ id: 'year', label: 'RTC year', value: year, threshold: { min: t.minYear } }),
      measure({ id: 'drift', label: 'RTC minus system clock', unit: 's', value: drift, threshold: { maxAbs: t.maxDriftSeconds } }),
      // since_epoch has a one-second resolution: over a few seconds the tick count may differ from the wall time by 1.
      measure({ id: 'ticks', label: `RTC seconds counted over ${elapsed.toFixed(1)} s`, unit: 's', value: advanced, threshold: { min: Math.max(1, Math.floor(elapsed) - 1), max: Math.ceil(elapsed) + 1 }, required: true }),
    ];
    const failed = measures.filter((m) => m.status === 'fail').map((m) => m.id);
    const tips: string[] = [];
    if (failed.includes('year')) tips.push(`the RTC reads ${new Date(first * 1000).toISOString()}: the coin cell is probably flat; replace the CR2032 battery`);
    if (failed.includes('drift')) {
      const hours = Math.round(drift / 3600);
      tips.push(`the RTC is ${drift} s off the system clock${Math.abs(hours) >= 1 && Math.abs(drift - hours * 3600) < 120 ? ` (about ${hours} h: the BIOS clock is set to local time; the image expects UTC)` : ''}: set the date and time in BIOS setup, or sync the system clock and run hwclock --systohc`);
    }
    if (failed.includes('ticks')) tips.push('the RTC does not tick at the right rate: the board\'s clock crystal is faulty; set the unit aside');
    return { measures, chart: null, message: failed.length > 0 ? `${tips.join('; ')}.` : `RTC reads ${new Date(first * 1000).toISOString()}, ${drift} s from the system clock, and ticks normally.` };
  },
};
