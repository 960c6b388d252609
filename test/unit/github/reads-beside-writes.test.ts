/**
 * Merge-ready first (SPEC 12): the reads a fan-out's order needs (the PR list, each PR's reviews)
 * never wait behind the write throttle. Through the real port and the Octokit class the app runs
 * with (throttle on, as in production), against the fake GitHub in-process: with one check write
 * held by GitHub and the next one waiting for its write slot, the reads are answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OctokitPort } from '../../../src/github/octokit-port.js';
import { FakeGitHub } from '../../fake-github/index.js';
import { probotOn, realPort } from '../../support/real-port.js';

const CHECKS = 'POST /repos/{owner}/{repo}/check-runs';

let fake: FakeGitHub;
let port: OctokitPort;
const ref = { owner: 'acme', repo: 'api' };

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  fake.addRepo('acme', 'api');
  port = await realPort(probotOn(fake, { throttle: true }), 7);
});

afterAll(async () => {
  await fake?.stop();
});

describe('reads beside the write throttle', () => {
  it('answers the PR list and reviews reads while one check write is held and the next waits for its slot', async () => {
    const a = fake.addPull('acme', 'api', { autoMerge: true });
    const b = fake.addPull('acme', 'api');
    fake.addReview('acme', 'api', b.number, { user: 'mia', state: 'APPROVED' });
    // GitHub holds the first write until the test lets it go; the second waits in the throttle for its slot meanwhile
    let letGo!: () => void;
    const held = fake.inject({ route: CHECKS, times: 1, fault: { holdUntil: new Promise<void>((resolve) => (letGo = resolve)) } });
    const done: string[] = [];
    const first = port.postCheck(ref, a.head.sha, { conclusion: 'failure', title: 'Frozen', summary: 'x' }).then(() => done.push('write 1'));
    await fake.waitFor((f) => f.requestsTo(CHECKS).length === 1 || undefined, 10_000, 'the first write');
    const second = port.postCheck(ref, b.head.sha, { conclusion: 'failure', title: 'Frozen', summary: 'x' }).then(() => done.push('write 2'));

    const [pulls, reviews] = await Promise.all([port.listOpenPulls(ref), port.listReviews(ref, b.number)]);
    done.push('reads');
    // answered before the held write came back, and before the next write was even sent
    expect(fake.requestsTo(CHECKS)).toHaveLength(1);
    expect(pulls.map((p) => [p.number, p.autoMerge])).toEqual([
      [b.number, false],
      [a.number, true],
    ]);
    expect(reviews).toEqual([{ reviewer: 'mia', state: 'APPROVED', submittedAt: expect.any(Number) }]);

    // the second write does not wait for the first's answer either; then GitHub answers the first
    await second;
    letGo();
    await first;
    expect(held.hits).toBe(1);
    expect(done).toEqual(['reads', 'write 2', 'write 1']);
    expect(fake.violations).toEqual([]);
  }, 30_000);
});
