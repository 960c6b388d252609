/**
 * Times rendered for people: check titles, summaries, replies, the dashboard. Always the 24-hour
 * clock in the given zone (an IANA name, read from its compiled zone).
 *
 * Pure: every function takes the instant it works on, and `now` where the wording depends on it.
 */
import { DAY, naiveToLocalTime } from './units.js';
import { utcToNaive, zone } from './zone.js';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : String(n).padStart(4, '0');
}

/**
 * Short human time for check titles: 'Mon 09:00' when t is less than 6 days after `now` (and not
 * before `now`'s local day, so a weekday name is never ambiguous), else '2027-01-04 09:00'.
 * Always 24h clock, minutes precision (seconds are dropped).
 */
export function formatShort(t: number, tz: string, now: number): string {
  const z = zone(tz);
  const naive = utcToNaive(z, t);
  const local = naiveToLocalTime(naive);
  const time = `${pad2(local.hour)}:${pad2(local.minute)}`;
  const sameWeek = t - now < 6 * DAY && Math.floor(naive / DAY) >= Math.floor(utcToNaive(z, now) / DAY);
  if (sameWeek) return `${WEEKDAYS[local.weekday]} ${time}`;
  return `${pad4(local.year)}-${pad2(local.month)}-${pad2(local.day)} ${time}`;
}

/** ISO-like local rendering with zone: '2026-12-21 00:00 America/New_York' (':SS' only when not zero). */
export function formatLong(t: number, tz: string): string {
  const local = naiveToLocalTime(utcToNaive(zone(tz), t));
  const seconds = local.second === 0 ? '' : `:${pad2(local.second)}`;
  return `${pad4(local.year)}-${pad2(local.month)}-${pad2(local.day)} ${pad2(local.hour)}:${pad2(local.minute)}${seconds} ${tz}`;
}
