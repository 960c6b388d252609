/**
 * Time zones through the Temporal API (temporal-polyfill: Node 20 has no Temporal of its own).
 *
 * A zone is compiled once per process, the first time a config (or a rendering) names it: Temporal
 * lists its transitions (`getTimeZoneTransition`) from 2000 to 2070 into an immutable table, so that
 * evaluating a window is a binary search with no allocation. An instant outside the table is
 * answered from a table built for the occasion, again from Temporal (the same answers, only slower).
 *
 * Why once per process and not once per config: compiling a zone asks Temporal for ~140 transitions,
 * 3-5 ms warm and 100-250 ms the first time, while parsing a config costs well under 1 ms and
 * happens on every load (the HTTP state endpoint re-parses each repository's last valid config). The
 * registry below holds only what tzdata determines: one frozen table per valid IANA name (a few
 * hundred at most), never changed, never evicted; nothing in it depends on a config. (Other
 * spellings of a name, `europe/berlin`, point at the same table.)
 *
 * DST rules (SPEC section 3): a local time in a repeated hour maps to its first occurrence (Temporal's
 * `disambiguation: 'earlier'`); a local time in a skipped hour maps to the transition instant (the
 * transition that follows the 'earlier' reading). Equivalently, a local time L maps to the first
 * instant at which the zone's wall clock reads L or later (`naiveToUtc`).
 *
 * Pure: every function takes the instant it works on; nothing here reads the clock.
 */
import { Temporal } from 'temporal-polyfill';
import { DAY, naiveFromFields, naiveToLocalTime, type LocalTime } from './units.js';

export interface Zone {
  /** the IANA name, e.g. Europe/Berlin */
  readonly id: string;
  /** the offset (local - UTC, ms) of a zone that never changes it (UTC and its aliases), else null */
  readonly fixed: number | null;
  /** every transition in [from, to) is in `at` */
  readonly from: number;
  readonly to: number;
  /** transition instants, ascending: from at[i] on, offsets[i + 1] holds */
  readonly at: readonly number[];
  /** offsets[i] holds on [at[i - 1], at[i]) (ms); one more entry than `at` */
  readonly offsets: readonly number[];
}

/** The span compiled into a table; outside it (with a margin) Temporal is asked directly. */
const TABLE_FROM = Date.UTC(2000, 0, 1);
const TABLE_TO = Date.UTC(2070, 0, 1);
/** Every lookup reads the table within this distance of its instant. */
const MARGIN = 3 * DAY;

/** Names only: Temporal would also take offsets such as +01:00, which are not IANA names. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-]*(?:\/[A-Za-z0-9_+\-]+)*$/;
const FIXED_UTC = new Set(['UTC', 'Etc/UTC', 'Etc/GMT']);

function zoned(t: number, id: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(t).toZonedDateTimeISO(id);
}

function offsetMs(z: Temporal.ZonedDateTime): number {
  return Math.round(z.offsetNanoseconds / 1e6);
}

export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || !ZONE_NAME.test(tz)) return false;
  try {
    zoned(0, tz);
    return true;
  } catch {
    return false;
  }
}

/** The transitions of `id` in [from, to), from Temporal. */
function table(id: string, from: number, to: number): { at: number[]; offsets: number[] } {
  let z: Temporal.ZonedDateTime | null = zoned(from, id);
  const at: number[] = [];
  const offsets = [offsetMs(z)];
  for (;;) {
    z = z.getTimeZoneTransition('next');
    if (z === null || z.epochMilliseconds >= to) break;
    at.push(z.epochMilliseconds);
    offsets.push(offsetMs(z));
  }
  return { at, offsets };
}

/** Compiles a zone (throws RangeError on an unknown name). */
export function compileZone(id: string): Zone {
  if (!isValidTimezone(id)) throw new RangeError(`unknown IANA timezone: ${id}`);
  const canonical = zoned(0, id).timeZoneId;
  if (FIXED_UTC.has(canonical)) return Object.freeze({ id, fixed: 0, from: -Infinity, to: Infinity, at: [], offsets: [0] });
  const { at, offsets } = table(id, TABLE_FROM, TABLE_TO);
  return Object.freeze({ id, fixed: null, from: TABLE_FROM, to: TABLE_TO, at: Object.freeze(at), offsets: Object.freeze(offsets) });
}

export const UTC: Zone = compileZone('UTC');

/** Canonical IANA name (as Temporal spells it) -> its compiled zone. */
const compiled = new Map<string, Zone>([['UTC', UTC]]);
/** Other spellings seen (`europe/berlin`) -> the canonical name's zone; capped, as anyone can invent more. */
const spellings = new Map<string, Zone>();
const MAX_SPELLINGS = 10_000;

/**
 * The compiled zone of an IANA name (throws RangeError on an unknown name). Every spelling of a
 * name shares the one table of the name as Temporal spells it.
 */
