import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  incidentIoSeverity,
  incidentToolRoutes,
  parseSvixSecret,
  rootlySeverity,
  verifyGeneric,
  verifyRootly,
  verifySvix,
} from '../../../src/http/incident-tools.js';
import {
  INCIDENTIO_SECRET,
  incidentIoCreated,
  incidentIoStatusUpdated,
  rootlyEvent,
  signGenericBody,
  signIncidentIo,
  signRootlyBody,
} from '../../fixtures/incident-tools.js';
import { serve, type Served } from './support.js';

const IO_PATH = '/moratorium/webhooks/incident-io';
const ROOTLY_PATH = '/moratorium/webhooks/rootly';
const GENERIC_PATH = '/moratorium/webhooks/generic';
const ROOTLY_SECRET = 'rootly-secret-0123456789';
const GENERIC_SECRET = 'generic-secret-0123456789';
const MINUTE = 60_000;

describe('incident.io webhooks', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve({ MORATORIUM_INCIDENTIO_SECRET: INCIDENTIO_SECRET });
  });
  afterEach(async () => app.close());

  /** signed with the secret at the app's clock unless told otherwise; `headers: null` sends none */
  const send = (payload: unknown, o: { query?: string; id?: string; at?: number; secret?: string; headers?: Record<string, string> | null; raw?: string } = {}) => {
    const body = o.raw ?? JSON.stringify(payload);
    const signed = o.headers === null ? {} : (o.headers ?? signIncidentIo(body, { id: o.id, at: o.at ?? app.clock.now(), secret: o.secret }));
    return app.fetch(`${IO_PATH}${o.query ?? '?account=acme'}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signed }, token: null });
  };

  it('opens an incident on public_incident.incident_created_v2, audited as incident-io, and fans out', async () => {
    const res = await send(incidentIoCreated());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ok: true, changed: true, phase: 'open', severity: 'sev1' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident).toMatchObject({ severity: 'sev1', title: 'incident.io INC-123: Our database is sad', phase: 'open', openedBy: 'incident-io', source: 'webhook', scope: { account: 'acme', repo: null } });
    expect(res.body.incident).toBe(`INC-${incident!.id}`);
    expect((await app.store.externalOfIncident(incident!.id))).toEqual([{ source: 'incident-io', externalId: '01FDAG4SAP5TYPT98WGR2N7W91' }]);
    expect((await app.store.auditOfIncident(incident!.id))[0]).toMatchObject({ actor: 'incident-io', source: 'webhook', action: 'incident.open' });
    expect((await app.fanouts())).toHaveLength(1);
  });

  it('takes the scope from the URL: ?account=A&repo=R', async () => {
    const res = await send(incidentIoCreated(), { query: '?account=ACME&repo=api' });
    expect(res.status).toBe(201);
    expect((await app.store.activeIncidents('acme'))[0]!.scope).toEqual({ account: 'acme', repo: 'api' });
    expect((await send(incidentIoCreated({ id: 'other' }), { query: '' })).status).toBe(400);
    expect((await send(incidentIoCreated({ id: 'other' }), { query: '?account=acme&repo=a/b' })).status).toBe(400);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(1);
  });

  it('resolves on a status update to learning; live changes nothing; closed afterwards changes nothing; closing stays human', async () => {
    await send(incidentIoCreated());
    const live = await send(incidentIoStatusUpdated('live', { from: 'triage' }));
    expect(live.status).toBe(202);
    expect(live.body.note).toMatch(/status category live changes nothing/);
    expect((await app.store.activeIncidents('acme'))[0]!.phase).toBe('open');

    const learning = await send(incidentIoStatusUpdated('learning'));
    expect(learning.status).toBe(200);
    expect(learning.body).toMatchObject({ changed: true, phase: 'resolved' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident!.phase).toBe('resolved');
    expect((await app.store.auditOfIncident(incident!.id))[1]).toMatchObject({ actor: 'incident-io', action: 'incident.resolve', reason: 'Post-incident (learning) in incident.io' });

    const closed = await send(incidentIoStatusUpdated('closed', { from: 'learning' }));
    expect(closed.status).toBe(202);
    expect(closed.body.note).toMatch(/already resolved/);
    expect((await app.store.getIncident(incident!.id))!.phase).toBe('resolved');
    expect((await app.fanouts())).toHaveLength(2);
  });

  it('resolves straight from live to closed too', async () => {
    await send(incidentIoCreated());
    const closed = await send(incidentIoStatusUpdated('closed'));
    expect(closed.status).toBe(200);
    expect((await app.store.activeIncidents('acme'))[0]!.phase).toBe('resolved');
  });

  it('one incident per incident.io incident: a replayed delivery (same webhook-id) and a repeated event change nothing', async () => {
    const body = JSON.stringify(incidentIoCreated());
    const headers = signIncidentIo(body, { id: 'msg_2ZQh3xQoGmJ7uUcYdN9fA', at: app.clock.now() });
    expect((await send(undefined, { raw: body, headers })).status).toBe(201);
    const replay = await send(undefined, { raw: body, headers });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ changed: false, duplicate: true });
    const again = await send(incidentIoCreated()); // a fresh delivery of the same incident
    expect(again.status).toBe(202);
    expect(again.body.note).toMatch(/already linked to this incident-io incident/);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(1);
    expect((await app.fanouts())).toHaveLength(1);

    // a replayed resolution is as harmless
    const resolve = JSON.stringify(incidentIoStatusUpdated('learning'));
    const resolveHeaders = signIncidentIo(resolve, { at: app.clock.now() });
    expect((await send(undefined, { raw: resolve, headers: resolveHeaders })).status).toBe(200);
    expect((await send(undefined, { raw: resolve, headers: resolveHeaders })).body.duplicate).toBe(true);
    expect((await app.fanouts())).toHaveLength(2);
  });

  it('refuses timestamps more than 5 minutes off (401) and accepts one 4 minutes off', async () => {
    const now = app.clock.now();
    for (const at of [now - 6 * MINUTE, now + 6 * MINUTE, now - 60 * MINUTE]) {
      const res = await send(incidentIoCreated(), { at });
      expect(res.status, String(at - now)).toBe(401);
      expect(res.body.error).toMatch(/more than 5 minutes off/);
    }
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
    const body = JSON.stringify(incidentIoCreated());
    const headers = { ...signIncidentIo(body, { at: now }), 'webhook-timestamp': 'soon' };
    expect((await send(undefined, { raw: body, headers })).status).toBe(401);
    expect((await send(incidentIoCreated(), { at: now - 4 * MINUTE })).status).toBe(201);
  });

  it('refuses missing, wrong and tampered signatures (401), changing nothing; accepts one good signature among several', async () => {
    const body = JSON.stringify(incidentIoCreated());
    const good = signIncidentIo(body, { at: app.clock.now() });
    expect((await send(undefined, { raw: body, headers: null })).status).toBe(401);
    expect((await send(undefined, { raw: body, headers: { 'webhook-id': good['webhook-id']!, 'webhook-timestamp': good['webhook-timestamp']! } })).status).toBe(401);
    expect((await send(incidentIoCreated(), { secret: 'whsec_dGhlLXdyb25nLXNlY3JldC1mb3ItdGVzdHM=' })).status).toBe(401);
    expect((await send(undefined, { raw: body.replace('Critical', 'Minor'), headers: good })).status).toBe(401);
    expect((await send(undefined, { raw: body, headers: { ...good, 'webhook-id': 'msg_other' } })).status).toBe(401);
    expect((await send(undefined, { raw: body, headers: { ...good, 'webhook-signature': good['webhook-signature']!.replace('v1,', 'v2,') } })).status).toBe(401);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);

    const old = signIncidentIo(body, { id: good['webhook-id'], at: app.clock.now(), secret: 'whsec_b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=' });
    const rotated = { ...good, 'webhook-signature': `${old['webhook-signature']} ${good['webhook-signature']}` };
    expect((await send(undefined, { raw: body, headers: rotated })).status).toBe(201);
  });

  it('verifies the signature Svix publishes as its example', () => {
    const key = parseSvixSecret('whsec_plJ3nmyCDGBKInavdOK15jsl');
    const body = Buffer.from('{"event_type":"ping","data":{"success":true}}');
    const h = { id: 'msg_loFOjxBNrRLzqYUf', timestamp: '1731705121', signature: 'v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0=' };
    expect(verifySvix(key, h, body, 1731705121_000)).toEqual({ ok: true });
    expect(verifySvix(key, h, body, 1731705121_000 + 5 * MINUTE + 1000)).toMatchObject({ ok: false });
    expect(verifySvix(key, h, Buffer.from(`${body.toString()} `), 1731705121_000)).toMatchObject({ ok: false });
    expect(verifySvix(parseSvixSecret('plJ3nmyCDGBKInavdOK15jsl'), h, body, 1731705121_000)).toEqual({ ok: true });
    expect(() => parseSvixSecret('whsec_not base64!')).toThrow(/whsec_ followed by base64/);
  });

  it('maps severity names to sev1..sev4 (numbers first, then words, else sev2)', async () => {
    const cases: [string | null, string][] = [
      ['Critical', 'sev1'], ['Major', 'sev2'], ['Minor', 'sev3'], ['Trivial', 'sev4'],
      ['SEV0', 'sev1'], ['SEV1', 'sev1'], ['Sev 2', 'sev2'], ['sev-3', 'sev3'], ['SEV4', 'sev4'], ['SEV5', 'sev4'], ['P2', 'sev2'],
      ['High', 'sev2'], ['Medium', 'sev3'], ['Low', 'sev4'], ['Catastrophic', 'sev2'], [null, 'sev2'],
    ];
    for (const [name, sev] of cases) expect(incidentIoSeverity(name === null ? null : { name }), String(name)).toBe(sev);
    const res = await send(incidentIoCreated({ severity: 'Minor', rank: 1 }));
    expect(res.body.severity).toBe('sev3');
    const triage = await send(incidentIoCreated({ id: 'triaged', severity: null, category: 'triage' }));
    expect(triage.body.severity).toBe('sev2');
  });

  it('ignores other events and test incidents (202), refuses a payload that is not one (400)', async () => {
    for (const type of ['public_incident.incident_updated_v2', 'private_incident.incident_created_v2', 'public_incident.follow_up_created_v1']) {
      const res = await send({ event_type: type, [type]: { id: '01ABC' } });
      expect(res.status, type).toBe(202);
    }
    expect((await send(incidentIoCreated({ mode: 'test' }))).status).toBe(202);
    expect((await send(incidentIoCreated({ mode: 'retrospective' }))).status).toBe(202);
    expect((await send({ hello: 'world' })).status).toBe(400);
    const noIncident = await send({ event_type: 'public_incident.incident_created_v2' });
    expect(noIncident.status).toBe(400);
    expect(noIncident.body.error).toMatch(/does not carry an incident/);
    const noStatus = await send({ event_type: 'public_incident.incident_status_updated_v2', 'public_incident.incident_status_updated_v2': { new_status: { category: 'closed' } } });
    expect(noStatus.status).toBe(400);
    expect((await send(undefined, { raw: '{"event_type":' })).status).toBe(400);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
  });

  it('answers 202 with a note for an account the app is not installed on, and 405 for a GET', async () => {
    const res = await send(incidentIoCreated(), { query: '?account=globex' });
    expect(res.status).toBe(202);
    expect(res.body.note).toMatch(/not installed on account globex/);
    expect((await app.store.activeIncidents('globex'))).toHaveLength(0);
    const get = await app.fetch(IO_PATH, { token: null });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await send(incidentIoCreated({ name: 'x'.repeat(70 * 1024) }));
    expect(res.status).toBe(413);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
  });
});

describe('Rootly webhooks', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve({ MORATORIUM_ROOTLY_SECRET: ROOTLY_SECRET });
  });
  afterEach(async () => app.close());

  const send = (payload: unknown, o: { query?: string; at?: number; secret?: string; signature?: string | null; raw?: string } = {}) => {
    const body = o.raw ?? JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const sig = o.signature === undefined ? signRootlyBody(o.secret ?? ROOTLY_SECRET, body, o.at ?? app.clock.now()) : o.signature;
    if (sig !== null) headers['x-rootly-signature'] = sig;
    return app.fetch(`${ROOTLY_PATH}${o.query ?? '?account=acme&repo=api'}`, { method: 'POST', body, headers, token: null });
  };

  it('opens on incident.created (SEV1/high -> sev2) scoped by the URL, resolves on incident.resolved with its message', async () => {
    const opened = await send(rootlyEvent('incident.created'));
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ changed: true, severity: 'sev2' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident).toMatchObject({ title: 'Sparkling Frost', openedBy: 'rootly', source: 'webhook', scope: { account: 'acme', repo: 'api' } });
    expect((await app.store.externalOfIncident(incident!.id))).toEqual([{ source: 'rootly', externalId: 'b7eed587-50e6-44fe-b010-7a2bb05d737a' }]);

    const resolved = await send(rootlyEvent('incident.resolved'));
    expect(resolved.status).toBe(200);
    expect((await app.store.getIncident(incident!.id))!.phase).toBe('resolved');
    expect((await app.store.auditOfIncident(incident!.id))[1]).toMatchObject({ actor: 'rootly', source: 'webhook', action: 'incident.resolve', reason: 'resolved in Rootly: Fixed the index' });
    expect((await app.fanouts())).toHaveLength(2);
  });

  it('resolves on incident.mitigated and incident.cancelled too; a later resolution changes nothing', async () => {
    await send(rootlyEvent('incident.created', { id: 'r-mitigated' }));
    expect((await send(rootlyEvent('incident.mitigated', { id: 'r-mitigated' }))).status).toBe(200);
    const after = await send(rootlyEvent('incident.resolved', { id: 'r-mitigated' }));
    expect(after.status).toBe(202);
    expect(after.body.note).toMatch(/already resolved/);

    await send(rootlyEvent('incident.created', { id: 'r-cancelled' }));
    expect((await send(rootlyEvent('incident.cancelled', { id: 'r-cancelled' }))).status).toBe(200);
    const phases = (await app.store.activeIncidents('acme')).map((i) => i.phase);
    expect(phases).toEqual(['resolved', 'resolved']);
    const reasons = await Promise.all((await app.store.activeIncidents('acme')).map(async (i) => (await app.store.auditOfIncident(i.id))[1]!.reason));
    expect(reasons.sort()).toEqual(['cancelled in Rootly: False alarm', 'mitigated in Rootly: Rolled back the deploy']);
  });

  it('one incident per Rootly incident: a replayed event id and a repeated incident.created change nothing', async () => {
    const event = rootlyEvent('incident.created', { eventId: '9839c4ca-5e7b-416d-ad95-d09ae0c8eead' });
    expect((await send(event)).status).toBe(201);
    const replay = await send(event);
    expect(replay.status).toBe(202);
    expect(replay.body.duplicate).toBe(true);
    const again = await send(rootlyEvent('incident.created'));
    expect(again.status).toBe(202);
    expect(again.body.note).toMatch(/already linked/);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(1);
    expect((await app.fanouts())).toHaveLength(1);
  });

  it('refuses stale timestamps, wrong, tampered and malformed signatures (401), changing nothing', async () => {
    const now = app.clock.now();
    const event = rootlyEvent('incident.created');
    const body = JSON.stringify(event);
    expect((await send(event, { at: now - 6 * MINUTE })).status).toBe(401);
    expect((await send(event, { at: now + 6 * MINUTE })).body.error).toMatch(/more than 5 minutes off/);
    expect((await send(event, { signature: null })).status).toBe(401);
    expect((await send(event, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await send(undefined, { raw: body.replace('Sparkling', 'Dull'), signature: signRootlyBody(ROOTLY_SECRET, body, now) })).status).toBe(401);
    expect((await send(event, { signature: signRootlyBody(ROOTLY_SECRET, body, now).replace(/^t=\d+,/, '') })).status).toBe(401);
    expect((await send(event, { signature: 'v1=abc,t=1' })).status).toBe(401);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
    expect((await send(event, { at: now + 4 * MINUTE })).status).toBe(201);
  });

  it('checks the header the way Rootly documents it: HMAC of timestamp + body, order of parts free', () => {
    const body = Buffer.from('{"event":{"id":"e","type":"incident.created"},"data":{}}');
    const at = 1_492_774_588_000;
    const sig = signRootlyBody('webhook secret', body.toString(), at);
    expect(verifyRootly('webhook secret', body, sig, at)).toEqual({ ok: true });
    const [t, v1] = sig.split(',');
    expect(verifyRootly('webhook secret', body, `${v1}, ${t}`, at)).toEqual({ ok: true });
    expect(verifyRootly('webhook secret', body, `${t},v1=00${v1!.slice(5)},${v1}`, at)).toEqual({ ok: true });
    expect(verifyRootly('other', body, sig, at)).toMatchObject({ ok: false });
    expect(verifyRootly('webhook secret', body, sig, at + 10 * MINUTE)).toMatchObject({ ok: false });
  });

  it('maps severities: the level first, then SEV0..SEV3 counted from SEV0 as the worst, else sev2', async () => {
    expect(rootlySeverity({ name: 'SEV0', slug: 'sev0', severity: 'critical' })).toBe('sev1');
    expect(rootlySeverity({ name: 'SEV1', slug: 'sev1', severity: 'high' })).toBe('sev2');
    expect(rootlySeverity({ name: 'SEV2', slug: 'sev2', severity: 'medium' })).toBe('sev3');
    expect(rootlySeverity({ name: 'SEV3', slug: 'sev3', severity: 'low' })).toBe('sev4');
    expect(rootlySeverity({ name: 'Whoops', slug: 'whoops', severity: 'critical' })).toBe('sev1');
    expect(rootlySeverity({ name: 'SEV0', slug: 'sev0' })).toBe('sev1');
    expect(rootlySeverity({ name: 'Sev 2' })).toBe('sev3');
    expect(rootlySeverity({ slug: 'sev5' })).toBe('sev4');
    expect(rootlySeverity({ data: { id: 'x', type: 'severities', attributes: { name: 'SEV0', slug: 'sev0', severity: 'critical' } } })).toBe('sev1');
    expect(rootlySeverity('sev1')).toBe('sev2');
    expect(rootlySeverity(null)).toBe('sev2');
    expect(rootlySeverity({ name: 'Unknown' })).toBe('sev2');
    const res = await send(rootlyEvent('incident.created', { severity: { id: 's0', name: 'SEV0', slug: 'sev0', severity: 'critical' } }));
    expect(res.body.severity).toBe('sev1');
  });

  it('ignores other events and test incidents (202), refuses a payload that is not one (400), 202 for an uninstalled account', async () => {
    for (const type of ['incident.updated', 'incident.deleted', 'alert.created', 'incident_post_mortem.published']) {
      expect((await send(rootlyEvent(type))).status, type).toBe(202);
    }
    expect((await send(rootlyEvent('incident.created', { kind: 'test' }))).status).toBe(202);
    expect((await send(rootlyEvent('incident.created', { kind: 'example' }))).status).toBe(202);
    expect((await send({ data: {} })).status).toBe(400);
    expect((await send({ event: { id: 'e1', type: 'incident.created' }, data: { title: 'no id' } })).status).toBe(400);
    expect((await send(rootlyEvent('incident.created'), { query: '' })).status).toBe(400);
    const uninstalled = await send(rootlyEvent('incident.created'), { query: '?account=globex' });
    expect(uninstalled.status).toBe(202);
    expect(uninstalled.body.note).toMatch(/not installed on account globex/);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
  });
});

describe('the generic signed incident webhook', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve({ MORATORIUM_GENERIC_SECRET: GENERIC_SECRET });
  });
  afterEach(async () => app.close());

  const send = (payload: unknown, o: { secret?: string; signature?: string | null; raw?: string } = {}) => {
    const body = o.raw ?? JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const sig = o.signature === undefined ? signGenericBody(o.secret ?? GENERIC_SECRET, body) : o.signature;
    if (sig !== null) headers['x-moratorium-signature'] = sig;
    return app.fetch(GENERIC_PATH, { method: 'POST', body, headers, token: null });
  };
  const open = { action: 'open', key: 'grafana-alert-42', severity: 'sev2', title: 'Error rate above 5%', account: 'acme', repo: 'api' };

  it('opens with the given severity and scope, resolves by key, once each; closing stays human', async () => {
    const opened = await send(open);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ changed: true, severity: 'sev2', phase: 'open' });
    const [incident] = await app.store.activeIncidents('acme');
    expect(incident).toMatchObject({ title: 'Error rate above 5%', openedBy: 'generic', source: 'webhook', scope: { account: 'acme', repo: 'api' } });
    expect((await app.store.externalOfIncident(incident!.id))).toEqual([{ source: 'generic', externalId: 'grafana-alert-42' }]);
    const again = await send(open);
    expect(again.status).toBe(202);
    expect(again.body.note).toMatch(/already linked/);

    const resolved = await send({ action: 'resolve', key: 'grafana-alert-42', note: 'error rate back to normal' });
    expect(resolved.status).toBe(200);
    expect((await app.store.auditOfIncident(incident!.id))[1]).toMatchObject({ actor: 'generic', source: 'webhook', reason: 'resolved by the generic webhook: error rate back to normal' });
    const twice = await send({ action: 'resolve', key: 'grafana-alert-42' });
    expect(twice.status).toBe(202);
    expect((await app.store.getIncident(incident!.id))!.phase).toBe('resolved');
    expect((await app.store.activeIncidents('acme'))).toHaveLength(1);
    expect((await app.fanouts())).toHaveLength(2);
  });

  it('opens account-wide without a repo', async () => {
    const res = await send({ ...open, repo: undefined, key: 'k2', severity: 'sev4' });
    expect(res.status).toBe(201);
    expect((await app.store.activeIncidents('acme'))[0]).toMatchObject({ severity: 'sev4', scope: { account: 'acme', repo: null } });
  });

  it('takes sev1..sev4 only and the actions open and resolve only (400 otherwise), changing nothing', async () => {
    for (const severity of ['sev0', 'sev5', 'SEV1', 'critical', '', 1, null]) {
      const res = await send({ ...open, severity });
      expect(res.status, String(severity)).toBe(400);
      expect(res.body.error).toMatch(/severity must be one of sev1, sev2, sev3, sev4/);
    }
    const { severity: _omitted, ...noSeverity } = open;
    expect((await send(noSeverity)).status).toBe(400);
    for (const action of ['close', 'OPEN', 'trigger', '', undefined]) {
      const res = await send({ ...open, action });
      expect(res.status, String(action)).toBe(400);
      expect(res.body.error).toMatch(/action must be "open" or "resolve"/);
    }
    expect((await send({ ...open, key: '' })).status).toBe(400);
    expect((await send({ ...open, title: '  ' })).status).toBe(400);
    expect((await send({ ...open, account: 'not an account' })).status).toBe(400);
    expect((await send({ ...open, repo: 'acme/api' })).status).toBe(400);
    expect((await send([open])).status).toBe(400);
    expect((await send(undefined, { raw: '{"action":' })).status).toBe(400);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
    expect((await app.fanouts())).toHaveLength(0);
  });

  it('answers 404 when resolving a key nothing was opened for', async () => {
    const res = await send({ action: 'resolve', key: 'never-opened' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/never-opened/);
  });

  it('refuses a missing, wrong or malformed signature (401)', async () => {
    const body = JSON.stringify(open);
    expect((await send(open, { signature: null })).status).toBe(401);
    expect((await send(open, { secret: 'other' })).status).toBe(401);
    expect((await send(open, { signature: signGenericBody(GENERIC_SECRET, body).replace('sha256=', '') })).status).toBe(401);
    expect((await send(open, { signature: signGenericBody(GENERIC_SECRET, `${body} `) })).status).toBe(401);
    expect((await app.store.activeIncidents('acme'))).toHaveLength(0);
    expect(verifyGeneric(GENERIC_SECRET, Buffer.from(body), signGenericBody(GENERIC_SECRET, body).toUpperCase().replace('SHA256=', 'sha256='))).toEqual({ ok: true });
  });

  it('answers 202 with a note for an account the app is not installed on', async () => {
    const res = await send({ ...open, account: 'globex' });
    expect(res.status).toBe(202);
    expect(res.body.note).toMatch(/not installed on account globex/);
  });
});

describe('incident tools without their secrets', () => {
  it('answer 503 while the secret is unset', async () => {
    const app = await serve({});
    try {
      for (const [path, name] of [[`${IO_PATH}?account=acme`, 'MORATORIUM_INCIDENTIO_SECRET'], [`${ROOTLY_PATH}?account=acme`, 'MORATORIUM_ROOTLY_SECRET'], [GENERIC_PATH, 'MORATORIUM_GENERIC_SECRET']] as const) {
        const res = await app.fetch(path, { method: 'POST', json: { action: 'open' }, token: null });
        expect(res.status, path).toBe(503);
        expect(res.body.error).toContain(name);
      }
    } finally {
      await app.close();
    }
  });

  it('refuse to start with an incident.io secret that is not whsec_<base64>', () => {
    expect(() => incidentToolRoutes({} as never, { MORATORIUM_INCIDENTIO_SECRET: 'whsec_!!!', MORATORIUM_ROOTLY_SECRET: undefined, MORATORIUM_GENERIC_SECRET: undefined })).toThrow(/MORATORIUM_INCIDENTIO_SECRET/);
  });
});
