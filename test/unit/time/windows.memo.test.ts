/**
 * A cron plan's occurrence memo (src/time/windows.ts, `OccurrenceMemo`) changes no answer: what
 * occurrencesAt and nextBoundary return through it equals what the scan of local times returns
 * (`occurrencesAtByScan`, `nextBoundaryByScan`, which the brute-force model tests check), at instants
 * around every DST change of 2024-2026 in zones with unusual rules, with the memo cold, warm and
 * dropping blocks. And the memo stays within its bounds.
 */
import { describe, expect, it } from 'vitest';
import {
  MEMO_BLOCK,
  MEMO_MAX_BLOCKS,
  MEMO_MAX_OCCURRENCES,
  compileWindow,
  nextBoundary,
  nextBoundaryByScan,
  occurrencesAt,
  occurrencesAtByScan,
  type CronPlan,
} from '../../../src/time/windows.js';
import { zone } from '../../../src/time/zone.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function cronPlan(cron: string, duration: string, timezone: string): CronPlan {
  const plan = compileWindow({ name: 'w', cron, duration, timezone });
  if (plan.kind !== 'cron') throw new Error('expected a cron plan');
  return plan;
}

/** Lord Howe's 30-minute DST, Troll's 2-hour DST, Casablanca's Ramadan changes, Chatham's :45 offsets, Havana's midnight changes, Dublin's negative DST. */
const ZONES = ['Australia/Lord_Howe', 'Antarctica/Troll', 'Africa/Casablanca', 'Pacific/Chatham', 'America/Havana', 'Europe/Dublin'];

/** Shapes whose starts or ends fall in skipped and repeated local times somewhere among the zones. */
const SHAPES: [string, string][] = [
  ['0 18 * * FRI', '63h'],
  ['30 2 * * *', '30m'],
  ['0 0 * * *', '1h'],
  ['15 0-4 * * *', '45m'],
  ['*/10 * * * *', '10m'],
  ['0 1 * * SUN', '1d'],
  // 60 starts a day: too many to keep in a block, so these are answered by the scan
  ['* 2 * * *', '1m'],
];

function transitions(tz: string, from: number, to: number): number[] {
  return zone(tz).at.filter((t) => t >= from && t < to);
}

/** Instants from 3 days before to 3 days after each transition, every 13 minutes, and 1 ms either side of it. */
function instantsAround(ts: number[]): number[] {
  const out: number[] = [];
  for (const t of ts) {
    out.push(t - 1, t, t + 1);
    for (let u = t - 3 * DAY; u <= t + 3 * DAY; u += 13 * MIN) out.push(u);
  }
  return out;
}

function expectSameAnswers(plan: CronPlan, reference: CronPlan, instants: number[]): number {
  let mismatches = 0;
  for (const t of instants) {
    const memoised = [occurrencesAt(plan, t), nextBoundary(plan, t)];
    const scanned = [occurrencesAtByScan(reference, t), nextBoundaryByScan(reference, t)];
    if (JSON.stringify(memoised) !== JSON.stringify(scanned)) {
      mismatches++;
      // the first one in full, to read
      if (mismatches === 1) expect({ t: new Date(t).toISOString(), answer: memoised }).toEqual({ t: new Date(t).toISOString(), answer: scanned });
    }
  }
  return mismatches;
}

