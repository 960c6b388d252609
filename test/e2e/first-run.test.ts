/**
 * The first run (SPEC 11, issue 14 item 1), end to end: `npm start` without credentials, in a
 * working directory of its own, serves the registration page; GitHub's redirect with a code makes
 * the app convert it (the fake's `POST /app-manifests/{code}/conversions`), write `.env` and run
 * with the new credentials in the same process: health 200, a webhook signed with the new secret
 * gets its check. Whatever NODE_ENV is. Bad callbacks and failed conversions write nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FakeGitHub } from '../fake-github/index.js';
import { expectFakeClean, REPO_ROOT, sign, startApp, webhooks, type AppHandle } from './harness.js';
import { until } from '../support/until.js';

const OWNER = 'acme';
const CONVERSION = 'POST /app-manifests/{code}/conversions';
const appYml = parse(readFileSync(join(REPO_ROOT, 'app.yml'), 'utf8')) as { default_permissions: Record<string, string>; default_events: string[]; name: string; callback_urls: string[] };

interface SetupForm {
  status: number;
  action: string;
  state: string;
  manifest: Record<string, any>;
  cookie: string;
  setCookie: string;
  html: string;
}

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/** GET / and read the registration form: where it posts, the state, the manifest it carries, the cookie. */
async function setupForm(app: AppHandle, headers: Record<string, string> = {}): Promise<SetupForm> {
  const res = await fetch(`${app.url}/`, { headers, redirect: 'manual' });
  const html = await res.text();
  const action = unescapeHtml(/<form action="([^"]*)" method="post">/.exec(html)?.[1] ?? '');
  const manifestAttr = /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)?.[1];
  const setCookie = res.headers.get('set-cookie') ?? '';
  return {
    status: res.status,
    action,
    state: action ? (new URL(action).searchParams.get('state') ?? '') : '',
    manifest: manifestAttr ? (JSON.parse(unescapeHtml(manifestAttr)) as Record<string, any>) : {},
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
    html,
  };
}

async function callback(app: AppHandle, query: string, cookie?: string): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(`${app.url}/moratorium/setup/callback${query}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

async function health(app: AppHandle): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}/moratorium/health`);
  return { status: res.status, body: await res.json() };
}

async function waitForHealthy(app: AppHandle): Promise<void> {
  // a status the app reports: 503 (setup or starting) until the app runs with the new credentials
  await until(async () => (await health(app).catch(() => ({ status: 0 }))).status === 200, 20_000, 'health 200 after the registration').catch((error: Error) => {
    throw new Error(`${error.message}\n${app.logs().slice(-3000)}`);
  });
}

function dotEnv(app: AppHandle): Record<string, string> | null {
  const file = join(app.cwd, '.env');
  return existsSync(file) ? (parseEnv(readFileSync(file, 'utf8')) as Record<string, string>) : null;
}

