import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileCadence } from '../../../src/config/schema.js';
import { evaluateCadence } from '../../../src/gate/cadence.js';
import { HOUR, MINUTE, NOW } from './scenario.js';

const sixPerDay = compileCadence({ max: 6, per: '24h' });
const withInterval = compileCadence({ max: 6, per: '24h', min_interval: '30m' });

describe('evaluateCadence', () => {
  it('no deploys: open, nothing used', () => {
    expect(evaluateCadence(withInterval, [], NOW)).toEqual({
      used: 0,
      max: 6,
      per: 24 * HOUR,
      minInterval: 30 * MINUTE,
      last: null,
      blocked: false,
      blockedBy: null,
      nextSlot: null,
    });
  });

  it('counts deploys strictly inside the rolling period', () => {
    const deploys = [NOW - 24 * HOUR, NOW - 24 * HOUR + 1, NOW - HOUR];
    const s = evaluateCadence(sixPerDay, deploys, NOW);
    expect(s.used).toBe(2); // the one exactly `per` ago no longer counts
    expect(s.blocked).toBe(false);
  });

  it('at max: blocked until the oldest counted deploy leaves the window', () => {
    const deploys = [1, 2, 3, 4, 5, 6].map((h) => NOW - 20 * HOUR + h * HOUR);
    const s = evaluateCadence(sixPerDay, deploys, NOW);
    expect(s).toMatchObject({ used: 6, blocked: true, blockedBy: 'count', nextSlot: deploys[0]! + 24 * HOUR });
  });

  it('above max (e.g. after overrides): the slot opens when the count drops below max', () => {
    const deploys = [1, 2, 3, 4, 5, 6, 7, 8].map((h) => NOW - 20 * HOUR + h * HOUR);
    const s = evaluateCadence(sixPerDay, deploys, NOW);
    expect(s.used).toBe(8);
    expect(s.nextSlot).toBe(deploys[2]! + 24 * HOUR);
  });

  it('min_interval blocks until last + interval', () => {
    const s = evaluateCadence(withInterval, [NOW - 10 * MINUTE], NOW);
    expect(s).toMatchObject({ used: 1, blocked: true, blockedBy: 'interval', nextSlot: NOW + 20 * MINUTE });
    expect(evaluateCadence(withInterval, [NOW - 30 * MINUTE], NOW).blocked).toBe(false);
  });

  it('when both block, the later slot decides', () => {
    // six deploys, the oldest leaves the window in 5 minutes; the last was 10 minutes ago (interval: 20 more)
    const deploys = [NOW - 24 * HOUR + 5 * MINUTE, NOW - 5 * HOUR, NOW - 4 * HOUR, NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - 10 * MINUTE];
    const s = evaluateCadence(withInterval, deploys, NOW);
    expect(s).toMatchObject({ blockedBy: 'interval', nextSlot: NOW + 20 * MINUTE });
    const later = [NOW - 24 * HOUR + 50 * MINUTE, ...deploys.slice(1)];
    expect(evaluateCadence(withInterval, later, NOW)).toMatchObject({ blockedBy: 'count', nextSlot: NOW + 50 * MINUTE });
  });

  it('the next slot is always in the future and the cadence is open there', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -48 * HOUR, max: 0 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('1h', '6h', '24h'),
        fc.option(fc.constantFrom('10m', '2h'), { nil: undefined }),
        (offsets, max, per, minInterval) => {
          const deploys = offsets.map((o) => NOW + o).sort((a, b) => a - b);
          const limits = compileCadence({ max, per, ...(minInterval ? { min_interval: minInterval } : {}) });
          const s = evaluateCadence(limits, deploys, NOW);
          if (s.nextSlot !== null) {
            expect(s.nextSlot).toBeGreaterThan(NOW);
            expect(evaluateCadence(limits, deploys, s.nextSlot).blocked).toBe(false);
            expect(evaluateCadence(limits, deploys, s.nextSlot - 1).blocked).toBe(true);
          }
        },
      ),
    );
  });
});
