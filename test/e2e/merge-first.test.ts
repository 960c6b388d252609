/**
 * Merge-ready first (SPEC 12), end to end: `npm start` against the fake GitHub, three repositories
 * with PRs of every kind spread through the update order. The check writes of an incident's fan-out,
 * in the fake's record, go auto-merge PRs first, then approved ones, then the rest, each most
 * recently updated first, across repositories; reviews are read only for PRs without auto-merge,
 * once per head commit (the start-up reconcile read them; the incident's fan-out reads none).
 * (How soon every merge-ready PR is blocked with the write throttle on is `npm run bench`, section 3.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { expectFakeClean, startApp, webhooks, type AppHandle } from './harness.js';

const OWNER = 'acme';
const WRITER = 'wendy';
const REVIEWS = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';
const CHECKS = 'POST /repos/{owner}/{repo}/check-runs';

type Kind = 'auto-merge' | 'approved' | 'rest';
interface Pull {
  repo: string;
  number: number;
  sha: string;
  kind: Kind;
  draft?: boolean;
}

describe('fan-out order, merge-ready first (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  const pulls: Pull[] = [];

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    for (const repo of ['api', 'web', 'worker']) {
      fake.addRepo(OWNER, repo);
      fake.setPermission(OWNER, repo, WRITER, 'write');
    }
    const add = (repo: string, kind: Kind, setUp: (n: number) => void = () => {}, extra: { autoMerge?: boolean; draft?: boolean } = {}) => {
      const pr = fake.addPull(OWNER, repo, { title: `${kind} in ${repo}`, ...extra });
      setUp(pr.number);
      pulls.push({ repo, number: pr.number, sha: pr.head.sha, kind, draft: extra.draft });
    };
    const review = (repo: string, user: string, state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED') => (n: number) => fake.addReview(OWNER, repo, n, { user, state });
    // oldest first: the merge-ready PRs are spread through the update order, and through the repositories
    add('api', 'auto-merge', () => {}, { autoMerge: true });
    add('web', 'approved', review('web', 'mia', 'APPROVED'));
    add('worker', 'rest', (n) => {
      const approval = fake.addReview(OWNER, 'worker', n, { user: 'mia', state: 'APPROVED' });
      fake.dismissReview(OWNER, 'worker', n, approval);
    });
    add('api', 'approved', (n) => {
      review('api', 'bob', 'CHANGES_REQUESTED')(n);
      review('api', 'bob', 'APPROVED')(n);
      review('api', 'carol', 'COMMENTED')(n);
    });
    add('web', 'rest', (n) => {
      review('web', 'mia', 'APPROVED')(n);
      review('web', 'bob', 'CHANGES_REQUESTED')(n);
    });
    add('worker', 'auto-merge', () => {}, { autoMerge: true });
    add('api', 'rest', review('api', 'carol', 'COMMENTED'));
    add('web', 'rest');
    add('worker', 'approved', review('worker', 'mia', 'APPROVED'));
    add('api', 'rest');
    add('worker', 'rest', () => {}, { draft: true, autoMerge: true });
    add('web', 'rest');

    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
    // the start-up reconcile gates every non-draft PR "Open"
    await app.waitForLogLine((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /reconcile/.test(String(l.reason)), 60_000);
    for (const p of pulls.filter((x) => !x.draft)) {
      await fake.waitFor((f) => f.latestCheck(OWNER, p.repo, p.sha)?.conclusion === 'success', 20_000, `the first check of ${p.repo}#${p.number}`);
    }
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  const key = (repo: string, n: number | string) => `${repo}#${n}`;

  it('reads the reviews of each open PR without auto-merge once, and none of drafts or auto-merge PRs', () => {
    const reads = fake.requestsTo(REVIEWS).map((r) => key(r.params.repo!, r.params.pull_number!));
    const expected = pulls.filter((p) => !p.draft && p.kind !== 'auto-merge').map((p) => key(p.repo, p.number));
    expect([...reads].sort()).toEqual([...expected].sort());
    expect(fake.requestsTo(REVIEWS).every((r) => r.status === 200 && r.installationId === 7)).toBe(true);
  });

  it('/incident open blocks the auto-merge PRs first, then the approved ones, then the rest, across repositories', async () => {
    const from = fake.requests.length ? fake.requests[fake.requests.length - 1]!.seq : 0;
    const issue = fake.addIssue(OWNER, 'api', { title: 'Incident room' });
    const res = await app.send('issue_comment', webhooks(fake).issueComment(OWNER, 'api', issue, { body: '/incident open sev1 Database failover', user: WRITER }));
    expect(res.status).toBe(200);
    const features = pulls.filter((p) => !p.draft);
    for (const p of features) {
      await fake.waitFor((f) => f.latestCheck(OWNER, p.repo, p.sha)?.conclusion === 'failure', 30_000, `${p.repo}#${p.number} blocked`);
    }
    await app.waitForLogLine((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /INC-1/.test(String(l.reason)), 30_000);

    const flip = fake.requests.filter((r) => r.seq > from && r.route === CHECKS && r.status === 201 && r.body?.conclusion === 'failure');
    const written = flip.map((r) => features.find((p) => p.repo === r.params.repo && p.sha === r.body.head_sha)!);
    // the order the app must follow, from the fake's own update times
    const rank: Record<Kind, number> = { 'auto-merge': 0, approved: 1, rest: 2 };
    const updated = (p: Pull) => Date.parse(fake.pull(OWNER, p.repo, p.number)!.updated_at as string);
    const expected = [...features].sort((a, b) => rank[a.kind] - rank[b.kind] || updated(b) - updated(a));
    expect(written.map((p) => `${p.kind} ${key(p.repo, p.number)}`)).toEqual(expected.map((p) => `${p.kind} ${key(p.repo, p.number)}`));
    // the first two are in different repositories: the order is across the installation
    expect(new Set(written.slice(0, 5).map((p) => p.repo)).size).toBeGreaterThan(1);
    // cached per head commit: nothing was read again
    expect(fake.requests.filter((r) => r.seq > from && r.route === REVIEWS)).toEqual([]);
    const done = app.logLines().find((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /INC-1/.test(String(l.reason)));
    expect(done).toMatchObject({ auto_merge: 2, approved: 3, reviews_read: 0 });
  });
});
