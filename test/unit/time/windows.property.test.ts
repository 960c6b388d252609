/**
 * Windows against a brute-force model, minute by minute across the 2026 DST changes.
 *
 * The model knows nothing of the module's arithmetic: it walks UTC minute by minute, reads the wall
 * clock from its own Intl formatter, and applies the SPEC rules literally. A local time "happens" at the
 * first minute the wall clock reaches or passes it (so times in a skipped hour happen at the
 * transition, and times in a repeated hour happen on the first pass only). An occurrence starts when
 * a local time matching the cron happens, and ends when its start + duration (on the local clock)
 * happens. The cron is matched by a predicate written here for each shape, not by cron.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileWindow, nextBoundary, nextOccurrences, occurrencesAt, type WindowPlan } from '../../../src/time/windows.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The 2026 transitions (UTC instants) the model walks across. */
const TRANSITIONS: Record<string, number[]> = {
  'Europe/Berlin': [Date.parse('2026-03-29T01:00:00Z'), Date.parse('2026-10-25T01:00:00Z')],
  'America/New_York': [Date.parse('2026-03-08T07:00:00Z'), Date.parse('2026-11-01T06:00:00Z')],
  'Australia/Sydney': [Date.parse('2026-04-04T16:00:00Z'), Date.parse('2026-10-03T16:00:00Z')],
};

const MAX_DURATION_MIN = 3 * 24 * 60;
const CHECK_BEFORE = 12 * HOUR;
const CHECK_AFTER = 12 * HOUR;
const LOOKAHEAD = 2 * DAY;

interface Walk {
  /** UTC ms of step 0; step i is at w0 + i minutes */
  w0: number;
  /** wall clock at each step, as naive local ms (local fields read as UTC) */
  local: number[];
  /** first step that is checked */
  checkFrom: number;
  checkTo: number;
}

const walks = new Map<string, Walk>();

function walkAround(tz: string, transition: number): Walk {
  const key = `${tz}@${transition}`;
  const known = walks.get(key);
  if (known) return known;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const w0 = transition - CHECK_BEFORE - MAX_DURATION_MIN * MIN - DAY;
  const end = transition + CHECK_AFTER + LOOKAHEAD;
  const local: number[] = [];
  for (let u = w0; u <= end; u += MIN) {
    const parts = fmt.formatToParts(u);
    const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    local.push(Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute')));
  }
  const walk: Walk = {
    w0,
    local,
    checkFrom: (transition - CHECK_BEFORE - w0) / MIN,
    checkTo: (transition + CHECK_AFTER - w0) / MIN,
  };
  walks.set(key, walk);
  return walk;
}

interface Shape {
  cron: string;
  /** does the cron match this local minute (naive local ms)? */
  matches: (x: number) => boolean;
  dense: boolean;
}

const hourOf = (x: number) => new Date(x).getUTCHours();
const minuteOf = (x: number) => new Date(x).getUTCMinutes();
const weekdayOf = (x: number) => new Date(x).getUTCDay();
const dayOf = (x: number) => new Date(x).getUTCDate();

/** Hours around the usual transition times come up often. */
const hourArb = fc.oneof(fc.constantFrom(0, 1, 2, 3, 22, 23), fc.integer({ min: 0, max: 23 }));
const minuteArb = fc.oneof(fc.constantFrom(0, 15, 30, 59), fc.integer({ min: 0, max: 59 }));

const shapeArb: fc.Arbitrary<Shape> = fc.oneof(
  fc.tuple(minuteArb, hourArb).map(([m, h]) => ({
    cron: `${m} ${h} * * *`,
    matches: (x: number) => hourOf(x) === h && minuteOf(x) === m,
    dense: false,
  })),
  fc.tuple(minuteArb, hourArb, fc.integer({ min: 0, max: 6 })).map(([m, h, d]) => ({
    cron: `${m} ${h} * * ${d}`,
    matches: (x: number) => weekdayOf(x) === d && hourOf(x) === h && minuteOf(x) === m,
    dense: false,
  })),
  fc.tuple(minuteArb, hourArb, hourArb).map(([m, a, b]) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    return {
      cron: `${m} ${lo}-${hi} * * *`,
      matches: (x: number) => minuteOf(x) === m && hourOf(x) >= lo && hourOf(x) <= hi,
      dense: false,
    };
  }),
  fc.tuple(minuteArb, hourArb, fc.constantFrom(3, 4, 5, 7, 8, 25, 26)).map(([m, h, dom]) => ({
    cron: `${m} ${h} ${dom} * *`,
    matches: (x: number) => dayOf(x) === dom && hourOf(x) === h && minuteOf(x) === m,
    dense: false,
  })),
  fc.constantFrom(5, 10, 15, 20, 30).map((n) => ({
    cron: `*/${n} * * * *`,
    matches: (x: number) => minuteOf(x) % n === 0,
    dense: true,
  })),
  fc.constant({ cron: '* * * * *', matches: () => true, dense: true }),
);

