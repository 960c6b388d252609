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
 * A cron plan also carries a memo (`OccurrenceMemo`, at the end): the scan's findings for a few
 * four-week blocks of UTC time, computed when an instant in them is first asked about, so that the
 * gate's questions about `now` are binary searches. It is bounded, and changes no answer: the scan
 * functions (`occurrencesAtByScan`, `nextBoundaryByScan`) answer whatever it does not hold, and
 * tests compare the two across DST changes in unusual zones.
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
  /**
   * the plan's own memo of occurrences, set by compileWindow (not enumerable: it changes no answer,
   * only how fast one comes; a plan without one, copied or written by hand, is answered by the scan)
   */
  readonly memo?: OccurrenceMemo;
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
    const plan: CronPlan = { kind: 'cron', zone, duration, spec, hours: indexes(spec.hours), minutes: indexes(spec.minutes) };
    Object.defineProperty(plan, 'memo', { value: new OccurrenceMemo(), enumerable: false });
    return Object.freeze(plan);
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
  const out: Occurrence[] = [];
  if (c.memo !== undefined && c.memo.containing(c, t, out)) return out;
  return occurrencesAtByScan(c, t);
}

/** occurrencesAt for a cron plan, by a scan of local times (no memo): what the memo must agree with. */
export function occurrencesAtByScan(c: CronPlan, t: number): Occurrence[] {
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
  const memoised = c.memo === undefined ? undefined : c.memo.boundary(c, t);
  return memoised !== undefined ? memoised : nextBoundaryByScan(c, t);
}

