/**
 * Units and "naive" local milliseconds: a wall-clock reading written as if it were UTC (the local
 * fields of 2026-03-29 02:30 in any zone are naive Date.UTC(2026, 2, 29, 2, 30)). Fields to ms go
 * through the built-in Date in UTC mode; ms to fields (`dayFields`, `naiveToLocalTime`), which the
 * window scan and every rendered time call, use H. Hinnant's days-to-civil arithmetic: Date's
 * getters made a window evaluation 40 % slower (tested against Date).
 *
 * Pure: nothing here reads the clock.
 */

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

/** Reused for field reads (no allocation per call). */
const scratch = new Date(0);

/** Naive local ms of wall-clock fields; months and days outside their range roll over, as Date.UTC does. */
export function naiveFromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
): number {
  // setUTCFullYear, unlike Date.UTC, reads years 0-99 as they are (not as 1900-1999)
  scratch.setTime(0);
  scratch.setUTCFullYear(year, month - 1, day);
  scratch.setUTCHours(hour, minute, second, 0);
  return scratch.getTime();
}

/** Fields of naive local ms (whole seconds; milliseconds are dropped). */
export function naiveToLocalTime(naive: number): LocalTime {
  const days = Math.floor(naive / DAY);
  const ms = naive - days * DAY;
  const out = { year: 0, month: 0, day: 0, hour: Math.floor(ms / HOUR), minute: Math.floor((ms % HOUR) / MINUTE), second: Math.floor((ms % MINUTE) / SECOND), weekday: 0 };
  dayFields(days, out);
  return out;
}

/**
 * The calendar day of a naive day number (days since 1970-01-01), written into `out` (no
 * allocation, no Date): H. Hinnant's days-to-civil.
 */
export function dayFields(days: number, out: { year?: number; month: number; day: number; weekday: number }): void {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  out.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  out.month = mp < 10 ? mp + 3 : mp - 9;
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
  out.weekday = (((days + 4) % 7) + 7) % 7;
}

export function daysInMonth(year: number, month: number): number {
  // day 0 of the next month is the last day of this one
  scratch.setTime(0);
  scratch.setUTCFullYear(year, month, 0);
  return scratch.getUTCDate();
}
