/**
 * Behaviours that had no test that would fail if they broke (issue 10), end to end: the app
 * (`npm start`) against the fake GitHub API.
 *
 * - deployment hotfix identity during a features freeze: the merge commit of a hotfix or of an
 *   overridden PR is approved, so is a deployment whose PRs are all hotfixes; anything else is held
 * - the strictest decision on a head SHA shared by two open PRs
 * - `/unfreeze` ending the current occurrence of active windows, of the repository and (`--org`) of
 *   the account's `.github` config
 * - a push to the default branch, or to the account's `.github` repository, makes the new config
 *   count at once (not when the cache would expire)
 * - `ready_for_review`, `reopened` and `unlabeled` each post a new gate
 *
 * One app serves the file; every scenario has its own repository (or account), so they never share
 * state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const CONFIG = '.github/moratorium.yml';
const WRITER = 'wendy';
const MAINTAINER = 'maria';
const HOUR = 3_600_000;

type Pull = Record<string, any>;

/** `YYYY-MM-DDTHH:MM:SS` in UTC, the form a window's `from` and `to` take. */
const local = (t: number): string => new Date(t).toISOString().slice(0, 19);
/** A one-off window that is on now and for the next day. */
const activeWindow = (name: string): string => `windows:\n  - name: ${name}\n    from: "${local(Date.now() - HOUR)}"\n    to: "${local(Date.now() + 24 * HOUR)}"\n    timezone: UTC\n`;

let fake: FakeGitHub;
let app: AppHandle;
let ev: Webhooks;

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: OWNER });
  for (const repo of ['deploys', 'shared', 'triggers']) fake.addRepo(OWNER, repo);
  fake.addRepo(OWNER, 'windows', { files: { [CONFIG]: activeWindow('release-week') } });
  fake.addRepo(OWNER, 'cfg', { files: { [CONFIG]: activeWindow('config-window') } });
  for (const repo of ['deploys', 'shared', 'triggers', 'windows', 'cfg']) {
    fake.setPermission(OWNER, repo, WRITER, 'write');
    fake.setPermission(OWNER, repo, MAINTAINER, 'maintain');
  }
  // accounts whose repositories take their config from the account's `.github` repository
  fake.addInstallation({ id: 8, account: 'umbrella' });
  fake.addRepo('umbrella', '.github', { files: { [CONFIG]: activeWindow('org-maintenance') } });
  fake.addRepo('umbrella', 'app');
  fake.setPermission('umbrella', 'app', MAINTAINER, 'maintain');
  fake.setPermission('umbrella', '.github', MAINTAINER, 'maintain');
  fake.addInstallation({ id: 9, account: 'hooli' });
  fake.addRepo('hooli', '.github', { files: { [CONFIG]: activeWindow('hooli-window') } });
  fake.addRepo('hooli', 'svc');
  ev = webhooks(fake);
  app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  expectFakeClean(fake);
});

// ---------------------------------------------------------------------------------------------
// helpers

/** The handler's log line for one delivery (stdout may trail the HTTP answer a little). */
const logOf = (deliveryId: string, timeoutMs = 30_000): Promise<Record<string, any>> =>
  app.waitForLogLine((l) => l.delivery === deliveryId && l.event !== undefined, timeoutMs);

/** Sends a webhook and returns the delivery's log line. */
async function deliver(event: string, payload: unknown): Promise<Record<string, any>> {
  const res = await app.send(event, payload);
  expect(res.status).toBeLessThan(300);
  return logOf(res.deliveryId);
}

/** Runs a command in a comment, waits for its `+1` and returns the app's reply. */
async function command(owner: string, repo: string, number: number, user: string, body: string): Promise<string> {
  const payload = ev.issueComment(owner, repo, number, { body, user });
  expect((await app.send('issue_comment', payload)).status).toBeLessThan(300);
  const id = payload.comment.id as number;
  const reply = await fake.waitFor((f) => f.appComments(owner, repo, number).find((c) => String(c.body).includes(`<!-- moratorium:reply ${id} -->`)), 30_000, `the reply to "${body}"`);
  expect(fake.reactionsFor(owner, repo, id).map((r) => r.content)).toEqual(['+1']);
  return String(reply.body);
}

