/**
 * End to end: the deploy side (SPEC 6) with the real app (`npm start`) against the fake GitHub API.
 * The custom deployment protection rule (approve, reject, hold and approve when the gate opens,
 * across a restart), what cadence counts (deployment statuses, merges), the recovery cadence, the
 * incident report, and bad input. One app serves the whole file; every scenario has its own
 * repository (or account, when an incident freezes a whole account), so they never share state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const CALLBACK_ROUTE = 'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule';
const DAY = 86_400_000;

let fake: FakeGitHub;
let app: AppHandle;
let ev: Webhooks;
let waitingIssue: number;

const config = {
  // every default: production is gated, when_blocked: wait
  plain: '',
  paced: ['cadence: { max: 2, per: 24h, counts: deployments }', 'deployments: { when_blocked: reject }'].join('\n'),
  waiting: 'deployments: { when_blocked: wait }',
  slots: ['cadence: { max: 1, per: 24h, counts: deployments }', 'deployments: { when_blocked: wait }'].join('\n'),
  recovery: 'incidents: { recovery: { cadence: { max: 1, per: 24h } } }',
};

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  for (const [repo, text] of [
    ['web', config.plain],
    ['paced', config.paced],
    ['waiting', config.waiting],
    ['slots', config.slots],
    ['flaky', config.plain],
    ['garbage', config.plain],
  ] as const) {
    fake.addRepo('acme', repo, { files: { '.github/moratorium.yml': `${text}\n` } });
  }
  fake.setPermission('acme', 'waiting', 'maria', 'maintain');
  waitingIssue = fake.addIssue('acme', 'waiting', { title: 'Deploy coordination' });
  fake.setPermission('acme', 'slots', 'maria', 'maintain');
  // incidents freeze a whole account: these scenarios get accounts of their own
  fake.addInstallation({ id: 8, account: 'globex' });
  fake.addRepo('globex', 'shop', { files: { '.github/moratorium.yml': `${config.recovery}\n` } });
  fake.setPermission('globex', 'shop', 'ivan', 'write');
  fake.addInstallation({ id: 9, account: 'initech' });
  fake.addRepo('initech', 'billing', { files: { '.github/moratorium.yml': `${config.plain}\n` } });
  fake.setPermission('initech', 'billing', 'ivan', 'write');
  ev = webhooks(fake);
  app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  // nothing the app sent may break GitHub's API description, or use an endpoint the fake lacks
  expectFakeClean(fake);
});

// ---------------------------------------------------------------------------------------------
// helpers

let nextRun = 5_000;
const newRunId = (): number => nextRun++;

/** The answer GitHub received for a workflow run's protection rule (waits for it). */
async function reviewOf(runId: number, timeoutMs = 10_000) {
  return fake.waitFor((f) => f.deploymentReviews.find((d) => d.runId === runId), timeoutMs, `the answer to run ${runId}`);
}

/** The handler's log line for one delivery (stdout may trail the HTTP answer a little). */
async function logOf(deliveryId: string, timeoutMs = 15_000): Promise<Record<string, any>> {
  return app.waitForLogLine((l) => l.delivery === deliveryId, timeoutMs);
}

/** Sends a protection-rule request and returns the delivery's log line. */
async function requestDeployment(owner: string, repo: string, runId: number, opts: { environment?: string; sha?: string; pulls?: number[]; deploymentId?: number } = {}) {
  const res = await app.send('deployment_protection_rule', ev.deploymentProtectionRule(owner, repo, { runId, ...opts }));
  expect(res.status).toBeLessThan(300);
  return logOf(res.deliveryId);
}

/** Sends a deployment status and returns whether the app counted it (from its log line). */
async function deploymentStatus(owner: string, repo: string, opts: Parameters<Webhooks['deploymentStatus']>[2]): Promise<boolean> {
  const res = await app.send('deployment_status', ev.deploymentStatus(owner, repo, opts));
  expect(res.status).toBeLessThan(300);
  const line = await logOf(res.deliveryId);
  expect(line).toMatchObject({ event: 'deployment_status' });
  return line.counted as boolean;
}

