/**
 * Time, end to end (issue 3/6): windows from the configuration, timed freezes that lift themselves,
 * boundaries crossed while the app runs and while it is down, repositories added during a freeze, and
 * a PR that changes the configuration file. The app is started with `npm start` against the fake
 * GitHub API; nothing here sends an event to make time pass.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const OTHER = 'globex';
const WRITER = 'wendy';
const CONFIG = '.github/moratorium.yml';

type Pull = Record<string, any>;

/** `YYYY-MM-DDTHH:MM:SS` in UTC, the form a window's `from` and `to` take. */
const local = (t: number): string => new Date(t).toISOString().slice(0, 19);

const windowConfig = (name: string, from: number, to: number): string =>
  `windows:\n  - name: ${name}\n    from: "${local(from)}"\n    to: "${local(to)}"\n    timezone: UTC\n`;

describe('time: windows, timed freezes and boundaries (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;
  const t0 = Date.now();
  /**
   * A window start at least `ms` from now, on a multiple of five seconds: real windows start on whole
   * minutes, which is also when the app's five-second wake-up runs; the boundary must fire all the same.
   */
  const startingIn = (ms: number): number => Math.ceil((Date.now() + ms) / 5000) * 5000;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, 'ops', { files: { [CONFIG]: windowConfig('maintenance', t0 - 3_600_000, t0 + 7_200_000) } });
    fake.addRepo(OWNER, 'timed');
    fake.addRepo(OWNER, 'upcoming');
    fake.addRepo(OWNER, 'soon');
    // a valid config on the default branch: its own window, active now
    fake.addRepo(OWNER, 'settings', { files: { [CONFIG]: windowConfig('settings-freeze', t0 - 3_600_000, t0 + 7_200_000) } });
    fake.setPermission(OWNER, 'timed', WRITER, 'write');

    fake.addInstallation({ id: 8, account: OTHER, repositories: ['core'] });
    fake.addRepo(OTHER, 'extra');
    fake.setPermission(OTHER, 'core', WRITER, 'write');

    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  async function openPull(owner: string, repo: string, input: Parameters<FakeGitHub['addPull']>[2] = {}): Promise<Pull> {
    const pr = fake.addPull(owner, repo, input);
    const res = await app.send('pull_request', hooks.pullRequest('opened', owner, repo, pr.number));
    expect(res.status).toBe(200);
    return pr;
  }

  async function conclusion(owner: string, repo: string, sha: string, want: 'success' | 'failure', timeoutMs = 10_000): Promise<Record<string, any>> {
    return fake.waitFor((f) => {
      const c = f.latestCheck(owner, repo, sha);
      return c?.conclusion === want ? c : undefined;
    }, timeoutMs, `${owner}/${repo}@${sha.slice(0, 7)} to be ${want}`);
  }

  it('blocks a PR while a configured from/to window is active', async () => {
    const pr = await openPull(OWNER, 'ops');
    const check = await conclusion(OWNER, 'ops', pr.head.sha, 'failure');
    expect(check.output.title).toMatch(/^Frozen: window "maintenance" until .+ UTC \(hotfixes only\)$/);
    expect(check.output.summary).toContain('**Window "maintenance"**');
  });

  /** When the fake received the latest check run posted on this SHA (ms). */
  const postedAt = (repo: string, sha: string): number => fake.requestsTo('POST /repos/{owner}/{repo}/check-runs').filter((r) => r.params.repo === repo && r.body?.head_sha === sha && r.status === 201).at(-1)!.at;

  it('/freeze --for 6s blocks, then lifts by itself with no further event', async () => {
    const pr = await openPull(OWNER, 'timed');
    await conclusion(OWNER, 'timed', pr.head.sha, 'success');
    const payload = hooks.issueComment(OWNER, 'timed', pr.number, { body: '/freeze --for 6s quick migration', user: WRITER });
    expect((await app.send('issue_comment', payload)).status).toBe(200);
    const frozen = await conclusion(OWNER, 'timed', pr.head.sha, 'failure', 15_000);
    expect(frozen.output.title).toMatch(/^Frozen: repository freeze by @\u200b?wendy until \d\d:\d\d UTC \(hotfixes only\)$/);
    // when the app says the freeze ends
    const state = await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}&repo=timed`);
    const until = Date.parse((state.body.freezes as Array<{ reason: string; until: string }>).find((f) => f.reason === 'quick migration')!.until);

    // only time passes from here on
    const lifted = await conclusion(OWNER, 'timed', pr.head.sha, 'success', 30_000);
    expect(lifted.output.title).toBe('Open');
    // lifted when the freeze ended, not before
    expect(postedAt('timed', pr.head.sha)).toBeGreaterThanOrEqual(until);
    expect(fake.checkRuns(OWNER, 'timed', pr.head.sha).map((c) => c.conclusion)).toEqual(['success', 'failure', 'success']);
  }, 60_000);

  it('turns a green PR red when a window starts, with no event', async () => {
    const soonStart = startingIn(5_000);
    fake.setFile(OWNER, 'soon', CONFIG, windowConfig('soon', soonStart, soonStart + 3_600_000));
    const pr = await openPull(OWNER, 'soon');
    const green = await conclusion(OWNER, 'soon', pr.head.sha, 'success');
    expect(green.output.title).toBe('Open');
    // posted before the window started
    expect(postedAt('soon', pr.head.sha)).toBeLessThan(soonStart);
    const red = await conclusion(OWNER, 'soon', pr.head.sha, 'failure', soonStart - Date.now() + 20_000);
    // and the red one once it had
    expect(postedAt('soon', pr.head.sha)).toBeGreaterThanOrEqual(soonStart);
    expect(Date.parse(red.completed_at)).toBeGreaterThanOrEqual(soonStart);
    expect(red.output.title).toMatch(/^Frozen: window "soon" until/);
  }, 60_000);

  it('keeps the gate right across a restart during a window: stale green checks turn red and new PRs are blocked', async () => {
    const upcomingStart = startingIn(5_000);
    fake.setFile(OWNER, 'upcoming', CONFIG, windowConfig('upcoming', upcomingStart, upcomingStart + 3_600_000));
    const early = await openPull(OWNER, 'upcoming');
    const green = await conclusion(OWNER, 'upcoming', early.head.sha, 'success');
    expect(green.output.title).toBe('Open');
    expect(await app.stop('SIGTERM')).toBe(0);
    // the window starts while the app is down
    await fake.waitFor(() => Date.now() > upcomingStart + 200, upcomingStart - Date.now() + 2_000, 'the window to start');
    await app.restart();

    const red = await conclusion(OWNER, 'upcoming', early.head.sha, 'failure');
    expect(red.output.title).toMatch(/^Frozen: window "upcoming" until/);
    const late = await openPull(OWNER, 'upcoming');
    expect((await conclusion(OWNER, 'upcoming', late.head.sha, 'failure')).output.title).toMatch(/^Frozen: window "upcoming" until/);
    // and a PR opened after the restart in a repository whose window was already on
    const ops = await openPull(OWNER, 'ops');
    expect((await conclusion(OWNER, 'ops', ops.head.sha, 'failure')).output.title).toMatch(/^Frozen: window "maintenance"/);
  }, 90_000);

  it('gates the open PRs of a repository added to the installation while a freeze is on', async () => {
    const core = await openPull(OTHER, 'core');
    const extra1 = fake.addPull(OTHER, 'extra', { title: 'Waiting' });
    const extra2 = fake.addPull(OTHER, 'extra', { title: 'Also waiting' });
    const draft = fake.addPull(OTHER, 'extra', { title: 'Draft', draft: true });
    await conclusion(OTHER, 'core', core.head.sha, 'success');

    const payload = hooks.issueComment(OTHER, 'core', core.number, { body: '/freeze --org release week', user: WRITER });
    expect((await app.send('issue_comment', payload)).status).toBe(200);
    await conclusion(OTHER, 'core', core.head.sha, 'failure');
    expect(fake.checkRuns(OTHER, 'extra')).toEqual([]);

    fake.setInstallationRepositories(8, ['core', 'extra']);
    const res = await app.send('installation_repositories', hooks.installationRepositories('added', OTHER, ['extra']));
    expect(res.status).toBe(200);
    for (const pr of [extra1, extra2]) {
      const check = await conclusion(OTHER, 'extra', pr.head.sha, 'failure', 20_000);
      expect(check.output.title).toMatch(/^Frozen: organisation freeze by @\u200b?wendy \(hotfixes only\)$/);
    }
    expect(fake.checkRuns(OTHER, 'extra', draft.head.sha)).toEqual([]);
  });

  describe('a PR that changes .github/moratorium.yml', () => {
    const invalid = 'enforcement: sometimes\nwindows:\n  - name: broken\n    cron: "61 * * * *"\n    duration: 1h\n';

    /** A push of the PR's new head commit that modifies the config file, as GitHub sends it. */
    function pushTouchingConfig(pr: Pull, sha: string) {
      const payload = hooks.push(OWNER, 'settings', { ref: `refs/heads/${pr.head.ref}`, before: pr.head.sha, after: sha });
      const commit = { id: sha, tree_id: fake.newSha('tree'), distinct: true, message: 'Tune the moratorium config', timestamp: new Date().toISOString(), url: `${fake.url}/${OWNER}/settings/commit/${sha}`, author: { name: 'Octo Cat', email: 'octocat@example.com', username: 'octocat' }, committer: { name: 'Octo Cat', email: 'octocat@example.com', username: 'octocat' }, added: [], removed: [], modified: [CONFIG] };
      payload.commits = [commit];
      payload.head_commit = commit;
      return payload;
    }

    function expectOwnProblems(check: Record<string, any>) {
      const summary: string = check.output.summary;
      expect(summary.startsWith('### ⚠️ Configuration problems')).toBe(true);
      const problems = summary.slice(0, summary.indexOf('**Blocked'));
      expect(problems).toContain("this PR's .github/moratorium.yml: enforcement");
      expect(problems).toContain("this PR's .github/moratorium.yml: windows.0.cron");
      // the default branch's valid config still decides: its window blocks
      expect(check.conclusion).toBe('failure');
      expect(check.output.title).toMatch(/^Frozen: window "settings-freeze"/);
      expect(problems).not.toContain('no valid one has been seen');
    }

    it('shows the problems of its own version when the push comes before the synchronize', async () => {
      const pr = await openPull(OWNER, 'settings');
      const first = await conclusion(OWNER, 'settings', pr.head.sha, 'failure');
      expect(first.output.summary).not.toContain('Configuration problems');

      const sha = fake.pushToPull(OWNER, 'settings', pr.number);
      fake.setFile(OWNER, 'settings', CONFIG, invalid, { ref: sha });
      expect((await app.send('push', pushTouchingConfig(pr, sha))).status).toBe(200);
      expect((await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, 'settings', pr.number, { before: pr.head.sha, after: sha }))).status).toBe(200);
      expectOwnProblems(await fake.waitFor((f) => f.latestCheck(OWNER, 'settings', sha), 10_000, 'the check on the new head'));
    });

    it('shows the problems of its own version when the synchronize comes before the push', async () => {
      const pr = await openPull(OWNER, 'settings');
      await conclusion(OWNER, 'settings', pr.head.sha, 'failure');
      const sha = fake.pushToPull(OWNER, 'settings', pr.number);
      fake.setFile(OWNER, 'settings', CONFIG, invalid, { ref: sha });
      expect((await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, 'settings', pr.number, { before: pr.head.sha, after: sha }))).status).toBe(200);
      await fake.waitFor((f) => f.latestCheck(OWNER, 'settings', sha), 10_000, 'the check on the new head');
      expect((await app.send('push', pushTouchingConfig(pr, sha))).status).toBe(200);
      expectOwnProblems(await fake.waitFor((f) => (f.latestCheck(OWNER, 'settings', sha)?.output.summary.includes('Configuration problems') ? f.latestCheck(OWNER, 'settings', sha) : undefined), 10_000, 'the check with the problems'));
    });
  });
});