/** A PR opened through its webhook; returns it with the delivery's log line. */
async function openPull(owner: string, repo: string, input: Parameters<FakeGitHub['addPull']>[2]): Promise<{ pr: Pull; line: Record<string, any> }> {
  const pr = fake.addPull(owner, repo, input);
  const line = await deliver('pull_request', ev.pullRequest('opened', owner, repo, pr.number));
  return { pr, line };
}

const conclusion = (owner: string, repo: string, sha: string): string | undefined => fake.latestCheck(owner, repo, sha)?.conclusion as string | undefined;

async function waitForConclusion(owner: string, repo: string, sha: string, want: 'success' | 'failure'): Promise<Record<string, any>> {
  return fake.waitFor((f) => {
    const check = f.latestCheck(owner, repo, sha);
    return check?.conclusion === want ? check : undefined;
  }, 30_000, `a ${want} check on ${sha.slice(0, 7)}`);
}

// ---------------------------------------------------------------------------------------------

describe('deployments during a features freeze: what counts as a hotfix', () => {
  let runId = 9_000;
  async function deploy(sha: string, pulls: number[] = []): Promise<{ runId: number; line: Record<string, any> }> {
    const id = ++runId;
    const line = await deliver('deployment_protection_rule', ev.deploymentProtectionRule(OWNER, 'deploys', { runId: id, sha, pulls }));
    expect(line).toMatchObject({ event: 'deployment_protection_rule' });
    return { runId: id, line };
  }
  const review = (id: number) => fake.waitFor((f) => f.deploymentReviews.find((d) => d.runId === id), 30_000, `the answer to run ${id}`);

  let hotfix: Pull;
  let overridden: Pull;
  let hotfix2: Pull;
  let feature: Pull;

  beforeAll(async () => {
    hotfix = (await openPull(OWNER, 'deploys', { title: 'Fix the pool', headRef: 'hotfix/pool' })).pr;
    overridden = (await openPull(OWNER, 'deploys', { title: 'Urgent feature' })).pr;
    hotfix2 = (await openPull(OWNER, 'deploys', { title: 'Fix the cache', headRef: 'hotfix/cache' })).pr;
    feature = (await openPull(OWNER, 'deploys', { title: 'New report' })).pr;
    const issue = fake.addIssue(OWNER, 'deploys', { title: 'Release coordination' });
    expect(await command(OWNER, 'deploys', issue, WRITER, '/freeze quarter end')).toContain('hotfixes still flow');
    await waitForConclusion(OWNER, 'deploys', feature.head.sha, 'failure');
    expect(await command(OWNER, 'deploys', overridden.number, MAINTAINER, '/override the customer is waiting')).toContain('Override recorded');
  });

  /** A feature branch started at `sha` with no commit of its own yet: its open PR is associated with the commit too. */
  const branchedAt = (sha: string, name: string) => fake.addPull(OWNER, 'deploys', { title: `Started at ${sha.slice(0, 7)}`, headRef: `feature/${name}`, headSha: sha });

  it('approves the merge commit of a hotfix PR (even with a feature PR on the same commit)', async () => {
    const sha = fake.mergePull(OWNER, 'deploys', hotfix.number);
    branchedAt(sha, 'after-pool');
    const { runId: id, line } = await deploy(sha);
    expect(line).toMatchObject({ decision: 'approved' });
    expect(await review(id)).toMatchObject({ state: 'approved', environment_name: 'production' });
  });

  it('approves the merge commit of an overridden PR (even with a feature PR on the same commit)', async () => {
    const sha = fake.mergePull(OWNER, 'deploys', overridden.number);
    branchedAt(sha, 'after-urgent');
    const { runId: id, line } = await deploy(sha);
    expect(line).toMatchObject({ decision: 'approved' });
    expect(await review(id)).toMatchObject({ state: 'approved' });
  });

  it('approves a deployment whose PRs in the payload are all hotfixes', async () => {
    const sha = fake.addCommit(OWNER, 'deploys');
    const { runId: id, line } = await deploy(sha, [hotfix2.number]);
    expect(line).toMatchObject({ decision: 'approved' });
    expect(await review(id)).toMatchObject({ state: 'approved' });
  });

  it('holds a deployment with a feature PR among its PRs, and the merge commit of a feature PR', async () => {
    const mixed = await deploy(fake.addCommit(OWNER, 'deploys'), [hotfix2.number, feature.number]);
    expect(mixed.line).toMatchObject({ decision: 'held' });
    const sha = fake.mergePull(OWNER, 'deploys', feature.number);
    const plain = await deploy(sha);
    expect(plain.line).toMatchObject({ decision: 'held' });
    // held: the handler has finished (its log line is written) without answering GitHub
    expect(fake.deploymentReviews.filter((d) => d.runId === mixed.runId || d.runId === plain.runId)).toEqual([]);
  });
});