/** Runs a command in a comment and waits for the app's `+1` reaction. */
async function command(owner: string, repo: string, number: number, user: string, body: string): Promise<number> {
  const payload = ev.issueComment(owner, repo, number, { body, user });
  await app.send('issue_comment', payload);
  const id = payload.comment.id as number;
  await fake.waitFor((f) => f.reactionsFor(owner, repo, id).find((r) => r.content === '+1'), 10_000, `+1 on "${body}"`);
  return id;
}

/** The first reply of the app on this issue after its first `before` replies that matches. */
async function replyAfter(owner: string, repo: string, number: number, before: number, match: RegExp): Promise<string> {
  const comment = await fake.waitFor(
    (f) => f.appComments(owner, repo, number).slice(before).find((c) => match.test(String(c.body))),
    10_000,
    `a reply matching ${match}`,
  );
  return String(comment.body);
}

/** The cadence use the HTTP API reports for one repository (and environment). */
async function cadenceUsed(owner: string, repo: string, environment: string | null = null): Promise<number> {
  const res = await app.api('GET', `/moratorium/api/v1/state?account=${owner}&repo=${repo}`);
  expect(res.status).toBe(200);
  const entry = (res.body.cadence as Array<Record<string, any>>).find((c) => c.environment === environment);
  return entry?.limits[0]?.used as number;
}

/** A PR opened through its webhook, with its first check waited for. */
async function openPull(owner: string, repo: string, input: Parameters<FakeGitHub['addPull']>[2]) {
  const pr = fake.addPull(owner, repo, input);
  await app.send('pull_request', ev.pullRequest('opened', owner, repo, pr.number));
  await fake.waitFor((f) => f.latestCheck(owner, repo, pr.head.sha), 10_000, `the check of #${pr.number}`);
  return pr;
}

// ---------------------------------------------------------------------------------------------

describe('the deployment protection rule', () => {
  it('approves a production deployment while the gate is open, and says the gate is open', async () => {
    const runId = newRunId();
    const line = await requestDeployment('acme', 'web', runId);
    expect(line).toMatchObject({ event: 'deployment_protection_rule', decision: 'approved', environment: 'production' });
    const review = await reviewOf(runId);
    expect(review).toMatchObject({ owner: 'acme', repo: 'web', environment_name: 'production', state: 'approved', installationId: 7 });
    expect(review.comment).toMatch(/^Moratorium: Open\b/);
    expect(review.comment).toMatch(/no incident, freeze, window or deploy limit/i);
  });

  it('approves an environment that deployments.environments does not list, saying it is not gated', async () => {
    const runId = newRunId();
    await requestDeployment('acme', 'web', runId, { environment: 'staging' });
    const review = await reviewOf(runId);
    expect(review).toMatchObject({ environment_name: 'staging', state: 'approved' });
    expect(review.comment).toContain('does not gate the "staging" environment');
    expect(review.comment).toContain('deployments.environments');
  });
});

