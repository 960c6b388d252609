/**
 * SPEC 10 end to end: the app started with `npm start` (harness) answers the gate API; the CLI
 * (`node bin/moratorium.js gate|record-deploy`, as `npx moratorium` runs it) exits 0 / 1 / 2 exactly;
 * `gate --wait` ends with 0 once a freeze is lifted through the API; inside GitHub Actions the CLI
 * takes an OIDC token from a local stand-in for the runner's token endpoint, verified by the app
 * against a local issuer's JWKS.
 */
import { spawn } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { runStep } from '../support/gate-action.js';
import { REPO_ROOT, startApp, type AppHandle } from './harness.js';

const V1 = '/moratorium/api/v1';
const CONFIG = ['cadence:', '  max: 1', '  per: 24h', '  counts: deployments', '  environments: [production]', ''].join('\n');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would; `onOut` sees stdout as it arrives. */
function cli(args: string[], env: Record<string, string>, onOut?: (text: string) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/moratorium.js', ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onOut?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the gate for any deploy tool (end to end)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let issuer: { server: Server; url: string };
  let runner: { server: Server; url: string };
  const runnerRequests: { url: string; authorization: string | undefined }[] = [];
  let signFor: (repository: string, audience: string) => Promise<string>;
  /** the head commit of an open feature PR, and of an open hotfix PR (hotfix/* head branch) */
  let SHA: string;
  let HOTFIX_SHA: string;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'e2e-1', alg: 'ES256', use: 'sig' };
    issuer = await listen((req, res) => {
      res.writeHead(req.url === '/.well-known/jwks' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(req.url === '/.well-known/jwks' ? JSON.stringify({ keys: [jwk] }) : '{}');
    });
    signFor = (repository, audience) =>
      new SignJWT({ repository, repository_owner: repository.split('/')[0], actor: 'octocat', sha: SHA })
        .setProtectedHeader({ alg: 'ES256', kid: 'e2e-1' })
        .setIssuer(issuer.url)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    // the runner's token endpoint: answers a token for acme/api with the audience asked for
    runner = await listen((req, res) => {
      runnerRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.headers.authorization !== 'bearer runner-request-token' || u.searchParams.get('api-version') !== '2.0') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"message":"bad request token"}');
        return;
      }
      void signFor('acme/api', u.searchParams.get('audience') ?? 'none').then((value) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ count: 1, value }));
      });
    });

    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: 'acme' });
    fake.addRepo('acme', 'api', { files: { '.github/moratorium.yml': CONFIG } });
    fake.addRepo('acme', 'web');
    SHA = fake.addPull('acme', 'api', { title: 'A feature' }).head.sha as string;
    HOTFIX_SHA = fake.addPull('acme', 'api', { title: 'Fix the database', headRef: 'hotfix/db' }).head.sha as string;
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_OIDC_ISSUER: issuer.url } });
    // the start-up reconcile lists the repositories: once it reports done, the app knows acme/api and acme/web
    await app.waitForLog('reconcile done', 30_000);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await new Promise((r) => issuer?.server.close(r));
    await new Promise((r) => runner?.server.close(r));
  });

  const withToken = () => ({ MORATORIUM_TOKEN: app.apiToken });
  const gateArgs = (more: string[] = []) => ['gate', '--url', app.url, '--repo', 'acme/api', '--environment', 'production', ...more];

  it('answers the gate API with the decision, and refuses bad input', async () => {
    const open = await app.api('GET', `${V1}/gate?repo=acme/api&environment=production&sha=${SHA}`);
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({ open: true, title: 'Open', hotfix: false, blocked_until: null, next_change_at: null });
    expect(open.body.reasons).toEqual([expect.objectContaining({ kind: 'cadence', blocks: false, label: 'Deploy limit: 0 of 1 in 24h' })]);
    expect((await app.api('GET', `${V1}/gate?repo=acme/nothing&environment=production`)).status).toBe(404);
    expect((await app.api('GET', `${V1}/gate?repo=acme/api&environment=production&sha=1234`)).status).toBe(400);
    const staging = await app.api('GET', `${V1}/gate?repo=acme/api&environment=staging`);
    expect(staging.body).toMatchObject({ open: true, gated: false });
  });

  it('lets the head commit of a hotfix PR through a features freeze, and blocks other commits', async () => {
    const freeze = await app.api('POST', `${V1}/freezes`, { account: 'acme', reason: 'incident review' });
    expect(freeze.status).toBe(201);
    try {
      const hot = await app.api('GET', `${V1}/gate?repo=acme/api&environment=production&sha=${HOTFIX_SHA}`);
      expect(hot.body).toMatchObject({ open: true, hotfix: true });
      const plain = await app.api('GET', `${V1}/gate?repo=acme/api&environment=production&sha=${SHA}`);
      expect(plain.body).toMatchObject({ open: false, hotfix: false, blocked_until: null });
      expect((await cli(gateArgs(['--sha', HOTFIX_SHA]), withToken())).code).toBe(0);
      const blocked = await cli(gateArgs(['--sha', SHA]), withToken());
      expect(blocked.code).toBe(1);
      expect(blocked.stdout).toMatch(/it opens only when someone with authority lifts the block/);
    } finally {
      expect((await app.api('DELETE', `${V1}/freezes/${freeze.body.id}`)).status).toBe(200);
    }
  });

  it('exits 0 when open, 1 when blocked (with the title and when it may open), 2 on errors', async () => {
    expect(await cli(gateArgs(), withToken())).toMatchObject({ code: 0, stdout: expect.stringMatching(/^open: Open/) });
    const freeze = await app.api('POST', `${V1}/freezes`, { account: 'acme', repo: 'api', mode: 'all', until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'e2e' });
    expect(freeze.status).toBe(201);
    try {
      const blocked = await cli(gateArgs(['--sha', SHA]), withToken());
      expect(blocked.code).toBe(1);
      expect(blocked.stdout).toMatch(/^blocked: Frozen.*it may open at \d{4}-\d\d-\d\dT/);
    } finally {
      expect((await app.api('DELETE', `${V1}/freezes/${freeze.body.id}`)).status).toBe(200);
    }
    expect((await cli(gateArgs(), { MORATORIUM_TOKEN: 'wrong' })).code).toBe(2);
    expect((await cli(['gate', '--url', app.url, '--repo', 'acme/nothing', '--environment', 'production'], withToken())).code).toBe(2);
    expect((await cli(gateArgs(['--sha', 'nope']), withToken())).code).toBe(2);
    expect((await cli(gateArgs(['--bogus']), withToken())).code).toBe(2);
    expect((await cli(gateArgs(), {})).code).toBe(2);
    expect((await cli(['gate', '--url', issuer.url.replace(/:\d+$/, ':1'), '--repo', 'acme/api', '--environment', 'production'], withToken())).code).toBe(2);
  });

  it('gate --wait ends with 0 once the freeze is lifted through the API', async () => {
    const freeze = await app.api('POST', `${V1}/freezes`, { account: 'acme', repo: 'api', mode: 'all', reason: 'wait for me' });
    expect(freeze.status).toBe(201);
    const events: string[] = [];
    let lifted: Promise<unknown> | null = null;
    const run = await cli(gateArgs(['--wait', '--timeout', '2m']), withToken(), (out) => {
      if (!lifted && /waiting/.test(out)) {
        events.push('cli: blocked, waiting');
        lifted = app.api('DELETE', `${V1}/freezes/${freeze.body.id}`).then((r) => events.push(`api: freeze ended ${r.status}`));
      }
    });
    events.push(`cli: exit ${run.code}`);
    await lifted;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^blocked: Frozen[^\n]*waiting[^\n]*\nopen: Open\n$/);
    expect(events).toEqual(['cli: blocked, waiting', 'api: freeze ended 200', 'cli: exit 0']);
  });

  it('gate --wait gives up with 1 when its timeout ends first', async () => {
    const freeze = await app.api('POST', `${V1}/freezes`, { account: 'acme', repo: 'api', mode: 'all', reason: 'long' });
    try {
      const run = await cli(gateArgs(['--wait', '--timeout', '1s']), withToken());
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/still blocked after waiting/);
    } finally {
      await app.api('DELETE', `${V1}/freezes/${freeze.body.id}`);
    }
  });

  it('record-deploy counts a success once per id toward the deploy cadence, so the gate closes', async () => {
    const args = ['record-deploy', '--url', app.url, '--repo', 'acme/api', '--environment', 'production', '--sha', SHA, '--id', 'jenkins-41', '--state', 'success'];
    const first = await cli(args, withToken());
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/^recorded: .*counted toward the deploy cadence/) });
    const again = await cli(args, withToken());
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(/^already recorded/) });
    expect((await cli([...args.slice(0, -1), 'maybe'], withToken())).code).toBe(2);
    const blocked = await cli(gateArgs(), withToken());
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toMatch(/Deploy limit: 1 of 1/);
    const state = await app.api('GET', `${V1}/gate?repo=acme/api&environment=production`);
    expect(state.body.next_change_at).not.toBeNull();
  });

  it('runs the composite action step with the runner OIDC token: exit 0 on an open gate, 1 on a frozen one', async () => {
    const inputs = { url: app.url, repo: 'acme/api', environment: 'production', sha: SHA };
    const actions = { ACTIONS_ID_TOKEN_REQUEST_URL: `${runner.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token' };
    const staging = await runStep({ ...inputs, environment: 'staging' }, actions);
    expect(staging.code, staging.stderr).toBe(0);
    const freeze = await app.api('POST', `${V1}/freezes`, { account: 'acme', repo: 'api', mode: 'all', reason: 'action' });
    try {
      const blocked = await runStep(inputs, actions);
      expect(blocked.code).toBe(1);
      expect(blocked.stdout).toMatch(/^blocked: Frozen/);
    } finally {
      await app.api('DELETE', `${V1}/freezes/${freeze.body.id}`);
    }
  });

  it('inside GitHub Actions takes the runner OIDC token (audience moratorium): its own repository only', async () => {
    const actions = { ACTIONS_ID_TOKEN_REQUEST_URL: `${runner.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token' };
    const web = await cli(['gate', '--url', app.url, '--repo', 'acme/web', '--environment', 'production'], actions);
    expect(web.code).toBe(2);
    expect(web.stderr).toMatch(/403/);
    const own = await cli(['gate', '--url', app.url, '--repo', 'acme/api', '--environment', 'staging'], actions);
    expect(own).toMatchObject({ code: 0, stdout: expect.stringMatching(/^open: Not gated/) });
    expect(runnerRequests.at(-1)).toEqual({ url: '/token?api-version=2.0&audience=moratorium', authorization: 'bearer runner-request-token' });
    // a token for another audience is refused by the app (401 -> exit 2)
    const other = await cli(['gate', '--url', app.url, '--repo', 'acme/api', '--environment', 'staging'], { ...actions, MORATORIUM_OIDC_AUDIENCE: 'elsewhere' });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/401/);
    const direct = await app.api('GET', `${V1}/gate?repo=acme/api&environment=staging`, undefined, { token: await signFor('acme/api', 'moratorium') });
    expect(direct.status).toBe(200);
  });
});
