import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cronMatches, cronProblem, parseCron, type CronSpec } from '../../../src/time/cron.js';

const on = (a: boolean[]) => a.flatMap((v, i) => (v ? [i] : []));

/** A local date and time; the weekday is derived so tests cannot get it wrong. */
function at(year: number, month: number, day: number, hour = 0, minute = 0) {
  return { month, day, hour, minute, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

describe('cron parsing: valid expressions', () => {
  it.each<[string, Partial<Record<keyof CronSpec, unknown>>]>([
    ['0 18 * * FRI', { minutes: [0], hours: [18], daysOfWeek: [5], domRestricted: false, dowRestricted: true }],
    ['*/15 9-17 * * 1-5', { minutes: [0, 15, 30, 45], hours: [9, 10, 11, 12, 13, 14, 15, 16, 17], daysOfWeek: [1, 2, 3, 4, 5] }],
    ['1-10/3 * * * *', { minutes: [1, 4, 7, 10] }],
    ['10/20 * * * *', { minutes: [10, 30, 50] }],
    ['0,30 0,12 1,15 * *', { minutes: [0, 30], hours: [0, 12], daysOfMonth: [1, 15], domRestricted: true }],
    ['0 0 29 2 *', { daysOfMonth: [29], months: [2] }],
    ['0 0 * jan-Mar,DEC *', { months: [1, 2, 3, 12] }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['0 0 * * sun,Sat', { daysOfWeek: [0, 6] }],
    ['0 0 * * mon-fri/2', { daysOfWeek: [1, 3, 5] }],
    ['0 0 ? * MON', { daysOfMonth: Array.from({ length: 31 }, (_, i) => i + 1), domRestricted: false }],
    ['0 0 1 * ?', { daysOfWeek: [0, 1, 2, 3, 4, 5, 6], dowRestricted: false }],
    ['0 0 */2 * *', { daysOfMonth: Array.from({ length: 16 }, (_, i) => 2 * i + 1), domRestricted: false }],
    ['  0\t0  * *   *  ', { minutes: [0], hours: [0] }],
    ['* * * * *', { minutes: Array.from({ length: 60 }, (_, i) => i), domRestricted: false, dowRestricted: false }],
    ['*/59 */23 */30 */11 */7', { minutes: [0, 59], hours: [0, 23], daysOfMonth: [1, 31], months: [1, 12], daysOfWeek: [0] }],
  ])('%j parses', (expr, expected) => {
    expect(cronProblem(expr)).toBeNull();
    const spec = parseCron(expr);
    expect(spec.minutes).toHaveLength(60);
    expect(spec.hours).toHaveLength(24);
    expect(spec.daysOfWeek).toHaveLength(7);
    for (const [key, value] of Object.entries(expected)) {
      const actual = spec[key as keyof CronSpec];
      expect(Array.isArray(actual) ? on(actual) : actual, key).toEqual(value);
    }
  });
});

describe('cron parsing: invalid expressions get a message a user can act on', () => {
  const FIVE = 'expected five fields (minute hour day-of-month month day-of-week)';
  it.each([
    ['61 * * * *', 'minute field: 61 is out of range 0-59'],
    ['0 24 * * *', 'hour field: 24 is out of range 0-23'],
    ['0 0 0 * *', 'day-of-month field: 0 is out of range 1-31'],
    ['0 0 32 * *', 'day-of-month field: 32 is out of range 1-31'],
    ['0 0 * 13 *', 'month field: 13 is out of range 1-12'],
    ['0 0 * 0 *', 'month field: 0 is out of range 1-12'],
    ['0 0 * * 8', 'day-of-week field: 8 is out of range 0-7'],
    ['0 0-30 * * *', 'hour field: 30 is out of range 0-23'],
    ['x * * * *', "minute field: 'x' is not a number"],
    ['0 0 * JANUARY *', "month field: 'JANUARY' is not a name (use JAN-DEC) or a number"],
    ['0 0 * * FOO', "day-of-week field: 'FOO' is not a name (use SUN-SAT) or a number"],
    ['0 MON * * *', "hour field: 'MON' is not a number"],
    ['0 0 * * MON#2', "day-of-week field: 'MON#2' is not supported; use numbers, names, ranges (1-5), lists (1,3) and steps (*/15)"],
    ['0 0 L * *', "day-of-month field: 'L' is not supported; use numbers, ranges (1-5), lists (1,3) and steps (*/15)"],
    ['0 0 15W * *', "day-of-month field: '15W' is not supported; use numbers, ranges (1-5), lists (1,3) and steps (*/15)"],
    ['*/0 * * * *', "minute field: step 0 in '*/0' must be at least 1"],
    ['*/60 * * * *', "minute field: step 60 in '*/60' is larger than the field's range 0-59"],
    ['*/x * * * *', "minute field: step 'x' in '*/x' is not a number"],
    ['5-1 * * * *', "minute field: range '5-1' goes backwards"],
    ['1-2-3 * * * *', "minute field: cannot read the range '1-2-3'"],
    ['-5 * * * *', "minute field: cannot read the range '-5'"],
    [
      '0 0 * * FRI-MON',
      "day-of-week field: range 'FRI-MON' goes backwards (to wrap past Sunday, write two ranges, e.g. FRI-SAT,SUN-MON)",
    ],
    ['1,,2 * * * *', "minute field: empty item in the list '1,,2'"],
    ['0, * * * *', "minute field: empty item in the list '0,'"],
    ['? * * * *', "minute field: '?' is only allowed in the day-of-month and day-of-week fields"],
    ['0 0 ?,1 * *', "day-of-month field: '?' must stand alone (it means any)"],
    ['0 0 ?/2 * *', "day-of-month field: '?' must stand alone (it means any)"],
    ['0 0 12 * * MON', `${FIVE}, got 6: a seconds field is not supported, remove it`],
    ['0 0 12 * * MON 2026', `${FIVE}, got 7: seconds and year fields are not supported, remove them`],
    ['0 0 * *', `${FIVE}, got 4`],
    ['0', `${FIVE}, got 1`],
    ['', 'the cron expression is empty; expected five fields: minute hour day-of-month month day-of-week'],
    ['   ', 'the cron expression is empty; expected five fields: minute hour day-of-month month day-of-week'],
    ['@daily', "'@daily' is not supported; write the five fields instead: '0 0 * * *'"],
    ['@WEEKLY', "'@WEEKLY' is not supported; write the five fields instead: '0 0 * * 0'"],
    ['@reboot', "'@reboot' is not supported; expected five fields: minute hour day-of-month month day-of-week"],
    ['0 0 30 2 *', 'day-of-month field: February has no day 30, so the expression never matches'],
    ['0 0 31 4,6 *', 'day-of-month field: none of the selected days occurs in the selected months, so the expression never matches'],
  ])('%j: %s', (expr, message) => {
    expect(cronProblem(expr)).toBe(message);
    expect(() => parseCron(expr)).toThrow(new Error(message));
  });

  it('accepts an impossible day of month when the day of week can match instead', () => {
    expect(cronProblem('0 0 30 2 MON')).toBeNull();
    expect(cronProblem('0 0 31 4 *')).toBe('day-of-month field: April has no day 31, so the expression never matches');
  });

  it('never throws from cronProblem, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const problem = cronProblem(s);
        if (problem === null) expect(() => parseCron(s)).not.toThrow();
        else expect(() => parseCron(s)).toThrow(problem);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cronMatches', () => {
  it('matches minute, hour, month and day', () => {
    const spec = parseCron('0 18 * * FRI');
    expect(cronMatches(spec, at(2026, 3, 27, 18, 0))).toBe(true); // a Friday
    expect(cronMatches(spec, at(2026, 3, 27, 18, 1))).toBe(false);
    expect(cronMatches(spec, at(2026, 3, 27, 17, 0))).toBe(false);
    expect(cronMatches(spec, at(2026, 3, 28, 18, 0))).toBe(false); // Saturday
  });

  it('treats 7 and 0 as Sunday', () => {
    for (const expr of ['0 0 * * 7', '0 0 * * 0', '0 0 * * SUN']) {
      expect(cronMatches(parseCron(expr), at(2026, 3, 29))).toBe(true);
      expect(cronMatches(parseCron(expr), at(2026, 3, 30))).toBe(false);
    }
  });

  it('when both day fields are restricted, a day matches if either does', () => {
    const spec = parseCron('0 0 1,15 * MON');
    expect(cronMatches(spec, at(2026, 3, 2))).toBe(true); // Monday the 2nd
    expect(cronMatches(spec, at(2026, 3, 15))).toBe(true); // Sunday the 15th
    expect(cronMatches(spec, at(2026, 3, 3))).toBe(false); // Tuesday the 3rd
  });

  it('when one day field starts with *, both must match (Vixie cron)', () => {
    const spec = parseCron('0 0 */2 * MON');
    expect(cronMatches(spec, at(2026, 3, 9))).toBe(true); // Monday, odd day
    expect(cronMatches(spec, at(2026, 3, 2))).toBe(false); // Monday, even day
    expect(cronMatches(spec, at(2026, 3, 11))).toBe(false); // Wednesday, odd day
  });

  it('? is the same as *', () => {
    const a = parseCron('0 0 ? * MON');
    const b = parseCron('0 0 * * MON');
    expect(a).toEqual(b);
  });

  it('matches the leap day only in leap years', () => {
    const spec = parseCron('0 0 29 2 *');
    expect(cronMatches(spec, at(2028, 2, 29))).toBe(true);
    expect(cronMatches(spec, at(2028, 3, 1))).toBe(false);
  });

  it('respects month names and steps', () => {
    const spec = parseCron('*/20 9-17/4 * jun-aug *');
    expect(cronMatches(spec, at(2026, 7, 10, 13, 40))).toBe(true);
    expect(cronMatches(spec, at(2026, 7, 10, 14, 40))).toBe(false);
    expect(cronMatches(spec, at(2026, 9, 10, 13, 40))).toBe(false);
  });
});