describe.each(['development', 'production'])('first run without credentials (NODE_ENV=%s)', (nodeEnv) => {
  let fake: FakeGitHub;
  let app: AppHandle;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, 'api');
    app = await startApp({ fake, firstRun: true, env: { NODE_ENV: nodeEnv, MORATORIUM_GITHUB_THROTTLE: 'off' } });
  });

  afterEach(() => expectFakeClean(fake));
  afterAll(async () => {
    await fake?.stop();
  });

  it('serves the registration form at the root, carrying app.yml and URLs rebased onto its own origin', async () => {
    expect(app.cwd).not.toBe(REPO_ROOT);
    const form = await setupForm(app);
    expect(form.status).toBe(200);
    expect(new URL(form.action).origin).toBe(fake.url);
    expect(new URL(form.action).pathname).toBe('/settings/apps/new');
    expect(form.state).toMatch(/^[0-9a-f]{48}$/);
    expect(form.setCookie).toMatch(/HttpOnly/);
    expect(form.setCookie).toMatch(/SameSite=Lax/);
    expect(form.setCookie).not.toMatch(/Secure/);
    expect(form.manifest.name).toBe(appYml.name);
    expect(form.manifest.default_permissions).toEqual(appYml.default_permissions);
    expect(form.manifest.default_events).toEqual(appYml.default_events);
    expect(form.manifest.hook_attributes.url).toBe(`${app.url}/api/github/webhooks`);
    expect(form.manifest.redirect_url).toBe(`${app.url}/moratorium/setup/callback`);
    expect(form.manifest.callback_urls).toEqual([`${app.url}/moratorium/dashboard/auth/callback`]);
    expect(appYml.callback_urls.map((u) => new URL(u).pathname)).toEqual(['/moratorium/dashboard/auth/callback']);
    // setup mode: not healthy, webhooks refused, nothing but the setup routes
    expect(await health(app)).toMatchObject({ status: 503, body: { ok: false, setup: true } });
    const hook = await app.sendRaw({ 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'd-1', 'x-hub-signature-256': sign('anything', '{}') }, '{}');
    expect(hook.status).toBe(503);
    expect((await fetch(`${app.url}/moratorium/api/v1/incidents`)).status).toBe(404);
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
    // with the server's limits: a body over 64 KiB is refused before any route sees it
    const big = await fetch(`${app.url}/`, { method: 'POST', body: 'x'.repeat(100 * 1024) });
    expect(big.status).toBe(413);
    expect((await fetch(`${app.url}/`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect(fake.requests).toEqual([]);
  });

  it('rebases the URLs onto X-Forwarded-Proto and X-Forwarded-Host (the first of each), with a Secure cookie behind https', async () => {
    const form = await setupForm(app, { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'moratorium.example.com, proxy.internal' });
    expect(form.manifest.hook_attributes.url).toBe('https://moratorium.example.com/api/github/webhooks');
    expect(form.manifest.redirect_url).toBe('https://moratorium.example.com/moratorium/setup/callback');
    expect(form.manifest.callback_urls).toEqual(['https://moratorium.example.com/moratorium/dashboard/auth/callback']);
    expect(form.setCookie).toMatch(/; Secure/);
    // a host header that is no host is not copied into the manifest
    const bad = await fetch(`${app.url}/`, { headers: { 'x-forwarded-host': 'evil.example"><script>' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('<script>');
  });

  it('registers the App from the callback, writes the five credentials to .env and then runs with them, without a restart', async () => {
    const form = await setupForm(app);
    fake.addManifestCode('code-good-1');
    const pidBefore = app.appPid;
    const res = await callback(app, `?code=code-good-1&state=${form.state}`, form.cookie);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`${fake.url}/apps/${fake.appSlug}/installations/new`);
    expect(fake.requestsTo(CONVERSION)).toHaveLength(1);
    const conversion = fake.manifestConversions[0]!;
    expect(dotEnv(app)).toEqual({
      APP_ID: String(fake.appId),
      PRIVATE_KEY: conversion.pem,
      WEBHOOK_SECRET: conversion.webhook_secret,
      GITHUB_CLIENT_ID: conversion.client_id,
      GITHUB_CLIENT_SECRET: conversion.client_secret,
    });
    await waitForHealthy(app);
    expect(app.appPid).toBe(pidBefore);
    // a webhook signed with the new secret is handled: the PR gets its check (the app's JWT is signed with the new key)
    const pr = fake.addPull(OWNER, 'api');
    const delivered = await app.send('pull_request', webhooks(fake).pullRequest('opened', OWNER, 'api', pr.number));
    expect(delivered.status).toBe(200);
    const check = await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha));
    expect(check.name).toBe('moratorium');
    // one signed with anything else is refused
    const body = JSON.stringify(webhooks(fake).pullRequest('opened', OWNER, 'api', pr.number));
    const forged = await app.sendRaw({ 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd-forged', 'x-hub-signature-256': sign('not-the-secret', body) }, body);
    expect(forged.status).toBe(401);
    // the setup routes are gone; no webhook proxy was ever set up
    expect((await callback(app, `?code=code-good-1&state=${form.state}`, form.cookie)).status).toBe(404);
    expect(fake.requestsTo(CONVERSION)).toHaveLength(1);
    expect(app.logs()).not.toMatch(/smee/i);
  });

  it.runIf(nodeEnv === 'production')('starts normally from the written .env on the next start', async () => {
    await app.restart();
    expect((await health(app)).status).toBe(200);
    expect(app.logs().split('[harness] restart').at(-1)).not.toMatch(/setup mode/);
    const pr = fake.addPull(OWNER, 'api');
    expect((await app.send('pull_request', webhooks(fake).pullRequest('opened', OWNER, 'api', pr.number))).status).toBe(200);
    await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha));
  });
});

describe('first run: the public URL, an organisation, and bad callbacks', () => {
  let fake: FakeGitHub;
  let app: AppHandle;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    app = await startApp({ fake, firstRun: true, env: { MORATORIUM_PUBLIC_URL: 'https://gate.example.org/', GH_ORG: 'acme' } });
  });

  afterEach(() => expectFakeClean(fake));
  afterAll(async () => {
    await fake?.stop();
  });

  it('takes MORATORIUM_PUBLIC_URL over the request and forwarded headers, and posts to the organisation’s page', async () => {
    const variants: Array<Record<string, string>> = [{}, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'other.example.com' }];
    for (const headers of variants) {
      const form = await setupForm(app, headers);
      expect(form.manifest.hook_attributes.url).toBe('https://gate.example.org/api/github/webhooks');
      expect(form.manifest.redirect_url).toBe('https://gate.example.org/moratorium/setup/callback');
      expect(form.manifest.callback_urls).toEqual(['https://gate.example.org/moratorium/dashboard/auth/callback']);
      expect(new URL(form.action).pathname).toBe('/organizations/acme/settings/apps/new');
      // opened at another address than the one GitHub returns to: the page says where to open it
      expect(form.html).toContain('Open this page at <a href="https://gate.example.org/">');
    }
  });

  it('refuses a callback without a valid code or state, or whose conversion fails, with a page saying so, and writes nothing', async () => {
    const form = await setupForm(app);
    const cases: Array<[string, string | undefined, number, RegExp]> = [
      ['', form.cookie, 400, /carries no <code>code<\/code>/],
      ['?code=', form.cookie, 400, /carries no <code>code<\/code>/],
      [`?code=${encodeURIComponent('../../x')}&state=${form.state}`, form.cookie, 400, /an invalid <code>code<\/code>/],
      // a code GitHub does not know
      [`?code=unknown-code&state=${form.state}`, form.cookie, 400, /does not know this code/],
      // a valid code, but not from this browser: its state is missing, another's, or the cookie is missing
      ['?code=code-a', form.cookie, 400, /not started from this browser/],
      ['?code=code-a&state=' + 'a'.repeat(48), form.cookie, 400, /not started from this browser/],
      [`?code=code-a&state=${form.state}`, undefined, 400, /not started from this browser/],
    ];
    fake.addManifestCode('code-a');
    // a HEAD does not spend the code
    const head = await fetch(`${app.url}/moratorium/setup/callback?code=code-a&state=${form.state}`, { method: 'HEAD', headers: { cookie: form.cookie } });
    expect(head.status).toBe(405);
    for (const [query, cookie, status, text] of cases) {
      const res = await callback(app, query, cookie);
      expect.soft(res.status, query).toBe(status);
      expect.soft(res.html, query).toMatch(text);
      expect.soft(res.html, query).toMatch(/nothing was (registered or )?saved/);
    }
    // only the unknown code reached GitHub: code-a was never used
    expect(fake.requestsTo(CONVERSION).map((r) => r.params.code)).toEqual(['unknown-code']);

    // GitHub failing, then an answer without a webhook secret
    fake.inject({ route: CONVERSION, fault: { status: 500, body: { message: 'Server Error' } }, times: 10 });
    const failed = await callback(app, `?code=code-a&state=${form.state}`, form.cookie);
    fake.clearInjections();
    expect(failed.status).toBe(502);
    expect(failed.html).toMatch(/GitHub refused the conversion: 500/);
    fake.addManifestCode('code-no-secret', { webhookSecret: null });
    const noSecret = await callback(app, `?code=code-no-secret&state=${form.state}`, form.cookie);
    expect(noSecret.status).toBe(502);
    expect(noSecret.html).toMatch(/lacks a usable webhook_secret: nothing was saved/);

    expect(dotEnv(app)).toBeNull();
    expect(await health(app)).toMatchObject({ status: 503, body: { setup: true } });

    // and the registration still works afterwards
    fake.addManifestCode('code-b');
    const ok = await callback(app, `?code=code-b&state=${form.state}`, form.cookie);
    expect(ok.status).toBe(302);
    expect(dotEnv(app)?.APP_ID).toBe(String(fake.appId));
    await waitForHealthy(app);
  });
});

describe('first run: stopping in setup mode', () => {
  it('stops on SIGTERM with exit code 0 and writes nothing', async () => {
    const fake = await FakeGitHub.start();
    try {
      const app = await startApp({ fake, firstRun: true });
      expect((await health(app)).body).toMatchObject({ setup: true });
      expect(await app.stop('SIGTERM')).toBe(0);
      expect(app.logs()).toMatch(/shutting down \(setup mode\)/);
      expect(dotEnv(app)).toBeNull();
      expect(fake.requests).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});
