/**
 * The real GitHub port's conditional reads (issue 12 item 7), against the fake GitHub API in-process
 * and a real store: every page of a listing is read with the ETag last stored, a 304 is answered
 * from the stored page, a change is seen at once, and a second port on the same store (another
 * replica) sends the same ETags.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConditionalReads } from '../../../src/github/port.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/engine.js';
import { FakeGitHub } from '../../fake-github/index.js';
import { probotOn, realPort } from '../../support/real-port.js';

const PULLS = 'GET /repos/{owner}/{repo}/pulls';
const REPOS = 'GET /installation/repositories';

let fake: FakeGitHub;
let store: SqliteStore;
let probot: ReturnType<typeof probotOn>;
const ref = { owner: 'acme', repo: 'api' };

const readsOf = (s: SqliteStore): ConditionalReads => ({
  get: (k) => s.getConditionalRead(k),
  put: (k, etag, body) => s.putConditionalRead(k, etag, body, 0),
  drop: (k) => s.dropConditionalRead(k),
});
const portOn = (s: SqliteStore | null) => realPort(probot, 7, s ? readsOf(s) : null);
const statuses = (route: string) => fake.requestsTo(route).map((r) => r.status);

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  fake.addRepo('acme', 'api');
  for (let i = 0; i < 150; i++) fake.addPull('acme', 'api', { title: `PR ${i}` });
  probot = probotOn(fake, { throttle: false });
});

beforeEach(() => {
  store = openSqliteStore(':memory:');
  fake.clearRequests();
});

afterAll(async () => {
  await fake?.stop();
});

describe('OctokitPort conditional reads', () => {
  it('reads every page again with its ETag: 304s answered from the store, the same PRs', async () => {
    const port = await portOn(store);
    const first = await port.listOpenPulls(ref);
    expect(first).toHaveLength(150);
    expect(statuses(PULLS)).toEqual([200, 200]);
    fake.clearRequests();
    const again = await port.listOpenPulls(ref);
    expect(again).toEqual(first);
    expect(statuses(PULLS)).toEqual([304, 304]);
    expect(fake.requestsTo(PULLS).map((r) => r.query.page)).toEqual(['1', '2']);
    // 304s are not counted against the rate limit
    expect(fake.counted().filter((r) => r.route === PULLS)).toEqual([]);
  });

  it('sees a new PR and a new head at once (the page changed: 200)', async () => {
    const port = await portOn(store);
    await port.listOpenPulls(ref);
    const added = fake.addPull('acme', 'api', { title: 'Newest' });
    fake.clearRequests();
    const listed = await port.listOpenPulls(ref);
    expect(listed[0]?.number).toBe(added.number);
    expect(listed).toHaveLength(151);
    expect(statuses(PULLS)[0]).toBe(200);
    const oldest = listed.at(-1)!;
    const head = fake.pushToPull('acme', 'api', oldest.number);
    const after = await port.listOpenPulls(ref);
    expect(after.find((p) => p.number === oldest.number)?.headSha).toBe(head);
  });

  it('shares the ETags through the store: another port (replica) on it gets 304s; without a store, plain 200s', async () => {
    await (await portOn(store)).listRepositories();
    fake.clearRequests();
    const other = await portOn(store);
    expect((await other.listRepositories()).map((r) => [r.repo, typeof r.pushedAt])).toEqual([['api', 'string']]);
    expect(statuses(REPOS)).toEqual([304]);
    fake.clearRequests();
    await (await portOn(null)).listRepositories();
    await (await portOn(null)).listRepositories();
    expect(statuses(REPOS)).toEqual([200, 200]);
  });

  it('reads a config file conditionally, and forgets it when it is gone (404)', async () => {
    const port = await portOn(store);
    fake.setFile('acme', 'api', '.github/moratorium.yml', 'enforcement: status\n');
    expect(await port.fetchConfig(ref, { fallback: false })).toEqual({ kind: 'found', data: { enforcement: 'status' }, own: true });
    expect(await port.fetchConfig(ref, { fallback: false })).toEqual({ kind: 'found', data: { enforcement: 'status' }, own: true });
    const CONTENTS = 'GET /repos/{owner}/{repo}/contents/{path}';
    expect(statuses(CONTENTS)).toEqual([200, 304]);
    fake.setFile('acme', 'api', '.github/moratorium.yml', null);
    expect((await port.fetchConfig(ref, { fallback: false })).kind).toBe('missing');
    expect(await store.getConditionalRead('v1 7 GET /repos/acme/api/contents/.github/moratorium.yml')).toBeNull();
  });

  it('a store that fails makes plain requests, never a failed listing', async () => {
    const broken: ConditionalReads = { get: () => Promise.reject(new Error('db down')), put: () => Promise.reject(new Error('db down')), drop: () => Promise.reject(new Error('db down')) };
    const port = await realPort(probot, 7, broken);
    expect(await port.listOpenPulls(ref)).toHaveLength(151);
    expect(statuses(PULLS)).toEqual([200, 200]);
  });
});
