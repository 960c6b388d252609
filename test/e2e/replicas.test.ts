/**
 * Two replicas (SPEC 9, issue 12): two apps started with `npm start` on one PostgreSQL database
 * (the same DATABASE_URL) and one Redis (the same REDIS_URL, so one write budget), against one fake
 * GitHub, with webhooks spread across them. Needs both servers (scripts/test-servers.sh); runs in
 * the e2e-postgres project only (the sqlite project skips it), and is skipped without the servers
 * unless MORATORIUM_TEST_REQUIRE_SERVERS=1. Nothing here waits a fixed time before asserting that
 * something did not happen: it waits on what the apps report (log lines, stored jobs) and on the
 * fake GitHub's record.
 *
 * The store lost while running (one app behind a TCP proxy the test cuts) is at the end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { PG_URL, REDIS_URL, requireServer } from '../support/engines.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';
import { createDatabaseForReplicas, E2E_STORE, expectFakeClean, sign, startApp, webhooks, type AppHandle, type Webhooks } from './harness.js';

requireServer('MORATORIUM_TEST_DATABASE_URL', 'the two-replica e2e tests');
requireServer('MORATORIUM_TEST_REDIS_URL', 'the two-replica e2e tests');
const enabled = E2E_STORE === 'postgres' && Boolean(PG_URL) && Boolean(REDIS_URL);

const MAINTAINER = 'maria';
/** `YYYY-MM-DDTHH:MM:SS` in UTC, the form a window's `from` and `to` take */
const local = (t: number): string => new Date(t).toISOString().slice(0, 19);

