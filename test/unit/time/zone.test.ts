import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatLong, formatShort } from '../../../src/time/format.js';
import { parseIsoTime } from '../../../src/time/iso.js';
import type { LocalTime } from '../../../src/time/units.js';
import {
  compileZone,
  isValidTimezone,
  localToUtc as zoneLocalToUtc,
  utcToLocal as zoneUtcToLocal,
  zone,
} from '../../../src/time/zone.js';
const utcToLocal = (t: number, tz: string): LocalTime => zoneUtcToLocal(t, zone(tz));
const localToUtc = (l: Parameters<typeof zoneLocalToUtc>[0], tz: string): number => zoneLocalToUtc(l, zone(tz));
/** windows' from/to: the one ISO parser in its local form */
const parseLocalDateTime = (text: string, tz: string): number | null => parseIsoTime(text, { zone: zone(tz), form: 'local' });

const iso = (s: string): number => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`bad test date ${s}`);
  return t;
};

const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => ({
  year: y,
  month: mo,
  day: d,
  hour: h,
  minute: mi,
  second: s,
});

/** The wall clock at t read straight from Intl (formatters of its own), independent of the module under test. */
const testFormatters = new Map<string, Intl.DateTimeFormat>();
function intlLocal(t: number, tz: string): Omit<LocalTime, 'weekday'> {
  let fmt = testFormatters.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    testFormatters.set(tz, fmt);
  }
  const parts = fmt.formatToParts(t);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

const naive = (l: { year: number; month: number; day: number; hour: number; minute: number; second?: number }) =>
  Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0);

describe('isValidTimezone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'Etc/GMT+5'])(
    'accepts the IANA name %s',
    (tz) => expect(isValidTimezone(tz)).toBe(true),
  );
  it.each(['', 'Mars/Olympus_Mons', 'Europe/Berlinn', '+01:00', 'UTC+1', ' Europe/Berlin', 'Europe/../Berlin'])(
    'rejects %j',
    (tz) => expect(isValidTimezone(tz)).toBe(false),
  );
});

