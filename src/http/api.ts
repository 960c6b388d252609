/**
 * The HTTP API (SPEC 7) under /moratorium/api/v1: bearer-token JSON endpoints over the same
 * domain actions as the comment commands, so every change is audited (source `api`) and fans out
 * to the open PRs of its scope.
 *
 * Answers: 503 while MORATORIUM_API_TOKEN is unset; 401 (with `WWW-Authenticate: Bearer`) for a
 * missing or wrong token on every /moratorium/api path; 404 for unknown paths, ids, accounts the app
 * is not installed on and repositories it does not know; 405 (with `Allow`) for a wrong method; 400
 * for bad JSON or a body that does not fit; 413 for a body over 64 KiB; 409 for a phase change the
 * incident's phase does not allow and for ending a freeze that had ended. Bad input changes nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { MODES, SEVERITIES } from '../config/schema.js';
import { parseIsoTime } from '../time/iso.js';
import { NoInstallationError, PhaseError, incidentId, type Actor } from '../domain/actions.js';
import { buildReport } from '../domain/report.js';
import type { Env } from '../env.js';
import type { HttpDeps } from './deps.js';
import type { Transaction } from '../store/contract.js';
import type { AuditEntry } from '../store/records.js';
import { key } from '../store/records.js';
import { HttpError, bearerToken, readJson, sanitizeActor, secretEquals } from './http-util.js';
import { accountSchema, parseWith, repoSchema } from './api-schemas.js';
import { sendJson, type Route } from './router.js';
import { accountState, freezeJson, incidentJson } from './state.js';
import { deployGateEndpoints, OIDC_PATHS, type Principal } from './gate-api.js';
import { looksLikeJwt, OidcError, OidcVerifier } from './oidc.js';

export const API_PREFIX = '/moratorium/api/v1';

export { accountSchema, repoSchema };

const freezeBody = z.strictObject({
  account: accountSchema,
  repo: repoSchema.nullish(),
  mode: z.enum(MODES).default('features'),
  until: z.string().nullish().describe('ISO 8601; without an offset it is UTC'),
  reason: z.string().max(1000, 'at most 1000 characters').default(''),
});

const incidentBody = z.strictObject({
  account: accountSchema,
  repo: repoSchema.nullish(),
  severity: z.enum(SEVERITIES),
  title: z.string().trim().min(1, 'must not be empty').max(500, 'at most 500 characters'),
});

const noteBody = z.strictObject({
  note: z.string().max(2000, 'at most 2000 characters').default(''),
});

const endFreezeBody = z.strictObject({
  reason: z.string().max(1000, 'at most 1000 characters').default(''),
});

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  actor: Actor;
  /** who the bearer is: the API token (any repository) or an OIDC token (its repository only) */
  principal: Principal;
}

type Handler = (c: Ctx) => Promise<true> | true;

