import { describe, expect, it } from 'vitest';
import { compileWindow, nextBoundary, nextOccurrences, occurrencesAt, type Occurrence, type WindowPlan } from '../../../src/time/windows.js';

const iso = (s: string): number => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`bad test date ${s}`);
  return t;
};
const MIN = 60_000;
const HOUR = 3_600_000;

function cronWindow(cron: string, duration: string, timezone = 'UTC'): WindowPlan {
  return compileWindow({ name: 'w', timezone, cron, duration });
}

function rangeWindow(from: string, to: string, timezone = 'UTC'): WindowPlan {
  return compileWindow({ name: 'w', timezone, from, to });
}

const occ = (start: string, end: string): Occurrence => ({ start: iso(start), end: iso(end) });

describe('the SPEC weekend window (0 18 * * FRI, 63h, Europe/Berlin)', () => {
  const weekend = cronWindow('0 18 * * FRI', '63h', 'Europe/Berlin');

  it('runs Fri 18:00 to Mon 09:00 local on an ordinary weekend (63h)', () => {
    expect(occurrencesAt(weekend, iso('2026-06-06T12:00:00Z'))).toEqual([
      occ('2026-06-05T16:00:00Z', '2026-06-08T07:00:00Z'),
    ]);
  });

  it('still ends Mon 09:00 local across the spring-forward weekend (62h of real time)', () => {
    const [o] = occurrencesAt(weekend, iso('2026-03-28T12:00:00Z'));
    expect(o).toEqual(occ('2026-03-27T17:00:00Z', '2026-03-30T07:00:00Z'));
    expect(o!.end - o!.start).toBe(62 * HOUR);
  });

  it('still ends Mon 09:00 local across the fall-back weekend (64h of real time)', () => {
    const [o] = occurrencesAt(weekend, iso('2026-10-24T12:00:00Z'));
    expect(o).toEqual(occ('2026-10-23T16:00:00Z', '2026-10-26T08:00:00Z'));
    expect(o!.end - o!.start).toBe(64 * HOUR);
  });

  it('is active from its start, inclusive, to its end, exclusive', () => {
    const start = iso('2026-03-27T17:00:00Z');
    const end = iso('2026-03-30T07:00:00Z');
    expect(occurrencesAt(weekend, start - 1)).toEqual([]);
    expect(occurrencesAt(weekend, start)).toHaveLength(1);
    expect(occurrencesAt(weekend, end - 1)).toHaveLength(1);
    expect(occurrencesAt(weekend, end)).toEqual([]);
  });

  it('lists the next weekends', () => {
    expect(nextOccurrences(weekend, iso('2026-03-25T00:00:00Z'), 3)).toEqual([
      occ('2026-03-27T17:00:00Z', '2026-03-30T07:00:00Z'),
      occ('2026-04-03T16:00:00Z', '2026-04-06T07:00:00Z'),
      occ('2026-04-10T16:00:00Z', '2026-04-13T07:00:00Z'),
    ]);
  });

  it('names the next boundary: the end inside, the next start outside', () => {
    expect(nextBoundary(weekend, iso('2026-03-28T12:00:00Z'))).toBe(iso('2026-03-30T07:00:00Z'));
    expect(nextBoundary(weekend, iso('2026-03-30T07:00:00Z'))).toBe(iso('2026-04-03T16:00:00Z'));
    expect(nextBoundary(weekend, iso('2026-03-27T16:59:59.999Z'))).toBe(iso('2026-03-27T17:00:00Z'));
  });
});

