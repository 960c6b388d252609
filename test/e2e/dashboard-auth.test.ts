/**
 * Sign in with GitHub and acting from the dashboard, end to end with plain HTTP: `npm start` against
 * the fake GitHub, which serves the OAuth web flow (`/login/oauth/authorize`, `/access_token`) and
 * `GET /user` for a login the test chooses. A small cookie jar plays each browser. The state is
 * single-use and bound to the browser that asked; sessions live in the store (they survive a
 * restart, and signing out ends every copy of the cookie); every form needs the session's CSRF token
 * and the dashboard's own origin; the authority is the same command's, asked of GitHub.
 *
 * The tests run in order and share the app's state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { expectFakeClean, startApp, webhooks, type AppHandle } from './harness.js';

const OWNER = 'acme';
const REPO = 'api';
const MAINTAINER = 'maya';
const WRITER = 'walt';

/** One browser: its cookies, sent to the app's host only. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly appUrl: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string): Promise<Response> {
    const ours = url.startsWith(this.appUrl);
    const res = await fetch(url, { redirect: 'manual', headers: ours && this.cookies.size ? { cookie: this.cookieHeader() } : {} });
    if (ours) this.keep(res);
    return res;
  }

  async post(path: string, form: Record<string, string>, origin: string | null = this.appUrl): Promise<{ status: number; text: string; res: Response }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookieHeader() };
    if (origin !== null) headers.origin = origin;
    const res = await fetch(`${this.appUrl}${path}`, { method: 'POST', redirect: 'manual', headers, body: new URLSearchParams(form).toString() });
    this.keep(res);
    return { status: res.status, text: await res.text(), res };
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The dashboard's HTML and the CSRF token of its forms. */
  async dashboard(): Promise<{ html: string; csrf: string | null }> {
    const html = await (await this.get(`${this.appUrl}/moratorium/`)).text();
    return { html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? null };
  }
}

