import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COOKIE_NAME, CSP, h, sessionValue, validSession } from '../../../src/http/dashboard.js';
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

  it('signs in with the token: an HttpOnly, SameSite=Strict cookie holding an HMAC, never the token', async () => {
    const res = await app.fetch('/moratorium/login', form(TOKEN));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/moratorium/');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${COOKIE_NAME}=${sessionValue(TOKEN, T0 + 12 * 3_600_000)};`));
    expect(cookie).toContain('Max-Age=43200');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/moratorium');
    expect(cookie).not.toContain(TOKEN);
    const page = await app.fetch('/moratorium/', { token: null, headers: { cookie: cookie.split(';')[0]! } });
    expect(page.text).toContain('Audit log');
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
    expect(validSession(TOKEN, value, T0 + 12 * 3_600_000 - 1000)).toBe(true);
    expect(validSession(TOKEN, value, T0 + 12 * 3_600_000)).toBe(false);
    expect(validSession('another-token', value, T0)).toBe(false);
    expect(validSession(TOKEN, value.replace(/^\d+/, String(Math.floor(T0 / 1000) + 10 * 86_400)), T0)).toBe(false);
    app.clock.t = T0 + 13 * 3_600_000;
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

  it('signs out by clearing the cookie', async () => {
    await login();
    const res = await app.fetch('/moratorium/logout', { method: 'POST', token: null });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^${COOKIE_NAME}=; .*Max-Age=0`));
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
