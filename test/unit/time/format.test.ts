/**
 * formatLong and formatShort read the wall clock without allocating and build their text from a
 * table (src/time/format.ts): they must write exactly what the plain reading of the local fields
 * (utcToLocal) gives, written out here, for any instant in any zone.
 */
import { describe, expect, it } from 'vitest';
import { formatLong, formatShort } from '../../../src/time/format.js';
import { utcToLocal, zone } from '../../../src/time/zone.js';

const DAY = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const year = (y: number) => (y >= 1000 ? String(y) : pad(y, 4));

function plainLong(t: number, tz: string): string {
  const l = utcToLocal(t, zone(tz));
  return `${year(l.year)}-${pad(l.month, 2)}-${pad(l.day, 2)} ${pad(l.hour, 2)}:${pad(l.minute, 2)}${l.second === 0 ? '' : `:${pad(l.second, 2)}`} ${tz}`;
}

function plainShort(t: number, tz: string, now: number): string {
  const l = utcToLocal(t, zone(tz));
  const n = utcToLocal(now, zone(tz));
  const time = `${pad(l.hour, 2)}:${pad(l.minute, 2)}`;
  const dayOf = (x: { year: number; month: number; day: number }) => Date.UTC(x.year, x.month - 1, x.day);
  if (t - now < 6 * DAY && dayOf(l) >= dayOf(n)) return `${WEEKDAYS[l.weekday]} ${time}`;
  return `${year(l.year)}-${pad(l.month, 2)}-${pad(l.day, 2)} ${time}`;
}

describe('formatLong and formatShort', () => {
  it('write what the plain reading of the local fields gives, in many zones and years', () => {
    let seed = 5;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const zones = ['UTC', 'Europe/Berlin', 'Australia/Lord_Howe', 'Antarctica/Troll', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/Havana', 'Europe/Dublin'];
    let checked = 0;
    for (const tz of zones) {
      for (let i = 0; i < 600; i++) {
        // mostly 2000-2070, some far out (years 0-999 are padded), some with seconds and milliseconds
        const span = i % 10 === 0 ? 4000 * 365 * DAY : 70 * 365 * DAY;
        const base = i % 10 === 0 ? Date.UTC(1, 0, 1) : Date.UTC(2000, 0, 1);
        const t = Math.floor(base + rand() * span);
        const whole = i % 3 === 0 ? t - (t % 60_000) : t;
        const now = whole - Math.floor((rand() - 0.3) * 8 * DAY);
        expect(formatLong(whole, tz)).toBe(plainLong(whole, tz));
        expect(formatShort(whole, tz, now)).toBe(plainShort(whole, tz, now));
        checked++;
      }
    }
    expect(checked).toBe(zones.length * 600);
  });

  it('write seconds only when they are not zero, and pad small years', () => {
    expect(formatLong(Date.UTC(2026, 5, 10, 12, 0, 0, 999), 'UTC')).toBe('2026-06-10 12:00 UTC');
    expect(formatLong(Date.UTC(2026, 5, 10, 12, 0, 7), 'Europe/Berlin')).toBe('2026-06-10 14:00:07 Europe/Berlin');
    const year99 = new Date(0);
    year99.setUTCFullYear(99, 0, 2);
    expect(formatLong(year99.getTime(), 'UTC')).toBe('0099-01-02 00:00 UTC');
  });
});
