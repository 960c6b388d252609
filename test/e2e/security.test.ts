/**
 * Who may act, end to end through the real GitHub port (`src/github/octokit-port.ts`): the app
 * (`npm start`) against the fake GitHub API, which answers the collaborator-permission endpoint with
 * `role_name` and the `permissions` booleans as GitHub does, and team memberships with their `state`.
 * Custom repository roles count by the base role they are built on; a team membership counts only
 * when `active` and only for a team of the installation's own organisation; when GitHub cannot say,
 * the command is refused. A refusal says only what was checked.
 *
 * One app serves the file; every scenario has its own repository, so they never share state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const PERMISSION = 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';
const MEMBERSHIP = 'GET /orgs/{org}/teams/{team_slug}/memberships/{username}';

let fake: FakeGitHub;
let app: AppHandle;
let ev: Webhooks;

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: OWNER });
  fake.addInstallation({ id: 8, account: 'globex' });
  // custom roles: a release manager built on maintain, a deployer built on write
  fake.addRepo(OWNER, 'roles');
  fake.setPermission(OWNER, 'roles', 'wendy', 'write');
  fake.setPermission(OWNER, 'roles', 'rachel', { roleName: 'release-manager', base: 'maintain' });
  fake.setPermission(OWNER, 'roles', 'dave', { roleName: 'deployer', base: 'write' });
  // who may freeze: a team of acme, a login (no level: the repository role is never asked)
  fake.addRepo(OWNER, 'teams', { files: { '.github/moratorium.yml': 'permissions:\n  freeze: ["@acme/sre", "lee"]\n' } });
  fake.setTeamMember(OWNER, 'sre', 'pat', 'pending');
  fake.setTeamMember(OWNER, 'sre', 'sam', 'active');
  for (const login of ['pat', 'sam', 'lee']) fake.setPermission(OWNER, 'teams', login, 'admin');
  // a team of another organisation: never asked, never counts (even for an active member of it)
  fake.addRepo(OWNER, 'foreign', { files: { '.github/moratorium.yml': 'permissions:\n  freeze: ["globex/sre"]\n' } });
  fake.setTeamMember('globex', 'sre', 'gus', 'active');
  fake.setPermission(OWNER, 'foreign', 'gus', 'admin');
  // the permission check itself failing
  fake.addRepo(OWNER, 'flaky');
  fake.setPermission(OWNER, 'flaky', 'wendy', 'write');
  ev = webhooks(fake);
  app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  expectFakeClean(fake);
});

/** Writes a comment (its webhook delivered) and returns its id. */
async function say(repo: string, number: number, user: string, body: string): Promise<number> {
  const payload = ev.issueComment(OWNER, repo, number, { body, user });
  // 2xx: Probot answers 202 when a handler runs long (Octokit retrying a 502)
  expect((await app.send('issue_comment', payload)).status).toBeLessThan(300);
  return payload.comment.id as number;
}

/** The app's reply to one command comment (found by its hidden marker) and the reactions on the command. */
async function replyTo(repo: string, number: number, commentId: number): Promise<{ body: string; reactions: string[] }> {
  const marker = `<!-- moratorium:reply ${commentId} -->`;
  const reply = await fake.waitFor((f) => f.appComments(OWNER, repo, number).find((c) => String(c.body).includes(marker)), 30_000, `the reply to comment ${commentId}`);
  return { body: String(reply.body), reactions: fake.reactionsFor(OWNER, repo, commentId).map((r) => r.content) };
}

