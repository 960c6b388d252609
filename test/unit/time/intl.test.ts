/**
 * The compiled zones against Intl.DateTimeFormat, brute force, in zones with unusual rules: Lord
 * Howe's 30-minute DST, Troll's 2-hour DST, Casablanca's DST suspended each Ramadan, Chatham's
 * +12:45, Apia skipping a whole day, Kathmandu's +05:45, Gaza's and Havana's midnight changes,
 * Dublin's negative DST (winter time is the "summer" offset minus an hour), St John's -03:30 and
 * ordinary ones.
 *
 * The model knows nothing of the module: it reads the wall clock from its own Intl formatter, finds
 * each transition by sampling and then bisecting to the second, and applies the SPEC rules to the
 * offsets either side (a local time maps to the first instant whose wall clock reads it or later).
 * Every instant the model sampled must agree on the offset, every transition must be at the same
 * second, and local times around every transition must map alike. The conversion is also checked
 * against Temporal asked directly, in the SPEC's words (the earlier instant, or the transition).
 */
import { describe, expect, it } from 'vitest';
import {
  naiveToUtc,
  naiveToUtcByTemporal,
  offsetAt,
  wallClockHighWater,
  zone,
} from '../../../src/time/zone.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const ZONES = [
  'Australia/Lord_Howe',
  'Antarctica/Troll',
  'Africa/Casablanca',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Asia/Kathmandu',
  'Asia/Gaza',
  'America/Havana',
  'Europe/Dublin',
  'America/St_Johns',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'America/Sao_Paulo',
];

function intlModel(tz: string) {
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
  /** the wall clock at whole second t, as naive ms */
  const d = new Date(0);
  const f: Record<string, number> = {};
  const reading = (t: number): number => {
    for (const p of fmt.formatToParts(t)) if (p.type !== 'literal') f[p.type] = Number(p.value);
    d.setUTCFullYear(f.year!, f.month! - 1, f.day!);
    d.setUTCHours(f.hour! % 24, f.minute!, f.second!, 0);
    return d.getTime();
  };
  const offset = (t: number): number => {
    const whole = Math.floor(t / SECOND) * SECOND;
    return reading(whole) - whole;
  };
  return { reading, offset };
}

interface ModelTransition {
  at: number;
  before: number;
  after: number;
}

/** Samples every `step` (with a jitter, so samples do not sit on whole hours) and bisects each change. */
function modelTransitions(offset: (t: number) => number, from: number, to: number, step: number, samples: number[][]): ModelTransition[] {
  const out: ModelTransition[] = [];
  let seed = 7;
  let prevT = from;
  let prevO = offset(from);
  samples.push([prevT, prevO]);
  for (let t = from + step; t < to; t += step) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const u = t + (seed % 3600) * SECOND;
    const o = offset(u);
    samples.push([u, o]);
    if (o !== prevO) {
      let lo = prevT;
      let hi = u;
      while (hi - lo > SECOND) {
        const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
        if (offset(mid) === prevO) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, before: prevO, after: offset(hi) });
    }
    prevT = u;
    prevO = o;
  }
  return out;
}

/** The SPEC rule on one transition's offsets: the first instant whose wall clock reads `naive` or later. */
function modelToUtc(tr: ModelTransition, naive: number): number {
  if (naive - tr.before < tr.at) return naive - tr.before;
  return Math.max(tr.at, naive - tr.after);
}

describe('compiled zones agree with Intl (brute force)', () => {
  const from = Date.UTC(2000, 0, 1);
  const to = Date.UTC(2070, 0, 1);

  it.each(ZONES)('%s: offsets, transitions, local times and the high-water mark', (tz) => {
    const model = intlModel(tz);
    const z = zone(tz);
    const samples: number[][] = [];
    const transitions = modelTransitions(model.offset, from, to, 12 * HOUR, samples);
    let checked = 0;

    // every sampled instant (about 51k per zone)
    for (const [t, o] of samples) {
      if (offsetAt(z, t!) !== o) expect([tz, new Date(t!).toISOString(), offsetAt(z, t!)]).toEqual([tz, new Date(t!).toISOString(), o]);
      checked++;
    }
    // the same transitions, to the second
    const inTable = z.at.filter((at, i) => at >= from && at < to && z.offsets[i] !== z.offsets[i + 1]);
    expect(inTable.map((t) => new Date(t).toISOString())).toEqual(transitions.map((tr) => new Date(tr.at).toISOString()));
    expect(transitions.length).toBeGreaterThan(tz === 'Asia/Kathmandu' ? -1 : 10);

    for (const tr of transitions) {
      // instants either side of the transition
      for (const d of [-HOUR, -SECOND, -1, 0, 1, SECOND, HOUR]) {
        expect(offsetAt(z, tr.at + d)).toBe(model.offset(tr.at + d));
        checked++;
      }
      const lone = transitions.every((o) => o === tr || Math.abs(o.at - tr.at) > 2 * DAY);
      if (!lone) continue;
      // local times from 3 hours before to 3 hours after the change, each minute and a few seconds
      const around = tr.at + tr.before;
      for (let naive = around - 3 * HOUR; naive <= around + 3 * HOUR; naive += 7 * MINUTE + 13 * SECOND) {
        const expected = modelToUtc(tr, naive);
        expect(naiveToUtc(z, naive)).toBe(expected);
        checked++;
      }
      for (const naive of [tr.at + tr.before, tr.at + tr.after, tr.at + tr.before - SECOND, tr.at + tr.after - SECOND]) {
        expect(naiveToUtc(z, naive)).toBe(modelToUtc(tr, naive));
        expect(naiveToUtcByTemporal(tz, naive)).toBe(modelToUtc(tr, naive));
        checked++;
      }
      // the high-water mark: during the second pass of a repeated stretch, the reading just before it
      const back = tr.before - tr.after;
      for (const d of [-SECOND, 0, SECOND, back / 2, back - SECOND, back, back + SECOND]) {
        const t = tr.at + d;
        const expected = back > 0 && d >= 0 && d < back ? tr.at - 1 + tr.before : model.reading(Math.floor(t / SECOND) * SECOND) + (t % SECOND);
        expect(wallClockHighWater(z, t)).toBe(expected);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50_000);
  });

  it.each(ZONES)('%s: outside the compiled table (1970-2000, 2070-2100) Temporal answers alike', (tz) => {
    const model = intlModel(tz);
    const z = zone(tz);
    for (const [a, b] of [
      [Date.UTC(1970, 0, 5), Date.UTC(2000, 0, 1)],
      [Date.UTC(2070, 0, 1), Date.UTC(2099, 11, 1)],
    ] as const) {
      for (let t = a; t < b; t += 97 * DAY + 5 * HOUR + 7 * SECOND) expect(offsetAt(z, t)).toBe(model.offset(t));
    }
  });

  it('the table and Temporal asked directly map every local time alike', () => {
    // local times every 7 hours and a minute through 2026 in every zone (the folds and gaps themselves are checked above)
    for (const tz of ZONES) {
      const z = zone(tz);
      for (let naive = Date.UTC(2026, 0, 1); naive < Date.UTC(2027, 0, 1); naive += 7 * HOUR + MINUTE) {
        expect(naiveToUtc(z, naive)).toBe(naiveToUtcByTemporal(tz, naive));
      }
    }
  });
});
