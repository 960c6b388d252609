/**
 * A config is compiled once, as it is parsed: what evaluation needs is in it, computed from the
 * source it carries beside it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfig, type Config } from '../../../src/config/schema.js';
import { zone } from '../../../src/time/zone.js';

function parsed(raw: unknown): Config {
  const r = parseConfig(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

describe('compiled config', () => {
  it('gives each window its plan: parsed cron, shared zone, range instants', () => {
    const c = parsed({
      windows: [
        { name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin' },
        { name: 'year-end', from: '2026-12-21T00:00', to: '2027-01-04T09:00', timezone: 'America/New_York' },
        { name: 'lunch', cron: '0 12 * * MON-FRI', duration: '1h30m', timezone: 'Europe/Berlin' },
      ],
    });
    const [weekend, yearEnd, lunch] = c.windows;
    expect(weekend!.plan).toMatchObject({ kind: 'cron', duration: 63 * 3_600_000, hours: [18], minutes: [0] });
    expect(weekend!.plan.kind === 'cron' && weekend!.plan.spec.daysOfWeek).toEqual([false, false, false, false, false, true, false]);
    expect(yearEnd!.plan).toMatchObject({ kind: 'range', start: Date.UTC(2026, 11, 21, 5), end: Date.UTC(2027, 0, 4, 14) });
    // one compiled zone per zone name, the same one any other use of the name gets
    expect(weekend!.plan.zone).toBe(lunch!.plan.zone);
    expect(weekend!.plan.zone).toBe(zone('Europe/Berlin'));
    expect(zone('europe/berlin')).toBe(zone('Europe/Berlin'));
  });

  it('gives each cadence its durations in ms', () => {
    const c = parsed({ cadence: { max: 6, per: '24h', min_interval: '1h30m' } });
    expect(c.cadence).toMatchObject({ max: 6, per: '24h', perMs: 86_400_000, min_interval: '1h30m', minIntervalMs: 5_400_000 });
    expect(parsed({ cadence: { max: 2, per: '90s' } }).cadence).toMatchObject({ perMs: 90_000, minIntervalMs: null });
    expect(DEFAULT_CONFIG.incidents.recovery.cadence).toMatchObject({ per: '24h', perMs: 86_400_000, minIntervalMs: 7_200_000 });
  });

  it('gives each list of branch patterns its regular expressions, in order', () => {
    const c = parsed({ branches: ['main', 'release/*', 'x[z-a]'], exempt: { branches: ['fix/**'] } });
    expect(c.branchPatterns.map((p) => p.text)).toEqual(['main', 'release/*', 'x[z-a]']);
    expect(c.branchPatterns.map((p) => p.re.test('release/2.0'))).toEqual([false, true, false]);
    expect(c.branchPatterns[2]!.re.test('xa')).toBe(false); // a reversed range matches nothing
    expect(c.exempt.branchPatterns.map((p) => p.re.test('fix/a/b'))).toEqual([true]);
    expect(DEFAULT_CONFIG.exempt.branchPatterns.map((p) => p.text)).toEqual(['hotfix/*']);
  });

  it('compiles nothing from an invalid file: the problems are reported instead', () => {
    const r = parseConfig({ windows: [{ name: 'w', cron: '61 * * * *', duration: '1h' }], cadence: { max: 1, per: '1x' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['windows.0.cron', 'cadence.per']);
  });
});
