/**
 * Faults, end to end (issue 6/6): the app (`npm start`) against the fake GitHub API while the fake
 * fails it in every way GitHub does (500/502, secondary and primary rate limits with `retry-after`,
 * 429, answers that never come, dropped connections), while the app is killed with SIGKILL in the
 * middle of its work, and while webhooks arrive twice, out of order or two hundred at a time. The
 * claim under test is always the same: once the faults stop, every open PR's gate is right, every
 * state change happened exactly once, and nothing owed (a reply, a fan-out) was lost.
 *
 * Each scenario has its own fake and its own app, so they run concurrently: most of their time is
 * spent waiting on Octokit's write throttle (on, as in production) and on retry backoffs.
 */
import { describe, it, type ExpectStatic } from 'vitest';
import { FakeGitHub, type Injection } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const WRITER = 'wendy';
const CHECKS = 'POST /repos/{owner}/{repo}/check-runs';
const COMMENTS = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const REACTIONS = 'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions';
const PULLS = 'GET /repos/{owner}/{repo}/pulls';
const LIST_COMMENTS = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';

type Pull = Record<string, any>;
interface Gated {
  repo: string;
  pr: Pull;
  /** what the gate must say once everything has settled ('none': no check at all, a draft) */
  expect: 'failure' | 'success' | 'none';
}


const conclusionOf = (fake: FakeGitHub, g: Gated): string => fake.latestCheck(OWNER, g.repo, g.pr.head.sha)?.conclusion ?? 'none';

/** Waits until every PR's latest `moratorium` check on its head SHA is what it must be. */
async function converged(fake: FakeGitHub, pulls: Gated[], timeoutMs: number, what: string): Promise<void> {
  await fake.waitFor((f) => pulls.every((g) => conclusionOf(f, g) === g.expect), timeoutMs, what);
}

const wrongGates = (fake: FakeGitHub, pulls: Gated[]): string[] =>
  pulls.filter((g) => conclusionOf(fake, g) !== g.expect).map((g) => `${g.repo}#${g.pr.number}: ${conclusionOf(fake, g)} (want ${g.expect})`);

async function audit(app: AppHandle, expect: ExpectStatic): Promise<Array<Record<string, any>>> {
  const res = await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}&limit=500`);
  expect(res.status).toBe(200);
  return res.body.entries as Array<Record<string, any>>;
}

async function state(app: AppHandle, expect: ExpectStatic): Promise<Record<string, any>> {
  const res = await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`);
  expect(res.status).toBe(200);
  return res.body as Record<string, any>;
}

/** One installation, the writer, repositories with no PRs yet. */
async function world(repos: string[]): Promise<FakeGitHub> {
  const fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: OWNER });
  for (const repo of repos) {
    fake.addRepo(OWNER, repo);
    fake.setPermission(OWNER, repo, WRITER, 'write');
  }
  return fake;
}

/** Opens PRs on the fake (no webhook: a fan-out finds them by listing). */
function addPulls(fake: FakeGitHub, repo: string, s: { features: number; hotfixes?: number; drafts?: number }): Gated[] {
  const out: Gated[] = [];
  for (let i = 0; i < s.features; i++) out.push({ repo, pr: fake.addPull(OWNER, repo, { title: `Feature ${i}` }), expect: 'failure' });
  for (let i = 0; i < (s.hotfixes ?? 0); i++) out.push({ repo, pr: fake.addPull(OWNER, repo, { title: `Fix ${i}`, headRef: `hotfix/fix-${i}` }), expect: 'success' });
  for (let i = 0; i < (s.drafts ?? 0); i++) out.push({ repo, pr: fake.addPull(OWNER, repo, { title: `WIP ${i}`, draft: true }), expect: 'none' });
  return out;
}

/** Starts the app and waits for its start-up reconcile, so PRs added afterwards are left to the test. */
async function boot(fake: FakeGitHub, env: Record<string, string> = {}): Promise<AppHandle> {
  const app = await startApp({ fake, env });
  await app.waitForLog('reconcile done', 20_000);
  return app;
}