describe('a start in a skipped hour begins at the transition', () => {
  it('Europe/Berlin 2026-03-29: 02:30 for 1h runs 03:00-03:30 CEST', () => {
    const w = cronWindow('30 2 * * *', '1h', 'Europe/Berlin');
    expect(occurrencesAt(w, iso('2026-03-29T01:00:00Z'))).toEqual([occ('2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z')]);
    expect(occurrencesAt(w, iso('2026-03-29T00:59:59Z'))).toEqual([]);
    expect(nextOccurrences(w, iso('2026-03-28T12:00:00Z'), 2)).toEqual([
      occ('2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z'),
      occ('2026-03-30T00:30:00Z', '2026-03-30T01:30:00Z'),
    ]);
  });

  it('America/New_York 2026-03-08: 02:30 for 2h runs 03:00-04:30 EDT', () => {
    const w = cronWindow('30 2 * * *', '2h', 'America/New_York');
    expect(occurrencesAt(w, iso('2026-03-08T08:00:00Z'))).toEqual([occ('2026-03-08T07:00:00Z', '2026-03-08T08:30:00Z')]);
  });

  it('Australia/Sydney 2026-10-04: 02:30 for 1h runs 03:00-03:30 AEDT', () => {
    const w = cronWindow('30 2 * * *', '1h', 'Australia/Sydney');
    expect(occurrencesAt(w, iso('2026-10-03T16:10:00Z'))).toEqual([occ('2026-10-03T16:00:00Z', '2026-10-03T16:30:00Z')]);
  });

  it('leaves out an occurrence that would end at the transition it starts at (02:30 + 30m = 03:00)', () => {
    const w = cronWindow('30 2 * * *', '30m', 'Europe/Berlin');
    expect(occurrencesAt(w, iso('2026-03-29T01:00:00Z'))).toEqual([]);
    expect(nextOccurrences(w, iso('2026-03-28T12:00:00Z'), 1)).toEqual([occ('2026-03-30T00:30:00Z', '2026-03-30T01:00:00Z')]);
    expect(nextBoundary(w, iso('2026-03-28T12:00:00Z'))).toBe(iso('2026-03-30T00:30:00Z'));
  });

  it('collapses several skipped starts into one occurrence, the one that ends last', () => {
    const w = cronWindow('*/15 * * * *', '15m', 'Europe/Berlin');
    // 02:00, 02:15, 02:30, 02:45 and 03:00 local all begin at 01:00Z; 03:00 + 15m ends last.
    expect(occurrencesAt(w, iso('2026-03-29T01:00:00Z'))).toEqual([occ('2026-03-29T01:00:00Z', '2026-03-29T01:15:00Z')]);
    const next = nextOccurrences(w, iso('2026-03-29T00:40:00Z'), 3);
    expect(next).toEqual([
      occ('2026-03-29T00:45:00Z', '2026-03-29T01:00:00Z'),
      occ('2026-03-29T01:00:00Z', '2026-03-29T01:15:00Z'),
      occ('2026-03-29T01:15:00Z', '2026-03-29T01:30:00Z'),
    ]);
    expect(nextBoundary(w, iso('2026-03-29T00:50:00Z'))).toBe(iso('2026-03-29T01:00:00Z'));
    expect(nextBoundary(w, iso('2026-03-29T01:00:00Z'))).toBe(iso('2026-03-29T01:15:00Z'));
  });
});

describe('a start in a repeated hour begins at its first occurrence, once', () => {
  it('Europe/Berlin 2026-10-25: 02:30 for 1h is one occurrence, 02:30 CEST to 03:00 CET + 30m', () => {
    const w = cronWindow('30 2 * * *', '1h', 'Europe/Berlin');
    const only = occ('2026-10-25T00:30:00Z', '2026-10-25T02:30:00Z');
    expect(occurrencesAt(w, iso('2026-10-25T00:30:00Z'))).toEqual([only]);
    // 02:30 CET, the second pass, is inside the same occurrence, not a new one
    expect(occurrencesAt(w, iso('2026-10-25T01:30:00Z'))).toEqual([only]);
    expect(nextOccurrences(w, iso('2026-10-24T12:00:00Z'), 2)).toEqual([
      only,
      occ('2026-10-26T01:30:00Z', '2026-10-26T02:30:00Z'),
    ]);
    expect(nextOccurrences(w, iso('2026-10-25T00:30:00Z'), 1)).toEqual([occ('2026-10-26T01:30:00Z', '2026-10-26T02:30:00Z')]);
  });

  it('America/New_York 2026-11-01: 01:30 for 30m runs from 01:30 EDT to 02:00 EST', () => {
    const w = cronWindow('30 1 * * *', '30m', 'America/New_York');
    expect(occurrencesAt(w, iso('2026-11-01T06:45:00Z'))).toEqual([occ('2026-11-01T05:30:00Z', '2026-11-01T07:00:00Z')]);
    expect(nextBoundary(w, iso('2026-11-01T05:30:00Z'))).toBe(iso('2026-11-01T07:00:00Z'));
  });

  it('Australia/Sydney 2026-04-05: 02:30 for 1h starts 02:30 AEDT', () => {
    const w = cronWindow('30 2 * * *', '1h', 'Australia/Sydney');
    expect(nextOccurrences(w, iso('2026-04-04T12:00:00Z'), 1)).toEqual([occ('2026-04-04T15:30:00Z', '2026-04-04T17:30:00Z')]);
  });

  it('a window that starts before the repeated hour is lengthened by it', () => {
    const w = cronWindow('0 1 * * *', '3h', 'Europe/Berlin');
    const [o] = occurrencesAt(w, iso('2026-10-25T01:30:00Z'));
    expect(o).toEqual(occ('2026-10-24T23:00:00Z', '2026-10-25T03:00:00Z'));
  });

  it('a window that starts before the skipped hour is shortened by it', () => {
    const w = cronWindow('0 1 * * *', '3h', 'Europe/Berlin');
    const [o] = occurrencesAt(w, iso('2026-03-29T00:30:00Z'));
    expect(o).toEqual(occ('2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z'));
  });
});

