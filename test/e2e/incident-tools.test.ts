/**
 * incident.io, Rootly and the generic signed webhook against the real app (`npm start`) and the fake
 * GitHub API: an incident declared in the tool turns the feature PRs' `moratorium` check red, the
 * tool's resolution starts recovery, and closing (a human act, here through the API) opens them again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import {
  INCIDENTIO_SECRET,
  incidentIoCreated,
  incidentIoStatusUpdated,
  rootlyEvent,
  signGenericBody,
  signIncidentIo,
  signRootlyBody,
} from '../fixtures/incident-tools.js';
import { startApp, type AppHandle } from './harness.js';

const V1 = '/moratorium/api/v1';
const ROOTLY_SECRET = 'rootly-e2e-secret';
const GENERIC_SECRET = 'generic-e2e-secret';

describe('incident.io, Rootly and generic incident webhooks (end to end)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let shas: string[];

  /** every feature PR's latest check has this conclusion (and a title like `title`) */
  const waitForAll = (conclusion: 'success' | 'failure', title?: RegExp) =>
    fake.waitFor(
      (f) => {
        const checks = shas.map((sha) => f.latestCheck('acme', 'api', sha));
        return checks.every((c) => c && c.conclusion === conclusion && (!title || title.test(String(c.output?.title)))) ? checks : undefined;
      },
      20_000,
      `every feature PR's moratorium check to be ${conclusion}${title ? ` with a title like ${title}` : ''}`,
    );

  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${app.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const incidentIo = (payload: unknown, o: { at?: number; id?: string; secret?: string } = {}) => {
    const body = JSON.stringify(payload);
    return post('/moratorium/webhooks/incident-io?account=acme&repo=api', body, signIncidentIo(body, o));
  };

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: 'acme' });
    fake.addRepo('acme', 'api');
    shas = [fake.addPull('acme', 'api', { title: 'Add search' }), fake.addPull('acme', 'api', { title: 'Faster checkout' })].map((pr) => pr.head.sha as string);
    app = await startApp({
      fake,
      env: {
        MORATORIUM_GITHUB_THROTTLE: 'off',
        MORATORIUM_INCIDENTIO_SECRET: INCIDENTIO_SECRET,
        MORATORIUM_ROOTLY_SECRET: ROOTLY_SECRET,
        MORATORIUM_GENERIC_SECRET: GENERIC_SECRET,
      },
    });
    // the start-up reconcile gates the open PRs
    await waitForAll('success');
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('incident.io: a created incident turns the feature PRs red; a learning status update resolves it; closing opens them', async () => {
    // refused first, changing nothing: a wrong secret and a stale timestamp
    expect((await incidentIo(incidentIoCreated({ id: 'bad' }), { secret: 'whsec_dGhlLXdyb25nLXNlY3JldA==' })).status).toBe(401);
    expect((await incidentIo(incidentIoCreated({ id: 'bad' }), { at: Date.now() - 10 * 60_000 })).status).toBe(401);
    expect((await app.api('GET', `${V1}/state?account=acme`)).body.incidents).toEqual([]);

    const created = incidentIoCreated({ id: '01HE2EINCIDENTIO', reference: 'INC-88', name: 'Payments failing', severity: 'Critical' });
    const body = JSON.stringify(created);
    const headers = signIncidentIo(body, { id: 'msg_e2e_created' });
    const opened = await post('/moratorium/webhooks/incident-io?account=acme&repo=api', body, headers);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ changed: true, severity: 'sev1', phase: 'open' });
    const key = opened.body.incident as string;
    const [check] = await waitForAll('failure', new RegExp(`sev1 incident ${key}`));
    expect(check!.output.title).toBe(`Frozen: sev1 incident ${key} "incident.io INC-88: Payments failing" (hotfixes only)`);

    // the same delivery again, and a new delivery of the same incident: still one incident
    expect((await post('/moratorium/webhooks/incident-io?account=acme&repo=api', body, headers)).body).toMatchObject({ duplicate: true });
    expect((await incidentIo(created)).status).toBe(202);

    expect((await incidentIo(incidentIoStatusUpdated('live', { id: '01HE2EINCIDENTIO', from: 'triage' }))).status).toBe(202);
    const learning = await incidentIo(incidentIoStatusUpdated('learning', { id: '01HE2EINCIDENTIO' }));
    expect(learning.status).toBe(200);
    expect(learning.body.phase).toBe('resolved');
    await waitForAll('failure', /recovery/i);

    const state = await app.api('GET', `${V1}/state?account=acme`);
    expect(state.body.incidents).toEqual([expect.objectContaining({ key, phase: 'resolved', source: 'webhook', external: [{ source: 'incident-io', id: '01HE2EINCIDENTIO' }] })]);
    const audit = await app.api('GET', `${V1}/audit?account=acme&limit=2`);
    expect(audit.body.entries.map((e: { action: string; actor: string; source: string }) => `${e.action}/${e.actor}/${e.source}`)).toEqual(['incident.resolve/incident-io/webhook', 'incident.open/incident-io/webhook']);

    // closing stays a human act
    expect((await incidentIo(incidentIoStatusUpdated('closed', { id: '01HE2EINCIDENTIO', from: 'learning' }))).status).toBe(202);
    expect((await app.api('POST', `${V1}/incidents/${key}/close`, { note: 'postmortem done' })).status).toBe(200);
    await waitForAll('success', /^Open$/);
  });

  it('Rootly: incident.created blocks, incident.mitigated starts recovery; a stale signature is refused', async () => {
    const send = (payload: unknown, at = Date.now()) => {
      const body = JSON.stringify(payload);
      return post('/moratorium/webhooks/rootly?account=acme', body, { 'x-rootly-signature': signRootlyBody(ROOTLY_SECRET, body, at) });
    };
    expect((await send(rootlyEvent('incident.created', { id: 'rootly-stale' }), Date.now() - 10 * 60_000)).status).toBe(401);
    const opened = await send(rootlyEvent('incident.created', { id: 'rootly-e2e', title: 'Search is down', severity: { name: 'SEV0', slug: 'sev0', severity: 'critical' } }));
    expect(opened.status).toBe(201);
    const key = opened.body.incident as string;
    await waitForAll('failure', new RegExp(`sev1 incident ${key} "Search is down"`));
    expect((await send(rootlyEvent('incident.mitigated', { id: 'rootly-e2e' }))).status).toBe(200);
    await waitForAll('failure', /recovery/i);
    expect((await app.api('POST', `${V1}/incidents/${key}/close`)).status).toBe(200);
    await waitForAll('success', /^Open$/);
  });

  it('generic: a signed open blocks and a resolve by key starts recovery; a bad severity or signature changes nothing', async () => {
    const send = (payload: unknown, secret = GENERIC_SECRET) => {
      const body = JSON.stringify(payload);
      return post('/moratorium/webhooks/generic', body, { 'x-moratorium-signature': signGenericBody(secret, body) });
    };
    const open = { action: 'open', key: 'nightly-batch-failed', severity: 'sev2', title: 'Nightly batch failed', account: 'acme', repo: 'api' };
    expect((await send({ ...open, severity: 'critical' })).status).toBe(400);
    expect((await send(open, 'wrong')).status).toBe(401);
    expect((await app.api('GET', `${V1}/state?account=acme`)).body.incidents).toEqual([]);
    const opened = await send(open);
    expect(opened.status).toBe(201);
    const key = opened.body.incident as string;
    await waitForAll('failure', new RegExp(`sev2 incident ${key} "Nightly batch failed"`));
    expect((await send({ action: 'resolve', key: 'nightly-batch-failed' })).status).toBe(200);
    await waitForAll('failure', /recovery/i);
    expect((await app.api('POST', `${V1}/incidents/${key}/close`)).status).toBe(200);
    await waitForAll('success', /^Open$/);
  });
});
