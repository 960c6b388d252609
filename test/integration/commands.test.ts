import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import nock from 'nock';
import { API, createTestApp, mockRequired, mockToken, type TestApp } from './setup.js';
import { commentEvent, pullPayload } from '../fixtures/payloads.js';

const R = { owner: 'acme', repo: 'api', installationId: 21 };
const REPO = (name: string) => ({ id: name.length, name, full_name: `acme/${name}`, owner: { login: 'acme' }, default_branch: 'main', archived: false });

function noConfigAnywhere() {
  nock(API).persist().get(/\/repos\/acme\/[^/]+\/contents\/\.github%2Fmoratorium\.yml/).reply(404, { message: 'Not Found' });
}

function role(login: string, roleName: string) {
  const permission = roleName === 'maintain' ? 'write' : roleName === 'triage' ? 'read' : roleName;
  return nock(API).get(`/repos/acme/api/collaborators/${login}/permission`).reply(200, { permission, role_name: roleName, user: { login } });
}

describe('commands in comments (Probot in-process, GitHub mocked with nock)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
    await t.store.upsertInstallation(21, 'acme', 'Organization', false, t.clock.now());
  });
  afterEach(async () => {
    await t.close();
  });

  it('/incident open blocks the open feature PRs of every repository, merge-ready first (auto-merge, approved, the rest), and replies once', async () => {
    mockToken(21);
    noConfigAnywhere();
    role('alice', 'write');
    mockRequired('acme', 'api', 'main', true);
    mockRequired('acme', 'web', 'main', true);
    const reactions: string[] = [];
    const replies: string[] = [];
    nock(API).post('/repos/acme/api/issues/comments/501/reactions', (b) => (reactions.push(b.content), true)).reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments', (b) => (replies.push(b.body), true)).reply(201, { id: 9001 });
    nock(API).get('/installation/repositories').query(true).reply(200, { total_count: 2, repositories: [REPO('api'), REPO('web')] });
    nock(API)
      .get('/repos/acme/api/pulls')
      .query((q) => q.state === 'open' && q.sort === 'updated' && q.direction === 'desc' && q.per_page === '100')
      .reply(200, [
        pullPayload({ number: 1, sha: 'a1'.repeat(20), updatedAt: '2026-11-30T09:00:00Z' }, R),
        pullPayload({ number: 2, sha: 'a2'.repeat(20), draft: true }, R),
        pullPayload({ number: 3, sha: 'a3'.repeat(20), head: 'hotfix/x', updatedAt: '2026-11-30T07:00:00Z' }, R),
      ]);
    nock(API)
      .get('/repos/acme/web/pulls')
      .query(true)
      .reply(200, [
        {
          ...pullPayload({ number: 4, sha: 'b4'.repeat(20), updatedAt: '2026-11-30T06:30:00Z' }, { ...R, repo: 'web' }),
          auto_merge: { enabled_by: { login: 'alice', id: 1, type: 'User' }, merge_method: 'squash', commit_title: 'x', commit_message: 'y' },
        },
      ]);
    // reviews are read for the PRs without auto-merge (not for #4, not for the draft): #3 is approved, #1 has a change request
    const review = (id: number, login: string, state: string, at: string) => ({ id, node_id: 'r', user: { login, id, type: 'User' }, body: '', state, commit_id: 'a'.repeat(40), html_url: 'https://github.com/x', pull_request_url: 'https://api.github.com/x', _links: { html: { href: '' }, pull_request: { href: '' } }, submitted_at: at, author_association: 'MEMBER' });
    nock(API).get('/repos/acme/api/pulls/1/reviews').query(true).reply(200, [review(1, 'bob', 'APPROVED', '2026-11-30T08:00:00Z'), review(2, 'carol', 'CHANGES_REQUESTED', '2026-11-30T08:10:00Z')]);
    nock(API).get('/repos/acme/api/pulls/3/reviews').query(true).reply(200, [review(3, 'bob', 'COMMENTED', '2026-11-30T07:00:00Z'), review(4, 'bob', 'APPROVED', '2026-11-30T07:05:00Z')]);
    const posts: { repo: string; sha: string; conclusion: string; title: string }[] = [];
    nock(API)
      .post(/\/repos\/acme\/(api|web)\/check-runs/, (b) => (posts.push({ repo: '', sha: b.head_sha, conclusion: b.conclusion, title: b.output.title }), true))
      .times(3)
      .reply(201, { id: 1 });

    await t.receive('issue_comment', commentEvent('/incident open sev1 API latency', { number: 5, commentId: 501, login: 'alice' }, R));
    await t.settle();

    expect(t.unmatched).toEqual([]);
    expect(nock.pendingMocks().filter((m) => !m.includes('moratorium.yml'))).toEqual([]);
    expect(reactions).toEqual(['+1']);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('Opened INC-1 (sev1)');
    // drafts are left until ready for review; auto-merge, then approved, then the rest
    expect(posts.map((p) => p.sha)).toEqual(['b4'.repeat(20), 'a3'.repeat(20), 'a1'.repeat(20)]);
    expect(posts.map((p) => p.conclusion)).toEqual(['failure', 'success', 'failure']);
    expect(posts[0]!.title).toBe('Frozen: sev1 incident INC-1 "API latency" (hotfixes only)');
    expect((await t.store.auditOfAccount('acme', 10)).map((a) => a.action)).toEqual(['incident.open']);
  });

  it('refuses /incident close from a write user (lift needs maintain), says which permission, and changes nothing', async () => {
    const incident = await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'alice', source: 'command', now: t.clock.now() });
    mockToken(21);
    noConfigAnywhere();
    role('bob', 'write');
    const reactions: string[] = [];
    const replies: string[] = [];
    nock(API).post('/repos/acme/api/issues/comments/502/reactions', (b) => (reactions.push(b.content), true)).reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments', (b) => (replies.push(b.body), true)).reply(201, { id: 9002 });
    await t.receive('issue_comment', commentEvent('/incident close INC-1 done', { number: 5, commentId: 502, login: 'bob' }, R));
    await t.settle();
    expect(t.unmatched).toEqual([]);
    expect(reactions).toEqual(['-1']);
    expect(replies[0]).toMatch(/Refused: this needs maintain/);
    expect((await t.store.getIncident(incident.id))?.phase).toBe('open');
  });

  it('refuses when the permission check itself fails with GitHub', async () => {
    mockToken(21);
    noConfigAnywhere();
    nock(API).get('/repos/acme/api/collaborators/carol/permission').reply(500, { message: 'boom' });
    const reactions: string[] = [];
    nock(API).post('/repos/acme/api/issues/comments/503/reactions', (b) => (reactions.push(b.content), true)).reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments').reply(201, { id: 9003 });
    await t.receive('issue_comment', commentEvent('/freeze release day', { number: 5, commentId: 503, login: 'carol' }, R));
    await t.settle();
    expect(reactions).toEqual(['-1']);
    expect(await t.store.activeFreezes('acme', t.clock.now())).toHaveLength(0);
  });

  it('does nothing at all for quoted or fenced commands, bots, or comments with no command', async () => {
    await t.receive('issue_comment', commentEvent('> /incident open sev1 quoted\n\n```\n/freeze\n```\nthanks', { number: 5, commentId: 504, login: 'alice' }, R));
    await t.receive('issue_comment', commentEvent('/freeze', { number: 5, commentId: 505, login: 'ci[bot]', bot: true }, R));
    await t.receive('issue_comment', commentEvent('/deploy now please', { number: 5, commentId: 506, login: 'alice' }, R));
    await t.settle();
    expect(t.unmatched).toEqual([]);
    expect(await t.store.activeFreezes('acme', t.clock.now())).toHaveLength(0);
    expect(await t.store.activeIncidents('acme')).toHaveLength(0);
  });

  it('answers a malformed command with confused and the correct form, changing nothing', async () => {
    mockToken(21);
    const reactions: string[] = [];
    const replies: string[] = [];
    nock(API).post('/repos/acme/api/issues/comments/507/reactions', (b) => (reactions.push(b.content), true)).reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments', (b) => (replies.push(b.body), true)).reply(201, { id: 1 });
    noConfigAnywhere();
    await t.receive('issue_comment', commentEvent('/freeze --for soon', { number: 5, commentId: 507, login: 'alice' }, R));
    await t.settle();
    expect(reactions).toEqual(['confused']);
    expect(replies[0]).toContain('/freeze [--org] [--all] [--for DURATION | --until TIME] [reason]');
    expect(await t.store.activeFreezes('acme', t.clock.now())).toHaveLength(0);
  });

  it('runs a comment delivered twice only once', async () => {
    mockToken(21);
    noConfigAnywhere();
    role('alice', 'write');
    nock(API).post('/repos/acme/api/issues/comments/508/reactions').reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments').reply(201, { id: 1 });
    nock(API).get('/repos/acme/api').reply(200, REPO('api'));
    nock(API).get('/repos/acme/api/pulls').query(true).reply(200, []);
    const payload = commentEvent('/freeze release', { number: 5, commentId: 508, login: 'alice' }, R);
    await t.receive('issue_comment', payload, 'dup-1');
    await t.receive('issue_comment', payload, 'dup-2');
    await t.settle();
    expect(t.unmatched).toEqual([]);
    expect(await t.store.activeFreezes('acme', t.clock.now())).toHaveLength(1);
  });

  it('escapes mentions and HTML from user text in the reply', async () => {
    mockToken(21);
    noConfigAnywhere();
    role('alice', 'write');
    const replies: string[] = [];
    nock(API).post('/repos/acme/api/issues/comments/509/reactions').reply(201, {});
    nock(API).post('/repos/acme/api/issues/5/comments', (b) => (replies.push(b.body), true)).reply(201, { id: 1 });
    nock(API).get('/installation/repositories').query(true).reply(200, { total_count: 0, repositories: [] });
    await t.receive('issue_comment', commentEvent('/incident open sev2 ping @org/everyone <img src=x onerror=alert(1)>', { number: 5, commentId: 509, login: 'alice' }, R));
    await t.settle();
    // the echoed command sits in a code span, which GitHub renders literally and never pings from
    const outsideCode = replies[0]!.replace(/(`+)[^`]*?\1/g, '');
    expect(replies[0]).toContain('Opened INC-1');
    expect(outsideCode).not.toMatch(/@org\/everyone/);
    expect(outsideCode).not.toContain('<img');
  });
});
