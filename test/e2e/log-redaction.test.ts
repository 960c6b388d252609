/**
 * No secret in the log (issue 10): the app (`npm start`, the most verbose log level) is called with
 * the API token, a dashboard session cookie, signed GitHub and PagerDuty webhooks, a Statuspage webhook (its token in the path) and a wrongly
 * signed one; its whole output is then searched for every token, cookie and signature it was sent
 * or set. Each request still has its log line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { pagerDutyEvent, signPagerDuty, statuspageIncident } from '../fixtures/incident-tools.js';
import { expectFakeClean, sign, startApp, webhooks, type AppHandle } from './harness.js';

const PD_SECRET = `pd-${randomBytes(8).toString('hex')}`;
const SP_TOKEN = `sp-${randomBytes(12).toString('hex')}`;

describe('log redaction (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: 'acme' });
    fake.addRepo('acme', 'api');
    app = await startApp({
      fake,
      logLevel: 'trace',
      env: { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_PAGERDUTY_SECRET: PD_SECRET, MORATORIUM_PAGERDUTY_SERVICES: JSON.stringify({ PF9KMXH: 'acme' }), MORATORIUM_STATUSPAGE_TOKEN: SP_TOKEN },
    });
    await app.waitForLog('reconcile done', 20_000);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it('never writes the API token, cookies or signatures to the log', async () => {
    const secrets: string[] = [app.apiToken];

    // the API with its bearer token
    const state = await app.api('GET', '/moratorium/api/v1/state?account=acme');
    expect(state.status).toBe(200);
    const wrongToken = `guess-${randomBytes(12).toString('hex')}`;
    secrets.push(wrongToken);
    expect((await app.api('GET', '/moratorium/api/v1/state?account=acme', undefined, { token: wrongToken })).status).toBe(401);

    // a GitHub webhook, signed and wrongly signed
    const pr = fake.addPull('acme', 'api', { title: 'Logged' });
    const payload = webhooks(fake).pullRequest('opened', 'acme', 'api', pr.number);
    const body = JSON.stringify(payload);
    const signature = sign(app.webhookSecret, body);
    secrets.push(signature.slice('sha256='.length), app.webhookSecret);
    const delivery = randomUUID();
    expect((await app.send('pull_request', payload, { deliveryId: delivery })).status).toBe(200);
    const forged = sign(`not-${app.webhookSecret}`, body);
    secrets.push(forged.slice('sha256='.length));
    const refused = await app.sendRaw({ 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': forged, 'x-hub-signature': `sha1=${'ab'.repeat(20)}` }, body);
    expect(refused.status).toBe(401);
    secrets.push('ab'.repeat(20));
    await fake.waitFor((f) => f.latestCheck('acme', 'api', pr.head.sha), 10_000, 'the gate of the delivery');

    // PagerDuty, signed
    const pd = JSON.stringify(pagerDutyEvent('incident.triggered', { incidentId: 'PLOG1', service: 'PF9KMXH' }));
    const pdSignature = signPagerDuty(PD_SECRET, pd);
    secrets.push(pdSignature.slice('v1='.length), PD_SECRET);
    const pdRes = await fetch(`${app.url}/moratorium/webhooks/pagerduty`, { method: 'POST', body: pd, headers: { 'content-type': 'application/json', 'x-pagerduty-signature': pdSignature } });
    expect(pdRes.status).toBeLessThan(300);

    // Statuspage, whose secret is a path segment
    secrets.push(SP_TOKEN);
    const sp = await fetch(`${app.url}/moratorium/webhooks/statuspage/${SP_TOKEN}?account=acme`, { method: 'POST', body: JSON.stringify(statuspageIncident('investigating', { id: 'splog' })), headers: { 'content-type': 'application/json' } });
    expect(sp.status).toBeLessThan(300);

    // the dashboard: a sign-in that sets a session cookie, then a page with it
    const login = await fetch(`${app.url}/moratorium/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: app.apiToken }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.status).toBe(303);
    const setCookie = login.headers.get('set-cookie') ?? '';
    const session = /moratorium_session=([^;]+)/.exec(setCookie)?.[1];
    expect(session).toBeTruthy();
    secrets.push(session!);
    const page = await fetch(`${app.url}/moratorium/`, { headers: { cookie: `moratorium_session=${session}; other=${'c0ffee'.repeat(4)}` } });
    expect(page.status).toBe(200);
    secrets.push('c0ffee'.repeat(4));

    // every request above has its line in the log (so the search below looks at a log that has them)
    await app.waitForLog('GET /moratorium/ 200');
    const lines = app.logLines().filter((l) => l.event === 'http');
    for (const [method, path, status] of [
      ['GET', '/moratorium/api/v1/state', 200],
      ['GET', '/moratorium/api/v1/state', 401],
      ['POST', '/api/github/webhooks', 200],
      ['POST', '/api/github/webhooks', 401],
      ['POST', '/moratorium/webhooks/pagerduty', pdRes.status],
      ['POST', '/moratorium/webhooks/statuspage/[redacted]', sp.status],
      ['POST', '/moratorium/login', 303],
      ['GET', '/moratorium/', 200],
    ] as const) {
      expect(lines.some((l) => l.method === method && l.path === path && l.status === status), `${method} ${path} ${status}`).toBe(true);
    }
    expect(lines.find((l) => l.status === 200 && l.path === '/api/github/webhooks')?.delivery).toBe(delivery);

    const logs = app.logs();
    for (const secret of secrets) expect(logs, 'a secret in the log').not.toContain(secret);
    expect(logs.toLowerCase()).not.toMatch(/bearer [a-z0-9]/);
    expectFakeClean(fake);
  });
});