/** nextBoundary for a cron plan, by a scan of local times (no memo): what the memo must agree with. */
export function nextBoundaryByScan(c: CronPlan, t: number): number | null {
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

// ---------------------------------------------------------------------------------------------
// The memo: a cron plan's occurrences, block by block of UTC time

/** The UTC span of one block (blocks are aligned on the epoch). */
export const MEMO_BLOCK = 28 * DAY;
const BLOCK = MEMO_BLOCK;
/** At most this many blocks per plan (the oldest is dropped first) ... */
export const MEMO_MAX_BLOCKS = 16;
/** ... holding at most this many occurrences together. */
export const MEMO_MAX_OCCURRENCES = 4096;
/** A block with more occurrences than this is not kept: its queries scan, as without a memo. */
const MAX_PER_BLOCK = 1024;
/** How many blocks past t a boundary search reads before leaving the search to the scan. */
const LOOK_AHEAD_BLOCKS = 3;
/** Blocks are kept only for instants in this span (beyond it, the zone tables are built per lookup anyway). */
const MEMO_FROM = Date.UTC(1900, 0, 1);
const MEMO_TO = Date.UTC(2300, 0, 1);
/**
 * An occurrence's UTC length is its duration plus the spread of the zone's offsets, which lie within
 * a day of zero: so it is less than duration + 2 days.
 */
const MAX_STRETCH = 2 * DAY;

/**
 * The cron's local starts S whose f(S) lies in [k * BLOCK, (k + 1) * BLOCK), one entry per S in
 * ascending order, as the scan visits them: start f(S), end f(S + duration), nothing merged or left
 * out yet (the queries do that as the scan-based ones do). Both arrays ascend, as f is monotone,
 * so the entries containing an instant are one run of them, found by a binary search.
 */
interface Block {
  readonly k: number;
  /** null: too many entries to keep (the scan answers) */
  readonly starts: Float64Array | null;
  readonly ends: Float64Array | null;
}

/**
 * Occurrences of a cron plan, computed a block of UTC time at a time when an instant in (or near) it
 * is first asked about, and kept on the plan: bounded (MEMO_MAX_BLOCKS blocks, MEMO_MAX_OCCURRENCES
 * occurrences, the oldest block dropped first), and never changing an answer: each block holds
 * exactly what the scan finds there (tested against occurrencesAtByScan and nextBoundaryByScan).
 * Pure in what it answers: it depends only on the plan and the instant asked about.
 */
export class OccurrenceMemo {
  private readonly blocks = new Map<number, Block>();
  private held = 0;
  private last: Block | null = null;

  /** How much is kept (for tests of the bound). */
  size(): { blocks: number; occurrences: number } {
    return { blocks: this.blocks.size, occurrences: this.held };
  }

  private block(c: CronPlan, k: number): Block {
    const last = this.last;
    if (last !== null && last.k === k) return last;
    let b = this.blocks.get(k);
    if (b === undefined) {
      b = computeBlock(c, k);
      const n = b.starts === null ? 0 : b.starts.length;
      while (this.blocks.size > 0 && (this.blocks.size >= MEMO_MAX_BLOCKS || this.held + n > MEMO_MAX_OCCURRENCES)) {
        const [oldest, dropped] = this.blocks.entries().next().value as [number, Block];
        this.blocks.delete(oldest);
        this.held -= dropped.starts === null ? 0 : dropped.starts.length;
      }
      this.blocks.set(k, b);
      this.held += n;
    }
    this.last = b;
    return b;
  }

  /** The first block that can hold an occurrence containing t, or null when the memo does not answer. */
  private firstBlock(c: CronPlan, t: number): number | null {
    const from = t - c.duration - MAX_STRETCH;
    if (!(from >= MEMO_FROM && t + c.duration + MAX_STRETCH + (LOOK_AHEAD_BLOCKS + 1) * BLOCK < MEMO_TO)) return null;
    const k0 = Math.floor(from / BLOCK);
    // a long window needs many blocks for one instant: the scan answers
    return Math.floor(t / BLOCK) - k0 >= MEMO_MAX_BLOCKS / 2 ? null : k0;
  }

  /** Appends the occurrences containing t to out; false (out unchanged) when the memo does not answer. */
  containing(c: CronPlan, t: number, out: Occurrence[]): boolean {
    const k0 = this.firstBlock(c, t);
    if (k0 === null) return false;
    const k1 = Math.floor(t / BLOCK);
    for (let k = k0; k <= k1; k++) if (this.block(c, k).starts === null) return false;
    for (let k = k0; k <= k1; k++) {
      const { starts, ends } = this.block(c, k) as { starts: Float64Array; ends: Float64Array };
      for (let i = firstAbove(ends, t); i < starts.length && starts[i]! <= t; i++) {
        // as the scan does: starts that collapse onto one instant are one occurrence, the last end kept
        const last = out[out.length - 1];
        if (last !== undefined && last.start === starts[i]!) last.end = ends[i]!;
        else out.push({ start: starts[i]!, end: ends[i]! });
      }
    }
    return true;
  }

  /** nextBoundary(c, t), or undefined when the memo does not answer. */
  boundary(c: CronPlan, t: number): number | null | undefined {
    const k0 = this.firstBlock(c, t);
    if (k0 === null) return undefined;
    const k1 = Math.floor(t / BLOCK);
    // the end of the first entry containing t (ends ascend, so it ends first), as the scan finds it
    let best: number | null = null;
    for (let k = k0; k <= k1; k++) {
      const { starts, ends } = this.block(c, k);
      if (starts === null || ends === null) return undefined;
      const i = firstAbove(ends, t);
      if (i < starts.length) {
        if (starts[i]! <= t) best = ends[i]!;
        break;
      }
    }
    // the first start after t of an entry that is not empty, if earlier
    const until = best === null ? k1 + LOOK_AHEAD_BLOCKS : Math.floor(best / BLOCK);
    for (let k = k1; k <= until; k++) {
      const { starts, ends } = this.block(c, k);
      if (starts === null || ends === null) return undefined;
      for (let i = firstAbove(starts, t); i < starts.length; i++) {
        const start = starts[i]!;
        if (best !== null && start >= best) return best;
        if (ends[i]! > start) return start;
      }
    }
    // no start within the blocks read: a containing occurrence's end, or the scan's longer search
    return best !== null ? best : undefined;
  }
}

/** Index of the first element of the ascending xs that is > bound (xs.length if none). */
export function firstAbove(xs: ArrayLike<number>, bound: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! > bound) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The entries of block k. A start f(S) lies in [lo, hi) exactly when G(lo - 1) < S <= G(hi - 1)
 * (G = wallClockHighWater, as in the header), so one scan finds them.
 */
function computeBlock(c: CronPlan, k: number): Block {
  const lo = k * BLOCK;
  const hi = lo + BLOCK;
  const starts: number[] = [];
  const ends: number[] = [];
  let dense = false;
  scan(c, wallClockHighWater(c.zone, lo - 1), wallClockHighWater(c.zone, hi - 1), (s) => {
    if (starts.length >= MAX_PER_BLOCK) {
      dense = true;
      return false;
    }
    starts.push(naiveToUtc(c.zone, s));
    ends.push(naiveToUtc(c.zone, s + c.duration));
    return true;
  });
  if (dense) return { k, starts: null, ends: null };
  return { k, starts: Float64Array.from(starts), ends: Float64Array.from(ends) };
}