export function zone(id: string): Zone {
  const known = compiled.get(id) ?? spellings.get(id);
  if (known !== undefined) return known;
  if (!isValidTimezone(id)) throw new RangeError(`unknown IANA timezone: ${id}`);
  const canonical = zoned(0, id).timeZoneId;
  let z = compiled.get(canonical);
  if (z === undefined) {
    z = compileZone(canonical);
    compiled.set(canonical, z);
  }
  if (canonical !== id && spellings.size < MAX_SPELLINGS) spellings.set(id, z);
  return z;
}

/** The table to read around instant t: the compiled one, or one built for the occasion outside it. */
function near(zone: Zone, t: number): Zone {
  if (t - MARGIN >= zone.from && t + MARGIN < zone.to) return zone;
  const from = t - MARGIN;
  const to = t + MARGIN;
  return { id: zone.id, fixed: null, from, to, ...table(zone.id, from, to) };
}

/** Index of the offset in force at t: the number of transitions at or before t. */
function segment(zone: Zone, t: number): number {
  const at = zone.at;
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The zone's offset from UTC at instant t, in ms (local = UTC + offset). */
export function offsetAt(zone: Zone, t: number): number {
  if (zone.fixed !== null) return zone.fixed;
  const z = near(zone, t);
  return z.offsets[segment(z, t)]!;
}

/** The wall clock at t as naive local ms (local fields read as if UTC). */
export function utcToNaive(zone: Zone, t: number): number {
  return t + offsetAt(zone, t);
}

/**
 * Naive local ms -> UTC ms: the first instant at which the wall clock reads `naive` or later. So a
 * time in a skipped hour maps to the transition, and one in a repeated hour to its first occurrence.
 * Monotone: a <= b implies naiveToUtc(a) <= naiveToUtc(b).
 */
export function naiveToUtc(zone: Zone, naive: number): number {
  if (zone.fixed !== null) return naive - zone.fixed;
  // offsets lie within a day of zero, so the instant is within a day of `naive` read as UTC
  const z = near(zone, naive);
  const { at, offsets } = z;
  const last = naive + DAY;
  for (let i = segment(z, naive - DAY); i < offsets.length; i++) {
    const start = i === 0 ? -Infinity : at[i - 1]!;
    if (start > last) break;
    const end = i === at.length ? Infinity : at[i]!;
    // in this segment the clock reads u + offsets[i], rising: the first u reading `naive` or later
    const u = Math.max(start, naive - offsets[i]!);
    if (u < end) return u;
  }
  return naive - offsets[offsets.length - 1]!; // unreachable: the last segment has no end
}

/**
 * The latest wall-clock reading at any instant <= t, as naive local ms. It equals the wall clock at t
 * except during the second pass of a repeated hour, when it is the reading just before the clock
 * went back. Then: naiveToUtc(L) <= t exactly when L <= wallClockHighWater(t).
 */
export function wallClockHighWater(zone: Zone, t: number): number {
  if (zone.fixed !== null) return t + zone.fixed;
  const z = near(zone, t);
  const { at, offsets } = z;
  const i = segment(z, t);
  let high = t + offsets[i]!;
  // a reading higher than now can only come from a transition that went back by more than it since
  for (let j = i - 1; j >= 0 && at[j]! > t - 2 * DAY; j--) {
    const justBefore = at[j]! - 1 + offsets[j]!;
    if (justBefore > high) high = justBefore;
  }
  return high;
}

export function utcToLocal(t: number, zone: Zone): LocalTime {
  return naiveToLocalTime(utcToNaive(zone, t));
}

/**
 * Local wall clock -> UTC ms by the SPEC rules (a skipped time maps to the transition, a repeated
 * one to its first occurrence). Out-of-range fields roll over (month 13 is January of the next
 * year), as Date.UTC does.
 */
export function localToUtc(
  local: { year: number; month: number; day: number; hour: number; minute: number; second?: number },
  zone: Zone,
): number {
  return naiveToUtc(zone, naiveFromFields(local.year, local.month, local.day, local.hour, local.minute, local.second ?? 0));
}

/**
 * The same conversion asked of Temporal directly, literally as the SPEC words it: the earlier of two
 * readings, or the transition after a skipped one. The tables above must agree with it (tested).
 */
export function naiveToUtcByTemporal(id: string, naive: number): number {
  const l = naiveToLocalTime(naive);
  const wall = new Temporal.PlainDateTime(l.year, l.month, l.day, l.hour, l.minute, l.second, naive - Math.floor(naive / 1000) * 1000);
  const earlier = wall.toZonedDateTime(id, { disambiguation: 'earlier' });
  if (Temporal.PlainDateTime.compare(earlier.toPlainDateTime(), wall) === 0) return earlier.epochMilliseconds;
  // skipped: 'earlier' reads the wall clock with the offset from before the gap, an instant before it
  return earlier.getTimeZoneTransition('next')!.epochMilliseconds;
}
