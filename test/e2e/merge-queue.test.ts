/**
 * End to end: merge queues and re-run requests (SPEC 5) with the real app (`npm start`) against the
 * fake GitHub API. A merge group gets the `moratorium` check on its head SHA, decided against the
 * group's base branch (the group passes when each of its PRs would, overrides included); a re-run
 * request always re-evaluates and posts, even when nothing changed. Each scenario has its own
 * repository, so a freeze in one never reaches another.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

let fake: FakeGitHub;
let app: AppHandle;
let ev: Webhooks;
const issues: Record<string, number> = {};

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  for (const repo of ['open', 'frozen', 'rerun']) {
    fake.addRepo('acme', repo);
    fake.setPermission('acme', repo, 'maria', 'maintain');
    issues[repo] = fake.addIssue('acme', repo, { title: 'Release coordination' });
  }
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

/** A PR opened through its webhook, with its first check waited for. */
async function openPull(repo: string, input: Parameters<FakeGitHub['addPull']>[2]) {
  const pr = fake.addPull('acme', repo, input);
  await app.send('pull_request', ev.pullRequest('opened', 'acme', repo, pr.number));
  await fake.waitFor((f) => f.latestCheck('acme', repo, pr.head.sha), 10_000, `the check of #${pr.number}`);
  return pr;
}

/** Sends `merge_group.checks_requested` for these PRs and returns the check posted on the group's head SHA. */
async function checkGroup(repo: string, pulls: number[], baseRef?: string) {
  const payload = ev.mergeGroup('acme', repo, { pulls, ...(baseRef ? { baseRef } : {}) });
  const headSha = payload.merge_group.head_sha as string;
  const res = await app.send('merge_group', payload);
  expect(res.status).toBeLessThan(300);
  const check = await fake.waitFor((f) => f.latestCheck('acme', repo, headSha), 10_000, `the check of the group of ${pulls.map((n) => `#${n}`).join(', ')}`);
  expect(check.head_sha).toBe(headSha);
  expect(check.name).toBe('moratorium');
  return { check, headSha, payload };
}

/** Runs a command in a comment and waits for the app's `+1` reaction. */
async function command(repo: string, number: number, body: string, user = 'maria'): Promise<void> {
  const payload = ev.issueComment('acme', repo, number, { body, user });
  await app.send('issue_comment', payload);
  await fake.waitFor((f) => f.reactionsFor('acme', repo, payload.comment.id).find((r) => r.content === '+1'), 10_000, `+1 on "${body}"`);
}

// ---------------------------------------------------------------------------------------------

describe('merge groups', () => {
  it('passes a group on its head SHA while the gate is open', async () => {
    const pr = await openPull('open', { title: 'Feature', headRef: 'feature/search' });
    const { check } = await checkGroup('open', [pr.number]);
    expect(check).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(check.output.title).toBe('Open');
  });

  it('fails a feature PR’s group during a freeze, passes an overridden PR’s group, and judges a group by its base branch', async () => {
    const feature = await openPull('frozen', { title: 'Feature', headRef: 'feature/a' });
    const overridden = await openPull('frozen', { title: 'Urgent feature', headRef: 'feature/b' });
    const release = await openPull('frozen', { title: 'Backport', headRef: 'feature/c', baseRef: 'release/1.x' });
    await command('frozen', issues.frozen!, '/freeze code freeze for the release');
    await fake.waitFor((f) => f.latestCheck('acme', 'frozen', feature.head.sha)?.conclusion === 'failure', 10_000, 'the feature PR frozen');
    await command('frozen', overridden.number, '/override customer outage fix, approved by the incident commander');

    const blocked = await checkGroup('frozen', [feature.number]);
    expect(blocked.check.conclusion).toBe('failure');
    // titles never ping: a zero-width space follows the @
    expect(blocked.check.output.title).toBe('Frozen: repository freeze by @\u200bmaria (hotfixes only)');

    const passed = await checkGroup('frozen', [overridden.number]);
    expect(passed.check.conclusion).toBe('success');
    expect(passed.check.output.title).toBe('Open (override by @\u200bmaria)');

    // the queue of an ungated branch is not gated, freeze or not
    const ungated = await checkGroup('frozen', [release.number], 'release/1.x');
    expect(ungated.check.conclusion).toBe('success');
    expect(ungated.check.output.title).toBe('Not gated');
  });
});

describe('re-run requests', () => {
  it('re-posts the PR’s check on check_run and check_suite re-run requests even when nothing changed', async () => {
    const pr = await openPull('rerun', { title: 'Feature', headRef: 'feature/rerun' });
    const sha = pr.head.sha as string;
    const first = fake.latestCheck('acme', 'rerun', sha)!;
    expect(first.conclusion).toBe('success');
    const count = () => fake.checkRuns('acme', 'rerun', sha, 'moratorium').length;
    expect(count()).toBe(1);

    await app.send('check_run', ev.checkRun('rerequested', 'acme', 'rerun', first.id as number));
    await fake.waitFor(() => count() === 2, 10_000, 'the check posted again after check_run.rerequested');
    await app.send('check_suite', ev.checkSuite('rerequested', 'acme', 'rerun', sha));
    await fake.waitFor(() => count() === 3, 10_000, 'the check posted again after check_suite.rerequested');
    for (const c of fake.checkRuns('acme', 'rerun', sha, 'moratorium')) expect(c).toMatchObject({ conclusion: 'success', output: expect.objectContaining({ title: 'Open' }) });
    // nothing else changed: an ordinary event costs no write
    const edited = await app.send('pull_request', ev.pullRequest('edited', 'acme', 'rerun', pr.number));
    // handled (its log line) and nothing owed left to run
    await app.waitForLogLine((l) => l.delivery === edited.deliveryId);
    await app.waitForJobs();
    expect(count()).toBe(3);
  });

  it('re-posts a merge group’s check on a re-run request of that check', async () => {
    const pr = await openPull('rerun', { title: 'Queued feature', headRef: 'feature/queued' });
    const { check, headSha, payload } = await checkGroup('rerun', [pr.number]);
    const count = () => fake.checkRuns('acme', 'rerun', headSha, 'moratorium').length;
    expect(count()).toBe(1);
    const rerun = ev.checkRun('rerequested', 'acme', 'rerun', check.id as number);
    // GitHub names the queue's branch as the suite's head branch
    rerun.check_run.check_suite.head_branch = String(payload.merge_group.head_ref).replace(/^refs\/heads\//, '');
    await app.send('check_run', rerun);
    await fake.waitFor(() => count() === 2, 10_000, 'the group’s check posted again');
    expect(fake.latestCheck('acme', 'rerun', headSha)).toMatchObject({ conclusion: 'success' });
  });
});
