/**
 * Reads at rest (issue 12 item 7, SPEC 9): the reconcile's listings (installations, an
 * installation's repositories, each repository's open PRs) and the config file are read with
 * `If-None-Match` and the ETag last seen, kept in the store. The fake answers ETags and 304s the way
 * GitHub does; a 304 does not count against the rate limit. The app runs as a user starts it
 * (`npm start`), on either store.
 */
import { describe, expect, it } from 'vitest';
import { FakeGitHub, type RecordedRequest } from '../fake-github/index.js';
import { expectFakeClean, startApp, type AppHandle } from './harness.js';

const OWNER = 'acme';
const LISTINGS = ['GET /app/installations', 'GET /installation/repositories', 'GET /repos/{owner}/{repo}/pulls'];
const CHECKS = 'POST /repos/{owner}/{repo}/check-runs';
const CONTENTS = 'GET /repos/{owner}/{repo}/contents/{path}';

/** the requests of one whole reconcile round: from after a 'reconcile done' line to the next one */
async function oneRound(app: AppHandle, fake: FakeGitHub): Promise<RecordedRequest[]> {
  await app.waitForLogLine((l) => l.msg === 'reconcile done', 30_000, app.logLines().length);
  fake.clearRequests();
  await app.waitForLogLine((l) => l.msg === 'reconcile done', 30_000, app.logLines().length);
  return [...fake.requests];
}

const describeRoute = (r: RecordedRequest) => `${r.status} ${r.method} ${r.path}`;

describe('conditional reads of the reconcile', () => {
  it('an unchanged installation is answered with 304s and nothing is written; a new PR and a new head are seen', async () => {
    const fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, 'api');
    fake.addRepo(OWNER, 'web');
    // api has a config file of its own; web follows the account (which has none: the defaults)
    fake.setFile(OWNER, 'api', '.github/moratorium.yml', 'enforcement: check\n');
    const first = fake.addPull(OWNER, 'api', { title: 'Feature A' });
    fake.addPull(OWNER, 'api', { title: 'Feature B' });
    fake.addPull(OWNER, 'web', { title: 'Feature C' });
    const app = await startApp({ fake, env: { MORATORIUM_RECONCILE_INTERVAL: '1s' } });
    await fake.waitFor((f) => f.pulls(OWNER, 'api', { state: 'open' }).every((p) => f.latestCheck(OWNER, 'api', p.head.sha)), 30_000, 'the first gates');

    // a whole round of an unchanged installation: every listing a 304, nothing counted, nothing written
    const quiet = await oneRound(app, fake);
    const listings = quiet.filter((r) => LISTINGS.includes(r.route ?? ''));
    expect(listings.map((r) => r.route).sort()).toEqual([
      'GET /app/installations',
      'GET /installation/repositories',
      'GET /repos/{owner}/{repo}/pulls',
      'GET /repos/{owner}/{repo}/pulls',
    ]);
    expect(listings.filter((r) => r.status !== 304).map(describeRoute)).toEqual([]);
    expect(fake.counted().map(describeRoute)).toEqual([]);
    expect(fake.writes()).toEqual([]);

    // a new PR in web, a new head on api's first PR: seen by the next round, their listings answered 200
    const added = fake.addPull(OWNER, 'web', { title: 'Feature D' });
    const head = fake.pushToPull(OWNER, 'api', first.number);
    await fake.waitFor((f) => f.latestCheck(OWNER, 'web', added.head.sha) && f.latestCheck(OWNER, 'api', head), 30_000, 'gates on the new PR and the new head');
    const pulls200 = fake.requestsTo('GET /repos/{owner}/{repo}/pulls').filter((r) => r.status === 200).map((r) => r.params.repo);
    expect(pulls200.sort()).toEqual(['api', 'web']);
    expect(fake.requestsTo(CHECKS).map((r) => [r.params.repo, r.body.head_sha]).sort()).toEqual(
      [
        ['api', head],
        ['web', added.head.sha],
      ].sort(),
    );

    // the ETags are in the store: a restarted process (another replica, say) sends them too
    await app.restart();
    const again = await oneRound(app, fake);
    const relisted = again.filter((r) => LISTINGS.includes(r.route ?? ''));
    expect(relisted.length).toBeGreaterThanOrEqual(4);
    expect(relisted.filter((r) => r.status !== 304).map(describeRoute)).toEqual([]);
    expect(fake.writes()).toEqual([]);
    expectFakeClean(fake);
  }, 180_000);

  it('a config file changed by a push is read again (200), an unchanged one is a 304 after a restart', async () => {
    const fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, 'api');
    fake.setFile(OWNER, 'api', '.github/moratorium.yml', 'enforcement: check\n');
    const pr = fake.addPull(OWNER, 'api', { title: 'Feature A' });
    const app = await startApp({ fake, env: { MORATORIUM_RECONCILE_INTERVAL: '1s' } });
    await fake.waitFor((f) => f.latestCheck(OWNER, 'api', pr.head.sha), 30_000, 'the first gate');
    // no webhook: the reconcile sees the push in the repository listing (pushed_at) and reads the file
    await oneRound(app, fake);
    fake.clearRequests();
    fake.setFile(OWNER, 'api', '.github/moratorium.yml', 'enforcement: status\n');
    await fake.waitFor((f) => f.requestsTo(CONTENTS).some((r) => r.status === 200), 30_000, 'the changed file read again');
    expect(fake.requestsTo('GET /installation/repositories').some((r) => r.status === 200)).toBe(true);
    // after a restart (an empty config cache) the file is asked again, conditionally: unchanged, so a 304
    await app.stop();
    const from = app.logLines().length;
    fake.clearRequests();
    await app.restart();
    await app.waitForLogLine((l) => l.msg === 'reconcile done', 30_000, from);
    expect(fake.requestsTo(CONTENTS).map((r) => r.status)).toEqual([304]);
    expectFakeClean(fake);
  }, 180_000);
});
