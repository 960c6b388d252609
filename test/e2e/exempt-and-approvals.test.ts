/**
 * exempt.paths and overrides.approvals (issue 15 items 2-3, SPEC 12), end to end: the app started
 * with `npm start` against the fake GitHub. A docs-only PR passes a features freeze with the pattern
 * named in its summary, and a push adding src/x.ts blocks it again (its files read once per head
 * commit); a two-person override turns a blocked PR green only after a second, different
 * maintainer approves it, with the author, the starter and someone without the permission refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const REPO = 'site';
const FILES = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files';
const CONFIG = ['exempt:', '  paths: ["docs/**", "**/*.md"]', 'overrides:', '  approvals: 2', ''].join('\n');
const MIA = 'mia'; // maintain: starts overrides
const MAX = 'max'; // maintain: approves
const ANN = 'ann'; // maintain, and the author of the feature PRs
const WILL = 'will'; // write: may freeze, may not override

type Pull = Record<string, any>;
const plain = (s: string): string => s.replace(/\u200b/g, '');

describe('exempt paths and two-person overrides (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;
  let host: Pull;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, REPO, { files: { '.github/moratorium.yml': CONFIG } });
    for (const [login, role] of [[MIA, 'maintain'], [MAX, 'maintain'], [ANN, 'maintain'], [WILL, 'write']] as const) fake.setPermission(OWNER, REPO, login, role);
    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
    host = await openPull({ title: 'Where the freeze is written', user: WILL }, ['src/app.ts']);
    await checkOf(host);
    const { commentId } = await say(host.number, WILL, '/freeze release prep');
    await reply(host.number, commentId, 0);
    await waitForConclusion(host, 'failure');
  }, 60_000);

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  async function openPull(input: Parameters<FakeGitHub['addPull']>[2], files: string[] | Parameters<FakeGitHub['setPullFiles']>[3]): Promise<Pull> {
    const pr = fake.addPull(OWNER, REPO, input);
    fake.setPullFiles(OWNER, REPO, pr.number, files);
    const res = await app.send('pull_request', hooks.pullRequest('opened', OWNER, REPO, pr.number));
    expect(res.status).toBe(200);
    return pr;
  }

  async function say(number: number, user: string, body: string) {
    const payload = hooks.issueComment(OWNER, REPO, number, { body, user });
    const res = await app.send('issue_comment', payload);
    expect(res.status).toBe(200);
    return { commentId: payload.comment.id as number };
  }

  /** The reply after `before` earlier ones on that PR, once posted, with the comment's reactions. */
  async function reply(number: number, commentId: number, before: number): Promise<{ body: string; reactions: string[] }> {
    const body = await fake.waitFor((f) => f.appComments(OWNER, REPO, number)[before]?.body as string | undefined, 15_000, `reply ${before + 1} on #${number}`);
    await fake.waitFor((f) => f.reactionsFor(OWNER, REPO, commentId).length > 0, 15_000, 'the reaction');
    return { body: plain(body), reactions: fake.reactionsFor(OWNER, REPO, commentId).map((r) => r.content) };
  }

  /** Writes a command and waits for its reply. */
  async function command(number: number, user: string, body: string) {
    const before = fake.appComments(OWNER, REPO, number).length;
    const { commentId } = await say(number, user, body);
    return reply(number, commentId, before);
  }

  async function checkOf(pr: Pull, sha: string = pr.head.sha): Promise<Record<string, any>> {
    return fake.waitFor((f) => f.latestCheck(OWNER, REPO, sha), 15_000, `a check on #${pr.number}`);
  }

  async function waitForConclusion(pr: Pull, conclusion: 'success' | 'failure', sha: string = pr.head.sha, summary?: string) {
    return fake.waitFor(
      (f) => {
        const c = f.latestCheck(OWNER, REPO, sha);
        return c && c.conclusion === conclusion && (summary === undefined || plain(c.output.summary).includes(summary)) ? c : undefined;
      },
      15_000,
      `#${pr.number} to be ${conclusion}${summary ? ` with "${summary}"` : ''}`,
    );
  }

  const filesReads = (pr: Pull) => fake.requestsTo(FILES).filter((r) => r.params.pull_number === String(pr.number)).length;

  it('a docs-only PR passes the features freeze, naming the patterns; a push adding src/x.ts blocks it again', async () => {
    const docs = await openPull({ title: 'Document the API', user: ANN }, ['docs/api.md', { filename: 'guide/intro.md', previous_filename: 'docs/intro.md' }, 'README.md']);
    const open = await waitForConclusion(docs, 'success');
    expect(open.output.title).toBe('Open (exempt paths)');
    const summary = plain(open.output.summary);
    expect(summary).toContain('Every file this pull request changes matches `exempt.paths` (`docs/**`, `**/*.md`)');
    expect(summary).toContain('**Repository freeze** by @will');
    expect(summary).toContain('✅ exempt paths pass');
    expect(filesReads(docs)).toBe(1);

    // another event on the same head commit reads nothing again
    fake.updatePull(OWNER, REPO, docs.number, { labels: ['documentation'] });
    const labeled = await app.send('pull_request', hooks.pullRequest('labeled', OWNER, REPO, docs.number, { label: 'documentation' }));
    await app.waitForLog(labeled.deliveryId);
    expect(filesReads(docs)).toBe(1);

    const sha = fake.pushToPull(OWNER, REPO, docs.number);
    fake.setPullFiles(OWNER, REPO, docs.number, ['docs/api.md', 'src/x.ts']);
    const res = await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, REPO, docs.number, { before: docs.head.sha, after: sha }));
    expect(res.status).toBe(200);
    const blocked = await waitForConclusion(docs, 'failure', sha);
    expect(blocked.output.title).toBe('Frozen: repository freeze by @\u200bwill (hotfixes only)');
    expect(plain(blocked.output.summary)).toContain('not exempt by paths: src/x.ts matches no exempt.paths pattern');
    expect(filesReads(docs)).toBe(2);
    // the older commit keeps its green check
    expect(fake.latestCheck(OWNER, REPO, docs.head.sha)!.conclusion).toBe('success');
  });

  it('a two-person override: the author and the starter are refused, green only after a second maintainer approves', async () => {
    const pr = await openPull({ title: 'Billing export', user: ANN }, ['src/billing.ts']);
    await waitForConclusion(pr, 'failure');
    const sha7 = pr.head.sha.slice(0, 7);

    const nothing = await command(pr.number, MAX, '/override approve');
    expect(nothing.reactions).toEqual(['confused']);
    expect(nothing.body).toContain('there is nothing to approve: this pull request has no pending override');

    const byAuthor = await command(pr.number, ANN, '/override the customer is waiting');
    expect(byAuthor.reactions).toEqual(['-1']);
    expect(byAuthor.body).toContain("Refused: with `overrides.approvals: 2`, the pull request's author (@ann) can neither start nor approve an override. Nothing was changed.");

    const started = await command(pr.number, MIA, '/override the customer is waiting');
    expect(started.reactions).toEqual(['+1']);
    expect(started.body).toContain(`Override requested for commit ${sha7}, pending approval (1 of 2 people)`);
    expect(started.body).toContain('one more person with the `override` permission (maintain), other than @mia and the author @ann, comments `/override approve`');
    // the check says what is pending, who started it and who may approve; still blocked
    const pending = await waitForConclusion(pr, 'failure', pr.head.sha, 'Override: **pending** (1 of 2 people), started by @mia');
    expect(plain(pending.output.summary)).toContain('other than @mia and the author @ann, comments `/override approve`');

    const byStarter = await command(pr.number, MIA, '/override approve');
    expect(byStarter.reactions).toEqual(['-1']);
    expect(byStarter.body).toContain('Refused: you started this override');
    const byAuthorApprove = await command(pr.number, ANN, '/override approve');
    expect(byAuthorApprove.reactions).toEqual(['-1']);
    expect(byAuthorApprove.body).toContain("you are the pull request's author");
    const byWriter = await command(pr.number, WILL, '/override approve');
    expect(byWriter.reactions).toEqual(['-1']);
    expect(byWriter.body).toContain('Refused: this needs maintain');
    // none of them changed anything (each reply was committed with its refusal, and no re-gate was owed)
    expect(fake.latestCheck(OWNER, REPO, pr.head.sha)!.conclusion).toBe('failure');

    const approved = await command(pr.number, MAX, '/override approve');
    expect(approved.reactions).toEqual(['+1']);
    expect(approved.body).toContain(`Override approved: in force for commit ${sha7} (started by @mia, approved by @max)`);
    const green = await waitForConclusion(pr, 'success');
    expect(plain(green.output.title)).toBe('Open (override by @mia)');
    expect(plain(green.output.summary)).toContain('Override: **yes**, by @mia, approved by @max');

    // a new push ends it
    const sha = fake.pushToPull(OWNER, REPO, pr.number);
    fake.setPullFiles(OWNER, REPO, pr.number, ['src/billing.ts']);
    await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, REPO, pr.number, { before: pr.head.sha, after: sha }));
    await waitForConclusion(pr, 'failure', sha);
    const late = await command(pr.number, MAX, '/override approve');
    expect(late.reactions).toEqual(['confused']);
    expect(late.body).toContain(`was for commit ${sha7}; the push of ${sha.slice(0, 7)} ended it`);
  }, 120_000);

  it('/override cancel ends a pending override: nothing is left to approve', async () => {
    const pr = await openPull({ title: 'Dark mode', user: ANN }, ['src/theme.ts']);
    await waitForConclusion(pr, 'failure');
    expect((await command(pr.number, MIA, '/override launch event')).reactions).toEqual(['+1']);
    await waitForConclusion(pr, 'failure', pr.head.sha, 'Override: **pending**');
    const cancelled = await command(pr.number, MAX, '/override cancel');
    expect(cancelled.reactions).toEqual(['+1']);
    expect(cancelled.body).toContain('Pending override by @mia cancelled');
    const after = await command(pr.number, MAX, '/override approve');
    expect(after.reactions).toEqual(['confused']);
    expect(after.body).toContain('this pull request has no pending override');
    expect(fake.latestCheck(OWNER, REPO, pr.head.sha)!.conclusion).toBe('failure');
  }, 90_000);
});
