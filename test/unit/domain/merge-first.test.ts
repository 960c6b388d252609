/**
 * Merge-ready first (SPEC 12): the fan-out's order across repositories, the reviews reads beside
 * the writes (bounded, cached per head commit), and the writer never idling behind slow reads.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakePort, testServices } from '../../support/fake-port.js';
import type { AppParts } from '../../../src/compose.js';
import { MergeFirstQueue, type FanOutWork } from '../../../src/domain/merge-first.js';
import type { PullInfo, ReviewInfo } from '../../../src/github/port.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
let services: AppParts | null = null;
afterEach(async () => {
  await services?.stop();
  services = null;
});

const approval = (reviewer: string, at: number): ReviewInfo => ({ reviewer, state: 'APPROVED', submittedAt: at });
const changes = (reviewer: string, at: number): ReviewInfo => ({ reviewer, state: 'CHANGES_REQUESTED', submittedAt: at });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** three repositories; in each, PRs of every kind spread through the update order */
function scenario() {
  const port = new FakePort();
  for (const r of ['api', 'web', 'worker']) port.addRepo('acme', r);
  // updatedAt: the rest are the most recently updated, the merge-ready ones the oldest
  port.addPull('api', { number: 1, updatedAt: 900 });
  port.addPull('api', { number: 2, updatedAt: 100, autoMerge: true });
  port.addPull('api', { number: 3, updatedAt: 300 });
  port.reviews.set('api#3', [approval('alice', 1)]);
  port.addPull('web', { number: 4, updatedAt: 800 });
  port.reviews.set('web#4', [approval('alice', 1), changes('bob', 2)]);
  port.addPull('web', { number: 5, updatedAt: 200, autoMerge: true });
  port.addPull('web', { number: 6, updatedAt: 250 });
  port.reviews.set('web#6', [changes('bob', 1), approval('bob', 2)]);
  port.addPull('worker', { number: 7, updatedAt: 700 });
  port.reviews.set('worker#7', [approval('alice', 1), { reviewer: 'alice', state: 'DISMISSED', submittedAt: 2 }]);
  port.addPull('worker', { number: 8, updatedAt: 50 });
  port.reviews.set('worker#8', [approval('carol', 1), { reviewer: 'dave', state: 'COMMENTED', submittedAt: 2 }]);
  port.addPull('worker', { number: 9, updatedAt: 990, draft: true, autoMerge: true });
  return port;
}

describe('fan-out, merge-ready first', () => {
  it('writes auto-merge PRs, then approved ones, then the rest, each most recently updated first, across repositories', async () => {
    const port = scenario();
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'a', source: 'api', now: T0 });
    const result = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(result).toMatchObject({ repos: 3, pulls: 9, evaluated: 8, posted: 8, autoMerge: 2, approved: 3, failedRepos: [] });
    expect(port.posted.map((p) => [p.repo, p.sha.split('-').at(-1), p.conclusion])).toEqual([
      ['web', '5', 'failure'], // auto-merge, updated 200
      ['api', '2', 'failure'], // auto-merge, updated 100
      ['api', '3', 'failure'], // approved, 300
      ['web', '6', 'failure'], // approved (bob approved after requesting changes), 250
      ['worker', '8', 'failure'], // approved (a comment changes nothing), 50
      ['api', '1', 'failure'], // no reviews, 900
      ['web', '4', 'failure'], // a change request blocks alice's approval, 800
      ['worker', '7', 'failure'], // the approval was dismissed, 700
    ]);
  });

  it('reads reviews only for PRs without auto-merge, once per head commit, again after a push or an update', async () => {
    const port = scenario();
    const t = await testServices(port, T0);
    services = t.services;
    const reads = () => port.log.filter((l) => l.startsWith('listReviews')).sort();
    const first = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(reads()).toEqual(['listReviews api#1', 'listReviews api#3', 'listReviews web#4', 'listReviews web#6', 'listReviews worker#7', 'listReviews worker#8']);
    expect(first.reviewsRead).toBe(6);

    port.log.length = 0;
    const again = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(reads()).toEqual([]);
    expect(again).toMatchObject({ reviewsRead: 0, approved: 3 });

    // a push to api#1 (new head commit), a new review on web#4 (updated since): only those are read again
    const pulls = port.pulls.get('api')!;
    pulls[0] = { ...pulls[0]!, headSha: 'sha-api-1-pushed', updatedAt: 1000 } satisfies PullInfo;
    const web = port.pulls.get('web')!;
    web[0] = { ...web[0]!, updatedAt: 1001 };
    port.reviews.set('web#4', [approval('alice', 1), changes('bob', 2), approval('bob', 3)]);
    port.log.length = 0;
    const third = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(reads()).toEqual(['listReviews api#1', 'listReviews web#4']);
    expect(third).toMatchObject({ reviewsRead: 2, approved: 4 });
  });

  it('writes the auto-merge PRs while the reviews are still being read, and approved ones as they become known', async () => {
    const port = scenario();
    const held = deferred();
    port.reviewsGate = () => held.promise;
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'a', source: 'api', now: T0 });
    const run = t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    // both auto-merge PRs are written while every reviews read is held back
    await vi.waitFor(() => expect(port.posted.map((p) => p.sha)).toEqual(['sha-web-5', 'sha-api-2']), { timeout: 30_000 });
    expect(port.log.filter((l) => l.startsWith('listReviews'))).toHaveLength(6);
    held.resolve();
    await run;
    expect(port.posted.map((p) => p.sha).slice(2, 5)).toEqual(['sha-api-3', 'sha-web-6', 'sha-worker-8']);
  });

  it('orders a PR whose reviews cannot be read with the rest, and goes on', async () => {
    const port = scenario();
    port.reviewsGate = async (repo, n) => {
      if (repo === 'api' && n === 3) throw Object.assign(new Error('Server Error'), { status: 502 });
    };
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'a', source: 'api', now: T0 });
    const result = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(result).toMatchObject({ posted: 8, approved: 2, failedRepos: [] });
    const order = port.posted.map((p) => p.sha);
    expect(order.indexOf('sha-api-3')).toBeGreaterThan(order.indexOf('sha-worker-8'));
    // not stored: read again next time
    port.reviewsGate = null;
    port.log.length = 0;
    await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(port.log.filter((l) => l.startsWith('listReviews'))).toEqual(['listReviews api#3']);
  });
});