describe('utcToLocal', () => {
  it('reads the wall clock and weekday in a timezone', () => {
    expect(utcToLocal(iso('2026-12-21T05:00:00Z'), 'America/New_York')).toEqual({
      ...local(2026, 12, 21, 0, 0),
      weekday: 1,
    });
    expect(utcToLocal(iso('2026-06-05T16:00:07.999Z'), 'Europe/Berlin')).toEqual({
      ...local(2026, 6, 5, 18, 0, 7),
      weekday: 5,
    });
    expect(utcToLocal(iso('2026-01-01T00:00:00Z'), 'UTC')).toEqual({ ...local(2026, 1, 1, 0, 0), weekday: 4 });
  });

  it('handles instants before 1970', () => {
    expect(utcToLocal(iso('1969-12-31T23:59:59.500Z'), 'UTC')).toEqual({
      ...local(1969, 12, 31, 23, 59, 59),
      weekday: 3,
    });
  });

  it.each([
    ['Europe/Berlin spring forward', 'Europe/Berlin', '2026-03-29T00:59:00Z', local(2026, 3, 29, 1, 59)],
    ['Europe/Berlin spring forward', 'Europe/Berlin', '2026-03-29T01:00:00Z', local(2026, 3, 29, 3, 0)],
    ['Europe/Berlin fall back, first pass', 'Europe/Berlin', '2026-10-25T00:30:00Z', local(2026, 10, 25, 2, 30)],
    ['Europe/Berlin fall back, second pass', 'Europe/Berlin', '2026-10-25T01:30:00Z', local(2026, 10, 25, 2, 30)],
    ['America/New_York spring forward', 'America/New_York', '2026-03-08T07:00:00Z', local(2026, 3, 8, 3, 0)],
    ['America/New_York fall back, first pass', 'America/New_York', '2026-11-01T05:30:00Z', local(2026, 11, 1, 1, 30)],
    ['America/New_York fall back, second pass', 'America/New_York', '2026-11-01T06:30:00Z', local(2026, 11, 1, 1, 30)],
    ['Australia/Sydney fall back, first pass', 'Australia/Sydney', '2026-04-04T15:30:00Z', local(2026, 4, 5, 2, 30)],
    ['Australia/Sydney fall back, second pass', 'Australia/Sydney', '2026-04-04T16:30:00Z', local(2026, 4, 5, 2, 30)],
    ['Australia/Sydney spring forward', 'Australia/Sydney', '2026-10-03T16:00:00Z', local(2026, 10, 4, 3, 0)],
  ])('%s: %s at %s', (_name, tz, at, expected) => {
    expect(utcToLocal(iso(at), tz)).toMatchObject(expected);
  });

  it('agrees with Intl for random instants in many zones, including half-hour DST (Lord Howe)', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'Pacific/Chatham',
      'America/Sao_Paulo',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: iso('1971-01-01T00:00:00Z'), max: iso('2099-12-31T00:00:00Z') }),
        fc.constantFrom(...zones),
        (t, tz) => {
          const { weekday, ...fields } = utcToLocal(t, tz);
          const expected = intlLocal(t, tz);
          expect(fields).toEqual(expected);
          expect(weekday).toBe(new Date(naive(expected)).getUTCDay());
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('localToUtc', () => {
  it('converts an ordinary local time', () => {
    expect(localToUtc(local(2026, 12, 21, 0, 0), 'America/New_York')).toBe(iso('2026-12-21T05:00:00Z'));
    expect(localToUtc({ year: 2026, month: 7, day: 1, hour: 12, minute: 0 }, 'Europe/Berlin')).toBe(
      iso('2026-07-01T10:00:00Z'),
    );
    expect(localToUtc(local(2026, 7, 1, 12, 0, 30), 'UTC')).toBe(iso('2026-07-01T12:00:30Z'));
  });

  it.each([
    // [zone, local, expected UTC]
    ['Europe/Berlin', local(2026, 3, 29, 2, 0), '2026-03-29T01:00:00Z'],
    ['Europe/Berlin', local(2026, 3, 29, 2, 30), '2026-03-29T01:00:00Z'],
    ['Europe/Berlin', local(2026, 3, 29, 2, 59, 59), '2026-03-29T01:00:00Z'],
    ['America/New_York', local(2026, 3, 8, 2, 30), '2026-03-08T07:00:00Z'],
    ['Australia/Sydney', local(2026, 10, 4, 2, 30), '2026-10-03T16:00:00Z'],
  ])('a time in the skipped hour maps to the transition (%s %o)', (tz, l, expected) => {
    expect(localToUtc(l, tz)).toBe(iso(expected));
  });

  it.each([
    ['Europe/Berlin', local(2026, 3, 29, 1, 59), '2026-03-29T00:59:00Z'],
    ['Europe/Berlin', local(2026, 3, 29, 3, 0), '2026-03-29T01:00:00Z'],
    ['America/New_York', local(2026, 3, 8, 3, 0), '2026-03-08T07:00:00Z'],
    ['Australia/Sydney', local(2026, 10, 4, 3, 0), '2026-10-03T16:00:00Z'],
  ])('times either side of a skipped hour are exact (%s %o)', (tz, l, expected) => {
    expect(localToUtc(l, tz)).toBe(iso(expected));
  });

  it.each([
    ['Europe/Berlin', local(2026, 10, 25, 2, 0), '2026-10-25T00:00:00Z'],
    ['Europe/Berlin', local(2026, 10, 25, 2, 30), '2026-10-25T00:30:00Z'],
    ['America/New_York', local(2026, 11, 1, 1, 30), '2026-11-01T05:30:00Z'],
    ['Australia/Sydney', local(2026, 4, 5, 2, 30), '2026-04-04T15:30:00Z'],
  ])('a time in the repeated hour maps to its first occurrence (%s %o)', (tz, l, expected) => {
    expect(localToUtc(l, tz)).toBe(iso(expected));
  });

  it.each([
    ['Europe/Berlin', local(2026, 10, 25, 3, 0), '2026-10-25T02:00:00Z'],
    ['America/New_York', local(2026, 11, 1, 2, 0), '2026-11-01T07:00:00Z'],
    ['Australia/Sydney', local(2026, 4, 5, 3, 0), '2026-04-04T17:00:00Z'],
  ])('the end of a repeated hour is after its second pass (%s %o)', (tz, l, expected) => {
    expect(localToUtc(l, tz)).toBe(iso(expected));
  });

  it('rolls over out-of-range fields like Date.UTC', () => {
    expect(localToUtc(local(2026, 13, 1, 0, 0), 'UTC')).toBe(iso('2027-01-01T00:00:00Z'));
    expect(localToUtc(local(2026, 3, 32, 24, 0), 'UTC')).toBe(iso('2026-04-02T00:00:00Z'));
  });

  it('maps every local time to the first instant whose wall clock reads it or later', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1990, max: 2060 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
        }),
        fc.constantFrom(...zones),
        (l, tz) => {
          const u = localToUtc(l, tz);
          const target = naive(l);
          expect(naive(intlLocal(u, tz))).toBeGreaterThanOrEqual(target);
          expect(naive(intlLocal(u - 1000, tz))).toBeLessThan(target);
          // not the second pass of a repeated hour
          expect(naive(intlLocal(u - 3_600_000, tz))).toBeLessThan(target);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('round-trips every instant except those in the second pass of a repeated hour', () => {
    const t = iso('2026-10-25T01:30:00Z'); // Berlin 02:30 CET, the second pass
    expect(localToUtc(utcToLocal(t, 'Europe/Berlin'), 'Europe/Berlin')).toBe(t - 3_600_000);
    fc.assert(
      fc.property(fc.integer({ min: iso('2000-01-01T00:00:00Z'), max: iso('2050-01-01T00:00:00Z') }), (raw) => {
        const t = raw - (raw % 1000);
        for (const tz of ['Europe/Berlin', 'America/New_York', 'Australia/Sydney']) {
          const back = localToUtc(utcToLocal(t, tz), tz);
          expect(back === t || back === t - 3_600_000).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseLocalDateTime', () => {
  it.each([
    ['2026-12-21T00:00', 'America/New_York', '2026-12-21T05:00:00Z'],
    ['2027-01-04T09:00', 'America/New_York', '2027-01-04T14:00:00Z'],
    ['2026-12-21T00:00:30', 'UTC', '2026-12-21T00:00:30Z'],
    ['2028-02-29T12:00', 'Europe/Berlin', '2028-02-29T11:00:00Z'],
    ['2026-03-29T02:30', 'Europe/Berlin', '2026-03-29T01:00:00Z'],
    ['2026-10-25T02:30', 'Europe/Berlin', '2026-10-25T00:30:00Z'],
    ['2026-12-31T23:59:59', 'UTC', '2026-12-31T23:59:59Z'],
  ])('reads %s in %s', (text, tz, expected) => {
    expect(parseLocalDateTime(text, tz)).toBe(iso(expected));
  });

  it.each([
    ['2026-02-30T00:00', 'February 30'],
    ['2027-02-29T00:00', 'February 29 in a common year'],
    ['2100-02-29T00:00', 'February 29 in a century that is not a leap year'],
    ['2026-04-31T00:00', 'April 31'],
    ['2026-13-01T00:00', 'month 13'],
    ['2026-00-10T00:00', 'month 0'],
    ['2026-01-00T00:00', 'day 0'],
    ['2026-01-01T25:00', 'hour 25'],
    ['2026-01-01T24:00', 'hour 24'],
    ['2026-01-01T12:60', 'minute 60'],
    ['2026-01-01T12:00:60', 'second 60'],
    ['2026-01-01T12:00Z', 'an offset'],
    ['2026-01-01T12:00+01:00', 'an offset'],
    ['2026-01-01 12:00', 'a space for T'],
    ['2026-1-1T12:00', 'unpadded fields'],
    ['2026-01-01', 'no time'],
    ['', 'nothing'],
  ])('rejects %j (%s)', (text) => {
    expect(parseLocalDateTime(text, 'UTC')).toBeNull();
  });

  it('rejects an unknown timezone (it cannot be compiled)', () => {
    expect(() => compileZone('Mars/Olympus_Mons')).toThrow(/unknown IANA timezone/);
  });
});

describe('formatShort', () => {
  const now = iso('2026-03-27T11:00:00Z'); // Fri 12:00 in Berlin

  it('names the weekday when the time is less than 6 days away', () => {
    expect(formatShort(iso('2026-03-30T07:00:00Z'), 'Europe/Berlin', now)).toBe('Mon 09:00');
    expect(formatShort(iso('2026-03-27T17:00:00Z'), 'Europe/Berlin', now)).toBe('Fri 18:00');
    expect(formatShort(now + 6 * 86_400_000 - 60_000, 'Europe/Berlin', now)).toBe('Thu 12:59');
  });

  it('uses the date from 6 days on, and for days before today', () => {
    expect(formatShort(now + 6 * 86_400_000, 'Europe/Berlin', now)).toBe('2026-04-02 13:00');
    expect(formatShort(iso('2027-01-04T14:00:00Z'), 'America/New_York', iso('2026-12-21T05:00:00Z'))).toBe(
      '2027-01-04 09:00',
    );
    expect(formatShort(iso('2026-03-26T11:00:00Z'), 'Europe/Berlin', now)).toBe('2026-03-26 12:00');
  });

  it('keeps the weekday for an earlier time on the same local day', () => {
    expect(formatShort(iso('2026-03-27T06:00:00Z'), 'Europe/Berlin', now)).toBe('Fri 07:00');
  });

  it('always uses the 24-hour clock in the given timezone', () => {
    expect(formatShort(iso('2026-03-27T22:05:00Z'), 'UTC', now)).toBe('Fri 22:05');
    expect(formatShort(iso('2026-03-27T22:05:00Z'), 'Australia/Sydney', now)).toBe('Sat 09:05');
  });
});

describe('formatLong', () => {
  it('renders the local date and time with the zone', () => {
    expect(formatLong(iso('2026-12-21T05:00:00Z'), 'America/New_York')).toBe('2026-12-21 00:00 America/New_York');
    expect(formatLong(iso('2026-03-30T07:00:00Z'), 'Europe/Berlin')).toBe('2026-03-30 09:00 Europe/Berlin');
    expect(formatLong(iso('2026-06-01T14:05:00Z'), 'UTC')).toBe('2026-06-01 14:05 UTC');
  });

  it('shows seconds only when there are some', () => {
    expect(formatLong(iso('2026-06-01T14:05:30Z'), 'UTC')).toBe('2026-06-01 14:05:30 UTC');
  });
});
