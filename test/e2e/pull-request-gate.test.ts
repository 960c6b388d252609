/**
 * The gate on pull requests, end to end (issue 1/6): the app started with `npm start` against the
 * fake GitHub API, driven by signed webhooks built from GitHub's example payloads. Every test checks
 * what the app posted on the fake and that it made no request GitHub would refuse.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { sign, startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const INSTALLATION = 7;

describe('the moratorium gate on pull requests (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: INSTALLATION, account: OWNER });
    fake.addRepo(OWNER, 'api');
    // invalid: an unknown enforcement and a branch list that is not a list
    fake.addRepo(OWNER, 'broken', { files: { '.github/moratorium.yml': 'enforcement: sometimes\nbranches: 5\n' } });
    fake.addRepo(OWNER, 'legacy', { files: { '.github/moratorium.yml': 'enforcement: status\n' } });
    fake.setPermission(OWNER, 'legacy', 'wendy', 'write');
    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  /** Open a PR on the fake and deliver its `opened` webhook; returns the PR. */
  async function openPull(repo: string, input: Parameters<FakeGitHub['addPull']>[2] = {}) {
    const pr = fake.addPull(OWNER, repo, input);
    const res = await app.send('pull_request', hooks.pullRequest('opened', OWNER, repo, pr.number));
    expect(res.status).toBe(200);
    return pr;
  }

  it('posts a success check titled "Open" on a newly opened pull request', async () => {
    const pr = await openPull('api', { title: 'Add search' });
    const check = await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha), 10_000, 'the moratorium check');
    expect(check).toMatchObject({ name: 'moratorium', status: 'completed', conclusion: 'success', head_sha: pr.head.sha });
    expect(check.output.title).toBe('Open');
    expect(check.output.summary).toContain('/override');
    expect(fake.checkRuns(OWNER, 'api', pr.head.sha)).toHaveLength(1);
  });

  it('posts nothing new for a non-exempt label or a title edit', async () => {
    const pr = await openPull('api', { title: 'Refactor cache' });
    await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha), 10_000, 'the first check');
    const writesBefore = fake.writes().length;

    fake.updatePull(OWNER, 'api', pr.number, { labels: ['documentation'] });
    const labeled = await app.send('pull_request', hooks.pullRequest('labeled', OWNER, 'api', pr.number, { label: 'documentation' }));
    fake.updatePull(OWNER, 'api', pr.number, { title: 'Refactor the cache' });
    const edited = await app.send('pull_request', hooks.pullRequest('edited', OWNER, 'api', pr.number, { changes: { title: { from: 'Refactor cache' } } }));
    expect([labeled.status, edited.status]).toEqual([200, 200]);
    // Probot answers once the handler is done: both deliveries were fully handled
    await app.waitForLog(labeled.deliveryId);
    await app.waitForLog(edited.deliveryId);

    expect(fake.writes().length - writesBefore).toBe(0);
    expect(fake.checkRuns(OWNER, 'api', pr.head.sha)).toHaveLength(1);
  });

  it('puts the problems of an invalid default-branch config first in the summary and still decides with the defaults', async () => {
    const pr = await openPull('broken');
    const check = await fake.waitFor((f) => f.latestCheck(OWNER, 'broken', pr.head.sha), 10_000, 'the check on the broken repo');
    // the defaults decide: a check run (not a status), the default branch gated, nothing blocking
    expect(check.conclusion).toBe('success');
    expect(check.output.title).toBe('Open');
    expect(fake.statusesFor(OWNER, 'broken')).toEqual([]);
    const summary: string = check.output.summary;
    expect(summary.startsWith('### ⚠️ Configuration problems')).toBe(true);
    const problems = summary.slice(0, summary.indexOf('**Open'));
    expect(problems).toContain('`enforcement`');
    expect(problems).toContain('`branches`');
    expect(problems).toMatch(/default configuration/);
  });

  it('posts a commit status of at most 140 characters with `enforcement: status`', async () => {
    const pr = await openPull('legacy');
    const open = await fake.waitFor((f) => f.latestStatus(OWNER, 'legacy', pr.head.sha), 10_000, 'the moratorium status');
    expect(open).toMatchObject({ context: 'moratorium', state: 'success', description: 'Open' });
    expect(fake.checkRuns(OWNER, 'legacy')).toEqual([]);

    // a long incident title: the decisive reason still fits in GitHub's 140 characters
    const title = `Checkout ${'very '.repeat(40)}slow`;
    const comment = hooks.issueComment(OWNER, 'legacy', pr.number, { body: `/incident open sev1 --repo ${title}`, user: 'wendy' });
    expect((await app.send('issue_comment', comment)).status).toBe(200);
    const blocked = await fake.waitFor(
      (f) => {
        const s = f.latestStatus(OWNER, 'legacy', pr.head.sha);
        return s?.state === 'failure' ? s : undefined;
      },
      10_000,
      'a failure status',
    );
    expect(blocked.description.length).toBeLessThanOrEqual(140);
    expect(blocked.description).toMatch(/^Frozen: sev1 incident INC-\d+ "Checkout very/);
    expect(fake.checkRuns(OWNER, 'legacy')).toEqual([]);
  });

  it('refuses unsigned and wrongly signed webhooks and changes nothing', async () => {
    const pr = fake.addPull(OWNER, 'api', { title: 'Sneaky' });
    const body = JSON.stringify(hooks.pullRequest('opened', OWNER, 'api', pr.number));
    const headers = { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'f00dfeed-0000-4000-8000-000000000001' };
    const requestsBefore = fake.requests.at(-1)?.seq ?? 0;

    const unsigned = await app.sendRaw(headers, body);
    const wrongSecret = await app.sendRaw({ ...headers, 'x-github-delivery': 'f00dfeed-0000-4000-8000-000000000002', 'x-hub-signature-256': sign('not-the-secret', body) }, body);
    const tampered = await app.sendRaw(
      { ...headers, 'x-github-delivery': 'f00dfeed-0000-4000-8000-000000000003', 'x-hub-signature-256': sign(app.webhookSecret, body) },
      body.replace('"Sneaky"', '"Tampered"'),
    );
    for (const res of [unsigned, wrongSecret, tampered]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }

    expect(fake.writes().filter((r) => r.seq > requestsBefore)).toEqual([]);
    expect(fake.checkRuns(OWNER, 'api', pr.head.sha)).toEqual([]);

    // the refused deliveries were not even recorded: the genuine one, with the same delivery id, is handled
    const genuine = await app.send('pull_request', JSON.parse(body), { deliveryId: 'f00dfeed-0000-4000-8000-000000000001' });
    expect(genuine.status).toBe(200);
    const check = await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha), 10_000, 'the check of the genuine delivery');
    expect(check.conclusion).toBe('success');
    expect(fake.checkRuns(OWNER, 'api', pr.head.sha)).toHaveLength(1);
  });

  it('ignores a payload missing what the handler needs and keeps serving', async () => {
    const pr = fake.addPull(OWNER, 'api', { title: 'Half a payload' });
    const noPull = hooks.pullRequest('opened', OWNER, 'api', pr.number);
    delete noPull.pull_request;
    const noHead = hooks.pullRequest('opened', OWNER, 'api', pr.number);
    delete noHead.pull_request.head;
    const noRepository = hooks.pullRequest('opened', OWNER, 'api', pr.number);
    delete noRepository.repository;

    for (const payload of [noPull, noHead, noRepository]) {
      const res = await app.send('pull_request', payload);
      expect(res.status).toBeLessThan(500);
      // logged with its delivery id and ignored
      await app.waitForLog(res.deliveryId);
      expect(app.logLines().filter((l) => l.delivery === res.deliveryId).map((l) => l.msg)).toContain('payload ignored');
    }
    expect(fake.checkRuns(OWNER, 'api', pr.head.sha)).toEqual([]);

    const health = await app.api('GET', '/moratorium/health', undefined, { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true });
    const after = await openPull('api', { title: 'Whole payload' });
    expect((await fake.waitFor((f) => f.latestCheck(OWNER, 'api', after.head.sha), 10_000, 'a check after the bad payloads')).conclusion).toBe('success');
  });

  it('exits with code 0 on SIGTERM', async () => {
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.logs()).toMatch(/shutting down/);
  });
});