async function audit(action: string): Promise<Array<Record<string, any>>> {
  const res = await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}&limit=500`);
  expect(res.status).toBe(200);
  return (res.body.entries as Array<Record<string, any>>).filter((e) => e.action === action);
}

const asked = (route: string, param: string, value: string) => fake.requestsTo(route).filter((r) => r.params[param]?.toLowerCase() === value.toLowerCase());

describe('custom repository roles, through the collaborator permission endpoint', () => {
  it('a role built on write may not /incident close; one built on maintain may', async () => {
    const host = fake.addIssue(OWNER, 'roles', { title: 'Incident room' });
    const opened = await say('roles', host, 'wendy', '/incident open sev2 --repo Checkout errors');
    expect((await replyTo('roles', host, opened)).body).toContain('Opened INC-');

    const refused = await say('roles', host, 'dave', '/incident close all good');
    const no = await replyTo('roles', host, refused);
    expect(no.reactions).toEqual(['-1']);
    expect(no.body).toContain('Refused: this needs maintain or higher');
    // the custom role counts as the base role its permission booleans say
    expect(no.body).toContain('your role on this repository is write');
    expect(await audit('incident.close')).toEqual([]);
    // asked of GitHub, with the role name GitHub answered
    const answered = asked(PERMISSION, 'username', 'dave');
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(answered.every((r) => r.status === 200)).toBe(true);

    const closed = await say('roles', host, 'rachel', '/incident close assessment done');
    const yes = await replyTo('roles', host, closed);
    expect(yes.reactions).toEqual(['+1']);
    expect(yes.body).toMatch(/INC-\d+ closed/);
    const entries = await audit('incident.close');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'rachel' });
  });
});

describe('team membership', () => {
  it('a pending member of a listed team is refused, an active one may; the refusal names only what was checked', async () => {
    const host = fake.addIssue(OWNER, 'teams', { title: 'Release' });
    const pending = await say('teams', host, 'pat', '/freeze release prep');
    const no = await replyTo('teams', host, pending);
    expect(no.reactions).toEqual(['-1']);
    expect(no.body).toMatch(/Refused: this needs one of: @\u200b?acme\/sre, lee/);
    expect(no.body).toMatch(/you are not @\u200b?lee; you are not an active member of team @\u200b?acme\/sre\. Nothing was changed\./);
    // the rule names no level: the repository role was never asked, and the reply does not speak of one
    expect(no.body).not.toContain('on this repository');
    expect(asked(PERMISSION, 'username', 'pat')).toEqual([]);
    expect(asked(MEMBERSHIP, 'username', 'pat').map((r) => r.status)).toContain(200);
    expect(await audit('freeze.start')).toEqual([]);

    const active = await say('teams', host, 'sam', '/freeze release prep');
    const yes = await replyTo('teams', host, active);
    expect(yes.reactions).toEqual(['+1']);
    expect(yes.body).toContain('Froze this repository');
  });

  it('a login in the list may; another login is told it is not that login', async () => {
    const host = fake.addIssue(OWNER, 'teams', { title: 'Logins' });
    const listed = await say('teams', host, 'lee', '/freeze --for 1h by name');
    expect((await replyTo('teams', host, listed)).reactions).toEqual(['+1']);
    // a member of no team at all (404 from GitHub)
    fake.setPermission(OWNER, 'teams', 'nora', 'write');
    const other = await say('teams', host, 'nora', '/unfreeze');
    const no = await replyTo('teams', host, other);
    expect(no.reactions).toEqual(['-1']);
    // lift (default maintain) is a level: the role is asked, and said
    expect(no.body).toContain('Refused: this needs maintain or higher');
    expect(no.body).toContain('your role on this repository is write. Nothing was changed.');
    const freeze = await say('teams', host, 'nora', '/freeze not me');
    const again = await replyTo('teams', host, freeze);
    expect(again.reactions).toEqual(['-1']);
    expect(again.body).toMatch(/you are not @\u200b?lee; you are not an active member of team @\u200b?acme\/sre\./);
  });

  it('a team of another organisation is ignored: never asked, and the refusal says why it does not count', async () => {
    const host = fake.addIssue(OWNER, 'foreign', { title: 'Outsiders' });
    const id = await say('foreign', host, 'gus', '/freeze from outside');
    const no = await replyTo('foreign', host, id);
    expect(no.reactions).toEqual(['-1']);
    expect(no.body).toMatch(/team @\u200b?globex\/sre is not of acme, so it does not count\. Nothing was changed\./);
    expect(no.body).not.toContain('on this repository');
    expect(fake.requestsTo(MEMBERSHIP).filter((r) => r.params.org?.toLowerCase() === 'globex')).toEqual([]);
    expect(asked(PERMISSION, 'username', 'gus')).toEqual([]);
    expect(await audit('freeze.start')).toHaveLength(2); // sam's and lee's, not gus's
  });
});

describe('when GitHub cannot say', () => {
  it('a collaborator permission endpoint answering 502 refuses the command with -1 and a reply to try again', async () => {
    const host = fake.addIssue(OWNER, 'flaky', { title: 'Flaky' });
    // every attempt (Octokit retries 5xx) answers 502
    const fault = fake.inject({ route: PERMISSION, times: Number.POSITIVE_INFINITY, match: (r) => r.params.username === 'wendy', fault: { status: 502 } });
    try {
      const id = await say('flaky', host, 'wendy', '/freeze while GitHub is down');
      const no = await replyTo('flaky', host, id);
      expect(no.reactions).toEqual(['-1']);
      expect(no.body).toContain('Refused: your permission could not be checked with GitHub just now, so nothing was changed. Try again shortly.');
      expect(fault.hits).toBeGreaterThanOrEqual(1);
      expect(asked(PERMISSION, 'username', 'wendy').filter((r) => r.params.repo === 'flaky' && r.status === 200)).toEqual([]);
    } finally {
      fault.cancel();
    }
    const freezes = (await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}&repo=flaky`)).body.freezes as Array<Record<string, any>>;
    expect(freezes.filter((f) => f.reason === 'while GitHub is down')).toEqual([]);
    // once GitHub answers again, the same command works
    const id = await say('flaky', host, 'wendy', '/freeze GitHub is back');
    expect((await replyTo('flaky', host, id)).reactions).toEqual(['+1']);
  });
});
