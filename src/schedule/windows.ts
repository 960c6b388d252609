/**
 * Occurrences of scheduled windows (SPEC section 3), pure: every function takes the instant.
 *
 * A cron window starts at each local wall-clock time S matching its cron in its timezone and ends at
 * S + duration, added on the local clock (naive arithmetic), both converted to UTC by the SPEC rules:
 * a skipped local time begins at the transition, a repeated one at its first occurrence. That
 * conversion, f(L) = the first instant the wall clock reads L or later, is monotone, which gives:
 *
 *   f(S) <= t < f(S + d)   exactly when   G - d < S <= G,   G = wallClockHighWater(t)
 *
 * so the occurrences containing t come from one scan of local times, without trial conversions.
 * Starts that collapse onto one instant (several local times in a skipped hour) are one occurrence,
 * the one that ends last; an occurrence whose end is its start (a start in a skipped hour that ends at
 * the transition) never contains an instant and is left out.
 */
import type { WindowConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { cronDayMatches, parseCron, type CronSpec } from './cron.js';
import {
  DAY,
  HOUR,
  MINUTE,
  civilFromDays,
  naiveToUtc,
  parseLocalDateTime,
  wallClockHighWater,
  weekdayOfDays,
} from './tz.js';

/** UTC ms; the occurrence is active at t when start <= t < end. */
export interface Occurrence {
  start: number;
  end: number;
}

interface CronWindow {
  kind: 'cron';
  tz: string;
  duration: number;
  spec: CronSpec;
  hours: number[];
  minutes: number[];
}

interface RangeWindow {
  kind: 'range';
  start: number;
  end: number;
}

type Compiled = CronWindow | RangeWindow;

interface CacheEntry {
  timezone: string;
  cron: string | undefined;
  duration: string | undefined;
  from: string | undefined;
  to: string | undefined;
  compiled: Compiled;
}

/** How far ahead a forward search looks before concluding there is no further start. */
const HORIZON_DAYS = 366 * 30;

const compiledCache = new WeakMap<WindowConfig, CacheEntry>();

function compileWindow(w: WindowConfig): Compiled {
  const timezone = w.timezone ?? 'UTC';
  const cached = compiledCache.get(w);
  if (
    cached &&
    cached.timezone === timezone &&
    cached.cron === w.cron &&
    cached.duration === w.duration &&
    cached.from === w.from &&
    cached.to === w.to
  )
    return cached.compiled;
  let compiled: Compiled;
  if (w.cron !== undefined || w.duration !== undefined) {
    if (w.cron === undefined || w.duration === undefined)
      throw new Error(`window "${w.name}": cron and duration go together`);
    const duration = parseDuration(w.duration);
    if (duration === null) throw new Error(`window "${w.name}": invalid duration '${w.duration}'`);
    const spec = parseCron(w.cron);
    const indexes = (a: boolean[]) => a.flatMap((on, i) => (on ? [i] : []));
    naiveToUtc(0, timezone); // throws on an unknown timezone
    compiled = { kind: 'cron', tz: timezone, duration, spec, hours: indexes(spec.hours), minutes: indexes(spec.minutes) };
  } else {
    if (w.from === undefined || w.to === undefined) throw new Error(`window "${w.name}": needs cron + duration, or from + to`);
    const start = parseLocalDateTime(w.from, timezone);
    const end = parseLocalDateTime(w.to, timezone);
    if (start === null) throw new Error(`window "${w.name}": invalid from '${w.from}'`);
    if (end === null) throw new Error(`window "${w.name}": invalid to '${w.to}'`);
    compiled = { kind: 'range', start, end };
  }
  compiledCache.set(w, { timezone, cron: w.cron, duration: w.duration, from: w.from, to: w.to, compiled });
  return compiled;
}

const day = { year: 0, month: 0, day: 0 };

/**
 * Calls visit(S) for each naive local minute S with lo < S <= hi that the cron matches, ascending,
 * until visit returns false.
 */
function scan(w: CronWindow, lo: number, hi: number, visit: (s: number) => boolean): void {
  const { spec, hours, minutes } = w;
  const lastDay = Math.floor(hi / DAY);
  for (let d = Math.floor(lo / DAY); d <= lastDay; d++) {
    civilFromDays(d, day);
    if (!cronDayMatches(spec, day.month, day.day, weekdayOfDays(d))) continue;
    const base = d * DAY;
    for (const h of hours) {
      const hourStart = base + h * HOUR;
      if (hourStart + 59 * MINUTE <= lo) continue;
      if (hourStart > hi) return;
      for (const m of minutes) {
        const s = hourStart + m * MINUTE;
        if (s <= lo) continue;
        if (s > hi) return;
        if (!visit(s)) return;
      }
    }
  }
}

/** Every occurrence of the window containing t (start <= t < end), ascending by start. */
export function occurrencesAt(w: WindowConfig, t: number): Occurrence[] {
  const c = compileWindow(w);
  if (c.kind === 'range') return c.start <= t && t < c.end ? [{ start: c.start, end: c.end }] : [];
  const high = wallClockHighWater(t, c.tz);
  const out: Occurrence[] = [];
  scan(c, high - c.duration, high, (s) => {
    const start = naiveToUtc(s, c.tz);
    const end = naiveToUtc(s + c.duration, c.tz);
    if (start > t || end <= t) return true; // cannot happen (see above); never report one that does not contain t
    const last = out[out.length - 1];
    if (last !== undefined && last.start === start) last.end = end;
    else out.push({ start, end });
    return true;
  });
  return out;
}

/** Up to n occurrences with start > t, ascending by start. */
export function nextOccurrences(w: WindowConfig, t: number, n: number): Occurrence[] {
  const c = compileWindow(w);
  if (n <= 0) return [];
  if (c.kind === 'range') return c.start > t && c.end > c.start ? [{ start: c.start, end: c.end }] : [];
  const high = wallClockHighWater(t, c.tz);
  const out: Occurrence[] = [];
  let pending = null as Occurrence | null; // (a cast: assigned in the callback, so not narrowed to null)
  scan(c, high, high + HORIZON_DAYS * DAY, (s) => {
    const start = naiveToUtc(s, c.tz);
    const end = naiveToUtc(s + c.duration, c.tz);
    if (start <= t) return true; // cannot happen: s > high
    if (pending !== null && pending.start === start) {
      pending.end = end;
      return true;
    }
    if (pending !== null && pending.end > pending.start) {
      out.push(pending);
      if (out.length >= n) {
        pending = null;
        return false;
      }
    }
    pending = { start, end };
    return true;
  });
  if (pending !== null && out.length < n && pending.end > pending.start) out.push(pending);
  return out;
}

/**
 * The earliest instant > t at which the set of occurrences containing the instant changes (an
 * occurrence starts, or one containing t ends); null if never.
 */
export function nextBoundary(w: WindowConfig, t: number): number | null {
  const c = compileWindow(w);
  if (c.kind === 'range') {
    if (c.end <= c.start) return null;
    if (t < c.start) return c.start;
    if (t < c.end) return c.end;
    return null;
  }
  const high = wallClockHighWater(t, c.tz);
  let best = null as number | null; // (a cast: assigned in the callbacks, so not narrowed to null)
  // Ends are monotone in the local start, so the earliest containing occurrence ends first.
  scan(c, high - c.duration, high, (s) => {
    best = naiveToUtc(s + c.duration, c.tz);
    return false;
  });
  // Starts are monotone too: the first local start after `high` that is not empty starts first.
  scan(c, high, high + HORIZON_DAYS * DAY, (s) => {
    const start = naiveToUtc(s, c.tz);
    if (best !== null && start >= best) return false;
    if (naiveToUtc(s + c.duration, c.tz) > start) {
      best = start;
      return false;
    }
    return true;
  });
  return best;
}
