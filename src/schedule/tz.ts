/**
 * Time zones without a library: offsets come from Intl.DateTimeFormat, everything else is integer
 * arithmetic on "naive" local milliseconds (the local wall clock read as if it were UTC).
 *
 * Pure: every function takes the instant it works on; nothing here reads the clock.
 *
 * Speed: one formatter per zone, and the offset of each UTC day is remembered, so after warm-up an
 * offset is one Map lookup and no allocation. A day whose offset changes is split into hours, and the
 * hour that changes remembers the exact transition instant (found once by bisection to the second).
 * (This assumes a zone never changes its offset and changes it back within one UTC day.)
 *
 * DST rules (SPEC section 3): a local time in a skipped hour maps to the transition instant; a local
 * time in a repeated hour maps to its first occurrence. Equivalently, a local time L maps to the first
 * instant at which the zone's wall clock reads L or later (`naiveToUtc`).
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

/** An hour whose offset changes inside it: `before` until `at` (exclusive), `after` from `at`. */
interface Transition {
  before: number;
  after: number;
  at: number;
}

interface Zone {
  fmt: Intl.DateTimeFormat;
  /** Offset in ms when the zone never changes (UTC and friends), else null. */
  fixed: number | null;
  /** UTC day number -> its offset, or NaN when the offset changes during that day. */
  days: Map<number, number>;
  /** UTC day number -> the offset at 00:00 UTC of that day (shared by neighbouring days). */
  midnights: Map<number, number>;
  /** UTC hour number -> its offset, or the transition inside it (only for days that change). */
  hours: Map<number, number | Transition>;
  /** UTC day number -> the transitions inside it (only for days that change). */
  dayTransitions: Map<number, Transition[]>;
}

const MAX_CACHED = 200_000;
const zones = new Map<string, Zone>();
const validity = new Map<string, boolean>();
/** Names only: Intl would also take offsets such as +01:00 in newer runtimes, which are not IANA names. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-]*(?:\/[A-Za-z0-9_+\-]+)*$/;

export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string') return false;
  const known = validity.get(tz);
  if (known !== undefined) return known;
  let ok = ZONE_NAME.test(tz);
  if (ok) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      ok = false;
    }
  }
  if (validity.size > 10_000) validity.clear();
  validity.set(tz, ok);
  return ok;
}

function zone(tz: string): Zone {
  let z = zones.get(tz);
  if (z) return z;
  if (!isValidTimezone(tz)) throw new RangeError(`unknown IANA timezone: ${tz}`);
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const canonical = fmt.resolvedOptions().timeZone;
  const fixed = canonical === 'UTC' || canonical === 'Etc/UTC' || canonical === 'Etc/GMT' ? 0 : null;
  z = { fmt, fixed, days: new Map(), midnights: new Map(), hours: new Map(), dayTransitions: new Map() };
  zones.set(tz, z);
  return z;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). H. Hinnant's algorithm. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Writes year, month, day of a day number into `out` (reused to avoid allocation). */
export function civilFromDays(days: number, out: { year: number; month: number; day: number }): void {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  out.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  out.month = mp < 10 ? mp + 3 : mp - 9;
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
}

/** 0 = Sunday, for a day number (1970-01-01 was a Thursday). */
export function weekdayOfDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

/** Naive local ms of wall-clock fields; months and days outside their range roll over, as Date.UTC does. */
export function naiveFromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
): number {
  const m0 = month - 1;
  const y = year + Math.floor(m0 / 12);
  const m = (((m0 % 12) + 12) % 12) + 1;
  return (daysFromCivil(y, m, 1) + day - 1) * DAY + hour * HOUR + minute * MINUTE + second * SECOND;
}

/** Offset (local - UTC, ms) at a whole-second instant, read from Intl. */
function rawOffset(z: Zone, u: number): number {
  const parts = z.fmt.formatToParts(u);
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        year = Number(p.value);
        break;
      case 'month':
        month = Number(p.value);
        break;
      case 'day':
        day = Number(p.value);
        break;
      case 'hour':
        hour = Number(p.value) % 24;
        break;
      case 'minute':
        minute = Number(p.value);
        break;
      case 'second':
        second = Number(p.value);
        break;
      default:
        break;
    }
  }
  return naiveFromFields(year, month, day, hour, minute, second) - u;
}