describe.skipIf(!enabled)('two replicas on one PostgreSQL and one Redis (npm start twice)', () => {
  let fake: FakeGitHub;
  let a: AppHandle;
  let b: AppHandle;
  let hooks: Webhooks;
  /** the window of the boundary test: starts a little after the apps are up */
  let windowStart = 0;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    // the incident fan-out: one installation, 3 repositories x 15 PRs
    fake.addInstallation({ id: 7, account: 'acme' });
    for (const repo of ['one', 'two', 'three']) {
      fake.addRepo('acme', repo);
      fake.setPermission('acme', repo, MAINTAINER, 'maintain');
    }
    // the other scenarios: an account of their own, so the incident does not reach them
    fake.addInstallation({ id: 8, account: 'globex' });
    fake.addRepo('globex', 'solo');
    fake.addRepo('globex', 'waiting', { files: { '.github/moratorium.yml': 'deployments: { when_blocked: wait }\n' } });
    windowStart = Math.ceil((Date.now() + 45_000) / 5000) * 5000;
    fake.addRepo('globex', 'windowed', { files: { '.github/moratorium.yml': `windows:\n  - name: release\n    from: "${local(windowStart)}"\n    to: "${local(windowStart + 3_600_000)}"\n    timezone: UTC\n` } });
    for (const repo of ['solo', 'waiting', 'windowed']) fake.setPermission('globex', repo, MAINTAINER, 'maintain');
    hooks = webhooks(fake);
    const databaseUrl = await createDatabaseForReplicas();
    // the write throttle on, shared through Redis: one pace for an installation across both
    const env = { REDIS_URL: REDIS_URL!, MORATORIUM_GITHUB_THROTTLE: 'on' };
    a = await startApp({ fake, databaseUrl, env });
    // the same App (key, webhook secret, API token): a second replica of it
    b = await startApp({ fake, databaseUrl, env, appKey: { privateKey: a.privateKey, publicKey: a.publicKey }, webhookSecret: a.webhookSecret, apiToken: a.apiToken });
    // each replica's start-up reconcile is over (run, or skipped while the other ran it), so what a
    // test sees posted comes from what it did
    for (const app of [a, b]) await app.waitForLogLine((l) => l.event === 'reconcile' && l.reason === 'start-up' && /^reconcile (done|skipped)/.test(String(l.msg)), 60_000);
  }, 120_000);

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  /** both replicas have finished a boundary run (or skipped it: the other held it) at or after `t` */
  async function boundariesPassed(t: number): Promise<void> {
    for (const app of [a, b]) await app.waitForLogLine((l) => l.event === 'boundaries' && Date.parse(l.at) >= t, 60_000);
  }

  it('changes state once for the same delivery sent to both replicas', async () => {
    const issue = fake.addIssue('globex', 'solo', { title: 'coordination' });
    const payload = hooks.issueComment('globex', 'solo', issue, { body: '/freeze code review week', user: MAINTAINER });
    const deliveryId = `dup-${Date.now()}`;
    const [ra, rb] = await Promise.all([a.send('issue_comment', payload, { deliveryId }), b.send('issue_comment', payload, { deliveryId })]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    // what either accepted is stored before it answered: once the jobs are done, everything is posted
    await a.waitForJobs(30_000);
    const replies = fake.appComments('globex', 'solo', issue).map((c) => String(c.body));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/Froze this repository \(freeze \d+/);
    expect(fake.reactionsFor('globex', 'solo', payload.comment.id as number).map((r) => r.content)).toEqual(['+1']);
    const state = await a.api('GET', '/moratorium/api/v1/state?account=globex&repo=solo');
    expect(state.status).toBe(200);
    expect((state.body.freezes as unknown[]).length).toBe(1);
  }, 90_000);

  it('posts a window boundary once, not once per replica', async () => {
    const pr = fake.addPull('globex', 'windowed', { title: 'Feature' });
    expect((await b.send('pull_request', hooks.pullRequest('opened', 'globex', 'windowed', pr.number))).status).toBe(200);
    await fake.waitFor((f) => f.latestCheck('globex', 'windowed', pr.head.sha)?.conclusion === 'success', 20_000, 'the first check');
    // the window starts: the check turns red without any event
    await fake.waitFor((f) => f.latestCheck('globex', 'windowed', pr.head.sha)?.conclusion === 'failure', 90_000, 'the window to start');
    await boundariesPassed(windowStart);
    await a.waitForJobs(30_000);
    expect(fake.checkRuns('globex', 'windowed', pr.head.sha).map((c) => c.conclusion)).toEqual(['success', 'failure']);
    const runs = [...a.logLines(), ...b.logLines()].filter((l) => l.event === 'boundaries' && Date.parse(l.at) >= windowStart);
    // at least one replica ran it; any other run of that moment found it done or held by the other
    expect(runs.some((l) => l.ran === true)).toBe(true);
  }, 150_000);

  it('approves a held deployment exactly once when its freeze lifts', async () => {
    const issue = fake.addIssue('globex', 'waiting', { title: 'deploys' });
    const frozeAt = Date.now();
    const freeze = hooks.issueComment('globex', 'waiting', issue, { body: '/freeze --all --for 20s database migration', user: MAINTAINER });
    expect((await a.send('issue_comment', freeze)).status).toBe(200);
    await fake.waitFor((f) => f.reactionsFor('globex', 'waiting', freeze.comment.id as number).find((r) => r.content === '+1'), 20_000, 'the freeze');
    const runId = 777_001;
    const res = await b.send('deployment_protection_rule', hooks.deploymentProtectionRule('globex', 'waiting', { runId }));
    expect(res.status).toBe(200);
    expect(await b.waitForLogLine((l) => l.delivery === res.deliveryId, 20_000)).toMatchObject({ decision: 'held' });
    const review = await fake.waitFor((f) => f.deploymentReviews.find((d) => d.runId === runId), 90_000, 'the answer once the freeze lifts');
    expect(review).toMatchObject({ environment_name: 'production', state: 'approved' });
    // every replica has seen the freeze end, and whatever it queued has run
    await boundariesPassed(frozeAt + 20_000);
    await a.waitForJobs(30_000);
    expect(fake.deploymentReviews.filter((d) => d.runId === runId)).toHaveLength(1);
  }, 150_000);

  // It once failed inside the whole suite: the survivor's job runner, with no job of its own, had
  // planned no wake-up and never looked for the dead replica's job (it now looks every 5 s), and the
  // dead replica's write slot in Redis held the survivor's writes for a minute (now 10 s at most).
  it('blocks every feature PR of an incident fanned out over 3 repositories x 15 PRs, with one replica killed in the middle', async () => {
    // diagnostics when it fails: what each replica said about jobs, fan-outs and the throttle
    let killedAt = 0;
    onTestFailed(() => {
      // when each write reached GitHub, in seconds from the kill
      const since = (t: number) => ((t - killedAt) / 1000).toFixed(1);
      console.error(`--- writes (s after the kill) ---\n${fake.writes().filter((w) => w.installationId === 7).map((w) => `${since(w.at)} ${w.route}`).join('\n')}`);
      for (const [name, app] of [['a', a], ['b', b]] as const) {
        const lines = app.logLines().filter((l) => /job|fanout|throttle|lease|boundar/i.test(JSON.stringify(l))).slice(-40);
        console.error(`--- replica ${name} ---\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${app.logs().split('\n').slice(-30).join('\n')}`);
      }
    });
    const pulls: Array<[string, Record<string, any>]> = [];
    for (const repo of ['one', 'two', 'three']) for (let i = 0; i < 15; i++) pulls.push([repo, fake.addPull('acme', repo, { title: `Feature ${repo} ${i}` })]);
    const issue = fake.addIssue('acme', 'one', { title: 'incident room' });
    const declared = fake.writes().length;
    expect((await a.send('issue_comment', hooks.issueComment('acme', 'one', issue, { body: '/incident open sev1 database down', user: MAINTAINER }))).status).toBe(200);
    // the fan-out is under way (a handful of red checks posted, most still to go) on the replica
    // that says it runs it: kill that one
    const fanOutStarted = (l: Record<string, any>) => l.msg === 'fan-out started' && l.account === 'acme' && /INC-\d+/.test(String(l.reason));
    await fake.waitFor(() => fake.writes().slice(declared).filter((w) => w.route === 'POST /repos/{owner}/{repo}/check-runs').length >= 5, 60_000, 'the fan-out to start');
    const runners = [a, b].filter((app) => app.logLines().some(fanOutStarted));
    expect(runners).toHaveLength(1);
    const victim = runners[0]!;
    const survivor = victim === a ? b : a;
    const survivorLinesBefore = survivor.logLines().length;
    await victim.kill9();
    killedAt = Date.now();
    const blocked = () => pulls.filter(([repo, pr]) => fake.latestCheck('acme', repo, pr.head.sha)?.conclusion === 'failure').length;
    expect(blocked()).toBeLessThan(pulls.length);
    // the survivor takes the incident's fan-out over once the dead replica's lease ends (30 s; it
    // looks for such jobs every 5 s), and blocks the rest
    expect(await survivor.waitForLogLine(fanOutStarted, 120_000, survivorLinesBefore)).toMatchObject({ account: 'acme' });
    await fake.waitFor(() => blocked() === pulls.length, 150_000, 'every feature PR blocked');
    for (const [repo, pr] of pulls) expect(fake.latestCheck('acme', repo, pr.head.sha)?.output.title).toMatch(/INC-\d+/);
    await survivor.waitForJobs(60_000);
  }, 300_000);

  it("keeps one installation's writes to the throttle's pace across both replicas, as GitHub saw them", () => {
    // installation 7: the fan-out's writes, before and after the kill; 8: the other tests'
    for (const installation of [7, 8]) {
      const writes = fake.writes().filter((w) => w.installationId === installation);
      const at = writes.map((w) => w.at);
      expect(at.length).toBeGreaterThan(installation === 7 ? 45 : 3);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      // each short gap with the write that came too soon, so a failure says which
      const short = gaps.flatMap((g, i) => (g < 800 ? [`${g} ms before ${writes[i + 1]!.route}`] : []));
      const pairs = gaps.slice(1).flatMap((g, i) => (g + gaps[i]! < 1800 ? [`${g + gaps[i]!} ms before ${writes[i + 2]!.route}`] : []));
      expect({ installation, short, pairs }).toEqual({ installation, short: [], pairs: [] });
    }
  });
});

