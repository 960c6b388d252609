/**
 * Who is looking at the dashboard: server-side sessions (the store's `dashboard_sessions`, so they
 * survive restarts and hold across replicas), the cookies that name them, the cross-site checks of
 * every form, and "Sign in with GitHub" (the App's OAuth web flow, src/github/oauth.ts).
 *
 * - The session cookie `moratorium_session` is 32 random bytes; the store keeps only its SHA-256.
 *   HttpOnly, SameSite=Lax (the sign-in comes back from GitHub as a cross-site navigation), Path
 *   /moratorium, 12 hours, Secure behind HTTPS (X-Forwarded-Proto https, or an https
 *   MORATORIUM_PUBLIC_URL). Signing out deletes the row: every copy of the cookie is then dead.
 * - The OAuth `state` is random, stored (hashed) for 10 minutes with the hash of a short-lived
 *   cookie `moratorium_oauth` (Path /moratorium/dashboard/auth) of the browser that asked: the
 *   callback takes the state once and accepts it only from that browser.
 * - Every form carries the session's own CSRF token, and every POST must come from the dashboard's
 *   own origin (Origin, or Referer when a browser sends no Origin).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AsyncStore, DashboardSession } from '../store/contract.js';
import { cookies, hmacHex, secretEquals } from './http-util.js';

export const COOKIE_NAME = 'moratorium_session';
export const OAUTH_COOKIE = 'moratorium_oauth';
export const CALLBACK_PATH = '/moratorium/dashboard/auth/callback';
export const SIGN_IN_PATH = '/moratorium/dashboard/auth/login';
export const SESSION_MAX_AGE_S = 12 * 3600;
export const STATE_MAX_AGE_S = 600;
/** the login of a session opened with the API token (it may look, not act) */
export const TOKEN_LOGIN = 'api-token';

const SECRET = /^[A-Za-z0-9_-]{43}$/;
export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(`moratorium dashboard:${secret}`).digest('hex');

export interface SessionOptions {
  /** MORATORIUM_PUBLIC_URL: its origin is the dashboard's (and https makes cookies Secure) */
  publicUrl?: string | undefined;
  /** MORATORIUM_API_TOKEN, when set: token sessions are tagged with it and die when it changes */
  apiToken: string | null;
}

export interface Session extends DashboardSession {
  idHash: string;
}

/** The first value of a forwarded header (`a, b` -> `a`). */
function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const out = v?.split(',')[0]?.trim();
  return out ? out : undefined;
}

export class DashboardSessions {
  private readonly publicOrigin: string | null;
  private readonly tokenTag: string | null;

  constructor(
    private readonly store: AsyncStore,
    private readonly clock: { now(): number },
    o: SessionOptions,
  ) {
    this.publicOrigin = o.publicUrl ? new URL(o.publicUrl).origin : null;
    this.tokenTag = o.apiToken ? hmacHex(o.apiToken, 'moratorium dashboard token session v2') : null;
  }

  /** The dashboard's own origin: MORATORIUM_PUBLIC_URL's, else the request's (honouring X-Forwarded-Proto and -Host). */
  originOf(req: IncomingMessage): string {
    if (this.publicOrigin) return this.publicOrigin;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    const proto = first(req.headers['x-forwarded-proto']) ?? (encrypted ? 'https' : 'http');
    const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? 'localhost';
    return `${proto === 'https' ? 'https' : 'http'}://${host}`;
  }

  /** Whether cookies get `Secure`: HTTPS in front (X-Forwarded-Proto or the public URL) or a TLS socket. */
  secure(req: IncomingMessage): boolean {
    return this.originOf(req).startsWith('https:') || first(req.headers['x-forwarded-proto']) === 'https';
  }