describe('the merge-first queue', () => {
  const work = (repo: string, number: number, updatedAt: number): FanOutWork => ({
    repo: { owner: 'acme', repo, defaultBranch: 'main', archived: false },
    pull: { number, state: 'open', draft: false, title: '', headSha: `s${number}`, headRef: 'f', headRepoFullName: null, baseRef: 'main', labels: [], updatedAt, merged: false, mergeCommitSha: null },
  });

  function manualTimer() {
    const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
    const wait = (ms: number) => {
      const d = deferred();
      const t = { ms, fire: d.resolve, cancelled: false };
      timers.push(t);
      return { promise: d.promise, cancel: () => (t.cancelled = true) };
    };
    return { timers, wait };
  }

  it('runs at most `concurrency` reads at once, most recently updated first', async () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ work: work('api', i + 1, 100 + i), readiness: null }));
    const started: number[] = [];
    const gates = new Map<number, ReturnType<typeof deferred>>();
    let running = 0;
    let most = 0;
    const queue = new MergeFirstQueue(
      items,
      async (w) => {
        started.push(w.pull.number);
        running++;
        most = Math.max(most, running);
        const d = deferred();
        gates.set(w.pull.number, d);
        await d.promise;
        running--;
        return w.pull.number % 4 === 0;
      },
      { concurrency: 3, patienceMs: 1000, wait: manualTimer().wait },
    );
    expect(started).toEqual([10, 9, 8]);
    const out: number[] = [];
    const drain = (async () => {
      for (let w = await queue.next(); w; w = await queue.next()) out.push(w.pull.number);
    })();
    for (let i = 0; i < 10; i++) {
      await vi.waitFor(() => expect(gates.size).toBeGreaterThan(i), { timeout: 30_000 });
      gates.get(started[i]!)!.resolve();
    }
    await drain;
    expect(most).toBe(3);
    expect(started).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // approved (8, 4) first, then the rest, most recently updated first
    expect(out).toEqual([8, 4, 10, 9, 7, 6, 5, 3, 2, 1]);
  });

  it('waits for reads only until its patience runs out, then hands out the rest, approved ones still first as soon as they are known', async () => {
    const items = [
      { work: work('api', 1, 300), readiness: null },
      { work: work('web', 2, 200), readiness: null },
      { work: work('api', 3, 100), readiness: null },
      { work: work('web', 4, 50), readiness: null },
    ];
    const gates = new Map<number, ReturnType<typeof deferred>>();
    const timer = manualTimer();
    const queue = new MergeFirstQueue(
      items,
      async (w) => {
        const d = deferred();
        gates.set(w.pull.number, d);
        await d.promise;
        return w.pull.number === 3;
      },
      { concurrency: 5, patienceMs: 1500, wait: timer.wait },
    );
    const first = queue.next();
    await vi.waitFor(() => expect(timer.timers).toHaveLength(1), { timeout: 30_000 });
    expect(timer.timers[0]!.ms).toBe(1500);
    // a read settling as not approved: still waiting for the others
    gates.get(4)!.resolve();
    await vi.waitFor(() => expect(queue.pendingReads).toBe(3), { timeout: 30_000 });
    timer.timers[0]!.fire();
    // out of patience: the most recently updated, though its reviews are not known yet
    expect((await first)?.pull.number).toBe(1);
    expect(queue.stats.patienceSpent).toBe(1);
    // an approval that becomes known goes next
    gates.get(3)!.resolve();
    await vi.waitFor(() => expect(queue.pendingReads).toBe(1), { timeout: 30_000 });
    expect((await queue.next())?.pull.number).toBe(3);
    // no more waiting: the rest at once, whether read or not
    expect((await queue.next())?.pull.number).toBe(2);
    expect((await queue.next())?.pull.number).toBe(4);
    expect(await queue.next()).toBeUndefined();
    expect(timer.timers).toHaveLength(1);
    const idle = queue.idle();
    gates.get(1)!.resolve();
    gates.get(2)!.resolve();
    await idle;
    expect(queue.pendingReads).toBe(0);
  });

  it('counts a failed read as not approved', async () => {
    const queue = new MergeFirstQueue(
      [
        { work: work('api', 1, 300), readiness: null },
        { work: work('api', 2, 100), readiness: 'approved' },
      ],
      async () => {
        throw new Error('boom');
      },
      { concurrency: 2, patienceMs: 1000, wait: manualTimer().wait },
    );
    expect((await queue.next())?.pull.number).toBe(2);
    expect((await queue.next())?.pull.number).toBe(1);
    expect(await queue.next()).toBeUndefined();
    expect(queue.stats).toMatchObject({ reads: 1, readErrors: 1 });
  });
});
