// The nightly download window: "HH:MM-HH:MM" of local wall time in an IANA zone, across midnight and DST changes.
import { AgentError, ErrorCode } from '../../errors.js';

/** A parsed window, in minutes after local midnight; an end at or before the start means the next day. */
export interface NightWindow {
  readonly spec: string;
  readonly startMinute: number;
  /** 1..1440; 1440 is "24:00", the midnight that ends the day. */
  readonly endMinute: number;
}

const SPEC = /^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/;
const FORMAT_HINT = 'expected "HH:MM-HH:MM" in 24-hour local time, such as "22:00-06:30" (end 24:00 allowed; "00:00-24:00" is always open)';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Parse "HH:MM-HH:MM"; the end may be 24:00 and may be earlier than the start (the window then crosses midnight). */
export function parseWindow(spec: string): NightWindow {
  const m = SPEC.exec(spec.trim());
  const bad = (why: string): AgentError => new AgentError(ErrorCode.CONFIG, `invalid night window "${spec}": ${why}; ${FORMAT_HINT}`);
  if (!m) throw bad('not in the HH:MM-HH:MM form');
  const [sh, sm, eh, em] = m.slice(1).map(Number) as [number, number, number, number];
  if (sh > 23 || sm > 59) throw bad('the start is not a time of day');
  if (eh > 24 || em > 59 || (eh === 24 && em !== 0)) throw bad('the end is not a time of day');
  const startMinute = sh * 60 + sm;
  const endMinute = eh * 60 + em;
  if (endMinute === startMinute) throw bad('the start and the end are the same time');
  return { spec: spec.trim(), startMinute, endMinute: endMinute === 0 ? 1440 : endMinute };
}

/** The zone this machine's clock is set to. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Is `now` inside an occurrence of the window? */
export function isInWindow(now: Date, w: NightWindow, tz: string = systemTimeZone()): boolean {
  return containing(now.getTime(), w, tz) !== undefined;
}

/**
 * When the window `now` is in closes (if `now` is outside, when the next one closes). An always-open
 * window ("00:00-24:00") closes at the next local midnight, where the next day's occurrence opens at once.
 */
export function windowEndAfter(now: Date, w: NightWindow, tz: string = systemTimeZone()): Date {
  const t = now.getTime();
  const current = containing(t, w, tz);
  if (current) return new Date(current.end);
  const next = occurrencesAround(t, w, tz).find((o) => o.start > t);
  if (!next) throw new Error(`no occurrence of the window ${w.spec} in ${tz} after ${now.toISOString()}`);
  return new Date(next.end);
}

/** When the next occurrence of the window opens, strictly after `now` (occurrences a DST gap empties are skipped). */
export function nextWindowStart(now: Date, w: NightWindow, tz: string = systemTimeZone()): Date {
  const t = now.getTime();
  const next = occurrencesAround(t, w, tz).find((o) => o.start > t);
  if (!next) throw new Error(`no occurrence of the window ${w.spec} in ${tz} after ${now.toISOString()}`);
  return new Date(next.start);
}

interface Occurrence {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

/** The occurrence holding t; with touching occurrences (always open), the one that ends last. */
function containing(t: number, w: NightWindow, tz: string): Occurrence | undefined {
  let best: Occurrence | undefined;
  for (const o of occurrencesAround(t, w, tz, 1)) {
    if (o.start <= t && t < o.end && (!best || o.end > best.end)) best = o;
  }
  return best;
}

/**
 * The non-empty occurrences for the local days from the day before t to `daysAfter` days after, in order
 * (one day after is enough to find the occurrence holding t; three to find a start past an emptied night).
 * An occurrence opens at the first instant the wall clock shows the start and closes at the last
 * instant it shows the end: a repeated hour (fall back) lengthens the window rather than opening it
 * twice, and a skipped hour (spring forward) moves a start or end inside it to the first instant after.
 */
function occurrencesAround(t: number, w: NightWindow, tz: string, daysAfter = 3): Occurrence[] {
  const zone = new Zone(tz);
  const today = zone.wallTime(t);
  const midnight = Math.floor(today / DAY) * DAY;
  const endOffset = w.endMinute > w.startMinute ? w.endMinute : w.endMinute + 1440;
  const out: Occurrence[] = [];
  for (let day = -1; day <= daysAfter; day += 1) {
    const base = midnight + day * DAY;
    const start = zone.firstInstant(base + w.startMinute * MINUTE);
    const end = zone.lastInstant(base + endOffset * MINUTE);
    if (end > start) out.push({ start, end });
  }
  return out;
}

/** Formatters are costly to build (~0.4 ms) and immutable: one per zone, kept. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let format = formatters.get(tz);
  if (format) return format;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch (err) {
    throw new AgentError(ErrorCode.CONFIG, `unknown time zone "${tz}": use an IANA name such as Europe/Paris`, { cause: err });
  }
  formatters.set(tz, format);
  return format;
}

/**
 * Wall times are handled as "epoch ms as if the zone were UTC"; an instant maps to one wall time,
 * a wall time to zero (a DST gap), one or two (a DST overlap) instants.
 */
class Zone {
  private readonly format: Intl.DateTimeFormat;

  constructor(readonly tz: string) {
    this.format = formatterFor(tz);
  }

  /** The local wall time of an instant (to the second). */
  wallTime(t: number): number {
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(new Date(t))) {
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const get = (k: string): number => parts[k] ?? 0;
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  }

  /** Zone offset at an instant, ms east of UTC. */
  offset(t: number): number {
    const whole = Math.floor(t / 1000) * 1000;
    return this.wallTime(whole) - whole;
  }

  /** Every instant whose wall time is `wall`, ascending. */
  instants(wall: number): number[] {
    // Offsets stay within ±14 h of UTC, so the instant lies within that distance of `wall`.
    const before = this.offset(wall - 15 * HOUR);
    const after = this.offset(wall + 15 * HOUR);
    // The usual case, no change of offset around: one instant (checked, in case of two changes in 30 h).
    if (before === after && this.wallTime(wall - before) === wall) return [wall - before];
    const offsets = new Set([before, this.offset(wall), after]);
    const found = new Set<number>();
    for (const o of offsets) {
      const t = wall - o;
      if (this.wallTime(t) === wall) found.add(t);
    }
    return [...found].sort((a, b) => a - b);
  }

  /** The earliest instant showing `wall`, or the end of the gap it falls in. */
  firstInstant(wall: number): number {
    return this.instants(wall)[0] ?? this.gapEnd(wall);
  }

  /** The latest instant showing `wall`, or the end of the gap it falls in. */
  lastInstant(wall: number): number {
    return this.instants(wall).at(-1) ?? this.gapEnd(wall);
  }

  /** The transition that skips over `wall`: the first instant whose wall time is after it. */
  private gapEnd(wall: number): number {
    // Before the gap the offset is smaller: wall - before is already past it, wall - after not yet.
    let lo = wall - this.offset(wall + 15 * HOUR);
    let hi = wall - this.offset(wall - 15 * HOUR);
    if (lo >= hi) throw new Error(`${new Date(wall).toISOString().slice(0, 16)} neither exists nor falls in a gap in ${this.tz}`);
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2 / 1000) * 1000;
      if (mid <= lo) break;
      if (this.wallTime(mid) > wall) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
