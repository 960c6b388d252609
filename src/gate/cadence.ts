/**
 * A cadence (SPEC 2): at most `max` deploys in any rolling `per`, and at least `min_interval` between
 * two. A deploy at `d` counts while `d > now - per`. Every deploy counts, hotfixes included.
 */
import type { RecoveryCadenceConfig } from '../config/schema.js';
import { firstAbove } from '../time/windows.js';

/** The limits of a cadence (the normal one or the recovery one), durations compiled with the config. */
export type CadenceLimits = Pick<RecoveryCadenceConfig, 'max' | 'perMs' | 'minIntervalMs'>;

export interface CadenceStatus {
  /** deploys within the rolling `per` ending now */
  used: number;
  max: number;
  /** ms */
  per: number;
  /** ms, null when not set */
  minInterval: number | null;
  /** the last deploy (null when none) */
  last: number | null;
  blocked: boolean;
  /** what blocks: the count, the minimum interval (the later slot decides when both do), or nothing */
  blockedBy: 'count' | 'interval' | null;
  /** when the next deploy is allowed (null when one is allowed now) */
  nextSlot: number | null;
}

/**
 * @param deploys the times of the counted deploys, ascending
 */
export function evaluateCadence(limits: CadenceLimits, deploys: readonly number[], now: number): CadenceStatus {
  const per = limits.perMs;
  const minInterval = limits.minIntervalMs;
  const from = firstAbove(deploys, now - per);
  const used = deploys.length - from;
  const last = deploys.length > 0 ? deploys[deploys.length - 1]! : null;

  let countSlot: number | null = null;
  if (used >= limits.max) countSlot = deploys[deploys.length - limits.max]! + per;
  let intervalSlot: number | null = null;
  if (minInterval !== null && last !== null && last + minInterval > now) intervalSlot = last + minInterval;

  let blockedBy: CadenceStatus['blockedBy'] = null;
  let nextSlot: number | null = null;
  if (countSlot !== null && (intervalSlot === null || countSlot >= intervalSlot)) {
    blockedBy = 'count';
    nextSlot = countSlot;
  } else if (intervalSlot !== null) {
    blockedBy = 'interval';
    nextSlot = intervalSlot;
  }
  return { used, max: limits.max, per, minInterval, last, blocked: nextSlot !== null, blockedBy, nextSlot };
}