describe('cadence counted in deployments', () => {
  it('counts each successful production deployment once, ignores failures, errors and staging, then rejects with the next slot', async () => {
    const firstAt = Date.now();
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 101, state: 'success' })).toBe(true);
    const firstDone = Date.now();
    // the same deployment reported again (a second status): still one deploy
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 101, state: 'success' })).toBe(false);
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 102, state: 'failure' })).toBe(false);
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 103, state: 'error' })).toBe(false);
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 104, state: 'success', environment: 'staging' })).toBe(false);
    expect(await cadenceUsed('acme', 'paced', 'production')).toBe(1);

    // one of two used: a deployment may go
    const allowed = newRunId();
    await requestDeployment('acme', 'paced', allowed, { deploymentId: 105 });
    expect(await reviewOf(allowed)).toMatchObject({ state: 'approved' });
    // an approval counts at once (provisionally), so a second request cannot take the same slot
    expect(await cadenceUsed('acme', 'paced', 'production')).toBe(2);
    // its success settles it: still two
    expect(await deploymentStatus('acme', 'paced', { deploymentId: 105, state: 'success' })).toBe(true);
    expect(await cadenceUsed('acme', 'paced', 'production')).toBe(2);

    const refused = newRunId();
    const line = await requestDeployment('acme', 'paced', refused);
    expect(line).toMatchObject({ decision: 'rejected' });
    const review = await reviewOf(refused);
    expect(review.state).toBe('rejected');
    expect(review.comment).toMatch(/^Moratorium: Deploy limit: 2 of 2 in 24h, next slot \S+/);
    // the slot opens a day after the first counted deployment
    const when = /It can go after (\S+)\./.exec(review.comment ?? '')?.[1];
    expect(when).toBeDefined();
    const slot = Date.parse(when!);
    expect(slot).toBeGreaterThanOrEqual(firstAt + DAY - 1000);
    expect(slot).toBeLessThanOrEqual(firstDone + DAY + 1000);
    // a staging deployment is not gated, whatever the cadence says
    const staging = newRunId();
    await requestDeployment('acme', 'paced', staging, { environment: 'staging' });
    expect(await reviewOf(staging)).toMatchObject({ state: 'approved' });
  });
});

describe('when_blocked: wait', () => {
  it('holds a request during a freeze, across a restart, and approves it on /unfreeze', async () => {
    const issue = waitingIssue;
    await command('acme', 'waiting', issue, 'maria', '/freeze --all database migration');

    const runId = newRunId();
    const line = await requestDeployment('acme', 'waiting', runId);
    expect(line).toMatchObject({ decision: 'held' });

    const starts = app.logLines().filter((l) => l.event === 'reconcile').length;
    await app.restart();
    // the start-up reconcile looks at the held requests again: the gate is still blocked
    await fake.waitFor(() => app.logLines().filter((l) => l.event === 'reconcile').length > starts, 15_000, 'the start-up reconcile');
    // a counted deployment also makes the app look at what is held
    expect(await deploymentStatus('acme', 'waiting', { state: 'success' })).toBe(true);
    // those looks (stored held-deployment checks) have run: still blocked, still unanswered
    await app.waitForJobs();
    expect(fake.deploymentReviews.filter((d) => d.runId === runId)).toEqual([]);

    const reconciles = app.logLines().filter((l) => l.event === 'reconcile').length;
    await command('acme', 'waiting', issue, 'maria', '/unfreeze migration done');
    const review = await reviewOf(runId, 20_000);
    expect(review).toMatchObject({ environment_name: 'production', state: 'approved' });
    expect(review.comment).toContain('the gate opened');
    // the /unfreeze answered it, not a later periodic reconcile
    expect(app.logLines().filter((l) => l.event === 'reconcile')).toHaveLength(reconciles);
    // answered once: whatever the unfreeze queued has run
    await app.waitForJobs();
    expect(fake.deploymentReviews.filter((d) => d.runId === runId)).toHaveLength(1);
  });

  it('approves held requests oldest first, only as many as the cadence has free slots', async () => {
    const issue = fake.addIssue('acme', 'slots', { title: 'Deploy coordination' });
    await command('acme', 'slots', issue, 'maria', '/freeze --all');
    const [oldest, newer] = [newRunId(), newRunId()];
    expect(await requestDeployment('acme', 'slots', oldest, { deploymentId: 301 })).toMatchObject({ decision: 'held' });
    expect(await requestDeployment('acme', 'slots', newer, { deploymentId: 302 })).toMatchObject({ decision: 'held' });

    await command('acme', 'slots', issue, 'maria', '/unfreeze');
    expect(await reviewOf(oldest)).toMatchObject({ state: 'approved' });
    // the held-check that answered it records the approval after GitHub's answer: let it end
    await app.waitForJobs();
    // one slot in 24h: the newer request keeps waiting, also once the approved deployment succeeded
    expect(await deploymentStatus('acme', 'slots', { deploymentId: 301, state: 'success' })).toBe(true);
    // the held-deployment checks that status queued have run
    await app.waitForJobs();
    expect(fake.deploymentReviews.filter((d) => d.runId === newer)).toEqual([]);
  });
});

