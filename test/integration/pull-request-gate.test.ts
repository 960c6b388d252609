import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import nock from 'nock';
import { API, createTestApp, mockConfig, mockNoConfig, mockRequired, mockToken, T0, type TestApp } from './setup.js';
import { pullPayload, pullRequestEvent } from '../fixtures/payloads.js';

const R = { owner: 'acme', repo: 'api', installationId: 11 };

describe('the moratorium check on pull requests (Probot in-process, GitHub mocked with nock)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('posts a green "Open" check run on the head SHA of a PR into the default branch', async () => {
    let body: any;
    const scopes = [
      mockToken(11),
      mockNoConfig('acme', 'api'),
      nock(API).post('/repos/acme/api/check-runs', (b) => ((body = b), true)).reply(201, { id: 1 }),
    ];
    await t.receive('pull_request', pullRequestEvent('opened', { number: 7, sha: 'a'.repeat(40) }, R));
    for (const s of scopes) expect(s.isDone()).toBe(true);
    expect(t.unmatched).toEqual([]);
    expect(body).toMatchObject({ name: 'moratorium', head_sha: 'a'.repeat(40), status: 'completed', conclusion: 'success', output: { title: 'Open' } });
  });

  it('costs no GitHub request when an event does not change the posted decision', async () => {
    mockToken(11);
    mockNoConfig('acme', 'api');
    const post = nock(API).post('/repos/acme/api/check-runs').once().reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 7, sha: 'b'.repeat(40) }, R));
    expect(post.isDone()).toBe(true);
    // a title edit and a non-exempt label: same decision, zero requests (config is cached)
    await t.receive('pull_request', pullRequestEvent('edited', { number: 7, sha: 'b'.repeat(40), title: 'new title' }, R));
    await t.receive('pull_request', pullRequestEvent('labeled', { number: 7, sha: 'b'.repeat(40), labels: ['docs'] }, R, { label: 'docs' }));
    expect(t.unmatched).toEqual([]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('blocks a feature PR while the repository is frozen, with the reason in the title', async () => {
    await t.store.createFreeze({ account: 'acme', repo: 'api', mode: 'features', reason: 'release', by: 'alice', until: null, source: 'command', now: T0 - 1000 });
    let body: any;
    mockRequired('acme', 'api', 'main', true);
    mockToken(11);
    mockNoConfig('acme', 'api');
    nock(API).post('/repos/acme/api/check-runs', (b) => ((body = b), true)).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 8, sha: 'c'.repeat(40) }, R));
    expect(t.unmatched).toEqual([]);
    expect(body.conclusion).toBe('failure');
    expect(body.output.title).toMatch(/^Frozen: /);
    expect(body.output.summary).toContain('/override');
  });

  it('lets a same-repository hotfix/* branch through a features freeze but not a fork with the same branch name', async () => {
    await t.store.createFreeze({ account: 'acme', repo: null, mode: 'features', reason: '', by: 'alice', until: null, source: 'command', now: T0 - 1000 });
    const bodies: any[] = [];
    mockRequired('acme', 'api', 'main', true);
    mockToken(11);
    mockNoConfig('acme', 'api');
    nock(API).post('/repos/acme/api/check-runs', (b) => (bodies.push(b), true)).times(2).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 9, sha: 'd'.repeat(40), head: 'hotfix/db' }, R));
    await t.receive('pull_request', pullRequestEvent('opened', { number: 10, sha: 'e'.repeat(40), head: 'hotfix/db', fork: true }, R));
    expect(t.unmatched).toEqual([]);
    expect(bodies.map((b) => b.conclusion)).toEqual(['success', 'failure']);
  });

  it('reports every config problem at the top of the summary and gates with the defaults', async () => {
    await t.store.createFreeze({ account: 'acme', repo: null, mode: 'features', reason: '', by: 'alice', until: null, source: 'command', now: T0 - 1000 });
    let body: any;
    mockRequired('acme', 'api', 'main', true);
    mockToken(11);
    mockConfig('acme', 'api', 'enforcement: sometimes\nwindows:\n  - name: w\n    cron: "61 * * * *"\n    duration: 1h\n');
    nock(API).post('/repos/acme/api/check-runs', (b) => ((body = b), true)).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 11, sha: 'f'.repeat(40) }, R));
    expect(t.unmatched).toEqual([]);
    expect(body.conclusion).toBe('failure');
    const summary: string = body.output.summary;
    expect(summary.indexOf('enforcement')).toBeGreaterThanOrEqual(0);
    expect(summary.indexOf('windows.0.cron')).toBeGreaterThanOrEqual(0);
    expect(summary.indexOf('enforcement')).toBeLessThan(summary.indexOf('/override'));
  });

  it('posts a commit status instead with enforcement: status, its description at most 140 characters', async () => {
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'x'.repeat(200), by: 'alice', source: 'command', now: T0 - 1000 });
    let body: any;
    mockRequired('acme', 'api', 'main', true);
    mockToken(11);
    mockConfig('acme', 'api', 'enforcement: status\n');
    nock(API).post(`/repos/acme/api/statuses/${'1'.repeat(40)}`, (b) => ((body = b), true)).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 12, sha: '1'.repeat(40) }, R));
    expect(t.unmatched).toEqual([]);
    expect(body).toMatchObject({ state: 'failure', context: 'moratorium' });
    expect(body.description.length).toBeLessThanOrEqual(140);
  });

  it('warns in the summary when no branch rule requires the check, asking GitHub once a day', async () => {
    await t.store.createFreeze({ account: 'acme', repo: 'api', mode: 'all', reason: '', by: 'alice', until: null, source: 'command', now: T0 - 1000 });
    await t.store.upsertRepo('acme', 'api', 11, 'acme/api', 'main');
    const bodies: any[] = [];
    mockToken(11);
    mockNoConfig('acme', 'api');
    const rules = mockRequired('acme', 'api', 'main', false);
    nock(API).post('/repos/acme/api/check-runs', (b) => (bodies.push(b), true)).times(2).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 20, sha: '5'.repeat(40) }, R));
    await t.receive('pull_request', pullRequestEvent('opened', { number: 21, sha: '6'.repeat(40) }, R));
    expect(rules.isDone()).toBe(true);
    expect(t.unmatched).toEqual([]);
    expect(bodies).toHaveLength(2);
    for (const b of bodies) expect(b.output.summary).toContain('requires the `moratorium` check');
  });

  it('says "Not gated" on PRs into a branch that is not gated', async () => {
    let body: any;
    mockToken(11);
    mockNoConfig('acme', 'api');
    nock(API).post('/repos/acme/api/check-runs', (b) => ((body = b), true)).reply(201, { id: 1 });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 13, sha: '2'.repeat(40), base: 'develop' }, R));
    expect(body).toMatchObject({ conclusion: 'success', output: { title: 'Not gated' } });
  });

  it('handles the same delivery twice only once', async () => {
    mockToken(11);
    mockNoConfig('acme', 'api');
    const post = nock(API).post('/repos/acme/api/check-runs').once().reply(201, { id: 1 });
    const payload = pullRequestEvent('opened', { number: 14, sha: '3'.repeat(40) }, R);
    await t.receive('pull_request', payload, 'same-delivery');
    await t.receive('pull_request', payload, 'same-delivery');
    expect(post.isDone()).toBe(true);
    expect(t.unmatched).toEqual([]);
  });

  it('retries a check that GitHub failed to take, from a stored job, until it is posted', async () => {
    await t.store.createFreeze({ account: 'acme', repo: 'api', mode: 'all', reason: '', by: 'alice', until: null, source: 'command', now: T0 - 1000 });
    await t.store.upsertRepo('acme', 'api', 11, 'acme/api', 'main');
    mockToken(11);
    mockNoConfig('acme', 'api');
    mockRequired('acme', 'api', 'main', true);
    nock(API).post('/repos/acme/api/check-runs').reply(502, { message: 'Bad Gateway' });
    await t.receive('pull_request', pullRequestEvent('opened', { number: 16, sha: '7'.repeat(40) }, R));
    expect(await t.store.pendingJobCount()).toBe(1);
    let body: any;
    nock(API).get('/repos/acme/api/pulls/16').reply(200, pullPayload({ number: 16, sha: '7'.repeat(40) }, R));
    nock(API).post('/repos/acme/api/check-runs', (b) => ((body = b), true)).reply(201, { id: 2 });
    t.clock.t += 6_000;
    t.services.jobs.kick();
    await t.settle();
    expect(t.unmatched).toEqual([]);
    expect(body).toMatchObject({ head_sha: '7'.repeat(40), conclusion: 'failure' });
    expect(await t.store.pendingJobCount()).toBe(0);
  });

  it('ignores a payload without a pull request instead of crashing', async () => {
    const payload = pullRequestEvent('opened', { number: 15, sha: '4'.repeat(40) }, R);
    delete payload.pull_request;
    mockToken(11);
    await t.receive('pull_request', payload);
    expect(t.unmatched).toEqual([]);
  });
});
