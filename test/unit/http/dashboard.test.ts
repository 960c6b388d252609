import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COOKIE_NAME, CSP, h, parseActionForm } from '../../../src/http/dashboard.js';
import { DashboardSessions, hashSecret } from '../../../src/http/dashboard-session.js';
import { serve, T0, TOKEN, type Served } from './support.js';

const form = (token: string) => ({ method: 'POST', body: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, token: null });

describe('dashboard', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
  });
  afterEach(async () => app.close());

  const login = async (): Promise<string> => {
    const res = await app.fetch('/moratorium/login', form(TOKEN));
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!;
    return cookie.split(';')[0]!;
  };

  it('shows a sign-in form, with a strict CSP, to a visitor without a session', async () => {
    const res = await app.fetch('/moratorium/', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('<form method="post" action="/moratorium/login">');
    expect(res.text).not.toContain('Audit log');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("script-src 'none'");
    expect(CSP).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('the API bearer token does not open the dashboard by itself', async () => {
    const res = await app.fetch('/moratorium/');
    expect(res.text).toContain('action="/moratorium/login"');
  });

  it('signs in with the token: an HttpOnly, SameSite=Lax cookie naming a stored session, never the token', async () => {
    const res = await app.fetch('/moratorium/login', form(TOKEN));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/moratorium/');
    const cookie = res.headers.get('set-cookie')!;
    const value = /^moratorium_session=([A-Za-z0-9_-]{43});/.exec(cookie)?.[1];
    expect(value).toBeDefined();
    expect(cookie).toContain('Max-Age=43200');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/moratorium');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain(TOKEN);
    // the store holds the session under the cookie's hash only
    expect(await app.store.getDashboardSession(hashSecret(value!), T0)).toEqual(expect.objectContaining({ kind: 'token', login: 'api-token', expiresAt: T0 + 12 * 3_600_000 }));
    expect(await app.store.getDashboardSession(value!, T0)).toBeNull();
    const page = await app.fetch('/moratorium/', { token: null, headers: { cookie: cookie.split(';')[0]! } });
    expect(page.text).toContain('Audit log');
    // a token session may look, not act: no action form
    expect(page.text).not.toContain('action="/moratorium/dashboard/act"');
  });

  it('marks the cookie Secure behind HTTPS (X-Forwarded-Proto)', async () => {
    const res = await app.fetch('/moratorium/login', { ...form(TOKEN), headers: { ...form(TOKEN).headers, 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('refuses a wrong token (401), a forged cookie, and a sign-in posted from another origin', async () => {
    const wrong = await app.fetch('/moratorium/login', form('nope'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(wrong.text).toContain('That token is not valid.');
    const forged = await app.fetch('/moratorium/', { token: null, headers: { cookie: `${COOKIE_NAME}=${TOKEN}` } });
    expect(forged.text).not.toContain('Audit log');
    const cross = await app.fetch('/moratorium/login', { ...form(TOKEN), headers: { ...form(TOKEN).headers, origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('set-cookie')).toBeNull();
  });

  it('renders incidents, freezes, windows, cadence, required checks and the audit log, escaping user text', async () => {
    const cookie = await login();
    await app.store.setLastValidConfig('acme', 'api', JSON.stringify({ windows: [{ name: 'weekend <b>', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin' }] }));
    await app.store.setRequiredState('acme', 'api', 'not-required', T0);
    const inc = await app.fetch('/moratorium/api/v1/incidents', { method: 'POST', json: { account: 'acme', severity: 'sev1', title: '<script>alert(1)</script>' } });
    await app.fetch('/moratorium/api/v1/freezes', { method: 'POST', json: { account: 'acme', reason: '"quoted" & <i>odd</i>' }, headers: { 'x-moratorium-actor': 'alice' } });
    const res = await app.fetch('/moratorium/', { token: null, headers: { cookie } });
    expect(res.status).toBe(200);
    const html = res.text;
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<i>odd</i>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;quoted&quot; &amp; &lt;i&gt;odd&lt;/i&gt;');
    expect(html).toContain(`INC-${inc.body.id}`);
    expect(html).toContain('Timeline (2)'); // opened, and the freeze that started while it was open
    expect(html).toContain('weekend &lt;b&gt;');
    expect(html).toContain('2026-12-04 18:00 Europe/Berlin to 2026-12-07 09:00 Europe/Berlin');
    expect(html).toContain('NOT required: the gate protects nothing');
    expect(html).toContain('freeze.start');
    expect(html).toContain('alice');
    expect(html).not.toMatch(/<script/i);
  });

  it('ends a session after 12 hours, and when the token changes', async () => {
    const cookie = await login();
    const value = cookie.split('=')[1]!;
    const asIf = (token: string) => new DashboardSessions(app.store, app.clock, { apiToken: token });
    const req = (c: string) => ({ headers: { cookie: c } }) as never;
    expect(await asIf(TOKEN).current(req(cookie))).not.toBeNull();
    expect(await asIf('another-token').current(req(cookie))).toBeNull();
    expect(await asIf(TOKEN).current(req(`${COOKIE_NAME}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`))).toBeNull();
    app.clock.t = T0 + 12 * 3_600_000 - 1000;
    expect((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text).toContain('Audit log');
    app.clock.t = T0 + 12 * 3_600_000;
    expect((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text).toContain('action="/moratorium/login"');
  });

  it('narrows to one account with ?account=', async () => {
    const cookie = await login();
    await app.store.upsertInstallation(2, 'globex', 'Organization', false, T0);
    await app.store.createIncident({ account: 'globex', repo: null, severity: 'sev2', title: 'Globex trouble', by: 'x', source: 'api', now: T0 });
    expect((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text).toContain('Globex trouble');
    const acme = await app.fetch('/moratorium/?account=ACME', { token: null, headers: { cookie } });
    expect(acme.text).not.toContain('Globex trouble');
    const unknown = await app.fetch('/moratorium/?account=initech', { token: null, headers: { cookie } });
    expect(unknown.text).toContain('not installed on account initech');
  });

  it('signs out: the stored session ends, so a copy of the cookie opens nothing; a sign-out without the CSRF token is refused', async () => {
    const cookie = await login();
    const html = (await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (body: Record<string, string>, origin = app.url) =>
      app.fetch('/moratorium/logout', { method: 'POST', token: null, body: new URLSearchParams(body).toString(), headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await post({})).status).toBe(403);
    expect((await post({ csrf }, 'https://evil.example')).status).toBe(403);
    expect((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text).toContain('Audit log');
    const res = await post({ csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^${COOKIE_NAME}=; .*Max-Age=0`));
    expect((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text).toContain('action="/moratorium/login"');
  });

  it('reads action forms into actions, and says what is wrong with a bad one', () => {
    const f = (o: Record<string, string>) => new URLSearchParams(o);
    expect(parseActionForm(f({ action: 'freeze', scope: 'acme/api', mode: 'all', until: '2h', reason: 'x' }), T0)).toEqual({ kind: 'freeze', account: 'acme', repo: 'api', mode: 'all', until: T0 + 7_200_000, reason: 'x' });
    expect(parseActionForm(f({ action: 'freeze', scope: 'acme', until: '2026-12-01T18:00Z' }), T0)).toEqual({ kind: 'freeze', account: 'acme', repo: null, mode: 'features', until: Date.UTC(2026, 11, 1, 18), reason: '' });
    expect(parseActionForm(f({ action: 'incident-close', id: 'INC-4', note: ' done ' }), T0)).toEqual({ kind: 'incident-close', id: 4, note: 'done' });
    expect(parseActionForm(f({ action: 'incident-open', scope: 'acme', severity: 'sev2', title: 'down' }), T0)).toEqual({ kind: 'incident-open', account: 'acme', repo: null, severity: 'sev2', title: 'down' });
    expect(() => parseActionForm(f({ action: 'freeze', scope: 'acme', until: 'tomorrow' }), T0)).toThrow(/Until: "tomorrow" is neither an ISO 8601 time/);
    expect(() => parseActionForm(f({ action: 'freeze', scope: 'acme', until: '2026-11-30T09:00Z' }), T0)).toThrow(/not in the future/);
    expect(() => parseActionForm(f({ action: 'freeze', scope: 'acme', mode: 'some' }), T0)).toThrow(/Mode: must be one of all, features/);
    expect(() => parseActionForm(f({ action: 'freeze', scope: 'a/b/c' }), T0)).toThrow(/Scope: "a\/b\/c" is not/);
    expect(() => parseActionForm(f({ action: 'incident-open', scope: 'acme', severity: 'sev9', title: 't' }), T0)).toThrow(/Severity/);
    expect(() => parseActionForm(f({ action: 'incident-open', scope: 'acme', severity: 'sev1', title: '  ' }), T0)).toThrow(/Title: must not be empty/);
    expect(() => parseActionForm(f({ action: 'incident-resolve', id: 'x' }), T0)).toThrow(/Incident: not an incident id/);
    expect(() => parseActionForm(f({ action: 'drop-tables' }), T0)).toThrow(/no known action/);
  });

  it('acts for a GitHub session with the authority of its login, refuses a write user saying which permission, and refuses a form without the CSRF token', async () => {
    const sessions = new DashboardSessions(app.store, app.clock, { apiToken: TOKEN });
    app.port.roles.set('maya', 'maintain');
    app.port.roles.set('walt', 'write');
    const cookieOf = async (who: string) => `${COOKIE_NAME}=${await sessions.open('github', who)}`;
    const csrfOf = async (cookie: string) => /name="csrf" value="([^"]+)"/.exec((await app.fetch('/moratorium/', { token: null, headers: { cookie } })).text)![1]!;
    const act = (cookie: string, body: Record<string, string>, origin = app.url) =>
      app.fetch('/moratorium/dashboard/act', { method: 'POST', token: null, body: new URLSearchParams(body).toString(), headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' } });
    const walt = await cookieOf('walt');
    await app.store.createFreeze({ account: 'acme', repo: 'api', mode: 'all', reason: 'held', by: 'x', until: null, source: 'api', now: T0 });
    const refused = await act(walt, { csrf: await csrfOf(walt), action: 'unfreeze', scope: 'acme/api', reason: 'no' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Refused: this needs maintain or higher (the `lift` permission of acme/api&#39;s configuration); your role on acme/api is write. Nothing was changed.');
    expect(await app.store.activeFreezes('acme', T0)).toHaveLength(1);
    expect(await app.store.auditOfAccount('acme', 5)).toEqual([]);

    const maya = await cookieOf('maya');
    const csrf = await csrfOf(maya);
    expect((await act(maya, { action: 'freeze', scope: 'acme/api' })).status).toBe(403);
    expect((await act(maya, { csrf: await csrfOf(walt), action: 'freeze', scope: 'acme/api' })).status).toBe(403);
    expect((await act(maya, { csrf, action: 'freeze', scope: 'acme/api' }, 'https://evil.example')).status).toBe(403);
    const bad = await act(maya, { csrf, action: 'freeze', scope: 'acme/api', until: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Until: &quot;soon&quot; is neither');
    expect(await app.store.activeFreezes('acme', T0)).toHaveLength(1);

    const ok = await act(maya, { csrf, action: 'unfreeze', scope: 'acme/api', reason: 'release' });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/Ended freeze \d+ for acme\/api\./);
    expect(await app.store.activeFreezes('acme', T0)).toEqual([]);
    expect(await app.store.auditOfAccount('acme', 5)).toEqual([expect.objectContaining({ actor: 'maya', source: 'dashboard', action: 'unfreeze', reason: 'release' })]);
    expect(await app.fanouts()).toEqual([expect.objectContaining({ account: 'acme', repo: 'api' })]);
  });

  it('redirects /moratorium to /moratorium/ and answers 405 for other methods', async () => {
    const res = await app.fetch('/moratorium', { token: null });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/moratorium/');
    expect((await app.fetch('/moratorium/', { method: 'POST', token: null })).status).toBe(405);
    expect((await app.fetch('/moratorium/login', { token: null })).status).toBe(405);
  });

  it('is disabled (503) while no token is configured', async () => {
    const off = await serve({ MORATORIUM_API_TOKEN: undefined });
    try {
      expect((await off.fetch('/moratorium/', { token: null })).status).toBe(503);
      expect((await off.fetch('/moratorium/login', form('anything'))).status).toBe(503);
    } finally {
      await off.close();
    }
  });

  it('escapes every HTML-significant character', () => {
    expect(h(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(h(null)).toBe('');
  });
});
