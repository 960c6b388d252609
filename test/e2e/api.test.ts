/**
 * The HTTP API, the incident-tool webhooks and /metrics against the real app (`npm start`) and the
 * fake GitHub API: an incident or freeze declared over HTTP blocks an open PR (its `moratorium` check
 * turns failure on the fake) and ending it opens the PR again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { pagerDutyEvent, signPagerDuty, statuspageIncident } from '../fixtures/incident-tools.js';
import { startApp, webhooks, type AppHandle } from './harness.js';

const V1 = '/moratorium/api/v1';
const PD_SECRET = 'pd-e2e-secret';
const SP_TOKEN = 'sp-e2e-token-0123456789';

describe('HTTP API, incident tools and metrics (end to end)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let sha: string;
  let prNumber: number;

  const check = () => fake.latestCheck('acme', 'api', sha);
  const waitForConclusion = (conclusion: 'success' | 'failure', title?: RegExp) =>
    fake.waitFor(
      (f) => {
        const c = f.latestCheck('acme', 'api', sha);
        return c && c.conclusion === conclusion && (!title || title.test(String(c.output?.title))) ? c : undefined;
      },
      20_000,
      `the moratorium check to be ${conclusion}${title ? ` with a title like ${title}` : ''}`,
    );

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: 'acme' });
    fake.addRepo('acme', 'api');
    const pr = fake.addPull('acme', 'api', { title: 'Add a feature' });
    sha = pr.head.sha as string;
    prNumber = pr.number as number;
    app = await startApp({
      fake,
      env: {
        MORATORIUM_GITHUB_THROTTLE: 'off',
        MORATORIUM_PAGERDUTY_SECRET: PD_SECRET,
        MORATORIUM_PAGERDUTY_SERVICES: JSON.stringify({ PF9KMXH: 'acme', POTHER: 'initech' }),
        MORATORIUM_STATUSPAGE_TOKEN: SP_TOKEN,
      },
    });
    // the start-up reconcile gates the open PR
    await waitForConclusion('success');
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('refuses requests without the right bearer token and unknown paths', async () => {
    const none = await app.api('GET', `${V1}/state?account=acme`, undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await app.api('GET', `${V1}/state?account=acme`, undefined, { token: 'nope' })).status).toBe(401);
    expect((await app.api('GET', `${V1}/nothing`)).status).toBe(404);
    expect((await app.api('PATCH', `${V1}/freezes`, {})).status).toBe(405);
    expect((await app.api('GET', `${V1}/state?account=initech`)).status).toBe(404);
  });

  it('an incident opened through the API blocks the PR; resolving keeps it blocked; closing opens it again', async () => {
    const opened = await app.api('POST', `${V1}/incidents`, { account: 'ACME', severity: 'sev1', title: 'API latency' }, {});
    expect(opened.status).toBe(201);
    const key = opened.body.key as string;
    expect(key).toBe(`INC-${opened.body.id}`);
    const blocked = await waitForConclusion('failure', new RegExp(`${key}`));
    expect(blocked.output.title).toBe(`Frozen: sev1 incident ${key} "API latency" (hotfixes only)`);

    const state = await app.api('GET', `${V1}/state?account=acme&repo=api`);
    expect(state.status).toBe(200);
    expect(state.body.incidents).toEqual([expect.objectContaining({ key, phase: 'open' })]);
    expect(state.body.cadence).toEqual([expect.objectContaining({ repo: 'api', counts: 'merges' })]);

    const resolved = await app.api('POST', `${V1}/incidents/${opened.body.id}/resolve`, { note: 'rolled back' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.phase).toBe('resolved');
    expect((await app.api('POST', `${V1}/incidents/${opened.body.id}/resolve`, {})).status).toBe(409);
    await waitForConclusion('failure', /recovery/i);

    const report = await app.api('GET', `${V1}/incidents/${key}/report`);
    expect(report.status).toBe(200);
    expect(report.body.timeline.map((e: { text: string }) => e.text)).toEqual([`${key} opened`, `${key} resolved (service restored; recovery begins)`]);

    const closed = await app.api('POST', `${V1}/incidents/${opened.body.id}/close`, { note: 'assessment complete' });
    expect(closed.status).toBe(200);
    expect(closed.body.phase).toBe('closed');
    expect((await app.api('POST', `${V1}/incidents/${opened.body.id}/close`)).status).toBe(409);
    expect((await app.api('POST', `${V1}/incidents/99999/close`)).status).toBe(404);
    await waitForConclusion('success', /^Open$/);

    const audit = await app.api('GET', `${V1}/audit?account=acme&limit=3`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries.map((e: { action: string; source: string }) => `${e.action}/${e.source}`)).toEqual(['incident.close/api', 'incident.resolve/api', 'incident.open/api']);
    expect((await app.api('GET', `${V1}/audit?account=acme&limit=0`)).status).toBe(400);
  });

  it('a freeze created through the API blocks the PR until it is deleted; a second delete is a conflict', async () => {
    const bad = await app.api('POST', `${V1}/freezes`, { account: 'acme', until: '2020-01-01T00:00Z' });
    expect(bad.status).toBe(400);
    const huge = await app.api('POST', `${V1}/freezes`, { account: 'acme', reason: 'x'.repeat(65 * 1024) });
    expect(huge.status).toBe(413);

    const created = await app.api('POST', `${V1}/freezes`, { account: 'acme', repo: 'api', mode: 'all', reason: 'database migration' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ repo: 'api', mode: 'all', createdBy: 'api' });
    await waitForConclusion('failure', /repository freeze by @\u200b?api/); // mentions are defused in titles
    const state = await app.api('GET', `${V1}/state?account=acme`);
    expect(state.body.freezes).toEqual([expect.objectContaining({ id: created.body.id, reason: 'database migration' })]);

    const ended = await app.api('DELETE', `${V1}/freezes/${created.body.id}`);
    expect(ended.status).toBe(200);
    expect(ended.body.endedAt).not.toBeNull();
    await waitForConclusion('success', /^Open$/);
    expect((await app.api('DELETE', `${V1}/freezes/${created.body.id}`)).status).toBe(409);
    expect((await app.api('DELETE', `${V1}/freezes/424242`)).status).toBe(404);
  });

  it('PagerDuty: a signed incident.triggered blocks the PR, incident.resolved starts recovery, a bad signature changes nothing', async () => {
    const unsigned = JSON.stringify(pagerDutyEvent('incident.triggered', { incidentId: 'PBAD' }));
    const refused = await fetch(`${app.url}/moratorium/webhooks/pagerduty`, { method: 'POST', body: unsigned, headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signPagerDuty('wrong', unsigned) } });
    expect(refused.status).toBe(401);

    const post = async (payload: unknown) => {
      const body = JSON.stringify(payload);
      const res = await fetch(`${app.url}/moratorium/webhooks/pagerduty`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signPagerDuty(PD_SECRET, body) } });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const triggered = pagerDutyEvent('incident.triggered', { incidentId: 'PE2E1', priority: 'P2', title: 'Checkout errors' });
    const opened = await post(triggered);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ changed: true, severity: 'sev2' });
    const key = opened.body.incident as string;
    await waitForConclusion('failure', new RegExp(`sev2 incident ${key} "Checkout errors"`));
    expect((await post(triggered)).status).toBe(202); // the same delivery again

    const unmapped = await post(pagerDutyEvent('incident.triggered', { incidentId: 'PE2E2', service: 'PNOPE' }));
    expect(unmapped.status).toBe(202);

    const resolved = await post(pagerDutyEvent('incident.resolved', { incidentId: 'PE2E1' }));
    expect(resolved.status).toBe(200);
    expect(resolved.body.phase).toBe('resolved');
    const state = await app.api('GET', `${V1}/state?account=acme`);
    expect(state.body.incidents).toEqual([expect.objectContaining({ key, phase: 'resolved', source: 'webhook', external: [{ source: 'pagerduty', id: 'PE2E1' }] })]);

    // closing is a human act
    expect((await app.api('POST', `${V1}/incidents/${key}/close`, { note: 'postmortem done' })).status).toBe(200);
    await waitForConclusion('success', /^Open$/);
  });

  it('Statuspage: the secret path opens and resolves; a wrong token is refused', async () => {
    const url = (token: string) => `${app.url}/moratorium/webhooks/statuspage/${token}?account=acme&repo=api`;
    const send = (token: string, payload: unknown) => fetch(url(token), { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
    expect((await send('wrong-token', statuspageIncident('investigating', { id: 'spe2e' }))).status).toBe(401);
    const opened = await send(SP_TOKEN, statuspageIncident('investigating', { id: 'spe2e', impact: 'major', name: 'Elevated errors' }));
    expect(opened.status).toBe(201);
    const key = ((await opened.json()) as { incident: string }).incident;
    await waitForConclusion('failure', new RegExp(key));
    expect((await send(SP_TOKEN, statuspageIncident('resolved', { id: 'spe2e' }))).status).toBe(200);
    expect((await send(SP_TOKEN, statuspageIncident('postmortem', { id: 'spe2e' }))).status).toBe(202);
    expect((await app.api('POST', `${V1}/incidents/${key}/close`)).status).toBe(200);
    await waitForConclusion('success', /^Open$/);
  });

  it('serves Prometheus metrics: webhook handling time, gate decisions, GitHub requests, jobs and active state', async () => {
    // a GitHub webhook, so its handling time is recorded
    sha = fake.pushToPull('acme', 'api', prNumber);
    const delivered = await app.send('pull_request', webhooks(fake).pullRequest('synchronize', 'acme', 'api', prNumber));
    expect(delivered.status).toBeLessThan(300);
    await waitForConclusion('success');

    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^moratorium_webhook_duration_seconds_count\{event="pull_request"\} [1-9]/m);
    expect(text).toMatch(/^moratorium_gate_decisions_total\{kind="check",conclusion="failure"\} [1-9]/m);
    expect(text).toMatch(/^moratorium_gate_decisions_total\{kind="check",conclusion="success"\} [1-9]/m);
    expect(text).toMatch(/^moratorium_github_requests_total\{method="POST",status="201"\} [1-9]/m);
    expect(text).toMatch(/^moratorium_github_requests_total\{method="GET",status="200"\} [1-9]/m);
    expect(text).toMatch(/^moratorium_jobs_pending\{kind="fanout"\} \d+/m);
    expect(text).toContain('moratorium_active_incidents{phase="open",severity="sev1"} 0');
    expect(text).toMatch(/^moratorium_state_changes_total\{type="incident.opened"\} 3/m);
    expect(text).toMatch(/^moratorium_process_cpu_seconds_total /m);
    expect(check()?.conclusion).toBe('success');
  });

  it('answers 503 on the API and the dashboard of an app started without a token', async () => {
    const other = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_API_TOKEN: '' } });
    try {
      const res = await other.api('GET', `${V1}/state?account=acme`);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/MORATORIUM_API_TOKEN/);
      expect((await fetch(`${other.url}/moratorium/`)).status).toBe(503);
      // incident tools without their secrets are off too
      expect((await fetch(`${other.url}/moratorium/webhooks/pagerduty`, { method: 'POST', body: '{}' })).status).toBe(503);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
