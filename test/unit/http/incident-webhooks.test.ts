import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pagerDutySeverity, parsePagerDutyServices, verifyPagerDutySignature } from '../../../src/http/incident-webhooks.js';
import { pagerDutyEvent, signPagerDuty, statuspageIncident } from '../../fixtures/incident-tools.js';
import { serve, type Served } from './support.js';

const PD_SECRET = 'pd-secret-abc';
const SP_TOKEN = 'sp-token-0123456789abcdef';
const PD_PATH = '/moratorium/webhooks/pagerduty';
const SERVICES = JSON.stringify({ PF9KMXH: 'acme', PAPIREP: 'acme/api', PGLOBEX: 'globex' });

describe('PagerDuty webhooks', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve({ MORATORIUM_PAGERDUTY_SECRET: PD_SECRET, MORATORIUM_PAGERDUTY_SERVICES: SERVICES });
  });
  afterEach(async () => app.close());

  const send = (payload: unknown, signature?: string | null) => {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const sig = signature === undefined ? signPagerDuty(PD_SECRET, body) : signature;
    if (sig !== null) headers['x-pagerduty-signature'] = sig;
    return app.fetch(PD_PATH, { method: 'POST', body, headers, token: null });
  };

  it('opens an incident on incident.triggered, audited as the webhook, and fans out', async () => {
    const res = await send(pagerDutyEvent('incident.triggered', { title: 'Database <down>' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ok: true, changed: true, phase: 'open', severity: 'sev1' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident).toMatchObject({ severity: 'sev1', title: 'Database <down>', phase: 'open', openedBy: 'pagerduty', source: 'webhook', scope: { account: 'acme', repo: null } });
    expect(res.body.incident).toBe(`INC-${incident!.id}`);
    expect(await app.store.externalOfIncident(incident!.id)).toEqual([{ source: 'pagerduty', externalId: 'PGR0VU2' }]);
    expect((await app.store.auditOfIncident(incident!.id))[0]).toMatchObject({ actor: 'pagerduty', source: 'webhook', action: 'incident.open' });
    expect(await app.fanouts()).toHaveLength(1);
  });

  it('resolves the incident it opened on incident.resolved, once', async () => {
    await send(pagerDutyEvent('incident.triggered'));
    const resolved = await send(pagerDutyEvent('incident.resolved'));
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ changed: true, phase: 'resolved' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident!.phase).toBe('resolved');
    expect((await app.store.auditOfIncident(incident!.id))[1]!.reason).toBe('resolved in PagerDuty by Tenex Engineer');
    const again = await send(pagerDutyEvent('incident.resolved'));
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ changed: false, note: expect.stringMatching(/already resolved/) });
    expect(await app.fanouts()).toHaveLength(2);
  });

  it('changes state once for a repeated delivery or a second trigger of the same incident', async () => {
    const event = pagerDutyEvent('incident.triggered');
    expect((await send(event)).status).toBe(201);
    const replay = await send(event);
    expect(replay.status).toBe(202);
    expect(replay.body.duplicate).toBe(true);
    const second = await send(pagerDutyEvent('incident.triggered'));
    expect(second.status).toBe(202);
    expect(second.body.note).toMatch(/already linked/);
    expect(await app.store.activeIncidents('acme')).toHaveLength(1);
    expect(await app.fanouts()).toHaveLength(1);
  });

  it('never closes: closing stays a human act', async () => {
    await send(pagerDutyEvent('incident.triggered'));
    await send(pagerDutyEvent('incident.resolved'));
    await send(pagerDutyEvent('incident.resolved'));
    expect((await app.store.activeIncidents('acme'))[0]!.phase).toBe('resolved');
  });

  it('scopes by the service map, and answers 202 with a note for an unmapped service', async () => {
    const repo = await send(pagerDutyEvent('incident.triggered', { service: 'PAPIREP', incidentId: 'P2' }));
    expect(repo.status).toBe(201);
    expect((await app.store.activeIncidents('acme'))[0]!.scope).toEqual({ account: 'acme', repo: 'api' });
    const unmapped = await send(pagerDutyEvent('incident.triggered', { service: 'PUNKNOWN', incidentId: 'P3' }));
    expect(unmapped.status).toBe(202);
    expect(unmapped.body).toMatchObject({ changed: false, note: expect.stringMatching(/PUNKNOWN is not in MORATORIUM_PAGERDUTY_SERVICES/) });
    const uninstalled = await send(pagerDutyEvent('incident.triggered', { service: 'PGLOBEX', incidentId: 'P4' }));
    expect(uninstalled.status).toBe(202);
    expect(uninstalled.body.note).toMatch(/not installed on account globex/);
    expect(await app.store.activeIncidents('acme')).toHaveLength(1);
    expect(await app.store.activeIncidents('globex')).toHaveLength(0);
  });

  it('maps priority first, then urgency, to a severity', async () => {
    expect(pagerDutySeverity('P1', 'low')).toBe('sev1');
    expect(pagerDutySeverity('P2', 'high')).toBe('sev2');
    expect(pagerDutySeverity('p3', 'high')).toBe('sev3');
    expect(pagerDutySeverity('P4', 'high')).toBe('sev4');
    expect(pagerDutySeverity('P5', 'high')).toBe('sev4');
    expect(pagerDutySeverity(null, 'high')).toBe('sev2');
    expect(pagerDutySeverity(undefined, 'low')).toBe('sev3');
    expect(pagerDutySeverity('Critical', 'low')).toBe('sev3');
    const res = await send(pagerDutyEvent('incident.triggered', { priority: null, urgency: 'low' }));
    expect(res.body.severity).toBe('sev3');
  });

  it('refuses a missing or wrong signature with 401 and changes nothing', async () => {
    const event = pagerDutyEvent('incident.triggered');
    expect((await send(event, null)).status).toBe(401);
    expect((await send(event, signPagerDuty('other-secret', JSON.stringify(event)))).status).toBe(401);
    expect((await send(event, 'v0=abc')).status).toBe(401);
    expect((await send(event, signPagerDuty(PD_SECRET, JSON.stringify(event)).replace('v1=', 'v2='))).status).toBe(401);
    expect(await app.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('accepts any one of several signatures (secret rotation)', async () => {
    const event = pagerDutyEvent('incident.triggered');
    const body = JSON.stringify(event);
    const res = await send(event, `${signPagerDuty('old-secret', body)},${signPagerDuty(PD_SECRET, body)}`);
    expect(res.status).toBe(201);
    expect(verifyPagerDutySignature(PD_SECRET, Buffer.from(body), [signPagerDuty('x', body), signPagerDuty(PD_SECRET, body)])).toBe(true);
    expect(verifyPagerDutySignature(PD_SECRET, Buffer.from(`${body} `), signPagerDuty(PD_SECRET, body))).toBe(false);
  });

  it('answers 202 for other event types and 400 for a payload that is not one', async () => {
    for (const type of ['incident.acknowledged', 'incident.reopened', 'pagey.ping', 'service.updated']) {
      const res = await send(pagerDutyEvent(type));
      expect(res.status, type).toBe(202);
    }
    expect((await send({ hello: 'world' })).status).toBe(400);
    const noService = pagerDutyEvent('incident.triggered') as { event: { data: Record<string, unknown> } };
    delete noService.event.data.service;
    expect((await send(noService)).status).toBe(400);
    const body = '{"event":';
    expect((await app.fetch(PD_PATH, { method: 'POST', body, headers: { 'x-pagerduty-signature': signPagerDuty(PD_SECRET, body) }, token: null })).status).toBe(400);
    expect(await app.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('answers 405 for a GET', async () => {
    const res = await app.fetch(PD_PATH, { token: null });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('PagerDuty configuration', () => {
  it('parses the service map and refuses a bad one with a clear message', () => {
    expect(parsePagerDutyServices(undefined).size).toBe(0);
    expect([...parsePagerDutyServices('{"P1":"Acme","P2":"acme/api"}')]).toEqual([
      ['P1', { account: 'Acme', repo: null }],
      ['P2', { account: 'acme', repo: 'api' }],
    ]);
    expect(() => parsePagerDutyServices('{P1: acme}')).toThrow(/not valid JSON/);
    expect(() => parsePagerDutyServices('["acme"]')).toThrow(/JSON object/);
    expect(() => parsePagerDutyServices('{"P1":"acme/api/x"}')).toThrow(/P1: "acme\/api\/x" is not "account" or "account\/repo"/);
  });

  it('answers 503 while no secret is configured', async () => {
    const app = await serve({ MORATORIUM_PAGERDUTY_SERVICES: SERVICES });
    try {
      const res = await app.fetch(PD_PATH, { method: 'POST', json: pagerDutyEvent('incident.triggered'), token: null });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/MORATORIUM_PAGERDUTY_SECRET/);
    } finally {
      await app.close();
    }
  });
});

describe('Statuspage webhooks', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve({ MORATORIUM_STATUSPAGE_TOKEN: SP_TOKEN });
  });
  afterEach(async () => app.close());

  const send = (payload: unknown, query = '?account=acme', token = SP_TOKEN) =>
    app.fetch(`/moratorium/webhooks/statuspage/${encodeURIComponent(token)}${query}`, { method: 'POST', json: payload, token: null });

  it('opens on investigating (impact critical -> sev1), keeps it open on identified and monitoring, resolves on resolved', async () => {
    const opened = await send(statuspageIncident('investigating'));
    expect(opened.status).toBe(201);
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident).toMatchObject({ severity: 'sev1', title: 'Elevated API errors', phase: 'open', openedBy: 'statuspage', source: 'webhook' });
    for (const status of ['identified', 'monitoring']) {
      const res = await send(statuspageIncident(status));
      expect(res.status, status).toBe(202);
      expect((await app.store.getIncident(incident!.id))!.phase).toBe('open');
    }
    const resolved = await send(statuspageIncident('resolved'));
    expect(resolved.status).toBe(200);
    expect((await app.store.getIncident(incident!.id))!.phase).toBe('resolved');
    expect((await app.store.auditOfIncident(incident!.id))[1]!.reason).toBe('resolved on Statuspage: Now resolved.');
    expect(await app.fanouts()).toHaveLength(2);
  });

  it('keeps recovery on postmortem (closing stays a human act)', async () => {
    await send(statuspageIncident('investigating'));
    await send(statuspageIncident('resolved'));
    const res = await send(statuspageIncident('postmortem'));
    expect(res.status).toBe(202);
    expect(res.body.note).toMatch(/stays resolved/);
    expect((await app.store.activeIncidents('acme'))[0]!.phase).toBe('resolved');
  });

  it('maps impact to severity and takes the repository from the query', async () => {
    const cases: [string, string][] = [['major', 'sev2'], ['minor', 'sev3'], ['none', 'sev4']];
    for (const [i, [impact, severity]] of cases.entries()) {
      const res = await send(statuspageIncident('identified', { id: `inc${i}`, impact }), '?account=ACME&repo=api');
      expect(res.status).toBe(201);
      expect(res.body.severity).toBe(severity);
    }
    expect((await app.store.activeIncidents('acme')).map((i) => i.scope.repo)).toEqual(['api', 'api', 'api']);
  });

  it('ignores component updates and scheduled maintenances (202)', async () => {
    const component = { meta: {}, page: { id: 'x' }, component_update: { created_at: '', new_status: 'major_outage', old_status: 'operational', id: 'c1', component_id: 'c' }, component: { id: 'c', name: 'API', status: 'major_outage' } };
    expect((await send(component)).status).toBe(202);
    expect((await send(statuspageIncident('scheduled', { scheduledFor: '2026-12-01T00:00:00Z' }))).status).toBe(202);
    expect((await send(statuspageIncident('in_progress', { scheduledFor: '2026-12-01T00:00:00Z' }))).status).toBe(202);
    expect(await app.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('refuses a wrong token (401), a missing account (400) and a bad payload (400), changing nothing', async () => {
    expect((await send(statuspageIncident('investigating'), '?account=acme', 'wrong')).status).toBe(401);
    expect((await send(statuspageIncident('investigating'), '')).status).toBe(400);
    expect((await send(statuspageIncident('investigating'), '?account=acme&repo=a/b')).status).toBe(400);
    expect((await send({ incident: { name: 'x' } })).status).toBe(400);
    expect(await app.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('answers 202 with a note for an account the app is not installed on', async () => {
    const res = await send(statuspageIncident('investigating'), '?account=globex');
    expect(res.status).toBe(202);
    expect(res.body.note).toMatch(/not installed on account globex/);
  });
});