describe('leap day', () => {
  const w = cronWindow('0 0 29 2 *', '1d');

  it('occurs on 2028-02-29 and then not until 2032', () => {
    expect(nextOccurrences(w, iso('2026-06-01T00:00:00Z'), 2)).toEqual([
      occ('2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z'),
      occ('2032-02-29T00:00:00Z', '2032-03-01T00:00:00Z'),
    ]);
    expect(occurrencesAt(w, iso('2028-02-29T23:59:59Z'))).toEqual([occ('2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z')]);
    expect(occurrencesAt(w, iso('2027-03-01T00:00:00Z'))).toEqual([]);
    expect(nextBoundary(w, iso('2026-06-01T00:00:00Z'))).toBe(iso('2028-02-29T00:00:00Z'));
  });

  it('skips 2100, which is not a leap year', () => {
    expect(nextOccurrences(w, iso('2097-01-01T00:00:00Z'), 1)).toEqual([occ('2104-02-29T00:00:00Z', '2104-03-01T00:00:00Z')]);
  });

  it('follows the local calendar of the window timezone', () => {
    const berlin = cronWindow('0 0 29 2 *', '1d', 'Europe/Berlin');
    expect(nextOccurrences(berlin, iso('2026-06-01T00:00:00Z'), 1)).toEqual([occ('2028-02-28T23:00:00Z', '2028-02-29T23:00:00Z')]);
  });
});

describe('range windows', () => {
  const yearEnd = rangeWindow('2026-12-21T00:00', '2027-01-04T09:00', 'America/New_York');
  const only = occ('2026-12-21T05:00:00Z', '2027-01-04T14:00:00Z');

  it('span the year end in the window timezone', () => {
    expect(occurrencesAt(yearEnd, iso('2026-12-31T23:59:00Z'))).toEqual([only]);
    expect(occurrencesAt(yearEnd, iso('2027-01-01T12:00:00Z'))).toEqual([only]);
    expect(occurrencesAt(yearEnd, iso('2026-12-21T04:59:59.999Z'))).toEqual([]);
    expect(occurrencesAt(yearEnd, iso('2026-12-21T05:00:00Z'))).toEqual([only]);
    expect(occurrencesAt(yearEnd, iso('2027-01-04T13:59:59.999Z'))).toEqual([only]);
    expect(occurrencesAt(yearEnd, iso('2027-01-04T14:00:00Z'))).toEqual([]);
  });

  it('are a single occurrence', () => {
    expect(nextOccurrences(yearEnd, iso('2026-01-01T00:00:00Z'), 5)).toEqual([only]);
    expect(nextOccurrences(yearEnd, iso('2026-12-22T00:00:00Z'), 5)).toEqual([]);
    expect(nextOccurrences(yearEnd, iso('2026-01-01T00:00:00Z'), 0)).toEqual([]);
  });

  it('have two boundaries, then none', () => {
    expect(nextBoundary(yearEnd, iso('2026-01-01T00:00:00Z'))).toBe(only.start);
    expect(nextBoundary(yearEnd, only.start)).toBe(only.end);
    expect(nextBoundary(yearEnd, only.end)).toBeNull();
  });

  it('default to UTC and take seconds', () => {
    const w = compileWindow({ name: 'w', from: '2026-01-01T00:00:30', to: '2026-01-01T01:00' });
    expect(occurrencesAt(w, iso('2026-01-01T00:00:30Z'))).toEqual([occ('2026-01-01T00:00:30Z', '2026-01-01T01:00:00Z')]);
  });
});

