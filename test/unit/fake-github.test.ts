/**
 * The fake GitHub API itself: it must answer like GitHub (shapes from the OpenAPI description,
 * pagination, authentication, errors) and refuse what GitHub would refuse, or the e2e tests built on
 * it prove nothing. Strict everywhere: a request body property the description does not define is a
 * violation, and a test file using the e2e harness fails on any violation or unknown endpoint.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGitHub, loadOpenApiDocument, loadRouteIndex, matchRoute, startedFakes, validateSchema, type Schema } from '../fake-github/index.js';
import { checkStartedFakes, REPO_ROOT, sign, startApp, webhooks } from '../e2e/harness.js';

const APP_ID = 4242;
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});

function jwt(appId: number | string = APP_ID, privateKey = keys.privateKey, now = Math.floor(Date.now() / 1000)): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iat: now - 30, exp: now + 540, iss: appId })}`;
  return `${data}.${createSign('RSA-SHA256').update(data).sign(privateKey).toString('base64url')}`;
}

let fake: FakeGitHub;

const appClient = () => new Octokit({ baseUrl: fake.apiUrl, auth: jwt() });
async function installationClient(installationId = 7): Promise<Octokit> {
  const { data } = await appClient().rest.apps.createInstallationAccessToken({ installation_id: installationId });
  return new Octokit({ baseUrl: fake.apiUrl, auth: data.token });
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

beforeAll(async () => {
  // this file provokes violations on purpose and asserts on them itself
  fake = await FakeGitHub.start({ appId: APP_ID, appPublicKey: keys.publicKey, recordOnly: true });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
  fake.addInstallation({ id: 7, account: 'acme' });
  fake.addRepo('acme', 'api');
});

// ---------------------------------------------------------------------------------------------

describe('OpenAPI route index', () => {
  it('matches paths to GitHub operations, multi-segment parameters included', () => {
    const index = loadRouteIndex();
    expect(matchRoute(index, 'GET', '/repos/o/r/contents/.github%2Fmoratorium.yml')?.params).toEqual({ owner: 'o', repo: 'r', path: '.github/moratorium.yml' });
    expect(matchRoute(index, 'GET', '/repos/o/r/contents/.github/moratorium.yml')?.route.template).toBe('/repos/{owner}/{repo}/contents/{path}');
    expect(matchRoute(index, 'GET', '/repos/o/r/commits/release/1.x/check-runs')?.params.ref).toBe('release/1.x');
    expect(matchRoute(index, 'POST', '/repos/o/r/issues/comments/5/reactions')?.route.template).toBe('/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions');
    expect(matchRoute(index, 'GET', '/repos/o/r/no-such-thing')).toBeNull();
  });

  it('builds the index fast from its cache', () => {
    const started = performance.now();
    loadRouteIndex();
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('authentication', () => {
  it('exchanges the app JWT for an installation token and records which installation calls', async () => {
    const { data } = await appClient().rest.apps.createInstallationAccessToken({ installation_id: 7 });
    expect(data.token).toMatch(/^ghs_fake_7_\d+$/);
    expect(Date.parse(data.expires_at) - Date.now()).toBeGreaterThan(59 * 60_000);
    const gh = new Octokit({ baseUrl: fake.apiUrl, auth: data.token });
    await gh.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(fake.requests.at(-1)).toMatchObject({ route: 'GET /repos/{owner}/{repo}', installationId: 7, auth: 'installation', status: 200 });
    expect(fake.violations).toEqual([]);
  });

  it('refuses a JWT for another app or signed with another key, as a violation', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const byIss = new Octokit({ baseUrl: fake.apiUrl, auth: jwt(999) });
    const byKey = new Octokit({ baseUrl: fake.apiUrl, auth: jwt(APP_ID, other.privateKey) });
    expect(await status(byIss.rest.apps.createInstallationAccessToken({ installation_id: 7 }))).toBe(401);
    expect(await status(byKey.rest.apps.createInstallationAccessToken({ installation_id: 7 }))).toBe(401);
    expect(fake.violations.map((v) => v.message)).toEqual([expect.stringContaining("'iss'"), expect.stringContaining('bad signature')]);
  });

  it('needs an installation token for repository endpoints and the JWT for app endpoints', async () => {
    expect(await status(appClient().rest.repos.get({ owner: 'acme', repo: 'api' }))).toBe(401);
    const gh = await installationClient();
    expect(await status(gh.rest.apps.listInstallations())).toBe(401);
    expect(await status(new Octokit({ baseUrl: fake.apiUrl }).rest.repos.get({ owner: 'acme', repo: 'api' }))).toBe(401);
    expect(fake.violations).toHaveLength(3);
  });

  it('answers 401 Bad credentials for an expired token, without a violation', async () => {
    const gh = await installationClient();
    fake.expireTokens();
    expect(await status(gh.rest.repos.get({ owner: 'acme', repo: 'api' }))).toBe(401);
    expect(fake.violations).toEqual([]);
  });

  it('hides repositories outside the installation (404)', async () => {
    fake.addInstallation({ id: 8, account: 'other' });
    fake.addRepo('other', 'secret');
    const gh = await installationClient(7);
    expect(await status(gh.rest.repos.get({ owner: 'other', repo: 'secret' }))).toBe(404);
  });

  it('finds installations by repository and lists an installation’s repositories with Link pagination', async () => {
    for (let i = 0; i < 4; i++) fake.addRepo('acme', `svc-${i}`);
    const { data } = await appClient().rest.apps.getRepoInstallation({ owner: 'acme', repo: 'svc-2' });
    expect(data.id).toBe(7);
    const gh = await installationClient();
    const first = await gh.rest.apps.listReposAccessibleToInstallation({ per_page: 2 });
    expect(first.headers.link).toContain('rel="next"');
    const all = await gh.paginate(gh.rest.apps.listReposAccessibleToInstallation, { per_page: 2 });
    expect(all.map((r) => r.name)).toEqual(['api', 'svc-0', 'svc-1', 'svc-2', 'svc-3']);
  });
});

describe('pull requests', () => {
  it('lists with state, sort and direction, following Link headers across pages', async () => {
    for (let i = 0; i < 45; i++) fake.addPull('acme', 'api', { title: `PR ${i}` });
    fake.updatePull('acme', 'api', 3, { title: 'touched last' });
    fake.updatePull('acme', 'api', 10, { state: 'closed' });
    const gh = await installationClient();
    const page1 = await gh.rest.pulls.list({ owner: 'acme', repo: 'api', per_page: 20, sort: 'updated', direction: 'desc' });
    expect(page1.data).toHaveLength(20);
    expect(page1.headers.link).toMatch(/<http:\/\/127\.0\.0\.1:\d+\/api\/v3\/repos\/acme\/api\/pulls\?[^>]*page=2[^>]*>; rel="next"/);
    expect(page1.headers.link).toContain('rel="last"');
    const all = await gh.paginate(gh.rest.pulls.list, { owner: 'acme', repo: 'api', per_page: 20, sort: 'updated', direction: 'desc' });
    expect(all).toHaveLength(44);
    expect(all[0]!.number).toBe(3);
    expect(all.map((p) => Date.parse(p.updated_at))).toEqual([...all.map((p) => Date.parse(p.updated_at))].sort((a, b) => b - a));
    expect(fake.requestsTo('GET /repos/{owner}/{repo}/pulls').map((r) => r.query.page ?? '1')).toEqual(['1', '1', '2', '3']);
  });

  it('finds the pull requests of a head commit and of a merge commit', async () => {
    const pr = fake.addPull('acme', 'api', { headRef: 'hotfix/db', labels: ['hotfix'] });
    const merged = fake.addPull('acme', 'api', {});
    const mergeSha = fake.mergePull('acme', 'api', merged.number);
    const gh = await installationClient();
    const byHead = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: 'acme', repo: 'api', commit_sha: pr.head.sha });
    expect(byHead.data.map((p) => [p.number, p.head.ref, p.labels.map((l) => l.name)])).toEqual([[pr.number, 'hotfix/db', ['hotfix']]]);
    const byMerge = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: 'acme', repo: 'api', commit_sha: mergeSha });
    expect(byMerge.data.map((p) => [p.number, p.merge_commit_sha, p.state])).toEqual([[merged.number, mergeSha, 'closed']]);
    const one = await gh.rest.pulls.get({ owner: 'acme', repo: 'api', pull_number: merged.number });
    expect(one.data.merged).toBe(true);
  });

  it('renders forks with their own head repository', () => {
    const pr = fake.addPull('acme', 'api', { fork: 'mallory', headRef: 'hotfix/evil' });
    expect(pr.head.repo.full_name).toBe('mallory/api');
    expect(pr.base.repo.full_name).toBe('acme/api');
  });

  it('pages labeled issue events with their actors', async () => {
    const pr = fake.addPull('acme', 'api', {});
    for (let i = 0; i < 3; i++) fake.addLabelEvent('acme', 'api', pr.number, `l${i}`, 'alice');
    fake.addLabelEvent('acme', 'api', pr.number, 'hotfix', 'bob');
    const gh = await installationClient();
    const events = await gh.paginate(gh.rest.issues.listEvents, { owner: 'acme', repo: 'api', issue_number: pr.number, per_page: 2 });
    expect(events.map((e) => [e.event, (e as { label?: { name: string } }).label?.name, e.actor?.login])).toEqual([
      ['labeled', 'l0', 'alice'],
      ['labeled', 'l1', 'alice'],
      ['labeled', 'l2', 'alice'],
      ['labeled', 'hotfix', 'bob'],
    ]);
    expect(fake.pull('acme', 'api', pr.number)!.labels.map((l: { name: string }) => l.name)).toEqual(['l0', 'l1', 'l2', 'hotfix']);
  });
});

describe('checks and statuses', () => {
  it('records a check run with a bad conclusion as a violation and answers 422', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    const error = await gh.rest.checks
      .create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'blocked' as 'failure' })
      .catch((e: { status: number; message: string }) => e);
    expect(error).toMatchObject({ status: 422 });
    expect(fake.violations).toEqual([expect.objectContaining({ method: 'POST', route: 'POST /repos/{owner}/{repo}/check-runs', status: 422, message: expect.stringContaining('"blocked" is not a member') })]);
    expect(fake.latestCheck('acme', 'api', pr.head.sha)).toBeUndefined();
  });

  it('checks nested enums and required fields (output needs a summary)', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    const output = { title: 'Frozen' } as { title: string; summary: string };
    expect(await status(gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'failure', output }))).toBe(422);
    expect(fake.violations[0]!.message).toContain('"summary" wasn\'t supplied');
  });

  it('refuses a completed check run without a conclusion, and a SHA the repository does not have', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    expect(await status(gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, status: 'completed' }))).toBe(422);
    expect(await status(gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: 'f'.repeat(40), conclusion: 'success' }))).toBe(422);
    expect(fake.violations).toHaveLength(2);
  });

  it('keeps check runs: latestCheck, updates, listing for a ref with filter=latest', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    const output = (title: string) => ({ title, summary: `${title}!` });
    const first = await gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, status: 'completed', conclusion: 'failure', output: output('Frozen') });
    expect(first.status).toBe(201);
    expect(first.data.pull_requests.map((p) => p.number)).toEqual([pr.number]);
    await gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'success', output: output('Open') });
    expect(fake.latestCheck('acme', 'api', pr.head.sha)).toMatchObject({ conclusion: 'success', status: 'completed', output: { title: 'Open' } });
    await gh.rest.checks.update({ owner: 'acme', repo: 'api', check_run_id: first.data.id, conclusion: 'neutral' });
    expect(fake.checkRunById(first.data.id)).toMatchObject({ conclusion: 'neutral', output: { title: 'Frozen' } });
    expect(fake.checkRunHistory(first.data.id)).toHaveLength(2);
    const listed = await gh.rest.checks.listForRef({ owner: 'acme', repo: 'api', ref: pr.head.sha, check_name: 'moratorium' });
    expect(listed.data.total_count).toBe(1);
    const all = await gh.rest.checks.listForRef({ owner: 'acme', repo: 'api', ref: pr.head.sha, filter: 'all' });
    expect(all.data.total_count).toBe(2);
    expect(fake.violations).toEqual([]);
  });

  it('keeps commit statuses and refuses descriptions over 140 characters', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    await gh.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: pr.head.sha, state: 'failure', context: 'moratorium', description: 'Frozen' });
    await gh.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: pr.head.sha, state: 'success', context: 'moratorium', description: 'Open' });
    expect(fake.latestStatus('acme', 'api', pr.head.sha)).toMatchObject({ state: 'success', description: 'Open' });
    const listed = await gh.rest.repos.listCommitStatusesForRef({ owner: 'acme', repo: 'api', ref: pr.head.sha });
    expect(listed.data.map((s) => s.state)).toEqual(['success', 'failure']);
    expect(await status(gh.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: pr.head.sha, state: 'failure', context: 'moratorium', description: 'x'.repeat(141) }))).toBe(422);
    expect(await status(gh.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: pr.head.sha, state: 'blocked' as 'failure' }))).toBe(422);
    expect(fake.violations).toHaveLength(2);
  });
});

describe('unknown endpoints', () => {
  it('records a path GitHub does not have as a violation (404)', async () => {
    const gh = await installationClient();
    expect(await status(gh.request('GET /repos/{owner}/{repo}/moratorium', { owner: 'acme', repo: 'api' }))).toBe(404);
    expect(fake.violations).toEqual([expect.objectContaining({ method: 'GET', path: '/repos/acme/api/moratorium', status: 404, route: null })]);
  });

  it('records a real endpoint the fake does not implement as unknown, not as a violation', async () => {
    const gh = await installationClient();
    expect(await status(gh.rest.issues.listLabelsForRepo({ owner: 'acme', repo: 'api' }))).toBe(404);
    expect(fake.violations).toEqual([]);
    expect(fake.unknown).toEqual([expect.objectContaining({ route: 'GET /repos/{owner}/{repo}/labels' })]);
  });

  it('checks query enums', async () => {
    const gh = await installationClient();
    expect(await status(gh.rest.pulls.list({ owner: 'acme', repo: 'api', state: 'merged' as 'open' }))).toBe(422);
    expect(fake.violations[0]!.message).toContain("For 'state'");
  });
});

describe('strict everywhere: closed request bodies, defined query parameters', () => {
  it('answers 422 and records a violation for a body property the description does not define, at any depth', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    const create = (body: Record<string, unknown>) => gh.request('POST /repos/{owner}/{repo}/check-runs' as string, { owner: 'acme', repo: 'api', ...body });
    const valid = { name: 'moratorium', head_sha: pr.head.sha, conclusion: 'success', output: { title: 'Open', summary: 'ok' } };
    // a top-level property GitHub does not define (a misspelt `conclusion`)
    expect(await status(create({ ...valid, conclusionn: 'failure' }))).toBe(422);
    // inside a nested object
    expect(await status(create({ ...valid, output: { title: 'Open', summary: 'ok', colour: 'green' } }))).toBe(422);
    expect(fake.violations.map((v) => [v.status, v.route])).toEqual([
      [422, 'POST /repos/{owner}/{repo}/check-runs'],
      [422, 'POST /repos/{owner}/{repo}/check-runs'],
    ]);
    expect(fake.violations[0]!.message).toContain(`For the body, "conclusionn" is not a property GitHub's description defines`);
    expect(fake.violations[1]!.message).toContain(`For 'output', "colour" is not a property GitHub's description defines`);
    expect(fake.latestCheck('acme', 'api', pr.head.sha)).toBeUndefined();
    // the same body without them is fine, also through the oneOf of the description (status: completed)
    expect(await status(create(valid))).toBe(200);
    expect(await status(create({ ...valid, status: 'completed', completed_at: new Date().toISOString() }))).toBe(200);
    expect(fake.violations).toHaveLength(2);
  });

  it('records a query parameter the endpoint does not define, and a body on an endpoint that takes none', async () => {
    const gh = await installationClient();
    expect(await status(gh.request('GET /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'api', status: 'open' }))).toBe(422);
    expect(fake.violations[0]!.message).toContain("For 'status', GET /repos/{owner}/{repo}/pulls has no such query parameter");
    expect(await status(gh.request('GET /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'api', state: 'open', per_page: 10 }))).toBe(200);
    const token = (await appClient().rest.apps.createInstallationAccessToken({ installation_id: 7 })).data.token;
    const res = await fetch(`${fake.apiUrl}/repos/acme/api/issues/comments/1`, { method: 'DELETE', headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'spam' }) });
    expect(res.status).toBe(422);
    expect(fake.violations.map((v) => v.message)).toEqual([expect.any(String), expect.stringContaining('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id} takes no request body')]);
  });

  it('closes object schemas across allOf, oneOf and anyOf, and honours additionalProperties', () => {
    const closed = (schema: Schema, value: unknown) => validateSchema(schema, value, { schemas: {}, closed: true });
    const a = { type: 'object', properties: { a: { type: 'string' } } };
    const b = { type: 'object', properties: { b: { type: 'integer' } } };
    // allOf: the members' properties add up; an undefined one is reported once
    expect(closed({ allOf: [a, b] }, { a: 'x', b: 1 })).toEqual([]);
    expect(closed({ allOf: [a, b] }, { a: 'x', b: 1, c: true })).toEqual([`For the body, "c" is not a property GitHub's description defines`]);
    // oneOf/anyOf: the outer properties plus the chosen alternative's
    const withAlternatives = (key: 'oneOf' | 'anyOf'): Schema => ({ type: 'object', properties: { name: { type: 'string' } }, [key]: [{ properties: { x: { type: 'string' } }, required: ['x'] }, { properties: { y: { type: 'string' } }, required: ['y'] }] });
    for (const key of ['oneOf', 'anyOf'] as const) {
      expect(closed(withAlternatives(key), { name: 'n', x: '1' }), key).toEqual([]);
      expect(closed(withAlternatives(key), { name: 'n', y: '1' }), key).toEqual([]);
      expect(closed(withAlternatives(key), { name: 'n', x: '1', z: '1' }), key).toEqual([expect.stringContaining('matches none of the allowed schemas')]);
      // x's alternative does not define y: a body mixing them fits neither
      expect(closed(withAlternatives(key), { name: 'n', x: '1', y: '1' }), key).toEqual([expect.stringContaining('matches none of the allowed schemas')]);
    }
    // an anyOf inside an allOf member
    expect(closed({ allOf: [a, { anyOf: [b, { properties: { d: { type: 'string' } } }] }] }, { a: 'x', d: 'y' })).toEqual([]);
    expect(closed({ allOf: [a, { anyOf: [b, { properties: { d: { type: 'string' } } }] }] }, { a: 'x', e: 'y' })).not.toEqual([]);
    // additionalProperties: true allows anything, a schema validates the extra values, nested objects are closed too
    expect(closed({ ...a, additionalProperties: true }, { a: 'x', anything: 1 })).toEqual([]);
    expect(closed({ ...a, additionalProperties: { type: 'string' } }, { a: 'x', more: 'y' })).toEqual([]);
    expect(closed({ ...a, additionalProperties: { type: 'string' } }, { a: 'x', more: 1 })).toEqual([`For 'more', 1 is not of type string`]);
    expect(closed({ type: 'object', properties: { inner: a } }, { inner: { a: 'x', z: 1 } })).toEqual([`For 'inner', "z" is not a property GitHub's description defines`]);
    // a free-form object (no properties) stays open; without `closed` nothing is
    expect(closed({ type: 'object' }, { any: 1 })).toEqual([]);
    expect(validateSchema(a, { a: 'x', z: 1 }, { schemas: {} })).toEqual([]);
  });

  it('fails a test file that uses the e2e harness on an unknown endpoint or an undefined body property, though its tests never check the fake', async () => {
    // a child vitest runs test/fixtures/strict-fake/strict.fixture.ts: no test there looks at the fake
    const dir = mkdtempSync(join(tmpdir(), 'moratorium-strict-'));
    try {
      const out = join(dir, 'report.json');
      const vitest = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
      const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/fixtures/strict-fake/vitest.config.ts', '--reporter=json', `--outputFile=${out}`], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: '1' } });
      expect(run.status, run.stderr + run.stdout).toBe(1);
      const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: Array<{ status: string; message: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }> };
      const [file] = report.testResults;
      const byTitle = Object.fromEntries(file!.assertionResults.map((a) => [a.title.replace('STRICT-FIXTURE ', ''), a]));
      expect(byTitle['calls an endpoint the fake does not implement']).toMatchObject({ status: 'failed', failureMessages: [expect.stringContaining('not implemented by the fake: GET /app/hook/config')] });
      expect(byTitle['sends a body property GitHub does not define']).toMatchObject({ status: 'failed', failureMessages: [expect.stringContaining(`"colour" is not a property GitHub's description defines`)] });
      expect(byTitle['makes only valid requests']).toMatchObject({ status: 'passed' });
      // and the file itself fails on what arrived after its last test (its afterAll)
      expect(file!.status).toBe('failed');
      expect(file!.message).toContain('not implemented by the fake: GET /app/hook/deliveries');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);

  it('checkStartedFakes reports what a started fake recorded, each problem once; recordOnly fakes are left to their tests', async () => {
    const checked = await FakeGitHub.start();
    try {
      expect(startedFakes()).toContain(checked);
      expect(startedFakes()).not.toContain(fake);
      expect(() => checkStartedFakes()).not.toThrow();
      expect((await fetch(`${checked.apiUrl}/repos/acme/api/moratorium`)).status).toBe(404);
      expect(() => checkStartedFakes()).toThrow(/violation: 404 GET \/repos\/acme\/api\/moratorium/);
      // reported once: the harness's own afterEach finds nothing more
      expect(() => checkStartedFakes()).not.toThrow();
    } finally {
      await checked.stop();
    }
  });
});

describe('authority', () => {
  it('maps roles as GitHub does: permission is legacy, role_name exact, user.permissions booleans', async () => {
    fake.setPermission('acme', 'api', 'mia', 'maintain');
    fake.setPermission('acme', 'api', 'tess', 'triage');
    fake.setPermission('acme', 'api', 'ada', 'admin');
    fake.setPermission('acme', 'api', 'wes', 'write');
    fake.setPermission('acme', 'api', 'dee', { roleName: 'deployer', base: 'maintain' });
    fake.setPermission('acme', 'api', 'nobody', 'none');
    const gh = await installationClient();
    const get = async (username: string) => (await gh.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username })).data;
    expect(await get('mia')).toMatchObject({ permission: 'write', role_name: 'maintain', user: { login: 'mia', permissions: { admin: false, maintain: true, push: true, triage: true, pull: true } } });
    expect(await get('tess')).toMatchObject({ permission: 'read', role_name: 'triage', user: { permissions: { push: false, triage: true, pull: true } } });
    expect(await get('ada')).toMatchObject({ permission: 'admin', role_name: 'admin' });
    expect(await get('wes')).toMatchObject({ permission: 'write', role_name: 'write', user: { permissions: { maintain: false, push: true } } });
    expect(await get('dee')).toMatchObject({ permission: 'write', role_name: 'deployer', user: { permissions: { maintain: true, admin: false } } });
    expect(await get('nobody')).toMatchObject({ permission: 'none', user: { permissions: { pull: false } } });
    expect(await get('stranger')).toMatchObject({ permission: 'none' });
    fake.setPermission('acme', 'api', 'ghost', null);
    expect(await status(get('ghost'))).toBe(404);
  });

  it('can answer 404 for every login without a role', async () => {
    const strict = await FakeGitHub.start({ appId: APP_ID, unknownCollaborators: 'not-found' });
    try {
      strict.addInstallation({ id: 7, account: 'acme' });
      strict.addRepo('acme', 'api');
      const token = (await new Octokit({ baseUrl: strict.apiUrl, auth: jwt() }).rest.apps.createInstallationAccessToken({ installation_id: 7 })).data.token;
      const gh = new Octokit({ baseUrl: strict.apiUrl, auth: token });
      expect(await status(gh.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'stranger' }))).toBe(404);
    } finally {
      await strict.stop();
    }
  });

  it('answers team membership with its state, 404 when not a member', async () => {
    fake.setTeamMember('acme', 'sre', 'alice', 'active');
    fake.setTeamMember('acme', 'sre', 'bob', 'pending');
    const gh = await installationClient();
    const get = (username: string) => gh.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username });
    expect((await get('alice')).data).toMatchObject({ state: 'active', role: 'member' });
    expect((await get('bob')).data.state).toBe('pending');
    expect(await status(get('carol'))).toBe(404);
  });
});

describe('comments, reactions, deployments, branch rules', () => {
  it('stores the app’s comments and reactions on people’s comments', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const comment = fake.addComment('acme', 'api', pr.number, { body: '/freeze', user: 'alice' });
    const gh = await installationClient();
    await gh.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'api', comment_id: comment.id, content: '+1' });
    await gh.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: pr.number, body: 'Frozen.' });
    expect(fake.reactionsFor('acme', 'api', comment.id).map((r) => r.content)).toEqual(['+1']);
    expect(fake.appComments('acme', 'api', pr.number).map((c) => [c.body, c.user.login])).toEqual([['Frozen.', 'moratorium[bot]']]);
    expect(fake.commentsOn('acme', 'api', pr.number)).toHaveLength(2);
    expect(await status(gh.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'api', comment_id: comment.id, content: 'thumbsup' as '+1' }))).toBe(422);
    expect(await status(gh.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'api', comment_id: 999_999, content: '+1' }))).toBe(404);
  });

  it('records deployment protection answers sent to the callback URL', async () => {
    const gh = await installationClient();
    const callback = webhooks(fake).deploymentProtectionRule('acme', 'api', { runId: 555 }).deployment_callback_url;
    await gh.request(`POST ${callback}`, { environment_name: 'production', state: 'rejected', comment: 'Frozen' });
    expect(fake.deploymentReviews).toEqual([expect.objectContaining({ owner: 'acme', repo: 'api', runId: 555, environment_name: 'production', state: 'rejected', comment: 'Frozen', installationId: 7 })]);
    expect(await status(gh.request(`POST ${callback}`, { environment_name: 'production', state: 'maybe' }))).toBe(422);
  });

  it('serves branch rules and classic protection, 403/404 as configured', async () => {
    fake.setBranchRules('acme', 'api', 'main', [{ type: 'required_status_checks', parameters: { strict_required_status_checks_policy: false, required_status_checks: [{ context: 'moratorium' }] } }]);
    const gh = await installationClient();
    const rules = await gh.rest.repos.getBranchRules({ owner: 'acme', repo: 'api', branch: 'main' });
    expect(rules.data).toEqual([expect.objectContaining({ type: 'required_status_checks', ruleset_source_type: 'Repository' })]);
    expect((await gh.rest.repos.getBranchRules({ owner: 'acme', repo: 'api', branch: 'dev' })).data).toEqual([]);
    const get = () => gh.rest.repos.getStatusChecksProtection({ owner: 'acme', repo: 'api', branch: 'main' });
    expect(await status(get())).toBe(404);
    fake.setBranchProtection('acme', 'api', 'main', 403);
    expect(await status(get())).toBe(403);
    fake.setBranchProtection('acme', 'api', 'main', { contexts: ['moratorium'] });
    expect((await get()).data.contexts).toEqual(['moratorium']);
    expect((await gh.rest.repos.getBranch({ owner: 'acme', repo: 'api', branch: 'main' })).data.protection.required_status_checks?.contexts).toEqual(['moratorium']);
  });
});

describe('fault injection and rate limits', () => {
  it('answers 500 once, then succeeds', async () => {
    const gh = await installationClient();
    const injection = fake.inject({ route: 'GET /repos/{owner}/{repo}', fault: { status: 500 } });
    expect(await status(gh.rest.repos.get({ owner: 'acme', repo: 'api' }))).toBe(500);
    expect(await status(gh.rest.repos.get({ owner: 'acme', repo: 'api' }))).toBe(200);
    expect(injection.hits).toBe(1);
    expect(fake.requests.slice(-2).map((r) => [r.status, r.fault])).toEqual([
      [500, 'status'],
      [200, undefined],
    ]);
  });

  it('answers a secondary rate limit as GitHub does (403, retry-after, the message Octokit looks for)', async () => {
    const gh = await installationClient();
    fake.inject({ match: (r) => r.method === 'POST', times: 2, fault: { status: 403 } });
    const pr = fake.addPull('acme', 'api', {});
    const error = (await gh.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: pr.number, body: 'x' }).catch((e) => e)) as {
      status: number;
      message: string;
      response: { headers: Record<string, string> };
    };
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/\bsecondary rate\b/i);
    expect(error.response.headers['retry-after']).toBe('1');
  });

  it('drops connections and delays answers', async () => {
    const gh = await installationClient();
    fake.inject({ route: 'GET /repos/{owner}/{repo}', fault: { drop: true } });
    await expect(gh.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toThrow();
    fake.inject({ route: 'GET /repos/{owner}/{repo}', fault: { delayMs: 150 } });
    const started = Date.now();
    await gh.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('holds a request until the test lets it go, then answers it', async () => {
    const gh = await installationClient();
    let letGo!: () => void;
    const held = fake.inject({ route: 'GET /repos/{owner}/{repo}', fault: { holdUntil: new Promise<void>((resolve) => (letGo = resolve)) } });
    let answered = false;
    const read = gh.rest.repos.get({ owner: 'acme', repo: 'api' }).then((res) => ((answered = true), res));
    // the fake has it and holds it: a second read passes, the first is still waiting
    await fake.waitFor(() => held.hits === 1 || undefined, 10_000, 'the held read to arrive');
    await gh.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(answered).toBe(false);
    letGo();
    expect((await read).data.name).toBe('api');
  });

  it('sends primary rate-limit headers and enforces an exhausted limit', async () => {
    const gh = await installationClient();
    const res = await gh.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(Number(res.headers['x-ratelimit-limit'])).toBe(5000);
    expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(5000);
    fake.setRateLimit(7, 0);
    const error = (await gh.rest.repos.get({ owner: 'acme', repo: 'api' }).catch((e) => e)) as { status: number; response: { headers: Record<string, string> } };
    expect(error.status).toBe(403);
    expect(error.response.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('waitFor polls state and explains a timeout', async () => {
    setTimeout(() => fake.addPull('acme', 'api', { title: 'late' }), 50);
    await expect(fake.waitFor((f) => f.pull('acme', 'api', 1), 2000)).resolves.toMatchObject({ title: 'late' });
    await expect(fake.waitFor(() => false, 100, 'nothing')).rejects.toThrow(/timed out after 100 ms waiting for nothing/);
  });
});

describe('Probot against the fake', () => {
  const probotFor = () =>
    new Probot({
      appId: APP_ID,
      privateKey: keys.privateKey,
      baseUrl: fake.apiUrl,
      logLevel: 'fatal',
      Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, throttle: { enabled: false }, retry: { enabled: false } })),
    });

  it('authenticates as an installation and reads config with the .github fallback and _extends', async () => {
    fake.addRepo('acme', '.github', { files: { '.github/moratorium.yml': '_extends: shared:base.yml\nenforcement: status\n' } });
    fake.addRepo('acme', 'shared', { files: { 'base.yml': 'cadence:\n  max: 2\n' } });
    const octokit = await probotFor().auth(7);
    const { config, files } = await octokit.config.get({ owner: 'acme', repo: 'api', path: '.github/moratorium.yml' });
    expect(config).toEqual({ enforcement: 'status', cadence: { max: 2 } });
    expect(files.map((f) => `${f.owner}/${f.repo}:${f.path}`)).toEqual(['acme/api:.github/moratorium.yml', 'acme/.github:.github/moratorium.yml', 'acme/shared:base.yml']);
    fake.setFile('acme', 'api', '.github/moratorium.yml', 'enforcement: check\n');
    expect((await octokit.config.get({ owner: 'acme', repo: 'api', path: '.github/moratorium.yml' })).config).toEqual({ enforcement: 'check' });
    expect(fake.violations).toEqual([]);
    expect(fake.requestsTo('GET /repos/{owner}/{repo}/contents/{path}').every((r) => r.installationId === 7)).toBe(true);
  });

  it('reads a file on another ref and reports a directory as such', async () => {
    fake.setFile('acme', 'api', '.github/moratorium.yml', 'enforcement: status\n', { ref: 'release' });
    fake.setFile('acme', 'api', 'dir.yml/inner.txt', 'x');
    const octokit = await probotFor().auth(7);
    const { config } = await octokit.config.get({ owner: 'acme', repo: 'api', path: '.github/moratorium.yml', branch: 'release' });
    expect(config).toEqual({ enforcement: 'status' });
    await expect(octokit.config.get({ owner: 'acme', repo: 'api', path: 'dir.yml' })).rejects.toThrow(/directory/);
    const gh = await installationClient();
    const { data } = await gh.rest.repos.getContent({ owner: 'acme', repo: 'api', path: '.github/moratorium.yml', ref: 'release' });
    expect(Buffer.from((data as { content: string }).content, 'base64').toString()).toBe('enforcement: status\n');
    expect(await status(gh.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'x.yml', ref: 'nope' }))).toBe(404);
  });
});

// ---------------------------------------------------------------------------------------------
// shapes: what the fake answers and what the harness sends are what GitHub's description says

describe('shapes match the OpenAPI description', () => {
  let doc: Record<string, any>;
  beforeAll(() => {
    doc = loadOpenApiDocument();
  });
  const schemas = () => doc.components.schemas as Record<string, Schema>;
  const responseSchema = (method: string, template: string, code: number): Schema => {
    // the description inlines this list's account as allOf [user, enterprise] (its component says anyOf)
    if (template === '/app/installations') return { type: 'array', items: { $ref: '#/components/schemas/installation' } };
    let res = doc.paths[template][method.toLowerCase()].responses[String(code)];
    if (res.$ref) res = doc.components.responses[String(res.$ref).split('/').pop()!];
    return res.content['application/json'].schema as Schema;
  };
  const check = (schema: Schema, value: unknown) => validateSchema(schema, value, { schemas: schemas(), formats: false });

  it('responses carry every required field with the right types', async () => {
    fake.setPermission('acme', 'api', 'mia', 'maintain');
    fake.setTeamMember('acme', 'sre', 'mia');
    fake.setFile('acme', 'api', 'README.md', 'hi');
    fake.setBranchProtection('acme', 'api', 'main', { contexts: ['moratorium'] });
    const pr = fake.addPull('acme', 'api', { labels: ['hotfix'] });
    fake.addLabelEvent('acme', 'api', pr.number, 'hotfix', 'mia');
    const gh = await installationClient();
    const app = appClient();
    const calls: Array<[string, string, number, Promise<{ data: unknown }>]> = [
      ['POST', '/app/installations/{installation_id}/access_tokens', 201, app.rest.apps.createInstallationAccessToken({ installation_id: 7 })],
      ['GET', '/app/installations', 200, app.rest.apps.listInstallations()],
      ['GET', '/repos/{owner}/{repo}/installation', 200, app.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'api' })],
      ['GET', '/installation/repositories', 200, gh.rest.apps.listReposAccessibleToInstallation()],
      ['GET', '/repos/{owner}/{repo}', 200, gh.rest.repos.get({ owner: 'acme', repo: 'api' })],
      ['GET', '/repos/{owner}/{repo}/contents/{path}', 200, gh.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'README.md' })],
      ['GET', '/repos/{owner}/{repo}/pulls', 200, gh.rest.pulls.list({ owner: 'acme', repo: 'api' })],
      ['GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 200, gh.rest.pulls.get({ owner: 'acme', repo: 'api', pull_number: pr.number })],
      ['GET', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', 200, gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: 'acme', repo: 'api', commit_sha: pr.head.sha })],
      ['POST', '/repos/{owner}/{repo}/check-runs', 201, gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'success', output: { title: 'Open', summary: 'ok' } })],
      ['POST', '/repos/{owner}/{repo}/statuses/{sha}', 201, gh.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: pr.head.sha, state: 'success', context: 'moratorium' })],
      ['POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 201, gh.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: pr.number, body: 'hi' })],
      ['GET', '/repos/{owner}/{repo}/issues/{issue_number}', 200, gh.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: pr.number })],
      ['GET', '/repos/{owner}/{repo}/issues/{issue_number}/events', 200, gh.rest.issues.listEvents({ owner: 'acme', repo: 'api', issue_number: pr.number })],
      ['GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', 200, gh.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'mia' })],
      ['GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}', 200, gh.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'mia' })],
      ['GET', '/repos/{owner}/{repo}/branches/{branch}', 200, gh.rest.repos.getBranch({ owner: 'acme', repo: 'api', branch: 'main' })],
      ['GET', '/repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks', 200, gh.rest.repos.getStatusChecksProtection({ owner: 'acme', repo: 'api', branch: 'main' })],
    ];
    const problems: string[] = [];
    for (const [method, template, code, call] of calls) {
      const { data } = await call;
      for (const p of check(responseSchema(method, template, code), data)) problems.push(`${method} ${template}: ${p}`);
    }
    const created = (await gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'success', output: { title: 'Open', summary: 'ok' } })).data;
    const comment = fake.addComment('acme', 'api', pr.number, { body: 'x', user: 'mia' });
    const more: Array<[string, string, number, Promise<{ data: unknown }>]> = [
      ['PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', 200, gh.rest.checks.update({ owner: 'acme', repo: 'api', check_run_id: created.id, conclusion: 'failure' })],
      ['GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', 200, gh.rest.checks.listForRef({ owner: 'acme', repo: 'api', ref: pr.head.sha })],
      ['GET', '/repos/{owner}/{repo}/commits/{ref}/statuses', 200, gh.rest.repos.listCommitStatusesForRef({ owner: 'acme', repo: 'api', ref: pr.head.sha })],
      ['POST', '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', 201, gh.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'api', comment_id: comment.id, content: 'eyes' })],
      ['GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 200, gh.rest.issues.listComments({ owner: 'acme', repo: 'api', issue_number: pr.number })],
    ];
    for (const [method, template, code, call] of more) {
      const { data } = await call;
      for (const p of check(responseSchema(method, template, code), data)) problems.push(`${method} ${template}: ${p}`);
    }
    expect(problems).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it('merge-first: the PR list carries auto_merge and the reviews endpoint lists reviews as GitHub does', async () => {
    const auto = fake.addPull('acme', 'api', { autoMerge: { enabledBy: 'mia', mergeMethod: 'rebase' } });
    const plain = fake.addPull('acme', 'api');
    const approvedAt = Date.UTC(2026, 10, 30, 9, 0);
    const first = fake.addReview('acme', 'api', plain.number, { user: 'mia', state: 'APPROVED', at: approvedAt });
    fake.addReview('acme', 'api', plain.number, { user: 'bob', state: 'COMMENTED', at: approvedAt + 60_000 });
    fake.addReview('acme', 'api', plain.number, { user: 'eve', state: 'PENDING' });
    fake.dismissReview('acme', 'api', plain.number, first);
    const gh = await installationClient();
    const list = await gh.rest.pulls.list({ owner: 'acme', repo: 'api', state: 'open' });
    const reviews = await gh.rest.pulls.listReviews({ owner: 'acme', repo: 'api', pull_number: plain.number });
    expect([...check(responseSchema('GET', '/repos/{owner}/{repo}/pulls', 200), list.data), ...check(responseSchema('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', 200), reviews.data)]).toEqual([]);
    const byNumber = new Map(list.data.map((p) => [p.number, p]));
    expect(byNumber.get(auto.number)?.auto_merge).toMatchObject({ enabled_by: { login: 'mia' }, merge_method: 'rebase' });
    expect(byNumber.get(plain.number)?.auto_merge).toBeNull();
    expect(reviews.data.map((r) => [r.user?.login, r.state, r.submitted_at ?? null, r.commit_id])).toEqual([
      ['mia', 'DISMISSED', new Date(approvedAt).toISOString().replace('.000Z', 'Z'), plain.head.sha],
      ['bob', 'COMMENTED', new Date(approvedAt + 60_000).toISOString().replace('.000Z', 'Z'), plain.head.sha],
      ['eve', 'PENDING', null, plain.head.sha],
    ]);
    expect(await status(gh.rest.pulls.listReviews({ owner: 'acme', repo: 'api', pull_number: 999 }))).toBe(404);
    expect(fake.violations).toEqual([]);
  });

  it('webhook payloads match GitHub’s webhook schemas', () => {
    fake.setPermission('acme', 'api', 'mia', 'maintain');
    const ev = webhooks(fake);
    const pr = fake.addPull('acme', 'api', { labels: ['hotfix'] });
    const issue = fake.addIssue('acme', 'api', { title: 'Incident' });
    const run = fake.addCommit('acme', 'api');
    void run;
    const payloads: Array<[string, Record<string, any>]> = [
      ['pull-request-opened', ev.pullRequest('opened', 'acme', 'api', pr.number)],
      ['pull-request-synchronize', ev.pullRequest('synchronize', 'acme', 'api', pr.number)],
      ['pull-request-labeled', ev.pullRequest('labeled', 'acme', 'api', pr.number, { label: 'hotfix', sender: 'mia' })],
      ['pull-request-unlabeled', ev.pullRequest('unlabeled', 'acme', 'api', pr.number, { label: 'hotfix', sender: 'mia' })],
      ['pull-request-closed', ev.pullRequest('closed', 'acme', 'api', pr.number)],
      ['pull-request-ready-for-review', ev.pullRequest('ready_for_review', 'acme', 'api', pr.number)],
      ['pull-request-edited', ev.pullRequest('edited', 'acme', 'api', pr.number)],
      ['issue-comment-created', ev.issueComment('acme', 'api', pr.number, { body: '/moratorium', user: 'mia' })],
      ['issue-comment-created', ev.issueComment('acme', 'api', issue, { body: '/incident open sev1 DB down', user: 'mia' })],
      ['merge-group-checks-requested', ev.mergeGroup('acme', 'api', { pulls: [pr.number] })],
      ['check-suite-rerequested', ev.checkSuite('rerequested', 'acme', 'api', pr.head.sha)],
      ['deployment-protection-rule-requested', ev.deploymentProtectionRule('acme', 'api', { pulls: [pr.number] })],
      ['deployment-status-created', ev.deploymentStatus('acme', 'api')],
      ['push', ev.push('acme', 'api')],
      ['installation-repositories-added', ev.installationRepositories('added', 'acme', ['api'])],
    ];
    const problems: string[] = [];
    for (const [key, payload] of payloads) {
      const op = doc['x-webhooks'][key].post;
      const schema = op.requestBody.content['application/json'].schema as Schema;
      for (const p of check(schema, payload)) problems.push(`${key}: ${p}`);
      expect(payload.installation.id, key).toBe(7);
    }
    expect(problems).toEqual([]);
  });

  it('check_run payloads carry the check run the app created', async () => {
    const pr = fake.addPull('acme', 'api', {});
    const gh = await installationClient();
    const { data } = await gh.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: pr.head.sha, conclusion: 'failure', output: { title: 'Frozen', summary: 's' } });
    const payload = webhooks(fake).checkRun('rerequested', 'acme', 'api', data.id);
    const schema = doc['x-webhooks']['check-run-rerequested'].post.requestBody.content['application/json'].schema as Schema;
    expect(check(schema, payload)).toEqual([]);
    expect(payload.check_run).toMatchObject({ id: data.id, head_sha: pr.head.sha, name: 'moratorium', pull_requests: [expect.objectContaining({ number: pr.number })] });
  });
});

// ---------------------------------------------------------------------------------------------
// the harness, with a stand-in Probot app (the real one is src/main.ts; its e2e tests use the same harness)

describe('e2e harness', () => {
  const stubDir = mkdtempSync(join(tmpdir(), 'moratorium-stub-'));
  afterAll(() => rmSync(stubDir, { recursive: true, force: true }));
  beforeAll(() => {
    const probot = import.meta.resolve('probot');
    writeFileSync(join(stubDir, 'package.json'), JSON.stringify({ name: 'stub', private: true, type: 'module', scripts: { start: 'node main.mjs' } }));
    writeFileSync(
      join(stubDir, 'main.mjs'),
      `
import { createServer } from 'node:http';
import { Probot, ProbotOctokit, createNodeMiddleware } from ${JSON.stringify(probot)};
const probot = new Probot({
  appId: Number(process.env.APP_ID), privateKey: process.env.PRIVATE_KEY, secret: process.env.WEBHOOK_SECRET,
  baseUrl: \`\${process.env.GHE_PROTOCOL}://\${process.env.GHE_HOST}/api/v3\`, logLevel: process.env.LOG_LEVEL,
  Octokit: ProbotOctokit.defaults((o) => ({ ...o, throttle: { enabled: false } })),
});
const app = (app) => {
  app.on('pull_request.opened', async (context) => {
    const pr = context.payload.pull_request;
    await context.octokit.rest.checks.create(context.repo({ name: 'moratorium', head_sha: pr.head.sha, conclusion: 'success', output: { title: 'Open', summary: 'stub' } }));
  });
  app.on('issue_comment.created', async (context) => {
    await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: context.payload.comment.id, content: '+1' }));
  });
  app.on('deployment_protection_rule.requested', async (context) => {
    await context.octokit.request('POST ' + context.payload.deployment_callback_url, { environment_name: context.payload.environment, state: 'approved', comment: 'ok' });
  });
};
const middleware = await createNodeMiddleware(app, { probot });
const server = createServer((req, res) => {
  if (req.url === '/moratorium/health') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); return; }
  middleware(req, res, () => { res.writeHead(404); res.end(); });
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log(JSON.stringify({ msg: 'listening', port: process.env.PORT })));
process.on('SIGTERM', () => { console.log(JSON.stringify({ msg: 'sigterm' })); server.close(() => process.exit(0)); });
`,
    );
  });

  it('starts the app, delivers signed webhooks, restarts and stops it', async () => {
    const app = await startApp({ fake, cwd: stubDir });
    expect(app.logLines()).toContainEqual(expect.objectContaining({ msg: 'listening' }));
    const ev = webhooks(fake);
    const pr = fake.addPull('acme', 'api', {});
    const res = await app.send('pull_request', ev.pullRequest('opened', 'acme', 'api', pr.number));
    expect(res.status).toBe(200);
    const check = await fake.waitFor((f) => f.latestCheck('acme', 'api', pr.head.sha), 10_000, 'the stub’s check run');
    expect(check.conclusion).toBe('success');
    expect(fake.requestsTo('POST /repos/{owner}/{repo}/check-runs')[0]).toMatchObject({ installationId: 7, auth: 'installation' });

    const bad = await app.sendRaw({ 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'x', 'x-hub-signature-256': sign('wrong', '{}') }, '{}');
    expect(bad.status).toBeGreaterThanOrEqual(400);

    await app.kill9();
    await app.restart();
    const comment = ev.issueComment('acme', 'api', pr.number, { body: '/moratorium', user: 'alice' });
    await app.send('issue_comment', comment);
    await fake.waitFor((f) => f.reactionsFor('acme', 'api', comment.comment.id).length > 0, 10_000, 'the reaction');

    const dpr = ev.deploymentProtectionRule('acme', 'api', { runId: 77 });
    await app.send('deployment_protection_rule', dpr);
    await fake.waitFor((f) => f.deploymentReviews.find((d) => d.runId === 77), 10_000, 'the deployment review');

    expect(await app.stop()).toBe(0);
    expect(app.logs()).toContain('sigterm');
    expect(app.pid).toBeNull();
    expect(app.appPid).toBeNull();
    expect(fake.violations).toEqual([]);
  }, 60_000);

  it('reports the app’s output when it never becomes healthy', async () => {
    writeFileSync(join(stubDir, 'broken.mjs'), 'console.error("boom: missing config"); process.exit(3);\n');
    writeFileSync(join(stubDir, 'package.json'), JSON.stringify({ name: 'stub', private: true, type: 'module', scripts: { start: 'node broken.mjs' } }));
    await expect(startApp({ fake, cwd: stubDir })).rejects.toThrow(/exited before it was healthy[\s\S]*boom: missing config/);
  });
});
