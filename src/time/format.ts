/**
 * Times rendered for people: check titles, summaries, replies, the dashboard. Always the 24-hour
 * clock in the given zone (an IANA name, read from its compiled zone).
 *
 * Pure: every function takes the instant it works on, and `now` where the wording depends on it.
 * The gate renders several times per decision, so these read the fields of the wall clock without
 * allocating and build the text from a table of two-digit numbers (number-to-string conversion
 * was most of their cost); the result is the same text (tested against the plain reading).
 */
import { dayFields } from './units.js';
import { UTC, utcToNaive, zone, type Zone } from './zone.js';

/** (units.ts's DAY, kept here: a hot path reads it several times a call) */
const DAY = 86_400_000;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** '00' to '99' (a frozen table, no state). */
const TWO: readonly string[] = Object.freeze(Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i))));
/** 'HH:MM' of each minute of the day, '00:00' to '23:59' (frozen). */
const CLOCK: readonly string[] = Object.freeze(Array.from({ length: 1440 }, (_, m) => `${TWO[Math.floor(m / 60)]}:${TWO[m % 60]}`));
/** '-MM-DD' at index month * 32 + day (frozen; other indexes unused). */
const MONTH_DAY: readonly string[] = Object.freeze(Array.from({ length: 13 * 32 }, (_, i) => `-${TWO[Math.floor(i / 32)]}-${TWO[i % 32]}`));

function pad2(n: number): string {
  return n >= 0 && n < 100 ? TWO[n]! : n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : String(n).padStart(4, '0');
}

/** The zone of a name; UTC (the most rendered) without a lookup. */
function zoneOf(tz: string): Zone {
  return tz === 'UTC' ? UTC : zone(tz);
}

/** utcToNaive, without the call for a zone that never changes its offset. */
function wallClock(z: Zone, t: number): number {
  return z.fixed !== null ? t + z.fixed : utcToNaive(z, t);
}

/** Calendar fields of a day, reused (each caller reads them at once). */
const fields = { year: 0, month: 0, day: 0, weekday: 0 };

/** `YYYY-MM-DD HH:MM` of naive local ms. */
function dateTime(naive: number): string {
  const days = Math.floor(naive / DAY);
  const ms = naive - days * DAY;
  dayFields(days, fields);
  return `${pad4(fields.year)}${MONTH_DAY[fields.month * 32 + fields.day]} ${CLOCK[Math.floor(ms / 60_000)]}`;
}

/**
 * Short human time for check titles: 'Mon 09:00' when t is less than 6 days after `now` (and not
 * before `now`'s local day, so a weekday name is never ambiguous), else '2027-01-04 09:00'.
 * Always 24h clock, minutes precision (seconds are dropped).
 */
export function formatShort(t: number, tz: string, now: number): string {
  const z = zoneOf(tz);
  const naive = wallClock(z, t);
  const days = Math.floor(naive / DAY);
  const sameWeek = t - now < 6 * DAY && days >= Math.floor(wallClock(z, now) / DAY);
  if (!sameWeek) return dateTime(naive);
  dayFields(days, fields);
  return `${WEEKDAYS[fields.weekday]} ${CLOCK[Math.floor((naive - days * DAY) / 60_000)]}`;
}

/** ISO-like local rendering with zone: '2026-12-21 00:00 America/New_York' (':SS' only when not zero). */
export function formatLong(t: number, tz: string): string {
  const naive = wallClock(zoneOf(tz), t);
  const second = Math.floor((naive - Math.floor(naive / 60_000) * 60_000) / 1000);
  return second === 0 ? `${dateTime(naive)} ${tz}` : `${dateTime(naive)}:${pad2(second)} ${tz}`;
}
