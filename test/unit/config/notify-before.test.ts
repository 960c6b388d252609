/**
 * `windows[].notify_before` in the config: a positive duration, at most the window's period; bad
 * input is a config problem at its key path.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.js';

const window = (w: Record<string, unknown>) => parseConfig({ windows: [{ name: 'release', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin', ...w }] });

describe('windows[].notify_before', () => {
  it('is optional, and compiled to milliseconds when set', () => {
    const none = window({});
    expect(none.ok && none.config.windows[0]!.notifyBeforeMs).toBeNull();
    const set = window({ notify_before: '2h30m' });
    expect(set.ok && set.config.windows[0]!.notifyBeforeMs).toBe(9_000_000);
    const oneOff = parseConfig({ windows: [{ name: 'y', from: '2026-12-21T00:00', to: '2027-01-04T09:00', notify_before: '30d' }] });
    expect(oneOff.ok).toBe(true);
  });

  it.each([
    ['soon', 'expected a positive duration'],
    ['0s', 'expected a positive duration'],
    ['-1h', 'expected a positive duration'],
    [90, 'expected string'],
  ])('refuses %j as not a positive duration', (value, message) => {
    const r = window({ notify_before: value });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toEqual([{ path: 'windows.0.notify_before', message: expect.stringContaining(message) }]);
  });

  it('refuses a lead longer than the time between two starts', () => {
    const weekly = window({ notify_before: '7d1m' });
    expect(weekly.ok).toBe(false);
    if (!weekly.ok) expect(weekly.problems).toEqual([{ path: 'windows.0.notify_before', message: 'longer than the time between two starts of this window: at most 7d' }]);
    expect(window({ notify_before: '7d' }).ok).toBe(true);
    const weekdays = window({ cron: '0 9 * * 1-5', duration: '8h', notify_before: '25h' });
    expect(!weekdays.ok && weekdays.problems[0]).toEqual({ path: 'windows.0.notify_before', message: 'longer than the time between two starts of this window: at most 1d' });
  });
});
