import { describe, expect, it } from 'vitest';
import { dayFields, daysInMonth, naiveFromFields, naiveToLocalTime } from '../../../src/time/units.js';

const DAY = 86_400_000;

describe('naive calendar fields', () => {
  it("dayFields and naiveToLocalTime agree with Date for every day from 1600 to 2400", () => {
    const out = { month: 0, day: 0, weekday: 0 };
    for (let d = Math.floor(Date.UTC(1600, 0, 1) / DAY); d < Math.floor(Date.UTC(2400, 0, 1) / DAY); d++) {
      dayFields(d, out);
      const date = new Date(d * DAY);
      if (out.month !== date.getUTCMonth() + 1 || out.day !== date.getUTCDate() || out.weekday !== date.getUTCDay()) {
        expect({ d, ...out }).toEqual({ d, month: date.getUTCMonth() + 1, day: date.getUTCDate(), weekday: date.getUTCDay() });
      }
      const t = d * DAY + ((d * 7_919_000) % DAY);
      const l = naiveToLocalTime(t);
      const at = new Date(t);
      if (l.year !== at.getUTCFullYear() || l.month !== at.getUTCMonth() + 1 || l.day !== at.getUTCDate() || l.hour !== at.getUTCHours() || l.minute !== at.getUTCMinutes() || l.second !== at.getUTCSeconds() || l.weekday !== at.getUTCDay()) {
        expect(l).toEqual({ year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate(), hour: at.getUTCHours(), minute: at.getUTCMinutes(), second: at.getUTCSeconds(), weekday: at.getUTCDay() });
      }
    }
  });

  it('reads years 0-99 as they are, and rolls fields over like Date.UTC', () => {
    expect(naiveToLocalTime(naiveFromFields(50, 3, 1, 12, 30, 15))).toEqual({ year: 50, month: 3, day: 1, hour: 12, minute: 30, second: 15, weekday: 2 });
    expect(naiveFromFields(2026, 13, 1, 0, 0)).toBe(Date.UTC(2027, 0, 1));
    expect(naiveFromFields(2026, 3, 32, 24, 0)).toBe(Date.UTC(2026, 3, 2));
  });

  it('knows the length of every month', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2026, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect([2024, 2100, 2000, 1900].map((y) => daysInMonth(y, 2))).toEqual([29, 28, 29, 28]);
  });
});