export interface Endpoint {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

/** `3`, `INC-3` (any case): the incident or freeze id of a path, or null. */
function idOf(text: string | undefined, allowIncPrefix: boolean): number | null {
  if (!text) return null;
  const m = (allowIncPrefix ? /^(?:inc-)?(\d{1,15})$/i : /^(\d{1,15})$/).exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

async function requireAccount(s: HttpDeps, raw: unknown): Promise<string> {
  if (raw === null || raw === undefined || raw === '') throw new HttpError(400, 'account: required (?account=<the GitHub organisation or user>)');
  const parsed = accountSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, `account: ${parsed.error.issues[0]?.message ?? 'not a GitHub account login'}`);
  const account = parsed.data;
  if ((await s.store.installationOfAccount(account)) === null) {
    throw new HttpError(404, `the app is not installed on account ${account}`);
  }
  return account;
}

async function requireRepo(s: HttpDeps, account: string, repo: string | null | undefined): Promise<string | null> {
  if (repo === null || repo === undefined) return null;
  if (!(await s.store.getRepo(account, repo))) {
    throw new HttpError(404, `repository ${key(account)}/${key(repo)} is not known to Moratorium: it is not in the installation, or no event or reconcile has listed it yet`);
  }
  return key(repo);
}

function auditJson(a: AuditEntry) {
  return {
    id: a.id,
    at: new Date(a.at).toISOString(),
    account: a.account,
    repo: a.repo,
    actor: a.actor,
    source: a.source,
    action: a.action,
    target: a.target,
    reason: a.reason,
    deliveryId: a.deliveryId,
    incident: a.incidentId === null ? null : incidentId(a.incidentId),
    details: a.details,
  };
}

export function createApi(s: HttpDeps, env: Pick<Env, 'MORATORIUM_API_TOKEN'> & Partial<Pick<Env, 'MORATORIUM_OIDC_ISSUER' | 'MORATORIUM_OIDC_AUDIENCE'>>, opts: { oidc?: OidcVerifier } = {}): Route {
  const token = env.MORATORIUM_API_TOKEN && env.MORATORIUM_API_TOKEN.length > 0 ? env.MORATORIUM_API_TOKEN : null;
  const oidc = opts.oidc ?? new OidcVerifier({ issuer: env.MORATORIUM_OIDC_ISSUER, audience: env.MORATORIUM_OIDC_AUDIENCE, clock: s.clock });
  const invalidToken = (message: string) => new HttpError(401, message, { 'www-authenticate': 'Bearer realm="moratorium", error="invalid_token"' });

  const change = async <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> => {
    const result = await s.store.transaction(fn);
    s.committed();
    return result;
  };

  const endpoints: Endpoint[] = [
    ...deployGateEndpoints(s),
    {
      pattern: /^\/state$/,
      methods: {
        GET: async ({ res, url }) => {
          const account = await requireAccount(s, url.searchParams.get('account'));
          const repoParam = url.searchParams.get('repo');
          const repo = await requireRepo(s, account, repoParam === null || repoParam === '' ? null : parseWith(repoSchema, repoParam));
          return sendJson(res, 200, await accountState(s.store, account, repo, s.clock.now()));
        },
      },
    },
    {
      pattern: /^\/freezes$/,
      methods: {
        POST: async ({ req, res, actor }) => {
          const body = parseWith(freezeBody, await readJson(req));
          const account = await requireAccount(s, body.account);
          const repo = await requireRepo(s, account, body.repo);
          let until: number | null = null;
          if (body.until !== null && body.until !== undefined) {
            until = parseIsoTime(body.until.trim());
            if (until === null) throw new HttpError(400, 'until: must be an ISO 8601 time such as 2026-12-01T18:00Z or 2026-12-01T18:00+01:00 (no offset: UTC)');
            if (until <= s.clock.now()) throw new HttpError(400, `until: must be in the future (it is ${new Date(until).toISOString()}, now is ${new Date(s.clock.now()).toISOString()})`);
          }
          const freeze = await change((tx) => s.actions.freeze(tx, { account, repo }, body.mode, until, body.reason, actor));
          return sendJson(res, 201, freezeJson(freeze), { location: `${API_PREFIX}/freezes/${freeze.id}` });
        },
      },
    },
    {
      pattern: /^\/freezes\/([^/]+)$/,
      methods: {
        GET: async ({ res, params }) => {
          const freeze = await findFreeze(s, params[0]);
          return sendJson(res, 200, freezeJson(freeze));
        },
        DELETE: async ({ req, res, params, actor }) => {
          const freeze = await findFreeze(s, params[0]);
          const body = parseWith(endFreezeBody, await readJson(req, {}));
          const now = s.clock.now();
          if (freeze.endedAt !== null) throw new HttpError(409, `freeze ${freeze.id} had already ended (${new Date(freeze.endedAt).toISOString()}, by ${freeze.endedBy ?? 'unknown'})`);
          if (freeze.until !== null && freeze.until <= now) throw new HttpError(409, `freeze ${freeze.id} had already ended: its time was up at ${new Date(freeze.until).toISOString()}`);
          const ended = await change((tx) => s.actions.endFreeze(tx, freeze.id, body.reason, actor));
          if (!ended) throw new HttpError(409, `freeze ${freeze.id} had already ended`);
          return sendJson(res, 200, freezeJson(ended));
        },
      },
    },
    {
      pattern: /^\/incidents$/,
      methods: {
        POST: async ({ req, res, actor }) => {
          const body = parseWith(incidentBody, await readJson(req));
          const account = await requireAccount(s, body.account);
          const repo = await requireRepo(s, account, body.repo);
          const incident = await change((tx) => s.actions.openIncident(tx, { account, repo }, body.severity, body.title, actor));
          return sendJson(res, 201, await incidentJson(s.store, incident), { location: `${API_PREFIX}/incidents/${incident.id}` });
        },
      },
    },
    {
      pattern: /^\/incidents\/([^/]+)$/,
      methods: {
        GET: async ({ res, params }) => sendJson(res, 200, await incidentJson(s.store, await findIncident(s, params[0]))),
      },
    },
    {
      pattern: /^\/incidents\/([^/]+)\/(resolve|close)$/,
      methods: {
        POST: async ({ req, res, params, actor }) => {
          const incident = await findIncident(s, params[0]);
          const body = parseWith(noteBody, await readJson(req, {}));
          const changed = await change((tx) =>
            params[1] === 'resolve' ? s.actions.resolveIncident(tx, incident.id, body.note, actor) : s.actions.closeIncident(tx, incident.id, body.note, actor),
          );
          return sendJson(res, 200, await incidentJson(s.store, changed));
        },
      },
    },
    {
      pattern: /^\/incidents\/([^/]+)\/report$/,
      methods: {
        GET: async ({ res, params }) => {
          const incident = await findIncident(s, params[0]);
          return sendJson(res, 200, await buildReport(s.store, incident, s.clock.now()));
        },
      },
    },
    {
      pattern: /^\/audit$/,
      methods: {
        GET: async ({ res, url }) => {
          const account = await requireAccount(s, url.searchParams.get('account'));
          const rawLimit = url.searchParams.get('limit');
          let limit = 50;
          if (rawLimit !== null) {
            if (!/^\d{1,4}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 500) throw new HttpError(400, 'limit: must be a whole number from 1 to 500');
            limit = Number(rawLimit);
          }
          return sendJson(res, 200, { account: key(account), entries: (await s.store.auditOfAccount(account, limit)).map(auditJson) });
        },
      },
    },
  ];

  return async (req, res, url) => {
    if (url.pathname !== '/moratorium/api' && !url.pathname.startsWith('/moratorium/api/')) return false;
    try {
      if (token === null) throw new HttpError(503, 'the HTTP API is disabled: set MORATORIUM_API_TOKEN to enable it');
      const given = bearerToken(req);
      if (given === null) throw new HttpError(401, 'an Authorization: Bearer token is required', { 'www-authenticate': 'Bearer realm="moratorium"' });
      const rest = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : null;
      let principal: Principal;
      if (secretEquals(given, token)) {
        principal = { kind: 'token' };
      } else if (rest !== null && OIDC_PATHS.has(rest) && looksLikeJwt(given)) {
        // SPEC 10: on the gate's two paths, a GitHub Actions OIDC token, for its own repository only
        try {
          const claims = await oidc.verify(given);
          principal = { kind: 'oidc', repository: claims.repository, actor: claims.actor };
        } catch (error) {
          if (error instanceof OidcError && error.status === 503) throw new HttpError(503, error.message);
          if (error instanceof OidcError) throw invalidToken(error.message);
          throw error;
        }
      } else {
        throw invalidToken('the bearer token is not valid');
      }

      if (rest === null) throw new HttpError(404, `no such path: ${url.pathname} (the API lives under ${API_PREFIX})`);
      for (const endpoint of endpoints) {
        const m = endpoint.pattern.exec(rest);
        if (!m) continue;
        const method = req.method ?? 'GET';
        const handler = endpoint.methods[method];
        if (!handler) throw new HttpError(405, `${method} is not allowed on ${url.pathname}: use ${Object.keys(endpoint.methods).join(' or ')}`, { allow: Object.keys(endpoint.methods).join(', ') });
        if (principal.kind === 'oidc' && !OIDC_PATHS.has(rest)) throw invalidToken('an OIDC token may only ask the gate and record deploys');
        const login = principal.kind === 'oidc' ? sanitizeActor(principal.actor ? `github-actions/${principal.actor}` : 'github-actions') : sanitizeActor(req.headers['x-moratorium-actor']);
        const actor: Actor = { login, source: 'api' };
        return await handler({ req, res, url, params: m.slice(1).map((p) => decodeURIComponent(p)), actor, principal });
      }
      throw new HttpError(404, `no such path: ${url.pathname}`);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message }, error.headers);
      if (error instanceof PhaseError) return sendJson(res, 409, { error: error.message });
      if (error instanceof NoInstallationError) return sendJson(res, 404, { error: error.message });
      if (error instanceof URIError) return sendJson(res, 404, { error: `no such path: ${url.pathname}` });
      throw error;
    }
  };
}

async function findFreeze(s: HttpDeps, raw: string | undefined) {
  const id = idOf(raw, false);
  const freeze = id === null ? null : await s.store.getFreeze(id);
  if (!freeze) throw new HttpError(404, `no freeze ${raw ?? ''}`.trim());
  return freeze;
}

async function findIncident(s: HttpDeps, raw: string | undefined) {
  const id = idOf(raw, true);
  const incident = id === null ? null : await s.store.getIncident(id);
  if (!incident) throw new HttpError(404, `no incident ${raw ?? ''}`.trim());
  return incident;
}
