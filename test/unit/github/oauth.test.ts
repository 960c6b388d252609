/**
 * The dashboard's sign-in against the fake GitHub's OAuth web flow: the authorize URL on the GitHub
 * host, the code exchanged once for a user token, the login from GET /user; and every way GitHub can
 * say no (a used code, a wrong client secret, a redirect_uri that differs, GitHub unreachable) as an
 * OAuthError with GitHub's own words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubOAuth, OAuthError, githubWebUrl } from '../../../src/github/oauth.js';
import { FakeGitHub } from '../../fake-github/index.js';

const CALLBACK = 'http://127.0.0.1:9/moratorium/dashboard/auth/callback';

describe('GitHubOAuth against the fake GitHub', () => {
  let fake: FakeGitHub;
  let oauth: GitHubOAuth;
  beforeAll(async () => {
    fake = await FakeGitHub.start({ recordOnly: true });
    oauth = new GitHubOAuth({ ...fake.oauthClient, webUrl: fake.url, apiUrl: fake.apiUrl });
  });
  afterAll(async () => fake.stop());

  /** what GitHub sends the browser back with, after `login` authorized */
  async function authorize(login: string | null, state = 'st', redirectUri = CALLBACK): Promise<URL> {
    fake.signInAs(login);
    const res = await fetch(oauth.authorizeUrl(state, redirectUri), { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('builds the authorize URL on the GitHub host, github.com or GHE', () => {
    const u = new URL(oauth.authorizeUrl('s1', CALLBACK));
    expect(`${u.origin}${u.pathname}`).toBe(`${fake.url}/login/oauth/authorize`);
    expect(Object.fromEntries(u.searchParams)).toEqual({ client_id: fake.oauthClient.clientId, redirect_uri: CALLBACK, state: 's1', allow_signup: 'false' });
    expect(githubWebUrl({})).toBe('https://github.com');
    expect(githubWebUrl({ GHE_HOST: 'ghe.example:8443', GHE_PROTOCOL: 'http' })).toBe('http://ghe.example:8443');
  });

  it('exchanges a code once for the login of whoever authorized', async () => {
    const back = await authorize('Maya-Q', 'the-state');
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:9/moratorium/dashboard/auth/callback');
    expect(back.searchParams.get('state')).toBe('the-state');
    const code = back.searchParams.get('code')!;
    expect(await oauth.loginFor(code, CALLBACK)).toBe('Maya-Q');
    await expect(oauth.loginFor(code, CALLBACK)).rejects.toThrow(new OAuthError('GitHub refused the sign-in code: The code passed is incorrect or expired. (bad_verification_code)'));
    expect(fake.requests.filter((r) => r.auth === 'user').map((r) => [r.route, r.status])).toEqual([['GET /user', 200]]);
    expect(fake.violations).toEqual([]);
  });

  it('says no for a wrong secret, another redirect_uri, a cancelled sign-in, and an unreachable GitHub', async () => {
    const wrongSecret = new GitHubOAuth({ ...fake.oauthClient, clientSecret: 'nope', webUrl: fake.url, apiUrl: fake.apiUrl });
    await expect(wrongSecret.loginFor((await authorize('maya')).searchParams.get('code')!, CALLBACK)).rejects.toThrow(/incorrect_client_credentials/);
    await expect(oauth.loginFor((await authorize('maya')).searchParams.get('code')!, 'http://127.0.0.1:9/elsewhere')).rejects.toThrow(/redirect_uri_mismatch/);
    const cancelled = await authorize(null);
    expect([cancelled.searchParams.get('error'), cancelled.searchParams.get('code')]).toEqual(['access_denied', null]);
    const down = new GitHubOAuth({ ...fake.oauthClient, webUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9/api/v3', timeoutMs: 2000 });
    await expect(down.loginFor('x', CALLBACK)).rejects.toThrow(/^GitHub could not be reached \(the code exchange\)/);
  });

  it('a user token opens GET /user only: anything else is a violation in the fake', async () => {
    const code = (await authorize('maya')).searchParams.get('code')!;
    const res = await fetch(`${fake.url}/login/oauth/access_token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ ...{ client_id: fake.oauthClient.clientId, client_secret: fake.oauthClient.clientSecret }, code }) });
    const token = ((await res.json()) as { access_token: string }).access_token;
    expect(token).toMatch(/^ghu_/);
    const other = await fetch(`${fake.apiUrl}/repos/acme/api`, { headers: { authorization: `Bearer ${token}` } });
    expect(other.status).toBe(401);
    expect(fake.violations.at(-1)?.message).toContain('is asked with a user token');
  });
});