function hourInfo(z: Zone, h: number): number | Transition {
  const known = z.hours.get(h);
  if (known !== undefined) return known;
  const start = h * HOUR;
  const before = rawOffset(z, start);
  const after = rawOffset(z, start + HOUR);
  let info: number | Transition;
  if (before === after) {
    info = before;
  } else {
    // The first whole second in (start, start + HOUR] whose offset is no longer `before`.
    let lo = start;
    let hi = start + HOUR;
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
      if (rawOffset(z, mid) === before) lo = mid;
      else hi = mid;
    }
    info = { before, after: rawOffset(z, hi), at: hi };
  }
  if (z.hours.size >= MAX_CACHED) z.hours.clear();
  z.hours.set(h, info);
  return info;
}

function midnightOffset(z: Zone, d: number): number {
  let o = z.midnights.get(d);
  if (o === undefined) {
    o = rawOffset(z, d * DAY);
    if (z.midnights.size >= MAX_CACHED) z.midnights.clear();
    z.midnights.set(d, o);
  }
  return o;
}

function offsetIn(z: Zone, t: number): number {
  if (z.fixed !== null) return z.fixed;
  const d = Math.floor(t / DAY);
  let whole = z.days.get(d);
  if (whole === undefined) {
    const a = midnightOffset(z, d);
    whole = a === midnightOffset(z, d + 1) ? a : Number.NaN;
    if (z.days.size >= MAX_CACHED) z.days.clear();
    z.days.set(d, whole);
  }
  if (whole === whole) return whole; // not NaN
  const info = hourInfo(z, Math.floor(t / HOUR));
  if (typeof info === 'number') return info;
  return t < info.at ? info.before : info.after;
}

/** The zone's offset from UTC at instant t, in ms (local = UTC + offset). */
export function offsetAt(t: number, tz: string): number {
  return offsetIn(zone(tz), t);
}

/** The wall clock at t as naive local ms (local fields read as if UTC). */
export function utcToNaive(t: number, tz: string): number {
  return t + offsetIn(zone(tz), t);
}

/** The transitions inside a UTC day whose offset changes (remembered per zone). */
function transitionsOfDay(z: Zone, d: number): Transition[] {
  let list = z.dayTransitions.get(d);
  if (list === undefined) {
    list = [];
    let previous = midnightOffset(z, d);
    for (let h = d * 24; h < d * 24 + 24; h++) {
      const info = hourInfo(z, h);
      if (typeof info === 'number') {
        if (info !== previous) list.push({ before: previous, after: info, at: h * HOUR });
        previous = info;
      } else {
        list.push(info);
        previous = info.after;
      }
    }
    if (z.dayTransitions.size >= MAX_CACHED) z.dayTransitions.clear();
    z.dayTransitions.set(d, list);
  }
  return list;
}

/** First instant in (lo, hi] whose offset differs from the offset at lo; hi if there is none. */
function firstChange(z: Zone, lo: number, hi: number): number {
  const base = offsetIn(z, lo);
  const lastDay = Math.floor(hi / DAY);
  for (let d = Math.floor(lo / DAY); d <= lastDay; d++) {
    offsetIn(z, d * DAY); // makes sure the day is known
    const whole = z.days.get(d)!;
    if (whole === whole) {
      if (whole !== base) return Math.min(Math.max(d * DAY, lo + 1), hi);
      continue;
    }
    for (const tr of transitionsOfDay(z, d)) {
      if (tr.at > lo && tr.after !== base) return Math.min(tr.at, hi);
    }
  }
  return hi;
}

/**
 * Naive local ms -> UTC ms: the first instant at which the wall clock reads `naive` or later. So a
 * time in a skipped hour maps to the transition, and one in a repeated hour to its first occurrence.
 * Monotone: a <= b implies naiveToUtc(a) <= naiveToUtc(b).
 */