describe('overlapping and back-to-back occurrences', () => {
  it('lists every occurrence containing the instant, ascending', () => {
    const w = cronWindow('0 * * * *', '90m');
    expect(occurrencesAt(w, iso('2026-05-01T10:15:00Z'))).toEqual([
      occ('2026-05-01T09:00:00Z', '2026-05-01T10:30:00Z'),
      occ('2026-05-01T10:00:00Z', '2026-05-01T11:30:00Z'),
    ]);
    expect(occurrencesAt(w, iso('2026-05-01T10:45:00Z'))).toEqual([occ('2026-05-01T10:00:00Z', '2026-05-01T11:30:00Z')]);
  });

  it('the next boundary is the first end or the next start, whichever is sooner', () => {
    const w = cronWindow('0 * * * *', '90m');
    expect(nextBoundary(w, iso('2026-05-01T10:15:00Z'))).toBe(iso('2026-05-01T10:30:00Z'));
    expect(nextBoundary(w, iso('2026-05-01T10:45:00Z'))).toBe(iso('2026-05-01T11:00:00Z'));
  });

  it('a daily 24h window hands over at midnight, and that is a boundary', () => {
    const w = cronWindow('0 0 * * *', '24h');
    expect(occurrencesAt(w, iso('2026-05-02T00:00:00Z'))).toEqual([occ('2026-05-02T00:00:00Z', '2026-05-03T00:00:00Z')]);
    expect(nextBoundary(w, iso('2026-05-01T12:00:00Z'))).toBe(iso('2026-05-02T00:00:00Z'));
  });

  it('every minute with a week-long duration is bounded work and exact', () => {
    const w = cronWindow('* * * * *', '7d');
    const t = iso('2026-05-01T12:00:30Z');
    const all = occurrencesAt(w, t);
    expect(all).toHaveLength(7 * 24 * 60);
    expect(all[0]).toEqual({ start: iso('2026-04-24T12:01:00Z'), end: iso('2026-05-01T12:01:00Z') });
    expect(all.at(-1)).toEqual({ start: iso('2026-05-01T12:00:00Z'), end: iso('2026-05-08T12:00:00Z') });
    expect(nextBoundary(w, t)).toBe(iso('2026-05-01T12:01:00Z'));
    expect(nextOccurrences(w, t, 2).map((o) => o.start)).toEqual([iso('2026-05-01T12:01:00Z'), iso('2026-05-01T12:02:00Z')]);
  });

  it('every minute across a DST change still lists each instant once', () => {
    const w = cronWindow('* * * * *', '2h', 'Europe/Berlin');
    const at = occurrencesAt(w, iso('2026-03-29T01:30:00Z'));
    const starts = at.map((o) => o.start);
    expect(new Set(starts).size).toBe(starts.length);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    // local starts 01:31 .. 03:30 (01:30 + 2h ends exactly at t); 02:00 .. 03:00 all begin at 01:00Z
    expect(starts[0]).toBe(iso('2026-03-29T00:31:00Z'));
    expect(starts.at(-1)).toBe(iso('2026-03-29T01:30:00Z'));
    expect(starts).toHaveLength(29 + 1 + 30);
    expect(at.find((o) => o.start === iso('2026-03-29T01:00:00Z'))!.end).toBe(iso('2026-03-29T03:00:00Z'));
  });
});

describe('window configuration', () => {
  it('a window without an explicit timezone is in UTC', () => {
    const w = compileWindow({ name: 'w', cron: '0 9 * * MON', duration: '1h' });
    expect(nextOccurrences(w, iso('2026-05-01T00:00:00Z'), 1)).toEqual([occ('2026-05-04T09:00:00Z', '2026-05-04T10:00:00Z')]);
  });

  it('an invalid window throws rather than silently never freezing', () => {
    expect(() => occurrencesAt(cronWindow('61 * * * *', '1h'), 0)).toThrow('minute field: 61 is out of range 0-59');
    expect(() => occurrencesAt(cronWindow('0 * * * *', '1x'), 0)).toThrow(/invalid duration/);
    expect(() => occurrencesAt(cronWindow('0 * * * *', '1h', 'Mars/Olympus_Mons'), 0)).toThrow(/timezone/);
    expect(() => occurrencesAt(rangeWindow('2026-02-30T00:00', '2026-03-01T00:00'), 0)).toThrow(/invalid from/);
  });

  it('a compiled window cannot go stale: it is frozen, and a changed source compiles anew', () => {
    const source = { name: 'w', cron: '0 9 * * *', duration: '1h' };
    const w = compileWindow(source);
    const t = iso('2026-05-01T09:30:00Z');
    expect(occurrencesAt(w, t)).toHaveLength(1);
    expect(Object.isFrozen(w)).toBe(true);
    expect(Object.isFrozen(w.zone)).toBe(true);
    source.cron = '0 10 * * *';
    expect(occurrencesAt(w, t)).toHaveLength(1);
    expect(occurrencesAt(compileWindow(source), t)).toHaveLength(0);
  });

  // speed is measured by `npm run bench`, not asserted here
  it('walks a weekly window across years, finding it active on weekends only', () => {
    const w = cronWindow('0 18 * * FRI', '63h', 'Europe/Berlin');
    const t0 = iso('2026-03-20T00:00:00Z');
    occurrencesAt(w, t0);
    const n = 20_000;
    let active = 0;
    for (let i = 0; i < n; i++) {
      const t = t0 + i * 97 * MIN; // walks across the spring-forward weekend and on for ~3.7 years
      if (occurrencesAt(w, t).length > 0) active++;
      nextBoundary(w, t);
    }
    expect(active).toBeGreaterThan(0);
    // 63h of every 168h: a bit over a third of the samples
    expect(active / n).toBeGreaterThan(0.3);
    expect(active / n).toBeLessThan(0.45);
  });
});
