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
 *
 * A window is compiled once, with its config (`compileWindow`: the parsed cron, the compiled zone,
 * a range's instants); evaluating its plan parses nothing and allocates only the occurrences.
 */
import { parseDuration } from './duration.js';
import { cronDayMatches, parseCron, type CronSpec } from './cron.js';
import { parseIsoTime } from './iso.js';
import { DAY, HOUR, MINUTE, dayFields } from './units.js';
import { naiveToUtc, wallClockHighWater, zone as zoneNamed, type Zone } from './zone.js';

/** UTC ms; the occurrence is active at t when start <= t < end. */
export interface Occurrence {
  start: number;
  end: number;
}

/** A window as the config writes it (already validated by the schema). */
export interface WindowSource {
  name: string;
  timezone?: string;
  cron?: string;
  duration?: string;
  from?: string;
  to?: string;
}

export interface CronPlan {
  readonly kind: 'cron';
  readonly zone: Zone;
  /** ms, added on the local clock */
  readonly duration: number;
  readonly spec: CronSpec;
  readonly hours: readonly number[];
  readonly minutes: readonly number[];
}

export interface RangePlan {
  readonly kind: 'range';
  readonly zone: Zone;
  readonly start: number;
  readonly end: number;
}

/** What evaluating a window needs, computed once when its config is compiled. */
export type WindowPlan = CronPlan | RangePlan;

/** How far ahead a forward search looks before concluding there is no further start. */
const HORIZON_DAYS = 366 * 30;

/** Compiles a window; throws Error(message) when it is not valid. */
export function compileWindow(w: WindowSource): WindowPlan {
  const zone = zoneNamed(w.timezone ?? 'UTC'); // throws on an unknown timezone
  if (w.cron !== undefined || w.duration !== undefined) {
    if (w.cron === undefined || w.duration === undefined)
      throw new Error(`window "${w.name}": cron and duration go together`);
    const duration = parseDuration(w.duration);
    if (duration === null) throw new Error(`window "${w.name}": invalid duration '${w.duration}'`);
    const spec = parseCron(w.cron);
    const indexes = (a: boolean[]) => a.flatMap((on, i) => (on ? [i] : []));
    return Object.freeze({ kind: 'cron', zone, duration, spec, hours: indexes(spec.hours), minutes: indexes(spec.minutes) });
  }
  if (w.from === undefined || w.to === undefined) throw new Error(`window "${w.name}": needs cron + duration, or from + to`);
  const start = parseIsoTime(w.from, { zone, form: 'local' });
  const end = parseIsoTime(w.to, { zone, form: 'local' });
  if (start === null) throw new Error(`window "${w.name}": invalid from '${w.from}'`);
  if (end === null) throw new Error(`window "${w.name}": invalid to '${w.to}'`);
  return Object.freeze({ kind: 'range', zone, start, end });
}

const day = { month: 0, day: 0, weekday: 0 };

/**
 * Calls visit(S) for each naive local minute S with lo < S <= hi that the cron matches, ascending,
 * until visit returns false.
 */
function scan(w: CronPlan, lo: number, hi: number, visit: (s: number) => boolean): void {
  const { spec, hours, minutes } = w;
  const lastDay = Math.floor(hi / DAY);
  for (let d = Math.floor(lo / DAY); d <= lastDay; d++) {
    dayFields(d, day);
    if (!cronDayMatches(spec, day.month, day.day, day.weekday)) continue;
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
export function occurrencesAt(c: WindowPlan, t: number): Occurrence[] {
  if (c.kind === 'range') return c.start <= t && t < c.end ? [{ start: c.start, end: c.end }] : [];
  const high = wallClockHighWater(c.zone, t);
  const out: Occurrence[] = [];
  scan(c, high - c.duration, high, (s) => {
    const start = naiveToUtc(c.zone, s);
    const end = naiveToUtc(c.zone, s + c.duration);
    if (start > t || end <= t) return true; // cannot happen (see above); never report one that does not contain t
    const last = out[out.length - 1];
    if (last !== undefined && last.start === start) last.end = end;
    else out.push({ start, end });
    return true;
  });
  return out;
}

/** Up to n occurrences with start > t, ascending by start. */
export function nextOccurrences(c: WindowPlan, t: number, n: number): Occurrence[] {
  if (n <= 0) return [];
  if (c.kind === 'range') return c.start > t && c.end > c.start ? [{ start: c.start, end: c.end }] : [];
  const high = wallClockHighWater(c.zone, t);
  const out: Occurrence[] = [];
  let pending = null as Occurrence | null; // (a cast: assigned in the callback, so not narrowed to null)
  scan(c, high, high + HORIZON_DAYS * DAY, (s) => {
    const start = naiveToUtc(c.zone, s);
    const end = naiveToUtc(c.zone, s + c.duration);
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
export function nextBoundary(c: WindowPlan, t: number): number | null {
  if (c.kind === 'range') {
    if (c.end <= c.start) return null;
    if (t < c.start) return c.start;
    if (t < c.end) return c.end;
    return null;
  }
  const high = wallClockHighWater(c.zone, t);
  let best = null as number | null; // (a cast: assigned in the callbacks, so not narrowed to null)
  // Ends are monotone in the local start, so the earliest containing occurrence ends first.
  scan(c, high - c.duration, high, (s) => {
    best = naiveToUtc(c.zone, s + c.duration);
    return false;
  });
  // Starts are monotone too: the first local start after `high` that is not empty starts first.
  scan(c, high, high + HORIZON_DAYS * DAY, (s) => {
    const start = naiveToUtc(c.zone, s);
    if (best !== null && start >= best) return false;
    if (naiveToUtc(c.zone, s + c.duration) > start) {
      best = start;
      return false;
    }
    return true;
  });
  return best;
}
