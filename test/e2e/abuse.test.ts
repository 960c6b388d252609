/**
 * Abuse, end to end (issue 6/6): the app (`npm start`) against the fake GitHub API, fed what an
 * attacker, a broken proxy or a careless user would send: unsigned and mis-signed webhooks,
 * malformed and oversized bodies, markup and @mentions in incident titles and freeze reasons, a
 * database held by another process, and guessed API tokens. Whatever arrives, nothing changes that
 * should not, nobody is pinged, and the process keeps answering.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { E2E_STORE, sign, startApp, webhooks, type AppHandle, type Webhooks, expectFakeClean } from './harness.js';

const OWNER = 'acme';
const REPO = 'api';
const WRITER = 'wendy';
/** A mention that is not defused: `@` not followed by the zero-width space escapeMarkdown/escapePlain insert. */
const LIVE_MENTION = /@(?!\u200b)[A-Za-z0-9]/;

describe('abuse (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, REPO);
    fake.setPermission(OWNER, REPO, WRITER, 'write');
    fake.setPermission(OWNER, REPO, 'mia', 'maintain');
    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off' } });
    await app.waitForLog('reconcile done', 20_000);
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  const headers = (event: string, body: string | Buffer, signature: string | null = sign(app.webhookSecret, body)): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/fake',
    'x-github-event': event,
    'x-github-delivery': randomUUID(),
    ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
  });

  /** Waits until the app has finished earlier work: every job owed so far (replies, fan-outs) has run. */
  async function settle(): Promise<void> {
    await app.waitForJobs();
  }

  /**
   * Waits until the app has reported everything before: a harmless delivery (a comment with no
   * command) is sent and its log line waited for. (Probot logs a refused body in full, so a huge one
   * holds up the app's later log lines for a while.)
   */
  async function reported(): Promise<void> {
    const pr = fake.addPull(OWNER, REPO, { title: 'Log marker' });
    const res = await app.send('issue_comment', hooks.issueComment(OWNER, REPO, pr.number, { body: 'no command here', user: WRITER }));
    expect(res.status).toBe(200);
    await app.waitForLogLine((l) => l.delivery === res.deliveryId, 150_000);
  }

  async function snapshot() {
    const s = await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`);
    const a = await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}&limit=500`);
    expect(s.status).toBe(200);
    expect(a.status).toBe(200);
    return { freezes: s.body.freezes.length as number, incidents: s.body.incidents.length as number, audit: a.body.entries.length as number, writes: fake.writes().length };
  }

  /**
   * Another process takes the database's write lock: SQLite's EXCLUSIVE lock on the file, or on
   * PostgreSQL an ACCESS EXCLUSIVE lock on the tables a command writes first (until released).
   */
  async function holdWriteLock(): Promise<{ release(): Promise<void> }> {
    if (app.databaseUrl) {
      const c = new pg.Client({ connectionString: app.databaseUrl });
      await c.connect();
      await c.query('BEGIN');
      await c.query('LOCK TABLE command_comments, deliveries, freezes IN ACCESS EXCLUSIVE MODE');
      let open = true;
      return {
        async release() {
          if (!open) return;
          open = false;
          await c.query('COMMIT').finally(() => c.end());
        },
      };
    }
    const db = new Database(app.dbPath, { timeout: 15_000 });
    db.exec('BEGIN EXCLUSIVE');
    return {
      async release() {
        if (!db.open) return;
        if (db.inTransaction) db.exec('COMMIT');
        db.close();
      },
    };
  }

  async function healthy(): Promise<void> {
    const res = await fetch(`${app.url}/moratorium/health`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
  }

  it('refuses webhooks without a valid signature and changes nothing', async () => {
    const pr = fake.addPull(OWNER, REPO, { title: 'Target' });
    const payload = hooks.issueComment(OWNER, REPO, pr.number, { body: '/incident open sev1 Forged incident', user: WRITER });
    const body = JSON.stringify(payload);
    await settle();
    const before = await snapshot();
    const forged: Array<[string, string | null]> = [
      ['no signature', null],
      ['empty signature', ''],
      ['the wrong secret', sign('not-the-secret', body)],
      ['a signature of another body', sign(app.webhookSecret, body.replace('Forged', 'Other'))],
      ['the right digest without the sha256= prefix', createHmac('sha256', app.webhookSecret).update(body).digest('hex')],
      ['a sha1 signature', `sha1=${createHmac('sha1', app.webhookSecret).update(body).digest('hex')}`],
      ['a truncated signature', sign(app.webhookSecret, body).slice(0, 40)],
      ['zeros', `sha256=${'0'.repeat(64)}`],
    ];
    for (const [what, signature] of forged) {
      const res = await app.sendRaw(headers('issue_comment', body, signature), body);
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
    }
    // each was answered before any handler could run; nor is anything owed
    await app.waitForJobs();
    expect(await snapshot()).toEqual(before);
    expect(fake.reactionsFor(OWNER, REPO, payload.comment.id)).toEqual([]);
    await healthy();
  });

  it('answers malformed and odd bodies without changing anything, and keeps running', async () => {
    await settle();
    const before = await snapshot();
    // signed but not JSON: 400
    for (const text of ['{"action": "created", ', '{"action": "created"}}', '<xml/>', '', '['.repeat(100_000)]) {
      const res = await app.sendRaw(headers('issue_comment', text), text);
      expect(res.status, JSON.stringify(text.slice(0, 20))).toBe(400);
    }
    // signed JSON of the wrong shape: refused or ignored, never acted on
    for (const text of ['null', '[]', '"x"', '123', '{}', '{"action":"created","installation":{"id":7}}', JSON.stringify({ action: 'created', installation: { id: 7 }, comment: { body: '/freeze x' } })]) {
      for (const event of ['issue_comment', 'pull_request', 'installation']) {
        const res = await app.sendRaw(headers(event, text), text);
        expect([200, 400, 500], `${event} ${text.slice(0, 30)}`).toContain(res.status);
      }
    }
    // not declared as JSON: 415; without the GitHub headers: 400
    const ok = JSON.stringify(hooks.pullRequest('opened', OWNER, REPO, fake.addPull(OWNER, REPO).number));
    expect((await app.sendRaw({ ...headers('pull_request', ok), 'content-type': 'text/plain' }, ok)).status).toBe(415);
    expect((await app.sendRaw({ 'content-type': 'application/json' }, ok)).status).toBe(400);
    // the deliveries answered 200 ran their handler (Probot answers once it is done); whatever they
    // might owe has run too
    await app.waitForJobs();
    const after = await snapshot();
    expect({ ...after, writes: 0 }).toEqual({ ...before, writes: 0 });
    // nothing written to GitHub either (no check, comment or reaction)
    expect(after.writes).toBe(before.writes);
    await healthy();
  });

  it("refuses an unsigned body larger than GitHub's 25 MB limit and keeps running", async () => {
    await settle();
    const before = await snapshot();
    const body = Buffer.alloc(26 * 1024 * 1024, 0x20);
    body.write('{"action":"created","padding":"', 0);
    body.write('"}', body.length - 2);
    const res = await app.sendRaw(headers('issue_comment', body, `sha256=${randomBytes(32).toString('hex')}`), body);
    expect([400, 413]).toContain(res.status);
    await healthy();
    expect(await snapshot()).toEqual(before);
    await reported();
  }, 180_000);

  it('escapes markup and @mentions of incident titles and freeze reasons in replies, checks and status', async () => {
    const pr = fake.addPull(OWNER, REPO, { title: 'Ordinary feature' });
    await app.send('pull_request', hooks.pullRequest('opened', OWNER, REPO, pr.number));
    await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha), 10_000, 'the first gate');
    const title = '<img src=x onerror=alert(1)> @everyone @acme/sre **boom** [click](https://evil.example) <!-- hidden --> `code`';
    const reason = '<b>now</b> ping @octocat and @acme/admins # heading';
    const open = hooks.issueComment(OWNER, REPO, pr.number, { body: `/incident open sev1 ${title}\n/freeze --all ${reason}\n/moratorium status`, user: WRITER });
    expect((await app.send('issue_comment', open)).status).toBe(200);
    const reply = await fake.waitFor((f) => f.appComments(OWNER, REPO, pr.number)[0]?.body as string | undefined, 10_000, 'the reply');
    const check = await fake.waitFor((f) => (f.latestCheck(OWNER, REPO, pr.head.sha)?.conclusion === 'failure' ? f.latestCheck(OWNER, REPO, pr.head.sha) : undefined), 10_000, 'the blocking gate');

    // the reply quotes each command in a code span (inert), and every other use of the text is escaped
    // (the reply's own hidden marker, last, is the app's, not user text)
    const prose = reply.replace(/\n\n<!-- moratorium:reply \d+ -->$/, '').replace(/(`+)[\s\S]*?\1/g, '');
    for (const text of [prose, check.output.summary as string]) {
      expect(text).not.toMatch(LIVE_MENTION);
      expect(text).not.toMatch(/<(img|b|!--)/i);
      expect(text).not.toContain('[click](');
      expect(text).not.toContain('**boom**');
    }
    expect(prose).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
    expect(check.output.title).not.toMatch(LIVE_MENTION);
    expect(check.output.title).toContain('INC-');
    // the command echo is a code span that cannot be broken out of (the title holds a backtick)
    expect(reply).toMatch(/``+ \/incident open sev1 .*`code` ``+/);
    await healthy();
  });

  it('carries out a command that arrives while another process holds the database write lock for ~2 s', async () => {
    const pr = fake.addPull(OWNER, REPO, { title: 'During a lock' });
    await settle();
    const before = await snapshot();
    // (the test's own connection waits for the app's writes to end before it takes the lock)
    const lock = await holdWriteLock();
    try {
      const sent = app.send('issue_comment', hooks.issueComment(OWNER, REPO, pr.number, { body: '/freeze held the lock', user: WRITER }));
      // the lock is held for ~2 s, shorter than the app's busy timeout (the fault, not a wait for the app)
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await lock.release();
      expect((await sent).status).toBe(200);
    } finally {
      await lock.release();
    }
    const reply = await fake.waitFor((f) => f.appComments(OWNER, REPO, pr.number)[0]?.body as string | undefined, 10_000, 'the reply after the lock');
    expect(reply).toContain('Froze this repository');
    const after = await snapshot();
    expect(after.freezes).toBe(before.freezes + 1);
    await healthy();
  });

  // a lock held longer than the busy timeout (5 s): the handler retries the delivery with backoff
  // (SQLite's busy timeout; PostgreSQL waits for a row or table lock up to its statement timeout)
  it.skipIf(E2E_STORE === 'postgres')('carries out a command that arrives while the database is locked longer than the busy timeout', async () => {
    // the earlier tests' jobs (a freeze's fan-out) done first: better-sqlite3 waits for a lock
    // synchronously, so a job still writing when the lock is taken holds the event loop for the
    // busy timeout at each of its statements, and the command's first attempt waits behind them
    await settle();
    const pr = fake.addPull(OWNER, REPO, { title: 'During a long lock' });
    const db = new Database(app.dbPath, { timeout: 15_000 });
    const deliveryId = randomUUID();
    let sent: Promise<{ status: number }> | undefined;
    try {
      db.exec('BEGIN EXCLUSIVE');
      sent = app.send('issue_comment', hooks.issueComment(OWNER, REPO, pr.number, { body: '/freeze long lock', user: WRITER }), { deliveryId });
      // held until the app reports it ran into the busy timeout and will retry the delivery
      const retry = await app.waitForLogLine((l) => l.delivery === deliveryId && l.msg === 'database busy, retrying the delivery', 45_000);
      expect(retry).toMatchObject({ event: 'issue_comment', attempt: 1 });
      db.exec('COMMIT');
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    }
    await sent;
    await fake.waitFor((f) => f.appComments(OWNER, REPO, pr.number).length >= 1, 15_000, 'the reply after the long lock');
  }, 90_000);

  it('answers guessed API tokens with 401 and WWW-Authenticate, and changes nothing', async () => {
    await settle();
    const before = await snapshot();
    const real = app.apiToken;
    const guesses = [
      ...Array.from({ length: 40 }, () => `api-${randomBytes(12).toString('hex')}`),
      real.slice(0, -1),
      `${real}x`,
      real.toUpperCase(),
      ` ${real.slice(1)}`,
      real.slice(0, real.length / 2),
      'null',
      'undefined',
    ];
    const results = await Promise.all(
      guesses.map(async (token) => {
        const r = await app.api('POST', '/moratorium/api/v1/freezes', { account: OWNER, reason: 'guessed' }, { token });
        return { token, status: r.status, challenge: r.headers.get('www-authenticate') };
      }),
    );
    for (const r of results) {
      expect(r.status, r.token).toBe(401);
      expect(r.challenge, r.token).toMatch(/^Bearer\b/);
    }
    // other ways of presenting a token do not count either
    const url = `${app.url}/moratorium/api/v1/state?account=${OWNER}`;
    for (const init of [{}, { headers: { authorization: `Basic ${Buffer.from(`x:${real}`).toString('base64')}` } }, { headers: { authorization: real } }, { headers: { authorization: 'Bearer' } }]) {
      expect((await fetch(url, init)).status).toBe(401);
    }
    expect((await fetch(`${url}&token=${real}&access_token=${real}`)).status).toBe(401);
    expect(await snapshot()).toEqual(before);
    // the right token still works
    expect((await app.api('GET', `/moratorium/api/v1/state?account=${OWNER}`)).status).toBe(200);
  });
});