  /**
   * A POST made by a page of this origin: the browser's Origin (or, without one, its Referer)
   * names it. With MORATORIUM_PUBLIC_URL the whole origin must match, otherwise the host (a
   * proxy may not say its scheme). `allowNone`: a request naming no origin at all (no browser).
   */
  sameOrigin(req: IncomingMessage, allowNone = false): boolean {
    const origin = first(req.headers.origin);
    const referer = typeof req.headers.referer === 'string' ? req.headers.referer : undefined;
    let claimed: URL;
    try {
      if (origin !== undefined && origin !== 'null') claimed = new URL(origin);
      else if (origin === undefined && referer !== undefined) claimed = new URL(referer);
      else return origin === undefined && allowNone;
    } catch {
      return false;
    }
    const own = new URL(this.originOf(req));
    if (this.publicOrigin) return claimed.origin === own.origin;
    const hosts = [req.headers.host, first(req.headers['x-forwarded-host'])].filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
    return hosts.includes(claimed.host.toLowerCase());
  }

  cookie(req: IncomingMessage, name: string, value: string, maxAge: number, path: string): string {
    return `${name}=${value}; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${this.secure(req) ? '; Secure' : ''}`;
  }

  sessionCookie(req: IncomingMessage, value: string, maxAge = SESSION_MAX_AGE_S): string {
    return this.cookie(req, COOKIE_NAME, value, maxAge, '/moratorium');
  }

  /** The live session this request's cookie names, or null. Token sessions die when the token changes. */
  async current(req: IncomingMessage): Promise<Session | null> {
    const value = cookies(req).get(COOKIE_NAME);
    if (!value || !SECRET.test(value)) return null;
    const idHash = hashSecret(value);
    const found = await this.store.getDashboardSession(idHash, this.clock.now());
    if (!found) return null;
    if (found.kind === 'token' && (this.tokenTag === null || found.tokenTag === null || !secretEquals(found.tokenTag, this.tokenTag))) return null;
    return { ...found, idHash };
  }

  /** Opens a session; returns the cookie value (the only place the secret exists). */
  async open(kind: 'github' | 'token', login: string): Promise<string> {
    const value = newSecret();
    const now = this.clock.now();
    await this.store.createDashboardSession({ idHash: hashSecret(value), kind, login, csrf: newSecret(), tokenTag: kind === 'token' ? this.tokenTag : null, now, expiresAt: now + SESSION_MAX_AGE_S * 1000 });
    return value;
  }

  async end(session: Session): Promise<void> {
    await this.store.endDashboardSession(session.idHash);
  }

  /** The form's CSRF token is this session's. */
  csrfOk(session: Session, given: string | null): boolean {
    return typeof given === 'string' && given !== '' && secretEquals(given, session.csrf);
  }

  /**
   * Starts a sign-in: a new state bound to this browser (its OAuth cookie, reused when it already
   * has one, so two tabs can sign in at once). Returns the state and the cookie to set.
   */
  async newState(req: IncomingMessage): Promise<{ state: string; cookie: string }> {
    const existing = cookies(req).get(OAUTH_COOKIE);
    const browser = existing && SECRET.test(existing) ? existing : newSecret();
    const state = newSecret();
    const now = this.clock.now();
    await this.store.createOAuthState(hashSecret(state), hashSecret(browser), now, now + STATE_MAX_AGE_S * 1000);
    return { state, cookie: this.cookie(req, OAUTH_COOKIE, browser, STATE_MAX_AGE_S, '/moratorium/dashboard/auth') };
  }

  /** Takes a state once: true only when it exists, is not expired and was made for this browser. */
  async takeState(req: IncomingMessage, state: string | null): Promise<boolean> {
    if (!state || !SECRET.test(state)) return false;
    const taken = await this.store.takeOAuthState(hashSecret(state));
    if (!taken || taken.expiresAt <= this.clock.now()) return false;
    const browser = cookies(req).get(OAUTH_COOKIE);
    return Boolean(browser && SECRET.test(browser) && secretEquals(hashSecret(browser), taken.browserHash));
  }

  clearStateCookie(req: IncomingMessage): string {
    return this.cookie(req, OAUTH_COOKIE, '', 0, '/moratorium/dashboard/auth');
  }
}
