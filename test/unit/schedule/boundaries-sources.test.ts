/**
 * The boundary timer's extra sources (Boundaries.addSource, used by windows[].notify_before): a
 * source's moment is planned like the store's, a moment already due fires at once (a notice that
 * came due while the app was down), and a source that reports nothing adds nothing.
 */
import { describe, expect, it } from 'vitest';
import { Boundaries } from '../../../src/schedule/boundaries.js';

const store = {
  nextPostedChange: async () => null,
  nextFreezeExpiry: async () => null,
  // one process: boundaries always run here
  runExclusive: async <T>(_key: string, fn: () => Promise<T>) => ({ ran: true as const, value: await fn() }),
};

describe('boundary sources', () => {
  it('plans the earliest moment among the store and the sources', async () => {
    const now = 1_000_000;
    const b = new Boundaries(store, { now: () => now });
    b.addSource(async (at) => at + 60_000);
    b.addSource(async () => null);
    expect(await b.nextBoundary()).toBe(now + 60_000);
    const withStore = new Boundaries({ ...store, nextFreezeExpiry: async () => now + 30_000 }, { now: () => now });
    withStore.addSource(async (at) => at + 60_000);
    expect(await withStore.nextBoundary()).toBe(now + 30_000);
  });

  it('runs the due work at once for a moment that is already due', async () => {
    const now = 5_000_000;
    const b = new Boundaries(store, { now: () => now });
    const runs: number[] = [];
    let due = true;
    b.addSource(async () => (due ? now - 3_600_000 : null));
    let fired!: () => void;
    const done = new Promise<void>((r) => (fired = r));
    b.onDue((at) => {
      runs.push(at);
      due = false; // the work claimed what was due
      fired();
    });
    await b.start();
    await done;
    b.stop();
    expect(runs).toEqual([now]);
  });
});
