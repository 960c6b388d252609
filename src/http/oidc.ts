/**
 * GitHub Actions OIDC tokens as a bearer for the gate API (SPEC 10), verified with `jose` against
 * the issuer's published keys (`${issuer}/.well-known/jwks`). Keys are cached and fetched again
 * only for a key id they do not hold, at most once every 30 seconds (so a stream of tokens with
 * made-up key ids cannot make the app hammer the issuer). Only RS256 and ES256 signatures are
 * accepted (never `none`); issuer, audience and expiry are checked against the injected clock.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Clock } from '../clock.js';

export const DEFAULT_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_OIDC_AUDIENCE = 'moratorium';
/** an unknown key id fetches the keys again at most this often */
export const JWKS_REFETCH_MS = 30_000;
const ALGORITHMS = ['RS256', 'ES256'];

/** Why a token was refused: `status` 401 (the token) or 503 (the issuer's keys could not be fetched). */
export class OidcError extends Error {
  constructor(
    readonly status: 401 | 503,
    message: string,
  ) {
    super(message);
  }
}

export interface OidcClaims {
  /** OWNER/NAME of the workflow's repository */
  repository: string;
  /** the login that started the run, when the token says */
  actor: string | null;
}

export interface OidcOptions {
  issuer?: string | undefined;
  audience?: string | undefined;
  clock: Clock;
  /** fetches the issuer's key set (default: global fetch, 5 s timeout) */
  fetchJwks?: (url: string) => Promise<unknown>;
}

async function defaultFetchJwks(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

/** Does `token` look like a JWT (three dot-separated parts, the last may be empty as for `alg: none`)? */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

export class OidcVerifier {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  private readonly clock: Clock;
  private readonly fetchJwks: (url: string) => Promise<unknown>;
  private keys: JSONWebKeySet | null = null;
  private local: ReturnType<typeof createLocalJWKSet> | null = null;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;
  /** how many times the key set was fetched (tests and metrics) */
  fetches = 0;

  constructor(o: OidcOptions) {
    this.issuer = (o.issuer && o.issuer.length ? o.issuer : DEFAULT_OIDC_ISSUER).replace(/\/+$/, '');
    this.audience = o.audience && o.audience.length ? o.audience : DEFAULT_OIDC_AUDIENCE;
    this.jwksUrl = `${this.issuer}/.well-known/jwks`;
    this.clock = o.clock;
    this.fetchJwks = o.fetchJwks ?? defaultFetchJwks;
  }

  private hasKey(kid: string | undefined): boolean {
    if (!this.keys) return false;
    if (kid === undefined) return this.keys.keys.length > 0;
    return this.keys.keys.some((k) => k.kid === kid);
  }

  private async refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.fetchedAt = this.clock.now();
    this.fetches++;
    this.inflight = (async () => {
      try {
        const body = await this.fetchJwks(this.jwksUrl);
        if (!isKeySet(body)) throw new Error(`${this.jwksUrl} did not answer a JSON Web Key Set`);
        this.keys = body;
        this.local = createLocalJWKSet(body);
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** The keys, fetched when there are none yet, or when `kid` is unknown and the last fetch is 30 s old. */
  private async keysFor(kid: string | undefined): Promise<ReturnType<typeof createLocalJWKSet>> {
    const stale = this.clock.now() - this.fetchedAt >= JWKS_REFETCH_MS;
    if ((!this.local && stale) || (!this.hasKey(kid) && stale)) {
      try {
        await this.refresh();
      } catch (error) {
        if (!this.local) throw new OidcError(503, `cannot fetch the OIDC issuer's keys (${this.jwksUrl}): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!this.local) throw new OidcError(503, `the OIDC issuer's keys (${this.jwksUrl}) could not be fetched yet; try again in a moment`);
    return this.local;
  }

  /** The token's claims, or an OidcError (401 for any fault of the token). */
  async verify(token: string): Promise<OidcClaims> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new OidcError(401, 'the bearer token is neither the API token nor a well-formed OIDC token');
    }
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) {
      throw new OidcError(401, `the OIDC token's algorithm ${JSON.stringify(header.alg ?? null)} is not accepted (only ${ALGORITHMS.join(' and ')})`);
    }
    const keys = await this.keysFor(typeof header.kid === 'string' ? header.kid : undefined);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ALGORITHMS,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'repository'],
      }));
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
      const why =
        code === 'ERR_JWT_EXPIRED'
          ? 'it has expired'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? `its claims do not fit (${error instanceof Error ? error.message : ''}; issuer must be ${this.issuer}, audience ${this.audience})`
            : code === 'ERR_JWKS_NO_MATCHING_KEY'
              ? "it is not signed with one of the issuer's keys"
              : 'its signature does not verify';
      throw new OidcError(401, `the OIDC token is not valid: ${why}`);
    }
    const repository = payload.repository;
    if (typeof repository !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(repository)) throw new OidcError(401, 'the OIDC token has no repository claim');
    const actor = typeof payload.actor === 'string' ? payload.actor : null;
    return { repository, actor };
  }
}
