/**
 * When a window's notice is due (`windows[].notify_before`), pure: due from `start - lead` until the
 * occurrence starts, the next due moment after a notice, the period a lead may not exceed, and the
 * "starts in" countdown.
 */
import { describe, expect, it } from 'vitest';
import { compileWindow } from '../../../src/time/windows.js';
import { formatCountdown, nextNoticeAt, noticesDue, occurrencesBetween, upcomingWithinLead, windowPeriod } from '../../../src/time/notices.js';

const H = 3_600_000;
const D = 24 * H;
const weekend = compileWindow({ name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin' });
// Fri 4 Dec 2026 18:00 in Berlin (CET) is 17:00 UTC
const START = Date.UTC(2026, 11, 4, 17, 0);

describe('window notices', () => {
  it('is due from lead before the start until the start, and not before or after', () => {
    const lead = 2 * H;
    expect(noticesDue(weekend, lead, START - lead - 1)).toEqual([]);
    expect(noticesDue(weekend, lead, START - lead)).toEqual([{ start: START, end: Date.UTC(2026, 11, 7, 8, 0) }]);
    expect(noticesDue(weekend, lead, START - 1)).toHaveLength(1);
    expect(noticesDue(weekend, lead, START)).toEqual([]);
  });

  it('plans the next notice at start minus lead, and the one after once that is due', () => {
    const lead = 150 * 60_000;
    expect(nextNoticeAt(weekend, lead, Date.UTC(2026, 11, 1, 9, 0))).toBe(START - lead);
    // at the due moment itself, the next is a week later (the due one is handled, not planned again)
    expect(nextNoticeAt(weekend, lead, START - lead)).toBe(START + 7 * D - lead);
    const range = compileWindow({ name: 'year-end', from: '2026-12-21T00:00', to: '2027-01-04T09:00', timezone: 'America/New_York' });
    expect(nextNoticeAt(range, D, Date.UTC(2026, 11, 1))).toBe(Date.UTC(2026, 11, 20, 5));
    expect(nextNoticeAt(range, D, Date.UTC(2026, 11, 20, 5))).toBeNull();
  });

  it('follows the local clock across a DST change: the notice is lead before the local start', () => {
    // Europe/Berlin leaves DST on Sun 25 Oct 2026; the Friday start of 30 Oct is 17:00 UTC, of 23 Oct 16:00 UTC
    const lead = 3 * H;
    expect(nextNoticeAt(weekend, lead, Date.UTC(2026, 9, 23, 14))).toBe(Date.UTC(2026, 9, 30, 14));
    expect(nextNoticeAt(weekend, lead, Date.UTC(2026, 9, 20))).toBe(Date.UTC(2026, 9, 23, 13));
  });

  it('knows the period a lead may not exceed: the shortest time between two starts', () => {
    expect(windowPeriod(weekend)).toBe(7 * D);
    expect(windowPeriod(compileWindow({ name: 'w', cron: '0 9 * * 1-5', duration: '1h' }))).toBe(D);
    expect(windowPeriod(compileWindow({ name: 'w', cron: '0 9,17 * * *', duration: '1h' }))).toBe(8 * H);
    expect(windowPeriod(compileWindow({ name: 'w', cron: '*/20 * * * *', duration: '5m' }))).toBe(20 * 60_000);
    expect(windowPeriod(compileWindow({ name: 'w', cron: '0 0 1 */3 *', duration: '1h' }))).toBe(90 * D);
    expect(windowPeriod(compileWindow({ name: 'w', from: '2026-12-21T00:00', to: '2027-01-04T09:00' }))).toBeNull();
  });

  it('says "starts in" only within the lead, counting down in whole minutes', () => {
    const lead = 3 * H;
    expect(upcomingWithinLead(weekend, lead, START - lead - 60_000)).toBeNull();
    expect(upcomingWithinLead(weekend, null, START - H)).toBeNull();
    expect(upcomingWithinLead(weekend, lead, START - 150 * 60_000)).toMatchObject({ start: START, inMs: 150 * 60_000 });
    expect(formatCountdown(150 * 60_000)).toBe('2h 30m');
    expect(formatCountdown(150 * 60_000 - 20_000)).toBe('2h 30m');
    expect(formatCountdown(45 * 60_000)).toBe('45m');
    expect(formatCountdown(5_000)).toBe('1m');
    expect(formatCountdown(3 * D + 4 * H + 5 * 60_000)).toBe('3d 4h');
    expect(formatCountdown(2 * D)).toBe('2d');
  });

  it('lists the occurrences overlapping a span, the one in force at its start included', () => {
    const from = START + H;
    const occ = occurrencesBetween(weekend, from, from + 14 * D);
    expect(occ.map((o) => new Date(o.start).toISOString())).toEqual(['2026-12-04T17:00:00.000Z', '2026-12-11T17:00:00.000Z', '2026-12-18T17:00:00.000Z']);
  });
});