const sparseDurationArb = fc.oneof(
  fc.constantFrom(1, 30, 59, 60, 61, 90, 120, 23 * 60, 24 * 60, 25 * 60, 63 * 60, MAX_DURATION_MIN),
  fc.integer({ min: 1, max: MAX_DURATION_MIN }),
);

const caseArb = (zones: string[]) =>
  fc
    .record({
      tz: fc.constantFrom(...zones),
      which: fc.constantFrom(0, 1),
      shape: shapeArb,
      jitter: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: MIN - 1 })),
    })
    .chain((c) =>
      (c.shape.cron === '* * * * *'
        ? fc.integer({ min: 1, max: 20 })
        : c.shape.dense
          ? fc.integer({ min: 1, max: 150 })
          : sparseDurationArb
      ).map((durationMin) => ({ ...c, durationMin })),
    );

interface Model {
  active: boolean[];
  /** a non-empty occurrence starts or ends at this step */
  changes: boolean[];
  /** a non-empty occurrence starts at this step */
  starts: boolean[];
  /** the end (UTC ms) of the occurrence that starts at this step, when it ends inside the walk */
  startsEnding: (number | undefined)[];
}

function model(walk: Walk, matches: (x: number) => boolean, d: number): Model {
  const n = walk.local.length;
  const active: boolean[] = new Array(n).fill(false);
  const changes: boolean[] = new Array(n).fill(false);
  const starts: boolean[] = new Array(n).fill(false);
  const startsEnding: (number | undefined)[] = new Array(n).fill(undefined);
  const high: number[] = new Array(n);
  const firstX = walk.local[0]!;
  let prevHigh = firstX - MIN;
  let count = 0;
  const pendingEnds: { step: number; endLocal: number }[] = [];
  for (let i = 0; i < n; i++) {
    const L = walk.local[i]!;
    const top = Math.max(prevHigh, L);
    for (let x = prevHigh + MIN; x <= top; x += MIN) {
      if (matches(x)) {
        count++;
        if (x + d > top) {
          changes[i] = true; // a non-empty occurrence starts
          starts[i] = true;
          pendingEnds.push({ step: i, endLocal: x + d });
        }
      }
      const s = x - d;
      if (s >= firstX && matches(s)) {
        count--;
        if (s <= prevHigh) changes[i] = true; // an occurrence that started earlier ends
      }
    }
    high[i] = top;
    prevHigh = top;
    active[i] = count > 0;
  }
  // End instant of each start: the first step whose high-water clock reaches start + duration.
  for (const { step, endLocal } of pendingEnds) {
    let j = step;
    while (j < n && high[j]! < endLocal) j++;
    if (j < n) startsEnding[step] = Math.max(startsEnding[step] ?? 0, walk.w0 + j * MIN);
  }
  return { active, changes, starts, startsEnding };
}

function window(tz: string, cron: string, durationMin: number): WindowPlan {
  return compileWindow({ name: 'p', timezone: tz, cron, duration: `${durationMin}m` });
}

