import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/domain/report.js';
import { serve, T0, type Served } from './support.js';

const V1 = '/moratorium/api/v1';
const SHA = 'a'.repeat(40);
const HOTFIX_SHA = 'b'.repeat(40);

const cadenceConfig = { kind: 'found' as const, data: { cadence: { max: 1, per: '24h', counts: 'deployments', environments: ['production'] } } };

describe('gate API: GET /gate answers as the protection rule would', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
  });
  afterEach(async () => app.close());

  it('is open with nothing in force, and null times', async () => {
    const res = await app.fetch(`${V1}/gate?repo=acme/api&environment=production`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ open: true, title: 'Open', reasons: [], hotfix: false, blocked_until: null, next_change_at: null, gated: true });
  });

  it('is open for an environment outside deployments.environments, with a reason saying it is not gated', async () => {
    await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', mode: 'all' } });
    const res = await app.fetch(`${V1}/gate?repo=acme/api&environment=staging`);
    expect(res.status).toBe(200);
    expect(res.body.open).toBe(true);
    expect(res.body.gated).toBe(false);
    expect(res.body.reasons).toEqual([expect.objectContaining({ kind: 'not_gated', blocks: false, label: expect.stringMatching(/staging.*not gated/) })]);
    expect(res.body.blocked_until).toBeNull();
  });

  it('is blocked by a timed freeze, with blocked_until and next_change_at at its end', async () => {
    const until = '2026-11-30T12:00:00.000Z';
    expect((await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme', repo: 'api', until, reason: 'migration' } })).status).toBe(201);
    const res = await app.fetch(`${V1}/gate?repo=ACME/API&environment=production&sha=${SHA}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ open: false, hotfix: false, blocked_until: until, next_change_at: until, sha: SHA });
    expect(res.body.title).toMatch(/^Frozen/);
    expect(res.body.reasons[0]).toMatchObject({ kind: 'freeze', blocks: true, until });
  });

  it('lets the head commit of a hotfix PR through a features freeze', async () => {
    app.port.addPull('api', { number: 7, headRef: 'hotfix/db', headSha: HOTFIX_SHA });
    await app.fetch(`${V1}/freezes`, { method: 'POST', json: { account: 'acme' } });
    const hot = await app.fetch(`${V1}/gate?repo=acme/api&environment=production&sha=${HOTFIX_SHA}`);
    expect(hot.body).toMatchObject({ open: true, hotfix: true });
    expect(hot.body.hotfix_why).toMatch(/#7/);
    const plain = await app.fetch(`${V1}/gate?repo=acme/api&environment=production&sha=${SHA}`);
    expect(plain.body).toMatchObject({ open: false, hotfix: false });
  });

  it('refuses bad input with 4xx and an error', async () => {
    const cases: [string, number, RegExp][] = [
      [`repo=acme/nope&environment=production`, 404, /not known/],
      [`repo=other/api&environment=production`, 404, /not installed/],
      [`repo=acme/api&environment=production&sha=abc`, 400, /sha.*40/],
      [`repo=acme/api&environment=production&sha=${'g'.repeat(40)}`, 400, /sha/],
      [`repo=acme/api`, 400, /environment/],
      [`repo=acme&environment=production`, 400, /OWNER\/NAME/],
      [`environment=production`, 400, /repo/],
      [`repo=acme/api&environment=production&extra=1`, 400, /unknown key/],
    ];
    for (const [query, status, error] of cases) {
      const res = await app.fetch(`${V1}/gate?${query}`);
      expect(res.status, query).toBe(status);
      expect(res.body.error, query).toMatch(error);
    }
    expect((await app.fetch(`${V1}/gate?repo=acme/api&environment=production`, { method: 'POST' })).status).toBe(405);
  });
});

describe('gate API: POST /deployments records a deploy made by another tool', () => {
  let app: Served;
  beforeEach(async () => {
    app = await serve();
    app.port.config = cadenceConfig;
  });
  afterEach(async () => app.close());

  const deploy = (over: Record<string, unknown> = {}) => ({ repo: 'acme/api', environment: 'production', sha: SHA, id: 'argo-1', state: 'success', ...over });

  it('counts a success once per id (201, then 200), so the cadence blocks the next deploy, and the report shows it', async () => {
    const incident = await app.fetch(`${V1}/incidents`, { method: 'POST', json: { account: 'acme', severity: 'sev3', title: 'slow' } });
    const first = await app.fetch(`${V1}/deployments`, { method: 'POST', json: deploy(), headers: { 'x-moratorium-actor': 'argocd' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ recorded: true, created: true, counted: true, id: 'argo-1' });
    app.clock.t += 60_000;
    const again = await app.fetch(`${V1}/deployments`, { method: 'POST', json: deploy() });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ recorded: true, created: false });
    expect((await app.store.deployTimes('acme', 'api', 'deployment', 'production', 0))).toEqual([T0]);

    const gate = await app.fetch(`${V1}/gate?repo=acme/api&environment=production`);
    expect(gate.body.open).toBe(false);
    expect(gate.body.title).toMatch(/Deploy limit: 1 of 1/);
    expect(gate.body.next_change_at).toBe(new Date(T0 + 86_400_000).toISOString());

    const report = await buildReport(app.store, (await app.store.getIncident(incident.body.id))!, app.clock.now());
    expect(report.deployments).toBe(1);
    expect(report.timeline).toContainEqual(expect.objectContaining({ kind: 'deployment', actor: 'argocd', text: expect.stringContaining('deployed api aaaaaaa to production') }));
  });

  it('records nothing for a failure', async () => {
    const res = await app.fetch(`${V1}/deployments`, { method: 'POST', json: deploy({ state: 'failure' }) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recorded: false, counted: false });
    expect((await app.store.deployTimes('acme', 'api', 'deployment', 'production', 0))).toEqual([]);
    expect((await app.fetch(`${V1}/gate?repo=acme/api&environment=production`)).body.open).toBe(true);
  });

  it('refuses bad bodies with 4xx and records nothing', async () => {
    const { id: _id, ...noId } = deploy();
    const { state: _state, ...noState } = deploy();
    const cases: [unknown, number, RegExp][] = [
      [deploy({ repo: 'acme/nope' }), 404, /not known/],
      [deploy({ repo: 'nobody/api' }), 404, /not installed/],
      [deploy({ sha: 'abc123' }), 400, /sha/],
      [noId, 400, /id/],
      [noState, 400, /state/],
      [deploy({ state: 'pending' }), 400, /state/],
      [deploy({ extra: true }), 400, /unknown key/],
      [deploy({ id: '' }), 400, /id/],
    ];
    for (const [json, status, error] of cases) {
      const res = await app.fetch(`${V1}/deployments`, { method: 'POST', json });
      expect(res.status, JSON.stringify(json)).toBe(status);
      expect(res.body.error, JSON.stringify(json)).toMatch(error);
    }
    const big = await app.fetch(`${V1}/deployments`, { method: 'POST', body: JSON.stringify(deploy({ id: 'x'.repeat(70_000) })), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect((await app.fetch(`${V1}/deployments`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await app.store.deployTimes('acme', 'api', 'deployment', 'production', 0))).toEqual([]);
  });
});

/** A local OIDC issuer on 127.0.0.1: serves its JWKS and counts the fetches. */
async function localIssuer() {
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const jwks: { keys: JWK[] } = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    rsa,
    ec,
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('gate API: GitHub Actions OIDC tokens as the bearer', () => {
  let issuer: Awaited<ReturnType<typeof localIssuer>>;
  let app: Served;
  beforeAll(async () => {
    issuer = await localIssuer();
  });
  afterAll(async () => issuer.close());
  beforeEach(async () => {
    app = await serve({ MORATORIUM_OIDC_ISSUER: issuer.issuer, MORATORIUM_OIDC_AUDIENCE: 'moratorium' });
    await app.store.upsertRepo('acme', 'web', 1, 'acme/web', 'main');
  });
  afterEach(async () => app.close());

  const sign = (claims: Record<string, unknown> = {}, o: { alg?: 'RS256' | 'ES256'; kid?: string; iss?: string; aud?: string; exp?: number; key?: Parameters<SignJWT['sign']>[0] } = {}) => {
    const alg = o.alg ?? 'RS256';
    const now = Math.floor(app.clock.now() / 1000);
    return new SignJWT({ repository: 'acme/api', repository_owner: 'acme', actor: 'octocat', sha: SHA, ref: 'refs/heads/main', ...claims })
      .setProtectedHeader({ alg, kid: o.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1'), typ: 'JWT' })
      .setIssuer(o.iss ?? issuer.issuer)
      .setAudience(o.aud ?? 'moratorium')
      .setIssuedAt(now - 10)
      .setExpirationTime(o.exp ?? now + 300)
      .sign(o.key ?? (alg === 'RS256' ? issuer.rsa.privateKey : issuer.ec.privateKey));
  };
  const gate = (token: string, repo = 'acme/api') => app.fetch(`${V1}/gate?repo=${repo}&environment=production`, { token });

  it('lets a token for acme/api ask about acme/api (RS256 and ES256), and answers 403 for acme/web', async () => {
    expect((await gate(await sign())).status).toBe(200);
    expect((await gate(await sign({}, { alg: 'ES256' }))).status).toBe(200);
    const other = await gate(await sign(), 'acme/web');
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/acme\/api/);
    const record = await app.fetch(`${V1}/deployments`, { method: 'POST', token: await sign(), json: { repo: 'acme/web', environment: 'production', sha: SHA, id: '1', state: 'success' } });
    expect(record.status).toBe(403);
    expect((await app.store.deployTimes('acme', 'web', 'deployment', 'production', 0))).toEqual([]);
  });

  it('records a deploy for its own repository, with the run actor', async () => {
    const res = await app.fetch(`${V1}/deployments`, { method: 'POST', token: await sign(), json: { repo: 'acme/api', environment: 'production', sha: SHA, id: 9, state: 'success' } });
    expect(res.status).toBe(201);
    expect((await app.store.deploysOfAccount('acme', 0, Number.MAX_SAFE_INTEGER))).toEqual([expect.objectContaining({ actor: 'github-actions/octocat', sha: SHA })]);
  });

  it('refuses expired, wrong-audience, wrong-issuer, unsigned and tampered tokens with 401 and WWW-Authenticate: Bearer', async () => {
    const valid = await sign();
    const [h, p] = valid.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const other = await generateKeyPair('RS256');
    const tokens: Record<string, string> = {
      expired: await sign({}, { exp: Math.floor(app.clock.now() / 1000) - 1 }),
      'wrong audience': await sign({}, { aud: 'someone-else' }),
      'wrong issuer': await sign({}, { iss: 'https://token.actions.githubusercontent.com' }),
      unsigned: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'unsigned with a kid': `${b64({ alg: 'none', kid: 'rsa-1' })}.${p}.`,
      tampered: `${h}.${b64({ ...payload, repository: 'acme/web' })}.${valid.split('.')[2]}`,
      'signed by another key': await sign({}, { key: other.privateKey }),
      'HS256 with the public key': `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${p}.${'A'.repeat(43)}`,
      'no repository claim': await sign({ repository: undefined }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await gate(token, name === 'tampered' ? 'acme/web' : 'acme/api');
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer/);
      expect(res.body.error, name).toBeTruthy();
    }
    // an OIDC token opens nothing else of the API
    const state = await app.fetch(`${V1}/state?account=acme`, { token: valid });
    expect(state.status).toBe(401);
  });

  it('caches the keys and fetches them again for an unknown key id at most once every 30 s', async () => {
    const before = issuer.fetches();
    expect((await gate(await sign())).status).toBe(200);
    expect((await gate(await sign())).status).toBe(200);
    expect(issuer.fetches() - before).toBe(1);
    app.clock.t += 31_000;
    for (let i = 0; i < 3; i++) expect((await gate(await sign({}, { kid: `rotated-${i}` }))).status).toBe(401);
    expect(issuer.fetches() - before).toBe(2);
    app.clock.t += 31_000;
    expect((await gate(await sign({}, { kid: 'rotated-x' }))).status).toBe(401);
    expect(issuer.fetches() - before).toBe(3);
    expect((await gate(await sign())).status).toBe(200);
    expect(issuer.fetches() - before).toBe(3);
  });

  it('keeps accepting the API token for any repository', async () => {
    expect((await app.fetch(`${V1}/gate?repo=acme/web&environment=production`)).status).toBe(200);
  });
});
