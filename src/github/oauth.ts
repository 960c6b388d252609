/**
 * The GitHub App's user authorization (the OAuth web flow), for signing in to the dashboard: the
 * authorize URL on the GitHub host, the code exchange at `/login/oauth/access_token`, and the login
 * of the token from `GET /user`. The user's token is used for that one request and then dropped:
 * what a person may do is always asked of GitHub through the installation (src/commands/authorize.ts).
 */

export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  /** `https://github.com`, or `${GHE_PROTOCOL}://${GHE_HOST}` */
  webUrl: string;
  /** the REST API base: `https://api.github.com`, or `.../api/v3` on GitHub Enterprise Server */
  apiUrl: string;
  /** per request; default 10 s */
  timeoutMs?: number;
}

/** GitHub said no, or could not be asked: `message` says which, for the page. */
export class OAuthError extends Error {}

/** The GitHub host of an environment: github.com, or the GHE host. */
export function githubWebUrl(env: { GHE_HOST?: string | undefined; GHE_PROTOCOL?: string | undefined }): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}` : 'https://github.com';
}

export class GitHubOAuth {
  private readonly webUrl: string;
  private readonly apiUrl: string;

  constructor(private readonly o: OAuthOptions) {
    this.webUrl = o.webUrl.replace(/\/+$/, '');
    this.apiUrl = o.apiUrl.replace(/\/+$/, '');
  }

  /** Where the browser is sent to authorize: GitHub sends it back to `redirectUri` with `code` and `state`. */
  authorizeUrl(state: string, redirectUri: string): string {
    const u = new URL(`${this.webUrl}/login/oauth/authorize`);
    u.searchParams.set('client_id', this.o.clientId);
    u.searchParams.set('redirect_uri', redirectUri);
    u.searchParams.set('state', state);
    u.searchParams.set('allow_signup', 'false');
    return u.toString();
  }

  /** The login of whoever authorized: the code is exchanged for a user token, which asks `GET /user` once. */
  async loginFor(code: string, redirectUri: string): Promise<string> {
    const token = await this.exchange(code, redirectUri);
    return this.userLogin(token);
  }

  private async request(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
    } catch (error) {
      throw new OAuthError(`GitHub could not be reached (${what}): ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new OAuthError(`GitHub answered ${what} with ${res.status} and a body that is not JSON`);
    }
    return { status: res.status, body };
  }

  private async exchange(code: string, redirectUri: string): Promise<string> {
    const { status, body } = await this.request(
      `${this.webUrl}/login/oauth/access_token`,
      {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'moratorium' },
        body: JSON.stringify({ client_id: this.o.clientId, client_secret: this.o.clientSecret, code, redirect_uri: redirectUri }),
      },
      'the code exchange',
    );
    const b = (body ?? {}) as { access_token?: unknown; error?: unknown; error_description?: unknown };
    // GitHub answers a refused exchange with 200 and an `error`
    if (typeof b.error === 'string') throw new OAuthError(`GitHub refused the sign-in code: ${typeof b.error_description === 'string' ? b.error_description : b.error} (${b.error})`);
    if (status !== 200 || typeof b.access_token !== 'string' || b.access_token === '') throw new OAuthError(`GitHub answered the code exchange with ${status} and no token`);
    return b.access_token;
  }

  private async userLogin(token: string): Promise<string> {
    const { status, body } = await this.request(
      `${this.apiUrl}/user`,
      { headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28', 'user-agent': 'moratorium' } },
      'GET /user',
    );
    const login = (body as { login?: unknown } | null)?.login;
    if (status !== 200 || typeof login !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(login)) throw new OAuthError(`GitHub answered GET /user with ${status} and no login`);
    return login;
  }
}