function checkAgainstModel(c: {
  tz: string;
  which: number;
  shape: Shape;
  jitter: number;
  durationMin: number;
}): void {
  const walk = walkAround(c.tz, TRANSITIONS[c.tz]![c.which]!);
  const d = c.durationMin * MIN;
  const m = model(walk, c.shape.matches, d);
  const w = window(c.tz, c.shape.cron, c.durationMin);
  const lastStep = walk.local.length - 1;
  const lastInstant = walk.w0 + lastStep * MIN;
  // Plain comparisons in the loop (expect() per minute would dominate the run time).
  function fail(t: number, what: string, actual: unknown, expected: unknown): never {
    throw new Error(
      `${c.shape.cron} for ${c.durationMin}m in ${c.tz} at ${new Date(t).toISOString()}: ${what} is ${JSON.stringify(actual)}, the model says ${JSON.stringify(expected)}`,
    );
  }
  // The next step with a change, and with a start, after each step (-1: none in the walk).
  const nextChange: number[] = new Array(lastStep + 1).fill(-1);
  const nextStart: number[] = new Array(lastStep + 1).fill(-1);
  for (let i = lastStep - 1; i >= 0; i--) {
    nextChange[i] = m.changes[i + 1] ? i + 1 : nextChange[i + 1]!;
    nextStart[i] = m.starts[i + 1] ? i + 1 : nextStart[i + 1]!;
  }
  for (let i = walk.checkFrom; i <= walk.checkTo; i++) {
    const t = walk.w0 + i * MIN + c.jitter;
    const at = occurrencesAt(w, t);
    if (at.length > 0 !== m.active[i]) fail(t, 'occurrencesAt(w, t).length > 0', at.length > 0, m.active[i]);
    for (const o of at) if (!(o.start <= t && t < o.end)) fail(t, 'an occurrence at t', o, 'it contains t');

    const k = nextChange[i]!;
    const boundary = nextBoundary(w, t);
    if (k !== -1) {
      if (boundary !== walk.w0 + k * MIN) fail(t, 'nextBoundary', boundary, walk.w0 + k * MIN);
    } else if (boundary !== null && boundary <= lastInstant) fail(t, 'nextBoundary', boundary, 'after the walk');

    const s = nextStart[i]!;
    const [next] = nextOccurrences(w, t, 1);
    if (s !== -1) {
      const start = walk.w0 + s * MIN;
      const end = m.startsEnding[s];
      if (next === undefined || next.start !== start) fail(t, 'the next occurrence', next, { start });
      if (end !== undefined ? next.end !== end : next.end <= lastInstant) fail(t, 'the next occurrence', next, { start, end });
    } else if (next !== undefined && next.start <= lastInstant) fail(t, 'the next occurrence', next, 'after the walk');
  }
}

describe('windows agree with a minute-by-minute brute-force model across DST changes', () => {
  it('in Europe/Berlin and America/New_York (2026 spring forward and fall back)', () => {
    fc.assert(fc.property(caseArb(['Europe/Berlin', 'America/New_York']), checkAgainstModel), { numRuns: 60 });
  });

  it('in Australia/Sydney (2026 fall back in April, spring forward in October)', () => {
    fc.assert(fc.property(caseArb(['Australia/Sydney']), checkAgainstModel), { numRuns: 25 });
  });

  it('the model itself sees the weekend example the SPEC describes', () => {
    // Guard against a model that agrees with everything: Fri 18:00 + 63h in Berlin across spring forward.
    const walk = walkAround('Europe/Berlin', TRANSITIONS['Europe/Berlin']![0]!);
    const m = model(
      walk,
      (x) => weekdayOf(x) === 5 && hourOf(x) === 18 && minuteOf(x) === 0,
      63 * HOUR,
    );
    const step = (iso: string) => (Date.parse(iso) - walk.w0) / MIN;
    expect(m.active[step('2026-03-27T16:59:00Z')]).toBe(false);
    expect(m.active[step('2026-03-27T17:00:00Z')]).toBe(true);
    expect(m.active[step('2026-03-30T06:59:00Z')]).toBe(true);
    expect(m.active[step('2026-03-30T07:00:00Z')]).toBe(false);
    expect(m.startsEnding[step('2026-03-27T17:00:00Z')]).toBe(Date.parse('2026-03-30T07:00:00Z'));
  });
});