describe.skipIf(!enabled)('the database lost while running (one app behind a TCP proxy the test cuts)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let proxy: TcpProxy;
  let hooks: Webhooks;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 9, account: 'initech' });
    fake.addRepo('initech', 'billing');
    fake.setPermission('initech', 'billing', MAINTAINER, 'maintain');
    hooks = webhooks(fake);
    const direct = new URL(await createDatabaseForReplicas());
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port));
    app = await startApp({ fake, databaseUrl: proxy.through(direct.toString()), env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
  }, 120_000);

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await app?.stop().catch(() => null);
    await proxy?.stop();
    await fake?.stop();
  });

  it('answers a webhook 5xx within GitHub\'s timeout with nothing applied or posted, and resumes by itself when the database is back', async () => {
    const pr = fake.addPull('initech', 'billing', { title: 'Feature' });
    expect((await app.send('pull_request', hooks.pullRequest('opened', 'initech', 'billing', pr.number))).status).toBe(200);
    await fake.waitFor((f) => f.latestCheck('initech', 'billing', pr.head.sha)?.conclusion === 'success', 20_000, 'the first check');
    const issue = fake.addIssue('initech', 'billing', { title: 'ops' });
    const command = hooks.issueComment('initech', 'billing', issue, { body: '/freeze --org payments migration', user: MAINTAINER });

    proxy.cut();
    const health = await fetch(`${app.url}/moratorium/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(503);
    // GitHub waits 10 s for an answer
    const deliveryId = `lost-${Date.now()}`;
    const sent = await fetch(`${app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: signedHeaders(app, 'issue_comment', command, deliveryId),
      body: JSON.stringify(command),
      signal: AbortSignal.timeout(10_000),
    });
    expect(sent.status).toBeGreaterThanOrEqual(500);
    const before = fake.writes().length;

    proxy.restore();
    await until(async () => (await fetch(`${app.url}/moratorium/health`).catch(() => null))?.status === 200, 30_000, 'health 200 again');
    await app.waitForJobs(30_000);
    // nothing of the refused delivery was applied or posted
    expect(fake.writes().slice(before)).toEqual([]);
    expect(fake.appComments('initech', 'billing', issue)).toEqual([]);
    // GitHub's redelivery (same delivery id) is applied, once: the freeze, its reply, the red check
    expect((await app.send('issue_comment', command, { deliveryId })).status).toBe(200);
    await fake.waitFor((f) => f.latestCheck('initech', 'billing', pr.head.sha)?.conclusion === 'failure', 30_000, 'the freeze to block the PR');
    await app.waitForJobs(30_000);
    expect(fake.appComments('initech', 'billing', issue)).toHaveLength(1);
    expect(fake.checkRuns('initech', 'billing', pr.head.sha).map((c) => c.conclusion)).toEqual(['success', 'failure']);
  }, 150_000);
});

/** the headers GitHub sends with a delivery (as AppHandle.send builds them) */
function signedHeaders(app: AppHandle, event: string, payload: unknown, deliveryId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': sign(app.webhookSecret, JSON.stringify(payload)),
  };
}

