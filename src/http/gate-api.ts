/**
 * SPEC 10: any deploy tool asks the gate and reports its deploys.
 *
 * - `GET /moratorium/api/v1/gate?repo=OWNER/NAME&environment=ENV[&sha=SHA]`: the answer a deployment
 *   protection rule would get now, through the same use case (Deployments.askGate: load, decide with
 *   src/gate/deployment.ts, and publish nothing but this answer).
 * - `POST /moratorium/api/v1/deployments` `{repo, environment, sha, id, state}`: a deploy another tool
 *   made; a success counts once per id (201, then 200 for the same id).
 *
 * Both take the API token (any repository) or a GitHub Actions OIDC token, which may ask and record
 * only for its `repository` claim (403 otherwise). Bad input gets a 4xx and records nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Actor } from '../domain/actions.js';
import type { GateAnswer } from '../domain/deployments.js';
import { key } from '../store/records.js';
import { accountSchema, parseWith, repoSchema } from './api-schemas.js';
import type { HttpDeps } from './deps.js';
import { HttpError, readJson } from './http-util.js';
import { sendJson } from './router.js';

/** The bearer of a request: the API token, or a verified OIDC token of one repository. */
export type Principal = { kind: 'token' } | { kind: 'oidc'; repository: string; actor: string | null };

/** The paths (below /moratorium/api/v1) where an OIDC token is accepted. */
export const OIDC_PATHS: ReadonlySet<string> = new Set(['/gate', '/deployments']);

interface GateCtx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  actor: Actor;
  principal: Principal;
}

interface GateEndpoint {
  pattern: RegExp;
  methods: Record<string, (c: GateCtx) => Promise<true>>;
}

const fullRepoSchema = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const [owner, name, ...more] = text.split('/');
    const o = accountSchema.safeParse(owner);
    const r = repoSchema.safeParse(name);
    if (more.length || !o.success || !r.success) {
      ctx.addIssue({ code: 'custom', message: 'must be OWNER/NAME, such as "acme/api"' });
      return z.NEVER;
    }
    return { owner: o.data, name: r.data };
  });

const environmentSchema = z.string().trim().min(1, 'must not be empty').max(255, 'at most 255 characters');
const shaSchema = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{40}$/, 'must be a full commit SHA (40 hexadecimal characters)')
  .transform((s) => s.toLowerCase());

const deploymentBody = z.strictObject({
  repo: fullRepoSchema,
  environment: environmentSchema,
  sha: shaSchema,
  id: z.union([z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'), z.number().int().nonnegative().transform(String)]),
  state: z.enum(['success', 'failure']),
});

const gateQuery = z.strictObject({
  repo: fullRepoSchema,
  environment: environmentSchema,
  sha: shaSchema.optional(),
});

/** The repository the request names, checked against the bearer and the installations: 403, 404, or its installation. */
async function resolveRepo(s: HttpDeps, principal: Principal, repo: { owner: string; name: string }): Promise<{ installationId: number; owner: string; repo: string }> {
  const full = `${key(repo.owner)}/${key(repo.name)}`;
  if (principal.kind === 'oidc' && key(principal.repository) !== full) {
    throw new HttpError(403, `this OIDC token is for ${principal.repository} and may ask and record only for that repository, not ${repo.owner}/${repo.name}`);
  }
  const installationId = await s.store.installationOfAccount(repo.owner);
  if (installationId === null) throw new HttpError(404, `the app is not installed on account ${key(repo.owner)}`);
  const known = await s.store.getRepo(repo.owner, repo.name);
  if (!known) throw new HttpError(404, `repository ${full} is not known to Moratorium: it is not in the installation, or no event or reconcile has listed it yet`);
  return { installationId: known.installationId ?? installationId, owner: key(repo.owner), repo: key(repo.name) };
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export function gateJson(repo: string, environment: string, sha: string | null, a: GateAnswer) {
  return {
    open: a.open,
    title: a.title,
    reasons: a.reasons.map((r) => ({ kind: r.kind, key: r.key, blocks: r.blocks, label: r.label, ends: r.ends, until: iso(r.until) })),
    hotfix: a.hotfix,
    hotfix_why: a.hotfixWhy,
    blocked_until: iso(a.blockedUntil),
    next_change_at: iso(a.nextChangeAt),
    gated: a.gated,
    repo,
    environment,
    sha,
  };
}

export function deployGateEndpoints(s: HttpDeps): GateEndpoint[] {
  return [
    {
      pattern: /^\/gate$/,
      methods: {
        GET: async ({ res, url, principal }) => {
          const q = parseWith(gateQuery, Object.fromEntries(url.searchParams));
          const r = await resolveRepo(s, principal, q.repo);
          const sha = q.sha ?? null;
          const answer = await s.deployments.askGate({ installationId: r.installationId, owner: r.owner, repo: r.repo, environment: q.environment, sha });
          return sendJson(res, 200, gateJson(`${r.owner}/${r.repo}`, q.environment, sha, answer));
        },
      },
    },
    {
      pattern: /^\/deployments$/,
      methods: {
        POST: async ({ req, res, principal, actor }) => {
          const body = parseWith(deploymentBody, await readJson(req));
          const r = await resolveRepo(s, principal, body.repo);
          const result = await s.deployments.recordExternalDeploy({ installationId: r.installationId, owner: r.owner, repo: r.repo, environment: body.environment, sha: body.sha, id: body.id, state: body.state, actor: actor.login });
          const recorded = body.state === 'success';
          return sendJson(res, recorded && result.created ? 201 : 200, {
            repo: `${r.owner}/${r.repo}`,
            environment: body.environment,
            sha: body.sha,
            id: body.id,
            state: body.state,
            recorded,
            created: result.created,
            counted: recorded && result.counted,
          });
        },
      },
    },
  ];
}
