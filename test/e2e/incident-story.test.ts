/**
 * The incident story, end to end (issue 2/6): one app (`npm start`) against the fake GitHub API, one
 * installation with two repositories, and the life of an incident told through comment commands:
 * declared, every feature PR blocked while hotfixes flow, resolved into recovery, refused to the
 * wrong people, closed by a maintainer; then duplicates, restarts, crashes and overrides.
 *
 * The tests run in order and share the app's state: each one is a chapter of the story.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const A = 'api';
const B = 'web';

const WRITER = 'wendy';
const MAINTAINER = 'mia';
const READER = 'rita';
const BOT = 'deploy-helper[bot]';

const INC1_TITLE = 'Frozen: sev1 incident INC-1 "API latency" (hotfixes only)';

type Pull = Record<string, any>;

describe('the incident story (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;

  // repository A: where the commands are written
  let host: Pull; // feature PR the commands are written on
  let featureA: Pull;
  let draft: Pull;
  let hotfixBranch: Pull;
  let forkHotfix: Pull;
  let labeledByWriter: Pull;
  let labeledByReader: Pull;
  // repository B
  let featureB1: Pull;
  let featureB2: Pull;
  /** the comment that opened INC-1 */
  let opened: { commentId: number };

  const featurePulls = (): Array<[string, Pull]> => [
    [A, host],
    [A, featureA],
    [A, forkHotfix],
    [A, labeledByReader],
    [B, featureB1],
    [B, featureB2],
  ];

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, A);
    fake.addRepo(OWNER, B);
    for (const repo of [A, B]) {
      fake.setPermission(OWNER, repo, WRITER, 'write');
      fake.setPermission(OWNER, repo, MAINTAINER, 'maintain');
      fake.setPermission(OWNER, repo, READER, 'read');
      fake.setPermission(OWNER, repo, BOT, 'maintain');
    }
    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });

    host = await openPull(A, { title: 'Search endpoint' });
    featureA = await openPull(A, { title: 'Billing export' });
    draft = await openPull(A, { title: 'WIP: new cache', draft: true });
    hotfixBranch = await openPull(A, { title: 'Fix timeout', headRef: 'hotfix/x' });
    forkHotfix = await openPull(A, { title: 'Fix from a fork', headRef: 'hotfix/x', fork: 'mallory' });
    labeledByWriter = await openPull(A, { title: 'Fix pool size' });
    labeledByReader = await openPull(A, { title: 'Sneak a feature in' });
    featureB1 = await openPull(B, { title: 'New landing page' });
    featureB2 = await openPull(B, { title: 'Dark mode' });
    await label(A, labeledByWriter, 'hotfix', WRITER);
    await label(A, labeledByReader, 'hotfix', READER);

    for (const [repo, pr] of [...featurePulls(), [A, draft] as [string, Pull], [A, hotfixBranch] as [string, Pull], [A, labeledByWriter] as [string, Pull]]) {
      await fake.waitFor((f) => f.latestCheck(OWNER, repo, pr.head.sha)?.conclusion === 'success', 10_000, `the first check of ${repo}#${pr.number}`);
    }
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  async function openPull(repo: string, input: Parameters<FakeGitHub['addPull']>[2]): Promise<Pull> {
    const pr = fake.addPull(OWNER, repo, input);
    const res = await app.send('pull_request', hooks.pullRequest('opened', OWNER, repo, pr.number));
    expect(res.status).toBe(200);
    return pr;
  }

  /** `actor` adds a label (an issue event on GitHub) and the `labeled` webhook follows. */
  async function label(repo: string, pr: Pull, name: string, actor: string): Promise<void> {
    fake.addLabelEvent(OWNER, repo, pr.number, name, actor);
    const res = await app.send('pull_request', hooks.pullRequest('labeled', OWNER, repo, pr.number, { label: name, sender: actor }));
    expect(res.status).toBe(200);
  }

  /** Writes a comment and delivers it; returns the comment id and delivery. */
  async function say(repo: string, number: number, user: string, body: string, opts: { action?: 'created' | 'edited'; deliveryId?: string } = {}) {
    const payload = hooks.issueComment(OWNER, repo, number, { body, user, ...(opts.action ? { action: opts.action } : {}) });
    const res = await app.send('issue_comment', payload, opts.deliveryId ? { deliveryId: opts.deliveryId } : {});
    expect(res.status).toBe(200);
    return { commentId: payload.comment.id as number, deliveryId: res.deliveryId, payload };
  }

  /** The app's reply to a comment: the app comment after `before` replies on that issue, once its reaction is there. */
  async function reply(repo: string, number: number, commentId: number, before: number): Promise<{ body: string; reactions: string[] }> {
    const body = await fake.waitFor((f) => f.appComments(OWNER, repo, number)[before]?.body as string | undefined, 10_000, `the reply on ${repo}#${number}`);
    return { body, reactions: fake.reactionsFor(OWNER, repo, commentId).map((r) => r.content) };
  }

  const replies = (repo: string, number: number) => fake.appComments(OWNER, repo, number).length;

  async function checkOf(repo: string, pr: Pull, sha: string = pr.head.sha): Promise<Record<string, any>> {
    return fake.waitFor((f) => f.latestCheck(OWNER, repo, sha), 10_000, `a check on ${repo}#${pr.number}`);
  }

  async function waitForConclusion(repo: string, pr: Pull, conclusion: 'success' | 'failure', title?: string | RegExp, sha: string = pr.head.sha, timeoutMs = 10_000) {
    return fake.waitFor(
      (f) => {
        const c = f.latestCheck(OWNER, repo, sha);
        if (!c || c.conclusion !== conclusion) return undefined;
        if (title === undefined) return c;
        return (typeof title === 'string' ? c.output.title === title : title.test(c.output.title)) ? c : undefined;
      },
      timeoutMs,
      `${repo}#${pr.number} to be ${conclusion}${title ? ` (${String(title)})` : ''}`,
    );
  }

  async function audit(): Promise<Array<Record<string, any>>> {
    const res = await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}&limit=500`);
    expect(res.status).toBe(200);
    return res.body.entries;
  }

  // (how fast a fan-out blocks every PR is measured in `npm run bench`, section 3)
  it('/incident open by a write user blocks every open non-draft feature PR in every repository of the installation', async () => {
    opened = await say(A, host.number, WRITER, '/incident open sev1 API latency');
    for (const [repo, pr] of featurePulls()) {
      const check = await waitForConclusion(repo, pr, 'failure', INC1_TITLE, pr.head.sha, 20_000);
      expect(check.name).toBe('moratorium');
    }
  });

  it('answers the command with one reply and a +1 reaction', async () => {
    const { reactions } = await reply(A, host.number, opened.commentId, 0);
    expect(reactions).toEqual(['+1']);
    const answers = fake.appComments(OWNER, A, host.number);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.body).toContain('Opened INC-1 (sev1) "API latency" for every repository of acme');
    expect(answers[0]!.user.login).toBe(fake.botLogin);
  });

  it('keeps hotfixes green: a hotfix label added by a write user and a hotfix/ branch of the same repository', async () => {
    for (const pr of [hotfixBranch, labeledByWriter]) {
      const check = await checkOf(A, pr);
      expect(check.conclusion).toBe('success');
      // a re-run request always re-evaluates and posts: the gate lets it through as a hotfix
      const res = await app.send('check_run', hooks.checkRun('rerequested', OWNER, A, check.id));
      expect(res.status).toBe(200);
      const rerun = await fake.waitFor((f) => f.checkRuns(OWNER, A, pr.head.sha).length > 1 && f.latestCheck(OWNER, A, pr.head.sha), 10_000, 'the re-run check');
      expect(rerun).toMatchObject({ conclusion: 'success', output: { title: 'Open (hotfix)' } });
      expect(rerun.output.summary).toContain('Hotfix: **yes**');
    }
    // a hotfix label added by someone without `write` does not count
    expect((await checkOf(A, labeledByReader)).output.title).toBe(INC1_TITLE);
  });

  it("blocks a fork's hotfix/x branch", async () => {
    const check = await checkOf(A, forkHotfix);
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toBe(INC1_TITLE);
    expect(check.output.summary).toMatch(/Hotfix: no/);
  });

  it('leaves drafts untouched', async () => {
    const checks = fake.checkRuns(OWNER, A, draft.head.sha);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.conclusion).toBe('success');
  });

  it('/incident resolve keeps the PRs blocked, now in recovery', async () => {
    const before = replies(A, host.number);
    const { commentId } = await say(A, host.number, WRITER, '/incident resolve service restored');
    for (const [repo, pr] of featurePulls()) {
      const check = await waitForConclusion(repo, pr, 'failure', /recovery/);
      expect(check.output.title).toBe('Frozen: sev1 incident INC-1 "API latency" in recovery (hotfixes only)');
    }
    const { body, reactions } = await reply(A, host.number, commentId, before);
    expect(body).toContain('INC-1 resolved');
    expect(reactions).toEqual(['+1']);
    expect((await checkOf(A, hotfixBranch)).conclusion).toBe('success');
  });

  it("refuses a write user's /incident close with -1 and a reply naming maintain", async () => {
    const before = replies(A, host.number);
    const writes = fake.requestsTo('POST /repos/{owner}/{repo}/check-runs').length;
    const { commentId } = await say(A, host.number, WRITER, '/incident close INC-1 we are fine');
    const { body, reactions } = await reply(A, host.number, commentId, before);
    expect(reactions).toEqual(['-1']);
    expect(body).toMatch(/Refused/);
    expect(body).toContain('maintain');
    expect(fake.requestsTo('POST /repos/{owner}/{repo}/check-runs').length).toBe(writes);
    expect((await audit()).filter((e) => e.action === 'incident.close')).toEqual([]);
  });

  it("refuses a read user's /freeze", async () => {
    const before = replies(A, featureA.number);
    const { commentId } = await say(A, featureA.number, READER, '/freeze release prep');
    const { body, reactions } = await reply(A, featureA.number, commentId, before);
    expect(reactions).toEqual(['-1']);
    expect(body).toMatch(/Refused/);
    expect(body).toContain('write');
    expect((await audit()).filter((e) => e.action === 'freeze.start')).toEqual([]);
  });

  it('ignores quoted and fenced commands, edited comments and bots', async () => {
    const before = replies(A, host.number);
    const inert = [
      await say(A, host.number, MAINTAINER, '> /incident close INC-1\n\nwhy did someone write this?'),
      await say(A, host.number, MAINTAINER, 'Do not run:\n\n```\n/incident close INC-1\n```\n'),
      await say(A, host.number, MAINTAINER, '/incident close INC-1', { action: 'edited' }),
      await say(A, host.number, BOT, '/incident close INC-1'),
    ];
    // a command after them is answered: anything owed for the inert ones would have been sent first
    const { commentId } = await say(A, host.number, READER, '/moratorium help');
    await reply(A, host.number, commentId, before);
    expect(replies(A, host.number)).toBe(before + 1);
    for (const c of inert) expect(fake.reactionsFor(OWNER, A, c.commentId)).toEqual([]);
    expect((await audit()).filter((e) => e.action === 'incident.close')).toEqual([]);
    for (const [repo, pr] of featurePulls()) expect((await checkOf(repo, pr)).conclusion).toBe('failure');
  });

  it("reopens every PR on a maintain user's /incident close", async () => {
    const before = replies(A, host.number);
    const { commentId } = await say(A, host.number, MAINTAINER, '/incident close INC-1 postmortem done');
    for (const [repo, pr] of featurePulls()) {
      const check = await waitForConclusion(repo, pr, 'success');
      expect(check.output.title).toBe('Open');
    }
    const { body, reactions } = await reply(A, host.number, commentId, before);
    expect(reactions).toEqual(['+1']);
    expect(body).toContain('INC-1 closed');
  });

  it('changes state once when the same delivery or the same comment arrives twice', async () => {
    const before = replies(A, featureA.number);
    const first = await say(A, featureA.number, WRITER, '/incident open sev3 --repo Duplicate delivery');
    // GitHub's "redeliver": the very same delivery again; and the same comment under a new delivery id
    const again = await app.send('issue_comment', first.payload, { deliveryId: first.deliveryId });
    const copy = await app.send('issue_comment', first.payload);
    expect([again.status, copy.status]).toEqual([200, 200]);
    const { reactions } = await reply(A, featureA.number, first.commentId, before);
    expect(reactions).toEqual(['+1']);

    // a later command is answered: anything owed for the duplicates would have been sent first
    const status = await say(A, featureA.number, READER, '/moratorium status');
    await reply(A, featureA.number, status.commentId, before + 1);
    expect(replies(A, featureA.number)).toBe(before + 2);
    expect(fake.requestsTo('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions').filter((r) => Number(r.params.comment_id) === first.commentId)).toHaveLength(1);
    expect((await audit()).filter((e) => e.action === 'incident.open' && e.reason === 'Duplicate delivery')).toHaveLength(1);
    const state = await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}&repo=${A}`);
    expect(state.status).toBe(200);
    expect((state.body.incidents as Array<{ title: string }>).filter((i) => i.title === 'Duplicate delivery')).toHaveLength(1);
  });

  it('replies to /moratorium status and /moratorium help', async () => {
    const before = replies(B, featureB1.number);
    const status = await say(B, featureB1.number, READER, '/moratorium status');
    const s = await reply(B, featureB1.number, status.commentId, before);
    expect(s.reactions).toEqual(['+1']);
    expect(s.body).toContain('Moratorium status for acme/web');
    expect(s.body).toContain('Incidents:');

    const help = await say(B, featureB1.number, READER, '/moratorium help');
    const h = await reply(B, featureB1.number, help.commentId, before + 1);
    expect(h.reactions).toEqual(['+1']);
    for (const word of ['/freeze', '/unfreeze', '/incident open', '/incident close', '/override', '/moratorium']) expect(h.body).toContain(word);
  });

  it('keeps an incident blocking new PRs after a restart and after a kill -9', async () => {
    const title = 'Frozen: sev2 incident INC-3 "Database failover" (hotfixes only)';
    await say(B, featureB1.number, WRITER, '/incident open sev2 Database failover');
    await waitForConclusion(B, featureB1, 'failure', title);
    await waitForConclusion(A, featureA, 'failure', title);

    await app.restart();
    const afterRestart = await openPull(B, { title: 'Opened after a restart' });
    expect((await waitForConclusion(B, afterRestart, 'failure', title)).output.title).toBe(title);

    await app.kill9();
    await app.restart();
    const afterCrash = await openPull(B, { title: 'Opened after a crash' });
    expect((await waitForConclusion(B, afterCrash, 'failure', title)).output.title).toBe(title);
    // the start-up reconcile left the blocked PRs blocked
    for (const [repo, pr] of featurePulls()) expect((await checkOf(repo, pr)).conclusion).toBe('failure');
  }, 60_000);

  it('/override by a maintainer turns a blocked PR green, and a new push makes it red again', async () => {
    const before = replies(A, featureA.number);
    const { commentId } = await say(A, featureA.number, MAINTAINER, '/override customer-facing fix approved by the IC');
    const green = await waitForConclusion(A, featureA, 'success');
    // the login is escaped so the title pings nobody
    expect(green.output.title.replace(/\u200b/g, '')).toBe('Open (override by @mia)');
    const { reactions, body } = await reply(A, featureA.number, commentId, before);
    expect(reactions).toEqual(['+1']);
    expect(body).toContain(`Override recorded for commit ${featureA.head.sha.slice(0, 7)}`);

    const newSha = fake.pushToPull(OWNER, A, featureA.number);
    const res = await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, A, featureA.number, { before: featureA.head.sha, after: newSha }));
    expect(res.status).toBe(200);
    const red = await waitForConclusion(A, featureA, 'failure', undefined, newSha);
    expect(red.output.title).toBe('Frozen: sev2 incident INC-3 "Database failover" (hotfixes only)');
    // the old commit keeps its override
    expect(fake.latestCheck(OWNER, A, featureA.head.sha)!.conclusion).toBe('success');
  });
});
