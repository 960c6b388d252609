/**
 * Notices before a window starts (`windows[].notify_before`, SPEC section 12), and the occurrences
 * a timeline shows, pure: every function takes the instant it works on.
 *
 * The notice of an occurrence is due from `start - lead` until `start` (exclusive): at `now` the
 * occurrences whose notice is due are those with `now < start <= now + lead`. The next moment a
 * notice becomes due is `start - lead` of the first occurrence with `start > now + lead`.
 */
import { cronDayMatches } from './cron.js';
import { DAY, MINUTE, dayFields, naiveFromFields } from './units.js';
import { nextOccurrences, occurrencesAt, type CronPlan, type Occurrence, type WindowPlan } from './windows.js';

/** The occurrences whose notice is due at `now`: not started yet, starting within `lead`. Ascending. */
export function noticesDue(plan: WindowPlan, leadMs: number, now: number): Occurrence[] {
  const out: Occurrence[] = [];
  // a notice lead is at most the window's period (validated), so only a few occurrences qualify
  for (const o of nextOccurrences(plan, now, 64)) {
    if (o.start > now + leadMs) break;
    out.push(o);
  }
  return out;
}

/** The first instant after `now` at which another occurrence's notice becomes due; null if never. */
export function nextNoticeAt(plan: WindowPlan, leadMs: number, now: number): number | null {
  const next = nextOccurrences(plan, now + leadMs, 1)[0];
  return next === undefined ? null : next.start - leadMs;
}

/** Every occurrence overlapping [from, to) (start < to and end > from), ascending by start. */
export function occurrencesBetween(plan: WindowPlan, from: number, to: number, max = 500): Occurrence[] {
  const out = occurrencesAt(plan, from);
  for (const o of nextOccurrences(plan, from, max)) {
    if (o.start >= to) break;
    out.push(o);
  }
  return out;
}

/** How many years of days the period scan reads: every weekday falls on every date in 28 years. */
const PERIOD_SCAN_YEARS = 28;

/**
 * The shortest time between two consecutive starts of a recurring window, on its local clock (ms);
 * null for a one-off range or a cron that matches at most once in the scan. A DST change can make
 * one real gap an hour shorter or longer; the period is the wall-clock one.
 */
export function windowPeriod(plan: WindowPlan): number | null {
  if (plan.kind === 'range') return null;
  return cronPeriod(plan);
}

function cronPeriod(plan: CronPlan): number | null {
  const times: number[] = [];
  for (const h of plan.hours) for (const m of plan.minutes) times.push(h * 60 * MINUTE + m * MINUTE);
  times.sort((a, b) => a - b);
  if (times.length === 0) return null;
  let best = Infinity;
  for (let i = 1; i < times.length; i++) best = Math.min(best, times[i]! - times[i - 1]!);
  // consecutive matching days: the smallest day gap, from the last start of one to the first of the next
  const first = Math.floor(naiveFromFields(2024, 1, 1, 0, 0) / DAY);
  const last = Math.floor(naiveFromFields(2024 + PERIOD_SCAN_YEARS, 1, 1, 0, 0) / DAY);
  const fields = { month: 0, day: 0, weekday: 0 };
  let previous: number | null = null;
  let dayGap = Infinity;
  for (let d = first; d < last; d++) {
    dayFields(d, fields);
    if (!cronDayMatches(plan.spec, fields.month, fields.day, fields.weekday)) continue;
    if (previous !== null) dayGap = Math.min(dayGap, d - previous);
    previous = d;
    if (dayGap === 1) break;
  }
  if (Number.isFinite(dayGap)) best = Math.min(best, dayGap * DAY + times[0]! - times[times.length - 1]!);
  return Number.isFinite(best) ? best : null;
}

/** A countdown for people, rounded up to the minute: '2h 30m', '45m', '3d 4h', '1m'. */
export function formatCountdown(ms: number): string {
  let minutes = Math.max(1, Math.ceil(ms / MINUTE));
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes && days === 0) parts.push(`${minutes}m`);
  return parts.length ? parts.join(' ') : `${days}d`;
}

/**
 * The next occurrence when `now` is within its notice lead (`start - lead <= now < start`), with
 * the time until it starts; null otherwise. What "starts in ..." says in `/moratorium status` and
 * on the dashboard.
 */
export function upcomingWithinLead(plan: WindowPlan, leadMs: number | null, now: number): (Occurrence & { inMs: number }) | null {
  if (leadMs === null) return null;
  const next = noticesDue(plan, leadMs, now)[0];
  return next === undefined ? null : { ...next, inMs: next.start - now };
}
