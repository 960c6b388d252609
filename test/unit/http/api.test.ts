import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serve, T0, TOKEN, type Served } from './support.js';

const V1 = '/moratorium/api/v1';

describe('HTTP API: authentication', () => {
  let app: Served;
  afterEach(async () => app.close());

  it('answers 503 on every API path while no token is configured', async () => {
    app = await serve({ MORATORIUM_API_TOKEN: undefined });
    const res = await app.fetch(`${V1}/state?account=acme`);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/MORATORIUM_API_TOKEN/);
  });

  it('answers 401 with WWW-Authenticate: Bearer when the token is missing or wrong', async () => {
    app = await serve();
    for (const token of [null, 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await app.fetch(`${V1}/state?account=acme`, { token });
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.body.error).toBeTruthy();
    }
    const basic = await app.fetch(`${V1}/state?account=acme`, { token: null, headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
  });

  it('checks the token before telling whether a path exists', async () => {
    app = await serve();
    expect((await app.fetch('/moratorium/api/v2/nothing', { token: null })).status).toBe(401);
    expect((await app.fetch('/moratorium/api/v2/nothing')).status).toBe(404);
    expect((await app.fetch(`${V1}/nothing`)).status).toBe(404);
    expect((await app.fetch('/moratorium/api')).status).toBe(404);
  });

  it('leaves paths outside /moratorium/api to other routes', async () => {
    app = await serve();
    const res = await app.fetch('/moratorium/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});

describe('HTTP API: freezes', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
  });
  afterEach(async () => app.close());

  it('creates a freeze (201, Location), audits it as the API and queues a fan-out', async () => {
    const res = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'ACME', repo: 'API', reason: 'db migration', until: '2026-11-30T18:00Z' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`${V1}/freezes/${res.body.id}`);
    expect(res.body).toMatchObject({ account: 'acme', repo: 'api', mode: 'features', reason: 'db migration', createdBy: 'api', until: '2026-11-30T18:00:00.000Z', endedAt: null, source: 'api' });
    const [entry] = await app.store.auditOfAccount('acme', 10);
    expect(entry).toMatchObject({ actor: 'api', source: 'api', action: 'freeze.start', repo: 'api', reason: 'db migration' });
    expect(await app.fanouts()).toEqual([expect.objectContaining({ account: 'acme', repo: 'api' })]);
  });

  it('defaults to an account-wide features freeze with no end, and accepts mode all', async () => {
    const a = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' } });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ repo: null, mode: 'features', until: null, reason: '' });
    const b = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', mode: 'all' } });
    expect(b.body.mode).toBe('all');
    expect(await app.fanouts()).toHaveLength(2);
  });

  it('takes the audit actor from X-Moratorium-Actor, sanitised', async () => {
    const res = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' }, headers: { 'x-moratorium-actor': 'deploy-bot <script>\u00e9;' } });
    expect(res.status).toBe(201);
    expect(res.body.createdBy).toBe('deploy-botscript');
    expect((await app.store.auditOfAccount('acme', 1))[0]!.actor).toBe('deploy-botscript');
    const blank = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' }, headers: { 'x-moratorium-actor': '<>' } });
    expect(blank.body.createdBy).toBe('api');
  });

  it.each([
    ['malformed JSON', '{"account": "acme"', 400, /not valid JSON/],
    ['an empty body', '', 400, /JSON object/],
    ['an array', '[]', 400, /object/],
    ['an unknown key', JSON.stringify({ account: 'acme', scope: 'org' }), 400, /unknown key.*scope/],
    ['no account', JSON.stringify({ reason: 'x' }), 400, /account/],
    ['a bad mode', JSON.stringify({ account: 'acme', mode: 'everything' }), 400, /mode/],
    ['an until in the past', JSON.stringify({ account: 'acme', until: '2026-11-30T09:59Z' }), 400, /future/],
    ['an until that is not ISO 8601', JSON.stringify({ account: 'acme', until: 'tomorrow' }), 400, /ISO 8601/],
    ['an owner/repo as repo', JSON.stringify({ account: 'acme', repo: 'acme/api' }), 400, /repo/],
    ['an account the app is not installed on', JSON.stringify({ account: 'globex' }), 404, /not installed on account globex/],
    ['a repository it does not know', JSON.stringify({ account: 'acme', repo: 'nope' }), 404, /acme\/nope is not known/],
  ])('refuses %s and changes nothing', async (_what, body, status, message) => {
    const res = await app.fetch(`${V1}/freezes`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(message);
    expect(await app.store.activeFreezes('acme', T0)).toHaveLength(0);
    expect(await app.store.auditOfAccount('acme', 10)).toHaveLength(0);
    expect(await app.fanouts()).toHaveLength(0);
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const res = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', reason: 'x'.repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/64 KiB/);
    expect(await app.store.activeFreezes('acme', T0)).toHaveLength(0);
  });

  it('ends a freeze (200), then answers 409 because it had ended', async () => {
    const created = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' } });
    app.clock.t = T0 + 60_000;
    const ended = await app.fetch(`${V1}/freezes/${created.body.id}`, { method: 'DELETE', headers: { 'x-moratorium-actor': 'alice' } });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: created.body.id, endedAt: new Date(T0 + 60_000).toISOString(), endedBy: 'alice' });
    expect((await app.store.auditOfAccount('acme', 1))[0]).toMatchObject({ action: 'freeze.end', actor: 'alice', source: 'api' });
    expect(await app.fanouts()).toHaveLength(2);
    const again = await app.fetch(`${V1}/freezes/${created.body.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/had already ended/);
    expect(await app.fanouts()).toHaveLength(2);
  });

  it('answers 409 for a timed freeze whose time is up', async () => {
    const created = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', until: '2026-11-30T11:00:00Z' } });
    app.clock.t = Date.UTC(2026, 10, 30, 11, 0);
    const res = await app.fetch(`${V1}/freezes/${created.body.id}`, { method: 'DELETE' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/time was up/);
  });

  it('accepts a reason when ending and refuses unknown keys', async () => {
    const created = await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' } });
    expect((await app.fetch(`${V1}/freezes/${created.body.id}`, { method: 'DELETE', json: { why: 'x' } })).status).toBe(400);
    const ok = await app.fetch(`${V1}/freezes/${created.body.id}`, { method: 'DELETE', json: { reason: 'migration done' } });
    expect(ok.status).toBe(200);
    expect((await app.store.auditOfAccount('acme', 1))[0]!.reason).toBe('migration done');
  });

  it('answers 404 for unknown or malformed ids and 405 for a wrong method', async () => {
    expect((await app.fetch(`${V1}/freezes/999`, { method: 'DELETE' })).status).toBe(404);
    expect((await app.fetch(`${V1}/freezes/abc`, { method: 'DELETE' })).status).toBe(404);
    expect((await app.fetch(`${V1}/freezes/0`, { method: 'DELETE' })).status).toBe(404);
    const get = await app.fetch(`${V1}/freezes`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const put = await app.fetch(`${V1}/freezes/1`, { method: 'PUT', json: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE');
  });
});

describe('HTTP API: incidents', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
  });
  afterEach(async () => app.close());

  const open = (json: unknown = { account: 'acme', severity: 'sev1', title: 'API latency' }) => app.fetch(`${V1}/incidents`, { method: 'POST', json });

  it('opens an incident (201) with its INC key, audited and fanned out', async () => {
    const res = await open();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ key: `INC-${res.body.id}`, severity: 'sev1', title: 'API latency', phase: 'open', account: 'acme', repo: null, openedBy: 'api', source: 'api' });
    expect(res.headers.get('location')).toBe(`${V1}/incidents/${res.body.id}`);
    expect((await app.store.auditOfAccount('acme', 1))[0]).toMatchObject({ action: 'incident.open', source: 'api', actor: 'api', incidentId: res.body.id });
    expect(await app.fanouts()).toEqual([expect.objectContaining({ account: 'acme', repo: null, reason: `INC-${res.body.id} opened` })]);
  });

  it('opens a repository incident', async () => {
    const res = await open({ account: 'acme', repo: 'api', severity: 'sev3', title: 'Slow search' });
    expect(res.status).toBe(201);
    expect(res.body.repo).toBe('api');
  });

  it.each([
    [{ account: 'acme', severity: 'sev5', title: 't' }, /severity/],
    [{ account: 'acme', severity: 'sev1', title: '   ' }, /title/],
    [{ account: 'acme', severity: 'sev1' }, /title/],
    [{ account: 'acme', severity: 'sev1', title: 't', phase: 'closed' }, /unknown key/],
  ])('refuses a bad incident body %j', async (json, message) => {
    const res = await open(json);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(await app.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('resolves then closes (200 each), and answers 409 for a change the phase does not allow', async () => {
    const { body } = await open();
    app.clock.t = T0 + 3_600_000;
    const resolved = await app.fetch(`${V1}/incidents/${body.id}/resolve`, { method: 'POST', json: { note: 'rolled back' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ phase: 'resolved', resolvedAt: new Date(T0 + 3_600_000).toISOString() });
    const again = await app.fetch(`${V1}/incidents/${body.id}/resolve`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/only an open incident can be resolved/);
    const closed = await app.fetch(`${V1}/incidents/INC-${body.id}/close`, { method: 'POST', json: {} });
    expect(closed.status).toBe(200);
    expect(closed.body.phase).toBe('closed');
    const closedAgain = await app.fetch(`${V1}/incidents/inc-${body.id}/close`, { method: 'POST' });
    expect(closedAgain.status).toBe(409);
    expect((await app.store.auditOfIncident(body.id)).map((a) => a.action)).toEqual(['incident.open', 'incident.resolve', 'incident.close']);
    expect((await app.store.auditOfIncident(body.id))[1]!.reason).toBe('rolled back');
    expect(await app.fanouts()).toHaveLength(3);
  });

  it('answers 404 for an unknown incident and 400 for a bad note', async () => {
    expect((await app.fetch(`${V1}/incidents/42/resolve`, { method: 'POST' })).status).toBe(404);
    expect((await app.fetch(`${V1}/incidents/INC-x/close`, { method: 'POST' })).status).toBe(404);
    expect((await app.fetch(`${V1}/incidents/42/report`)).status).toBe(404);
    const { body } = await open();
    expect((await app.fetch(`${V1}/incidents/${body.id}/resolve`, { method: 'POST', json: { note: 3 } })).status).toBe(400);
    expect((await app.fetch(`${V1}/incidents/${body.id}/resolve`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await app.store.getIncident(body.id))!.phase).toBe('open');
    expect((await app.fetch(`${V1}/incidents/${body.id}/resolve`)).status).toBe(405);
  });

  it('returns the report as /incident report builds it', async () => {
    const { body } = await open();
    await app.store.recordDeploy({ dedupeKey: 'm1', account: 'acme', repo: 'api', kind: 'merge', prNumber: 7, title: 'Hotfix', actor: 'bob', at: T0 + 60_000, exemption: 'hotfix' });
    app.clock.t = T0 + 120_000;
    await app.fetch(`${V1}/incidents/${body.id}/resolve`, { method: 'POST', json: { note: 'fixed' } });
    const report = await app.fetch(`${V1}/incidents/${body.id}/report`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ id: body.id, key: `INC-${body.id}`, phase: 'resolved', merges: 1, deployments: 0 });
    expect(report.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['phase', 'merge', 'phase']);
    const one = await app.fetch(`${V1}/incidents/${body.id}`);
    expect(one.body).toMatchObject({ id: body.id, phase: 'resolved' });
  });
});

describe('HTTP API: state and audit', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
  });
  afterEach(async () => app.close());

  it('needs an installed account', async () => {
    expect((await app.fetch(`${V1}/state`)).status).toBe(400);
    const res = await app.fetch(`${V1}/state?account=globex`);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/not installed on account globex/);
    expect((await app.fetch(`${V1}/state?account=acme&repo=nope`)).status).toBe(404);
  });

  it('shows active freezes, incidents with INC keys and phase, windows and cadence use per repository', async () => {
    await app.store.setLastValidConfig(
      'acme',
      'api',
      JSON.stringify({ cadence: { max: 3, per: '24h', min_interval: '1h' }, windows: [{ name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin' }] }),
    );
    for (const [i, at] of [T0 - 3 * 3_600_000, T0 - 30 * 60_000].entries()) {
      await app.store.recordDeploy({ dedupeKey: `m${i}`, account: 'acme', repo: 'api', kind: 'merge', prNumber: i, at });
    }
    await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', reason: 'audit' } });
    const inc = await app.fetch(`${V1}/incidents`, { method: 'POST', json: { account: 'acme', severity: 'sev2', title: 'Errors' } });
    await app.fetch(`${V1}/incidents/${inc.body.id}/resolve`, { method: 'POST' });

    const res = await app.fetch(`${V1}/state?account=Acme`);
    expect(res.status).toBe(200);
    expect(res.body.account).toBe('acme');
    expect(res.body.freezes).toEqual([expect.objectContaining({ reason: 'audit', mode: 'features' })]);
    expect(res.body.incidents).toEqual([expect.objectContaining({ id: inc.body.id, key: `INC-${inc.body.id}`, phase: 'resolved', severity: 'sev2' })]);
    expect(res.body.windows).toEqual([
      expect.objectContaining({ repo: 'api', name: 'weekend', active: null, next: expect.arrayContaining([{ start: '2026-12-04T17:00:00.000Z', end: '2026-12-07T08:00:00.000Z' }]) }),
    ]);
    const [cadence] = res.body.cadence;
    expect(cadence).toMatchObject({ repo: 'api', counts: 'merges', environment: null, last24h: 2, lastAt: new Date(T0 - 30 * 60_000).toISOString() });
    expect(cadence.limits).toEqual([
      { cadence: 'normal', used: 2, max: 3, per: '1d', minInterval: '1h', blocked: true, blockedBy: 'interval', nextSlot: new Date(T0 + 30 * 60_000).toISOString() },
      // the resolved sev2 incident puts the repository in recovery (default: 2 in 24h, 2h apart)
      { cadence: 'recovery', used: 2, max: 2, per: '1d', minInterval: '2h', blocked: true, blockedBy: 'count', nextSlot: new Date(T0 - 3 * 3_600_000 + 86_400_000).toISOString() },
    ]);
    expect(res.body.repositories).toEqual([expect.objectContaining({ repo: 'api', fullName: 'acme/api', config: 'last-valid' })]);
  });

  it('narrows to one repository and its account-wide constraints', async () => {
    await app.store.upsertRepo('acme', 'web', 1, 'acme/web', 'main');
    await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', repo: 'web' } });
    await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' } });
    const res = await app.fetch(`${V1}/state?account=acme&repo=api`);
    expect(res.body.repo).toBe('api');
    expect(res.body.freezes).toHaveLength(1);
    expect(res.body.freezes[0].repo).toBeNull();
    expect(res.body.cadence.map((c: { repo: string }) => c.repo)).toEqual(['api']);
  });

  it('lists the audit log newest first with a limit of 1 to 500 (default 50)', async () => {
    for (let i = 0; i < 55; i++) await app.store.audit({ at: T0 + i, account: 'acme', actor: 'x', source: 'command', action: 'freeze.start', target: `freeze ${i}` });
    await app.store.audit({ at: T0, account: 'globex', actor: 'x', source: 'command', action: 'freeze.start' });
    const all = await app.fetch(`${V1}/audit?account=ACME`);
    expect(all.status).toBe(200);
    expect(all.body.entries).toHaveLength(50);
    expect(all.body.entries[0]).toMatchObject({ target: 'freeze 54', account: 'acme', source: 'command' });
    const three = await app.fetch(`${V1}/audit?account=acme&limit=3`);
    expect(three.body.entries.map((e: { target: string }) => e.target)).toEqual(['freeze 54', 'freeze 53', 'freeze 52']);
    for (const bad of ['0', '501', '-1', 'ten', '2.5']) expect((await app.fetch(`${V1}/audit?account=acme&limit=${bad}`)).status, bad).toBe(400);
    expect((await app.fetch(`${V1}/audit?account=acme&limit=500`)).body.entries).toHaveLength(55);
    expect((await app.fetch(`${V1}/audit`)).status).toBe(400);
    expect((await app.fetch(`${V1}/audit?account=globex`)).status).toBe(404);
    expect((await app.fetch(`${V1}/audit?account=acme`, { method: 'POST' })).status).toBe(405);
  });
});
