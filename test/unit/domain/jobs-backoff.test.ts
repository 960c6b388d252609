/**
 * The job runner, when the store cannot hand out jobs (a database that does not answer, or on
 * SQLite another process holding the file past the busy timeout): it tries again 1 s later, then
 * 2, 4, 8, at most 16 s, and starts again at 1 s after a success. On SQLite a failed try has held
 * the event loop for the whole busy timeout, so retrying every second would starve the webhooks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { CLAIM_RETRY_MAX_MS, JobRunner, type JobStore } from '../../../src/domain/jobs.js';

function runner(claims: (() => Promise<never[]>)[]) {
  const tries: number[] = [];
  let calls = 0;
  const store = {
    engine: 'postgres',
    claimJobs: async () => {
      tries.push(Date.now());
      const next = claims[Math.min(calls, claims.length - 1)]!;
      calls += 1;
      return next();
    },
    nextJobAt: async () => null,
    releaseJobLeases: async () => 0,
  } as unknown as JobStore;
  const warnings: { retry_ms?: number; msg: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { retry_ms?: number; msg: string }) });
  const jobs = new JobRunner(store, { now: () => Date.now() }, log);
  return { jobs, tries, warnings };
}

const fail = () => Promise.reject(new Error('database is locked'));
const none = () => Promise.resolve([] as never[]);

describe('the job runner when the store cannot hand out jobs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries again 1, 2, 4, 8, 16, 16 s later, and from 1 s again after a success', async () => {
    vi.useFakeTimers({ now: 0 });
    const { jobs, tries, warnings } = runner([fail, fail, fail, fail, fail, fail, none, fail, none]);
    jobs.start();
    // a second at a time, each try settled before the clock moves on
    for (let s = 0; s < 60; s++) await vi.advanceTimersByTimeAsync(1000);
    const retries = warnings.filter((w) => w.msg === 'could not claim jobs').map((w) => w.retry_ms);
    expect(retries).toEqual([1000, 2000, 4000, 8000, 16_000, CLAIM_RETRY_MAX_MS, 1000]);
    // the tries came at those moments: 0, 1, 3, 7, 15, 31 s (failures), 47 s (the success), then
    // 5 s later as a shared store's runner looks for jobs (SHARED_POLL_MS): a failure, retried 1 s on
    expect(tries.slice(0, 9)).toEqual([0, 1000, 3000, 7000, 15_000, 31_000, 47_000, 52_000, 53_000]);
    await jobs.stop();
  });
});