describe.concurrent('faults (each scenario its own fake GitHub and app)', () => {
  it('converges to the right gate on every open PR once 5xx, rate limits, 429s, hung and dropped requests stop', async ({ expect }) => {
    const fake = await world(['api', 'web']);
    try {
      const app = await boot(fake, { MORATORIUM_RECONCILE_INTERVAL: '3s' });
      const pulls = [...addPulls(fake, 'api', { features: 3, hotfixes: 1, drafts: 1 }), ...addPulls(fake, 'web', { features: 3 })];
      const gated = pulls.filter((g) => g.expect !== 'none');
      // one fault per gate write, each on a different PR, so they add up instead of compounding
      const onPr = (i: number) => (r: { body: any }) => r.body?.head_sha === gated[i]!.pr.head.sha;
      const injected: Injection[] = [
        fake.inject({ route: CHECKS, match: onPr(0), fault: { status: 500 } }),
        fake.inject({ route: CHECKS, match: onPr(1), fault: { status: 502 } }),
        fake.inject({ route: CHECKS, match: onPr(2), fault: { status: 403, headers: { 'retry-after': '1' } } }),
        fake.inject({ route: CHECKS, match: onPr(3), fault: { status: 429, headers: { 'retry-after': '1' } } }),
        fake.inject({ route: CHECKS, match: onPr(4), fault: { status: 403, rateLimit: 'primary' } }),
        fake.inject({ route: CHECKS, match: onPr(5), fault: { drop: true } }),
        // an answer that never comes (the fake holds it for a minute): the app gives up on it and retries
        fake.inject({ route: CHECKS, match: onPr(6), fault: { delayMs: 60_000 } }),
        fake.inject({ route: PULLS, times: 1, fault: { status: 502 } }),
        fake.inject({ route: PULLS, times: 1, fault: { drop: true } }),
        fake.inject({ route: COMMENTS, times: 1, fault: { status: 502 } }),
        fake.inject({ route: REACTIONS, times: 1, fault: { status: 403, headers: { 'retry-after': '1' } } }),
      ];
      const host = gated[0]!;
      const comment = webhooks(fake).issueComment(OWNER, host.repo, host.pr.number, { body: '/incident open sev1 Database failover', user: WRITER });
      expect((await app.send('issue_comment', comment)).status).toBe(200);

      await converged(fake, pulls, 90_000, 'every gate right after the faults');
      expect(injected.filter((i) => i.hits === 0).map((i) => i.spec)).toEqual([]);
      await fake.waitFor((f) => f.appComments(OWNER, host.repo, host.pr.number).length >= 1, 20_000, 'the reply');
      expect(fake.reactionsFor(OWNER, host.repo, comment.comment.id).map((r) => r.content)).toContain('+1');
      expect(fake.appComments(OWNER, host.repo, host.pr.number).at(-1)?.body).toContain('Opened INC-1');
      // the change happened once
      expect((await state(app, expect)).incidents).toHaveLength(1);
      expect((await audit(app, expect)).filter((e) => e.action === 'incident.open')).toHaveLength(1);
      // and stays right over the next reconciles, with no fault left
      // (a reconcile every 3 s: the next one to end, and what it queued)
      await app.waitForLogLine((l) => l.msg === 'reconcile done', 30_000, app.logLines().length);
      await app.waitForJobs();
      expect(wrongGates(fake, pulls)).toEqual([]);
      expect(fake.violations).toEqual([]);
      expect((await fetch(`${app.url}/moratorium/health`)).status).toBe(200);
    } finally {
      await fake.stop();
    }
  }, 150_000);

  it('kill -9 in the middle of a fan-out: after a restart every gate converges and no state is lost', async ({ expect }) => {
    const fake = await world(['api', 'web', 'worker']);
    try {
      // throttle on: a dozen gates take a dozen seconds, time enough to crash in the middle
      const app = await boot(fake);
      const pulls = [...addPulls(fake, 'api', { features: 4, hotfixes: 1 }), ...addPulls(fake, 'web', { features: 4 }), ...addPulls(fake, 'worker', { features: 4, drafts: 1 })];
      const host = pulls[0]!;
      const comment = webhooks(fake).issueComment(OWNER, host.repo, host.pr.number, { body: '/incident open sev1 Disk full', user: WRITER });
      expect((await app.send('issue_comment', comment)).status).toBe(200);
      await fake.waitFor((f) => f.requestsTo(CHECKS).filter((r) => r.status === 201).length >= 3, 20_000, 'three gates posted');
      await app.kill9();
      const before = fake.requestsTo(CHECKS).length;
      expect(before).toBeLessThan(pulls.filter((g) => g.expect !== 'none').length);

      await app.restart();
      await converged(fake, pulls, 40_000, 'every gate right after the restart');
      expect((await state(app, expect)).incidents).toHaveLength(1);
      expect((await audit(app, expect)).filter((e) => e.action === 'incident.open')).toHaveLength(1);
      await fake.waitFor((f) => f.appComments(OWNER, host.repo, host.pr.number).length >= 1, 10_000, 'the reply');
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 150_000);

  it('kill -9 after GitHub created the reply but before the app heard back: after the restart the reply is there once', async ({ expect }) => {
    const fake = await world(['web']);
    try {
      const app = await boot(fake, { MORATORIUM_GITHUB_THROTTLE: 'off' });
      const host = fake.addPull(OWNER, 'web', { title: 'Host' });
      // GitHub creates the reply comment but its answer never reaches the app; the app dies waiting
      fake.inject({ route: COMMENTS, times: 1, fault: { dropAnswer: true, holdMs: 30_000 } });
      const comment = webhooks(fake).issueComment(OWNER, 'web', host.number, { body: '/freeze --all database migration', user: WRITER });
      expect((await app.send('issue_comment', comment)).status).toBeLessThan(300);
      await fake.waitFor((f) => f.appComments(OWNER, 'web', host.number).length === 1, 30_000, 'the reply created at GitHub');
      await app.kill9();
      await app.restart();

      // the reply job was not recorded as done before the crash: it runs again, and only then is counted
      await app.waitForNoPendingJobs('reply', 45_000);
      const replies = fake.appComments(OWNER, 'web', host.number);
      expect(replies).toHaveLength(1);
      expect(replies[0]!.body).toContain('Froze this repository');
      expect(replies[0]!.body).toContain(`<!-- moratorium:reply ${comment.comment.id} -->`);
      // the retry looked for this app's reply (its bot login from GET /app) instead of posting it again
      expect(fake.requestsTo(COMMENTS)).toHaveLength(1);
      expect(fake.requestsTo(LIST_COMMENTS).length).toBeGreaterThanOrEqual(1);
      expect(fake.requestsTo('GET /app').map((r) => r.status)).toContain(200);
      // the reaction was recorded as done before the crash: not repeated
      expect(fake.reactionsFor(OWNER, 'web', comment.comment.id).map((r) => r.content)).toEqual(['+1']);
      const freezes = (await state(app, expect)).freezes as Array<Record<string, any>>;
      expect(freezes.filter((f) => f.reason === 'database migration')).toHaveLength(1);
      expect((await audit(app, expect)).filter((e) => e.action === 'freeze.start')).toHaveLength(1);
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it('a reply whose answer is lost without a crash is posted once too (no blind retry of the POST)', async ({ expect }) => {
    const fake = await world(['web']);
    try {
      const app = await boot(fake, { MORATORIUM_GITHUB_THROTTLE: 'off' });
      const host = fake.addPull(OWNER, 'web', { title: 'Host' });
      // the hot path: a reply whose first attempt succeeds never lists the issue's comments
      const first = webhooks(fake).issueComment(OWNER, 'web', host.number, { body: '/moratorium help', user: WRITER });
      expect((await app.send('issue_comment', first)).status).toBeLessThan(300);
      await fake.waitFor((f) => f.appComments(OWNER, 'web', host.number).length === 1, 30_000, 'the first reply');
      await app.waitForNoPendingJobs('reply', 45_000);
      expect(fake.requestsTo(LIST_COMMENTS)).toEqual([]);

      fake.inject({ route: COMMENTS, times: 1, fault: { dropAnswer: true } });
      const comment = webhooks(fake).issueComment(OWNER, 'web', host.number, { body: '/freeze lost answer', user: WRITER });
      expect((await app.send('issue_comment', comment)).status).toBeLessThan(300);
      await fake.waitFor((f) => f.requestsTo(COMMENTS).some((r) => r.fault === 'drop'), 30_000, 'the reply created, its answer lost');
      await app.waitForNoPendingJobs('reply', 45_000);
      const replies = fake.appComments(OWNER, 'web', host.number).filter((c) => String(c.body).includes(`<!-- moratorium:reply ${comment.comment.id} -->`));
      expect(replies).toHaveLength(1);
      expect(fake.requestsTo(COMMENTS)).toHaveLength(2);
      expect(fake.requestsTo(LIST_COMMENTS).length).toBeGreaterThanOrEqual(1);
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it('deliveries: twice, out of order, two hundred at once: each change once, nothing lost, the process healthy', async ({ expect }) => {
    const fake = await world(['api', 'web', 'docs']);
    try {
      const app = await boot(fake, { MORATORIUM_GITHUB_THROTTLE: 'off' });
      const hooks = webhooks(fake);

      // 1. the same command delivered twice under one delivery id, and redelivered under a new one
      const dup = fake.addPull(OWNER, 'docs', { title: 'Host' });
      const payload = hooks.issueComment(OWNER, 'docs', dup.number, { body: '/freeze duplicate check', user: WRITER });
      const first = await app.send('issue_comment', payload);
      await app.send('issue_comment', payload, { deliveryId: first.deliveryId });
      await app.send('issue_comment', payload);
      await fake.waitFor((f) => f.appComments(OWNER, 'docs', dup.number).length >= 1, 10_000, 'the reply');
      // all three were answered once handled; what they owed (replies, reactions) has run
      await app.waitForJobs();
      expect(fake.appComments(OWNER, 'docs', dup.number)).toHaveLength(1);
      expect(fake.reactionsFor(OWNER, 'docs', payload.comment.id)).toHaveLength(1);
      expect(((await state(app, expect)).freezes as Array<Record<string, any>>).filter((f) => f.reason === 'duplicate check')).toHaveLength(1);

      // 2. an older synchronize after a newer one: the newest head SHA's gate wins
      const racing = fake.addPull(OWNER, 'docs', { title: 'Racing pushes' });
      await app.send('pull_request', hooks.pullRequest('opened', OWNER, 'docs', racing.number));
      const older = fake.pushToPull(OWNER, 'docs', racing.number);
      const olderPayload = hooks.pullRequest('synchronize', OWNER, 'docs', racing.number);
      const newer = fake.pushToPull(OWNER, 'docs', racing.number);
      const newerPayload = hooks.pullRequest('synchronize', OWNER, 'docs', racing.number);
      expect(Date.parse(olderPayload.pull_request.updated_at)).toBeLessThan(Date.parse(newerPayload.pull_request.updated_at));
      await app.send('pull_request', newerPayload);
      await app.send('pull_request', olderPayload);
      const check = await fake.waitFor((f) => f.latestCheck(OWNER, 'docs', newer), 10_000, 'the gate on the newest SHA');
      expect(check.conclusion).toBe('failure');
      // the older delivery was handled as stale (its log line), and nothing it might owe is left
      await app.waitForLogLine((l) => l.event === 'pull_request' && l.pr === racing.number && l.stale === true);
      await app.waitForJobs();
      expect(fake.latestCheck(OWNER, 'docs', older)).toBeUndefined();

      // 3. two hundred webhooks, 25 in flight at a time
      const opened = Array.from({ length: 140 }, (_, i) => {
        const repo = i % 2 ? 'api' : 'web';
        const pr = fake.addPull(OWNER, repo, { title: `Burst ${i}` });
        return { repo, pr, payload: hooks.pullRequest('opened', OWNER, repo, pr.number) };
      });
      const host = opened[0]!;
      const command = hooks.issueComment(OWNER, host.repo, host.pr.number, { body: '/incident open sev2 --repo Burst of traffic', user: WRITER });
      const sends: Array<() => Promise<{ status: number }>> = [
        ...opened.map((o) => () => app.send('pull_request', o.payload)),
        // the same comment 40 times: 20 redeliveries of one delivery, 20 under new ids
        ...Array.from({ length: 20 }, () => () => app.send('issue_comment', command, { deliveryId: 'burst-command' })),
        ...Array.from({ length: 20 }, () => () => app.send('issue_comment', command)),
      ];
      expect(sends).toHaveLength(180);
      // and 20 redeliveries of PR events
      for (const o of opened.slice(0, 20)) sends.push(() => app.send('pull_request', o.payload, { deliveryId: `redelivery-${o.repo}-${o.pr.number}` }));
      expect(sends).toHaveLength(200);
      // a fixed interleaving (a stride coprime with 200), then bounded concurrency
      const order = Array.from({ length: 200 }, (_, i) => sends[(i * 77) % 200]!);
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          while (next < order.length) statuses.push((await order[next++]!()).status);
        }),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      // the incident is on host.repo only: its PRs end blocked, the other repository's stay open
      const wanted: Gated[] = opened.map((o) => ({ repo: o.repo, pr: o.pr, expect: o.repo === host.repo ? 'failure' : 'success' }));
      await converged(fake, wanted, 45_000, 'every burst PR gated');
      expect(((await state(app, expect)).incidents as Array<Record<string, any>>).filter((i) => i.title === 'Burst of traffic')).toHaveLength(1);
      expect((await audit(app, expect)).filter((e) => e.action === 'incident.open' && e.reason === 'Burst of traffic')).toHaveLength(1);
      await fake.waitFor((f) => f.appComments(OWNER, host.repo, host.pr.number).length >= 1, 10_000, 'the reply');
      await app.waitForJobs();
      expect(fake.appComments(OWNER, host.repo, host.pr.number)).toHaveLength(1);
      expect((await fetch(`${app.url}/moratorium/health`)).status).toBe(200);
      expect(app.logLines().filter((l) => Number(l.level) >= 50)).toEqual([]);
      expectFakeClean(fake, expect);
    } finally {
      await fake.stop();
    }
  }, 150_000);
});