describe('recovery cadence', () => {
  it('counts a merged hotfix against the recovery cadence and blocks the other hotfixes, saying which cadence applies', async () => {
    const feature = await openPull('globex', 'shop', { title: 'New checkout', headRef: 'feature/checkout' });
    const hotfixes = [];
    for (const name of ['a', 'b', 'c']) hotfixes.push(await openPull('globex', 'shop', { title: `Fix ${name}`, headRef: `hotfix/${name}` }));
    const issue = fake.addIssue('globex', 'shop', { title: 'Outage' });

    await command('globex', 'shop', issue, 'ivan', '/incident open sev1 checkout down');
    await fake.waitFor((f) => f.latestCheck('globex', 'shop', feature.head.sha)?.conclusion === 'failure', 10_000, 'the feature PR frozen');
    await command('globex', 'shop', issue, 'ivan', '/incident resolve failover complete');
    for (const h of hotfixes) expect(fake.latestCheck('globex', 'shop', h.head.sha)).toMatchObject({ conclusion: 'success' });

    const [merged, ...others] = hotfixes;
    fake.mergePull('globex', 'shop', merged!.number, { mergedBy: 'ivan' });
    await app.send('pull_request', ev.pullRequest('closed', 'globex', 'shop', merged!.number, { sender: 'ivan' }));

    for (const h of others) {
      const check = await fake.waitFor((f) => {
        const c = f.latestCheck('globex', 'shop', h.head.sha);
        return c?.conclusion === 'failure' ? c : undefined;
      }, 10_000, `hotfix #${h.number} blocked by the recovery cadence`);
      expect(check.output.title).toMatch(/^Deploy limit in recovery: 1 of 1 in 24h, next slot /);
      expect(check.output.summary).toContain('**Deploy limit in recovery** (while an incident is in recovery, until it is closed): 1 of 1 deploys in the last 24h');
      expect(check.output.summary).toContain('Hotfix: **yes**');
    }
    // the feature PR is still held by the incident itself, not by the cadence
    expect(fake.latestCheck('globex', 'shop', feature.head.sha)?.output.title).toMatch(/^Frozen: sev1 incident INC-\d+ "checkout down"/);
  });
});

describe('the incident report', () => {
  it('lists a hotfix merged and a deployment made during the incident, in the reply and from the HTTP API', async () => {
    const hotfix = await openPull('initech', 'billing', { title: 'Raise pool size', headRef: 'hotfix/pool' });
    const issue = fake.addIssue('initech', 'billing', { title: 'Database' });
    await command('initech', 'billing', issue, 'ivan', '/incident open sev2 database failover');

    const mergeSha = fake.mergePull('initech', 'billing', hotfix.number, { mergedBy: 'ivan' });
    await app.send('pull_request', ev.pullRequest('closed', 'initech', 'billing', hotfix.number, { sender: 'ivan' }));
    expect(await deploymentStatus('initech', 'billing', { deploymentId: 9001, state: 'success', sha: mergeSha, sender: 'deployer' })).toBe(true);

    const before = fake.appComments('initech', 'billing', issue).length;
    await command('initech', 'billing', issue, 'someone', '/incident report');
    const reply = await replyAfter('initech', 'billing', issue, before, /### INC-\d+/);
    expect(reply).toMatch(/### INC-\d+: sev2 "database failover" \(open\)/);
    expect(reply).toContain('1 PR(s) merged, 1 deployment(s)');
    expect(reply).toContain(`merged billing#${hotfix.number}`);
    expect(reply).toContain('Raise pool size');
    expect(reply).toContain(`deployed billing ${mergeSha.slice(0, 7)} to production`);

    const id = /### INC-(\d+)/.exec(reply)![1];
    const res = await app.api('GET', `/moratorium/api/v1/incidents/INC-${id}/report`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key: `INC-${id}`, severity: 'sev2', phase: 'open', merges: 1, deployments: 1 });
    const timeline = res.body.timeline as Array<Record<string, any>>;
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'merge', actor: 'ivan', text: expect.stringContaining(`billing#${hotfix.number}`) }));
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'deployment', actor: 'deployer', text: expect.stringContaining(`billing ${mergeSha.slice(0, 7)} to production`) }));
  });
});