describe('one head SHA, two open PRs', () => {
  it('posts the strictest decision: blocked into the gated branch wins over free into another', async () => {
    const issue = fake.addIssue(OWNER, 'shared', { title: 'Freeze' });
    await command(OWNER, 'shared', issue, WRITER, '/freeze shared sha');
    const gated = await openPull(OWNER, 'shared', { title: 'Feature into main', headRef: 'feature/both' });
    expect(gated.line).toMatchObject({ decision: 'failure' });
    const sha = gated.pr.head.sha as string;
    await waitForConclusion(OWNER, 'shared', sha, 'failure');
    // the same commit proposed to a branch the gate does not cover
    const other = await openPull(OWNER, 'shared', { title: 'Same commit into develop', headRef: 'feature/both', headSha: sha, baseRef: 'develop' });
    expect(other.pr.head.sha).toBe(sha);
    expect(other.line).toMatchObject({ pr: other.pr.number, sha, decision: 'failure' });
    expect(conclusion(OWNER, 'shared', sha)).toBe('failure');
    expect(fake.checkRuns(OWNER, 'shared', sha).map((c) => c.conclusion)).not.toContain('success');
  });
});

describe('/unfreeze of active windows', () => {
  it("ends the current occurrence of the repository's window", async () => {
    const { pr } = await openPull(OWNER, 'windows', { title: 'Feature in a window' });
    const blocked = await waitForConclusion(OWNER, 'windows', pr.head.sha, 'failure');
    expect(blocked.output.title).toContain('release-week');
    const reply = await command(OWNER, 'windows', pr.number, MAINTAINER, '/unfreeze ship it');
    expect(reply).toContain('Ended the current occurrence of window "release-week"');
    await waitForConclusion(OWNER, 'windows', pr.head.sha, 'success');
  });

  it("with --org, ends the current occurrence of the account's window (from its .github config)", async () => {
    const { pr } = await openPull('umbrella', 'app', { title: 'Feature in the org window' });
    const blocked = await waitForConclusion('umbrella', 'app', pr.head.sha, 'failure');
    expect(blocked.output.title).toContain('org-maintenance');
    const reply = await command('umbrella', 'app', pr.number, MAINTAINER, '/unfreeze --org maintenance done early');
    expect(reply).toContain('Ended the current occurrence of window "org-maintenance"');
    await waitForConclusion('umbrella', 'app', pr.head.sha, 'success');
  });
});