export function naiveToUtc(naive: number, tz: string): number {
  const z = zone(tz);
  if (z.fixed !== null) return naive - z.fixed;
  // Offsets lie within about a day of zero, so the instant is within a day of `naive` read as UTC.
  const early = offsetIn(z, naive - DAY);
  const late = offsetIn(z, naive + DAY);
  let best = Number.POSITIVE_INFINITY;
  const c1 = naive - early;
  if (offsetIn(z, c1) === early) best = c1;
  if (late !== early) {
    const c2 = naive - late;
    if (c2 < best && offsetIn(z, c2) === late) best = c2;
  }
  if (best !== Number.POSITIVE_INFINITY) return best;
  // Nothing reads `naive`: it was skipped. Before the jump the clock read less, after it more.
  if (late > early) return firstChange(z, naive - late, naive - early);
  return c1;
}

/**
 * The latest wall-clock reading at any instant <= t, as naive local ms. It equals the wall clock at t
 * except during the second pass of a repeated hour, when it is the reading just before the clock
 * went back. Then: naiveToUtc(L) <= t exactly when L <= wallClockHighWater(t).
 */
export function wallClockHighWater(t: number, tz: string): number {
  const z = zone(tz);
  if (z.fixed !== null) return t + z.fixed;
  const now = offsetIn(z, t);
  let high = t + now;
  const back = t - DAY - 2 * HOUR;
  const earlier = offsetIn(z, back);
  if (earlier > now) {
    const at = firstChange(z, back, t);
    const justBefore = at - 1 + earlier;
    if (justBefore > high) high = justBefore;
  }
  return high;
}

const scratch = { year: 0, month: 0, day: 0 };

/** Fields of naive local ms (whole seconds; milliseconds are dropped). */
export function naiveToLocalTime(naive: number): LocalTime {
  const days = Math.floor(naive / DAY);
  const msOfDay = naive - days * DAY;
  civilFromDays(days, scratch);
  return {
    year: scratch.year,
    month: scratch.month,
    day: scratch.day,
    hour: Math.floor(msOfDay / HOUR),
    minute: Math.floor((msOfDay % HOUR) / MINUTE),
    second: Math.floor((msOfDay % MINUTE) / SECOND),
    weekday: weekdayOfDays(days),
  };
}

export function utcToLocal(t: number, tz: string): LocalTime {
  return naiveToLocalTime(utcToNaive(t, tz));
}

/**
 * Local wall clock -> UTC ms. SPEC rules: a time in a skipped hour (spring forward) maps to the
 * transition instant; a time in a repeated hour (fall back) maps to its FIRST occurrence.
 * Out-of-range fields roll over (month 13 is January of the next year), as Date.UTC does.
 */
export function localToUtc(
  local: { year: number; month: number; day: number; hour: number; minute: number; second?: number },
  tz: string,
): number {
  const naive = naiveFromFields(local.year, local.month, local.day, local.hour, local.minute, local.second ?? 0);
  return naiveToUtc(naive, tz);
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** '2026-12-21T00:00' or '2026-12-21T00:00:30' (no offset) in tz -> UTC ms; null if invalid. */
export function parseLocalDateTime(text: string, tz: string): number | null {
  if (typeof text !== 'string' || !isValidTimezone(tz)) return null;
  const m = LOCAL_DATE_TIME.exec(text.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return localToUtc({ year, month, day, hour, minute, second }, tz);
}

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
  const naive = utcToNaive(t, tz);
  const local = naiveToLocalTime(naive);
  const time = `${pad2(local.hour)}:${pad2(local.minute)}`;
  const sameWeek = t - now < 6 * DAY && Math.floor(naive / DAY) >= Math.floor(utcToNaive(now, tz) / DAY);
  if (sameWeek) return `${WEEKDAYS[local.weekday]} ${time}`;
  return `${pad4(local.year)}-${pad2(local.month)}-${pad2(local.day)} ${time}`;
}

/** ISO-like local rendering with zone: '2026-12-21 00:00 America/New_York' (':SS' only when not zero). */
export function formatLong(t: number, tz: string): string {
  const local = utcToLocal(t, tz);
  const seconds = local.second === 0 ? '' : `:${pad2(local.second)}`;
  return `${pad4(local.year)}-${pad2(local.month)}-${pad2(local.day)} ${pad2(local.hour)}:${pad2(local.minute)}${seconds} ${tz}`;
}