describe('the occurrence memo of a cron plan', () => {
  const from = Date.UTC(2024, 0, 1);
  const to = Date.UTC(2027, 0, 1);

  for (const tz of ZONES) {
    it(`gives the scan's answers around every 2024-2026 transition in ${tz}`, () => {
      const ts = transitions(tz, from, to);
      expect(ts.length).toBeGreaterThanOrEqual(4);
      const instants = instantsAround(ts);
      for (const [cron, duration] of SHAPES) {
        const plan = cronPlan(cron, duration, tz);
        // warm: one plan asked in time order across three years (its memo drops blocks on the way) ...
        expect(expectSameAnswers(plan, plan, instants)).toBe(0);
        // ... and asked again out of order, so that blocks are recomputed after being dropped
        expect(expectSameAnswers(plan, plan, [...instants].reverse().filter((_, i) => i % 7 === 0))).toBe(0);
        // cold: a fresh plan per transition
        for (const t of ts) expect(expectSameAnswers(cronPlan(cron, duration, tz), plan, instantsAround([t]).filter((_, i) => i % 5 === 0))).toBe(0);
      }
    });
  }

  it('gives the scan\'s answers at random instants over 2000-2040 in several zones', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (const tz of [...ZONES, 'Pacific/Apia', 'Europe/Berlin', 'UTC']) {
      const plans = SHAPES.map(([cron, duration]) => cronPlan(cron, duration, tz));
      const instants = Array.from({ length: 150 }, () => Math.floor(Date.UTC(2000, 0, 1) + rand() * 40 * 365 * DAY));
      for (const plan of plans) expect(expectSameAnswers(plan, plan, instants)).toBe(0);
    }
  });

  it('finds an occurrence that starts in an earlier block and lasts longer than its duration (a fall-back inside it)', () => {
    // a start 30 minutes before a block boundary, lasting 30 days of local time + the repeated hour
    const fallBack = Date.UTC(2026, 9, 25, 1);
    const boundary = Math.floor(fallBack / MEMO_BLOCK) * MEMO_BLOCK;
    const plan = cronPlan('30 * * * *', '30d', 'Europe/Berlin');
    const instants = Array.from({ length: 48 }, (_, i) => boundary + 30 * DAY - 2 * HOUR + i * 5 * MIN);
    expect(occurrencesAtByScan(plan, boundary + 30 * DAY + 10 * MIN)[0]!.start).toBe(boundary - 30 * MIN);
    expect(expectSameAnswers(plan, plan, instants)).toBe(0);
  });

  it('answers from the memo for a typical window, and keeps what it computed', () => {
    const plan = cronPlan('0 18 * * FRI', '63h', 'Europe/Berlin');
    expect(plan.memo!.size()).toEqual({ blocks: 0, occurrences: 0 });
    const saturday = Date.UTC(2026, 5, 13, 10, 0);
    expect(occurrencesAt(plan, saturday)).toEqual([{ start: Date.UTC(2026, 5, 12, 16), end: Date.UTC(2026, 5, 15, 7) }]);
    expect(nextBoundary(plan, saturday)).toBe(Date.UTC(2026, 5, 15, 7));
    const kept = plan.memo!.size();
    expect(kept.blocks).toBeGreaterThan(0);
    expect(kept.occurrences).toBeGreaterThan(0);
    occurrencesAt(plan, saturday + HOUR);
    expect(plan.memo!.size()).toEqual(kept);
  });

  it('stays within its bounds however many instants it is asked about', () => {
    const weekly = cronPlan('0 18 * * FRI', '63h', 'Europe/Berlin');
    const hourly = cronPlan('0 * * * *', '30m', 'Australia/Lord_Howe');
    let peak = { blocks: 0, occurrences: 0 };
    for (let t = Date.UTC(2000, 0, 1); t < Date.UTC(2030, 0, 1); t += 5 * DAY + 7 * HOUR) {
      for (const plan of [weekly, hourly]) {
        occurrencesAt(plan, t);
        nextBoundary(plan, t);
        const size = plan.memo!.size();
        expect(size.blocks).toBeLessThanOrEqual(MEMO_MAX_BLOCKS);
        expect(size.occurrences).toBeLessThanOrEqual(MEMO_MAX_OCCURRENCES);
        if (plan === hourly && size.occurrences > peak.occurrences) peak = size;
      }
    }
    // the weekly plan fills its blocks; the hourly one (672 starts a block) is held by the count of occurrences
    expect(weekly.memo!.size().blocks).toBe(MEMO_MAX_BLOCKS);
    expect(peak.blocks).toBeLessThan(MEMO_MAX_BLOCKS);
    expect(peak.occurrences).toBeGreaterThan(MEMO_MAX_OCCURRENCES - 700);
  });

  it('is invisible to comparisons of plans (and so of configs)', () => {
    const asked = cronPlan('0 18 * * FRI', '63h', 'Europe/Berlin');
    occurrencesAt(asked, Date.UTC(2026, 5, 13));
    expect(asked.memo!.size().blocks).toBeGreaterThan(0);
    expect(asked).toEqual(cronPlan('0 18 * * FRI', '63h', 'Europe/Berlin'));
    expect(Object.keys(asked)).not.toContain('memo');
  });

  it('answers a copy of a plan (which has no memo) by the scan, with the same answers', () => {
    const plan = cronPlan('30 2 * * *', '1h', 'Australia/Lord_Howe');
    const copy: CronPlan = { ...plan };
    expect(copy.memo).toBeUndefined();
    const instants = instantsAround(transitions('Australia/Lord_Howe', Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).filter((_, i) => i % 3 === 0);
    for (const t of instants) {
      expect(occurrencesAt(copy, t)).toEqual(occurrencesAt(plan, t));
      expect(nextBoundary(copy, t)).toBe(nextBoundary(plan, t));
    }
  });
});