describe('a new config counts at once', () => {
  it('after a push to the default branch', async () => {
    const { pr } = await openPull(OWNER, 'cfg', { title: 'Feature under the old config' });
    await waitForConclusion(OWNER, 'cfg', pr.head.sha, 'failure');
    fake.setFile(OWNER, 'cfg', CONFIG, 'windows: []\n');
    expect(await deliver('push', ev.push(OWNER, 'cfg'))).toMatchObject({ event: 'push', config: 'invalidated' });
    // the next evaluation of the PR (a new push to it) uses the new file
    const sha = fake.pushToPull(OWNER, 'cfg', pr.number);
    const line = await deliver('pull_request', ev.pullRequest('synchronize', OWNER, 'cfg', pr.number));
    expect(line).toMatchObject({ sha, decision: 'success' });
    await waitForConclusion(OWNER, 'cfg', sha, 'success');
  });

  it("after a push to the account's .github repository", async () => {
    const { pr } = await openPull('hooli', 'svc', { title: 'Feature under the account config' });
    await waitForConclusion('hooli', 'svc', pr.head.sha, 'failure');
    fake.setFile('hooli', '.github', CONFIG, 'windows: []\n');
    expect(await deliver('push', ev.push('hooli', '.github'))).toMatchObject({ event: 'push', config: 'invalidated' });
    const sha = fake.pushToPull('hooli', 'svc', pr.number);
    const line = await deliver('pull_request', ev.pullRequest('synchronize', 'hooli', 'svc', pr.number));
    expect(line).toMatchObject({ sha, decision: 'success' });
    await waitForConclusion('hooli', 'svc', sha, 'success');
  });
});

describe('pull request triggers that post a new gate', () => {
  let issue: number;
  let closedEarly: Pull;

  beforeAll(async () => {
    // a PR gated open, then closed before the freeze: the freeze's fan-out does not see it
    closedEarly = (await openPull(OWNER, 'triggers', { title: 'Closed for a while' })).pr;
    await waitForConclusion(OWNER, 'triggers', closedEarly.head.sha, 'success');
    fake.updatePull(OWNER, 'triggers', closedEarly.number, { state: 'closed' });
    expect(await deliver('pull_request', ev.pullRequest('closed', OWNER, 'triggers', closedEarly.number))).toMatchObject({ merged: false });
    issue = fake.addIssue(OWNER, 'triggers', { title: 'Freeze' });
    await command(OWNER, 'triggers', issue, WRITER, '/freeze triggers');
    await app.waitForNoPendingJobs('fanout');
  });

  it('ready_for_review: a draft gets its gate when marked ready', async () => {
    const draft = fake.addPull(OWNER, 'triggers', { title: 'Draft feature', draft: true });
    fake.updatePull(OWNER, 'triggers', draft.number, { draft: false });
    const line = await deliver('pull_request', ev.pullRequest('ready_for_review', OWNER, 'triggers', draft.number));
    expect(line).toMatchObject({ pr: draft.number, decision: 'failure', changed: true });
    await waitForConclusion(OWNER, 'triggers', draft.head.sha, 'failure');
  });

  it('reopened: a PR closed while the freeze began is gated again when reopened', async () => {
    expect(conclusion(OWNER, 'triggers', closedEarly.head.sha)).toBe('success');
    fake.updatePull(OWNER, 'triggers', closedEarly.number, { state: 'open' });
    const line = await deliver('pull_request', ev.pullRequest('reopened', OWNER, 'triggers', closedEarly.number));
    expect(line).toMatchObject({ pr: closedEarly.number, decision: 'failure', changed: true });
    await waitForConclusion(OWNER, 'triggers', closedEarly.head.sha, 'failure');
  });

  it('unlabeled: a hotfix that loses its label is blocked', async () => {
    const pr = fake.addPull(OWNER, 'triggers', { title: 'Labelled fix' });
    fake.addLabelEvent(OWNER, 'triggers', pr.number, 'hotfix', WRITER);
    const labeled = await deliver('pull_request', ev.pullRequest('labeled', OWNER, 'triggers', pr.number, { label: 'hotfix', sender: WRITER }));
    expect(labeled).toMatchObject({ decision: 'success' });
    await waitForConclusion(OWNER, 'triggers', pr.head.sha, 'success');
    fake.addLabelEvent(OWNER, 'triggers', pr.number, 'hotfix', WRITER, { event: 'unlabeled' });
    const line = await deliver('pull_request', ev.pullRequest('unlabeled', OWNER, 'triggers', pr.number, { label: 'hotfix', sender: WRITER }));
    expect(line).toMatchObject({ pr: pr.number, decision: 'failure', changed: true });
    await waitForConclusion(OWNER, 'triggers', pr.head.sha, 'failure');
  });
});