describe('bad input and GitHub failures', () => {
  it('logs and ignores protection requests without a callback URL or an environment, and a status without its deployment, and keeps serving', async () => {
    const noCallback: Record<string, any> = ev.deploymentProtectionRule('acme', 'garbage', { runId: newRunId() });
    delete noCallback.deployment_callback_url;
    const noEnvironment: Record<string, any> = ev.deploymentProtectionRule('acme', 'garbage', { runId: newRunId() });
    delete noEnvironment.environment;
    const noDeployment: Record<string, any> = ev.deploymentStatus('acme', 'garbage', { state: 'success' });
    noDeployment.deployment = null;
    const cases: Array<[string, Record<string, any>, string]> = [
      ['deployment_protection_rule', noCallback, 'payload has no deployment_callback_url'],
      ['deployment_protection_rule', noEnvironment, 'payload has no environment'],
      ['deployment_status', noDeployment, 'payload has no deployment'],
    ];
    for (const [event, payload, message] of cases) {
      const res = await app.send(event, payload);
      expect(res.status).toBeLessThan(300);
      expect(await logOf(res.deliveryId)).toMatchObject({ event, msg: 'payload ignored', err: message });
    }
    expect(fake.deploymentReviews.filter((d) => d.repo === 'garbage')).toEqual([]);

    // still serving: the next good request is answered
    const runId = newRunId();
    await requestDeployment('acme', 'garbage', runId);
    expect(await reviewOf(runId)).toMatchObject({ state: 'approved' });
    expect((await app.api('GET', '/moratorium/health')).status).toBe(200);
  });

  it('still answers a protection request whose payload has no deployment object (it is optional)', async () => {
    const runId = newRunId();
    const payload: Record<string, any> = ev.deploymentProtectionRule('acme', 'garbage', { runId });
    delete payload.deployment;
    const res = await app.send('deployment_protection_rule', payload);
    expect(await logOf(res.deliveryId)).toMatchObject({ event: 'deployment_protection_rule', decision: 'approved' });
    expect(await reviewOf(runId)).toMatchObject({ environment_name: 'production', state: 'approved' });
  });

  it('answers a protection request whose callback GitHub keeps failing (500) once GitHub recovers', async () => {
    const runId = newRunId();
    // more failures than Octokit's own retries (3): only the app's stored retry can answer it
    const injection = fake.inject({ route: CALLBACK_ROUTE, match: (r) => r.params.run_id === String(runId), times: 5, fault: { status: 500 } });
    await app.send('deployment_protection_rule', ev.deploymentProtectionRule('acme', 'flaky', { runId }));
    const review = await reviewOf(runId, 40_000);
    expect(review).toMatchObject({ environment_name: 'production', state: 'approved' });
    expect(injection.hits).toBe(5);
    expect(fake.requestsTo(CALLBACK_ROUTE).filter((r) => r.params.run_id === String(runId)).length).toBe(6);
    // the stored retry that answered is done: nothing is left to answer it again
    await app.waitForJobs();
    expect(fake.deploymentReviews.filter((d) => d.runId === runId)).toHaveLength(1);
  }, 50_000);
});