describe('Sign in with GitHub and acting from the dashboard (plain HTTP)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let incident: number;
  let pr: Record<string, any>;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, REPO);
    fake.addRepo(OWNER, '.github');
    fake.setPermission(OWNER, REPO, MAINTAINER, 'maintain');
    fake.setPermission(OWNER, REPO, WRITER, 'write');
    fake.setPermission(OWNER, '.github', WRITER, 'write');
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off', GITHUB_CLIENT_ID: fake.oauthClient.clientId, GITHUB_CLIENT_SECRET: fake.oauthClient.clientSecret } });
    await app.waitForLog('reconcile done', 20_000);
    const opened = await app.api('POST', '/moratorium/api/v1/incidents', { account: OWNER, repo: REPO, severity: 'sev1', title: 'API down' });
    expect(opened.status).toBe(201);
    incident = opened.body.id as number;
    pr = fake.addPull(OWNER, REPO, { title: 'Feature' });
    expect((await app.send('pull_request', webhooks(fake).pullRequest('opened', OWNER, REPO, pr.number))).status).toBe(200);
    await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha)?.conclusion === 'failure', 10_000, 'the PR blocked by the incident');
  }, 90_000);

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  /** Starts a sign-in in `b`, goes through the fake's authorize page as `login`; returns the callback URL GitHub sends the browser to. */
  async function authorize(b: Browser, login: string | null): Promise<string> {
    fake.signInAs(login);
    const start = await b.get(`${app.url}/moratorium/dashboard/auth/login`);
    expect(start.status).toBe(303);
    const to = new URL(start.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(`${fake.url}/login/oauth/authorize`);
    expect(to.searchParams.get('client_id')).toBe(fake.oauthClient.clientId);
    expect(to.searchParams.get('redirect_uri')).toBe(`${app.url}/moratorium/dashboard/auth/callback`);
    const back = await b.get(to.toString());
    expect(back.status).toBe(302);
    return back.headers.get('location')!;
  }

  async function signIn(b: Browser, login: string): Promise<void> {
    const callback = await authorize(b, login);
    const res = await b.get(callback);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/moratorium/');
    expect(b.cookies.has('moratorium_session')).toBe(true);
  }

  it('signs a maintainer in: a session cookie (HttpOnly, SameSite=Lax), the login on the page, the OAuth cookie gone', async () => {
    const b = new Browser(app.url);
    const callback = await authorize(b, MAINTAINER);
    expect(b.cookies.has('moratorium_oauth')).toBe(true);
    const res = await b.get(callback);
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('moratorium_session='))!;
    expect(session).toMatch(/^moratorium_session=[A-Za-z0-9_-]{43}; Path=\/moratorium; HttpOnly; SameSite=Lax; Max-Age=43200$/);
    expect(b.cookies.has('moratorium_oauth')).toBe(false);
    const { html, csrf } = await b.dashboard();
    expect(html).toContain(`Signed in as <strong id="login">${MAINTAINER}</strong>`);
    expect(html).toContain('action="/moratorium/dashboard/act"');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await app.waitForLogLine((l) => l.event === 'dashboard-sign-in' && l.ok === true && l.login === MAINTAINER);
    // the user token asked GET /user once, and nothing else
    expect(fake.requests.filter((r) => r.auth === 'user').map((r) => r.route)).toEqual(['GET /user']);
  });

  it('refuses a state used twice, a wrong state, and a state started in another browser: nobody is signed in', async () => {
    const b = new Browser(app.url);
    const callback = await authorize(b, MAINTAINER);
    const replay = new Browser(app.url);
    for (const [k, v] of b.cookies) replay.cookies.set(k, v);
    expect((await b.get(callback)).status).toBe(303);
    // the very same callback again, from the same browser (its OAuth cookie copied back)
    const again = await replay.get(callback);
    expect(again.status).toBe(400);
    expect(again.headers.getSetCookie().some((c) => c.startsWith('moratorium_session='))).toBe(false);
    expect(await again.text()).toContain('its state is unknown, already used, expired, or was started in another browser');

    const c = new Browser(app.url);
    const wrong = new URL(await authorize(c, MAINTAINER));
    wrong.searchParams.set('state', `${wrong.searchParams.get('state')!.slice(0, -2)}xx`);
    expect((await c.get(wrong.toString())).status).toBe(400);
    expect(c.cookies.has('moratorium_session')).toBe(false);

    // a callback URL (with a good code and state) opened in another browser: refused there
    const victim = new Browser(app.url);
    const foreign = await authorize(new Browser(app.url), MAINTAINER);
    expect((await victim.get(foreign)).status).toBe(400);
    expect(victim.cookies.has('moratorium_session')).toBe(false);
    expect((await victim.dashboard()).html).toContain('Sign in with GitHub');
  });

  it('says so when GitHub refuses the code or the person cancels, and signs nobody in', async () => {
    const b = new Browser(app.url);
    const callback = new URL(await authorize(b, MAINTAINER));
    // someone else exchanges the code first: GitHub then answers bad_verification_code
    await fetch(`${fake.url}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: fake.oauthClient.clientId, client_secret: fake.oauthClient.clientSecret, code: callback.searchParams.get('code') }),
    });
    const refused = await b.get(callback.toString());
    expect(refused.status).toBe(502);
    expect(await refused.text()).toContain('GitHub refused the sign-in code: The code passed is incorrect or expired. (bad_verification_code)');
    expect(b.cookies.has('moratorium_session')).toBe(false);

    const cancelled = await b.get(await authorize(b, null));
    expect(cancelled.status).toBe(400);
    expect(await cancelled.text()).toContain('GitHub did not sign you in');
    expect(b.cookies.has('moratorium_session')).toBe(false);
  });

  it('refuses a cross-site POST (another Origin, or no CSRF token) and changes nothing', async () => {
    const b = new Browser(app.url);
    await signIn(b, MAINTAINER);
    const { csrf } = await b.dashboard();
    const close = { action: 'incident-close', id: String(incident), note: 'forged' };
    const forged = await b.post('/moratorium/dashboard/act', { ...close, csrf: csrf! }, 'https://evil.example');
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('This form must be sent from the Moratorium dashboard itself');
    expect((await b.post('/moratorium/dashboard/act', close)).status).toBe(403);
    expect((await b.post('/moratorium/dashboard/act', { ...close, csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await b.post('/moratorium/dashboard/act', { ...close, csrf: csrf! }, null)).status).toBe(403);
    expect((await app.api('GET', `/moratorium/api/v1/incidents/${incident}`)).body.phase).toBe('open');
    expect((await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}`)).body.entries.filter((e: any) => e.source === 'dashboard')).toEqual([]);
  });

  it('refuses a write user on the page, naming the permission needed, and changes nothing', async () => {
    const b = new Browser(app.url);
    await signIn(b, WRITER);
    const { csrf } = await b.dashboard();
    const res = await b.post('/moratorium/dashboard/act', { csrf: csrf!, action: 'incident-close', id: String(incident), note: 'done?' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Refused: this needs maintain or higher (the `lift` permission of acme/api&#39;s configuration); your role on acme/api is write. Nothing was changed.');
    const bad = await b.post('/moratorium/dashboard/act', { csrf: csrf!, action: 'freeze', scope: `${OWNER}/${REPO}`, until: 'next tuesday' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Until: &quot;next tuesday&quot; is neither an ISO 8601 time');
    expect((await app.api('GET', `/moratorium/api/v1/incidents/${incident}`)).body.phase).toBe('open');
    expect((await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`)).body.freezes).toEqual([]);
    // an account action is checked on the account's .github repository, with the account configuration's permissions
    const account = await b.post('/moratorium/dashboard/act', { csrf: csrf!, action: 'freeze', scope: OWNER, mode: 'all', reason: 'org-wide' });
    expect(account.status).toBe(200);
    expect(account.text).toMatch(/Froze every repository of acme \(freeze \d+, all changes\) until lifted\./);
    const maya = new Browser(app.url);
    await signIn(maya, MAINTAINER);
    const lift = await maya.post('/moratorium/dashboard/act', { csrf: (await maya.dashboard()).csrf!, action: 'unfreeze', scope: OWNER });
    expect(lift.status).toBe(403);
    expect(lift.text).toContain('(the `lift` permission of the account&#39;s configuration (acme/.github)); you have no role on acme/.github.');
    expect((await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`)).body.freezes).toEqual([expect.objectContaining({ repo: null, createdBy: WRITER, source: 'dashboard' })]);
    fake.setPermission(OWNER, '.github', MAINTAINER, 'admin');
    expect((await maya.post('/moratorium/dashboard/act', { csrf: (await maya.dashboard()).csrf!, action: 'unfreeze', scope: OWNER, reason: 'lifted' })).status).toBe(200);
    expect((await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`)).body.freezes).toEqual([]);
  });

  it('keeps a session across a restart, and ends it on sign-out for every copy of the cookie', async () => {
    const b = new Browser(app.url);
    await signIn(b, MAINTAINER);
    const copy = new Browser(app.url);
    copy.cookies.set('moratorium_session', b.cookies.get('moratorium_session')!);
    await app.restart();
    expect((await copy.dashboard()).html).toContain(`Signed in as <strong id="login">${MAINTAINER}</strong>`);
    const { csrf } = await b.dashboard();
    const out = await b.post('/moratorium/logout', { csrf: csrf! });
    expect(out.status).toBe(303);
    expect(b.cookies.has('moratorium_session')).toBe(false);
    const after = await copy.dashboard();
    expect(after.html).not.toContain('Signed in as');
    expect(after.html).toContain('Sign in with GitHub');
    expect(after.csrf).toBeNull();
  });

  it('lets a maintainer close the incident: audited as the dashboard and the login, and the PR goes green', async () => {
    const b = new Browser(app.url);
    await signIn(b, MAINTAINER);
    const { csrf } = await b.dashboard();
    const res = await b.post('/moratorium/dashboard/act', { csrf: csrf!, action: 'incident-close', id: String(incident), note: 'postmortem done' });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`INC-${incident} closed: its moratorium has ended.`);
    const audit = (await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}`)).body.entries;
    expect(audit[0]).toEqual(expect.objectContaining({ action: 'incident.close', actor: MAINTAINER, source: 'dashboard', reason: 'postmortem done' }));
    await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha)?.conclusion === 'success', 15_000, 'the PR gate green after the close');
  });
});
