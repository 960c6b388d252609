/**
 * The store's contract, the same cases on both engines (test/support/engines.ts): SQLite in a
 * temporary file, PostgreSQL in a fresh database. Several stores opened on one database behave as
 * several replicas.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../src/store/contract.js';
import { TransactionMisuse } from '../../../src/store/contract.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { PG_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { engines, type EngineDb } from '../../support/engines.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('numbers the migrations of both engines alike', () => {
  expect(PG_MIGRATIONS.map((m) => [m.id, m.name])).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
});

describe.each(engines())('store contract on $name', (engine) => {
  let db: EngineDb;
  let store: AsyncStore;
  beforeEach(async () => {
    db = await engine.fresh();
    store = await db.open();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('keeps an override that needs approvals, and who approved it, oldest first', async () => {
    await store.transaction(async (tx) => {
      await tx.createOverride({ account: 'Acme', repo: 'API', number: 5, sha: 'h1', by: 'dave', reason: 'hotfix', now: T0, approvalsNeeded: 3 });
    });
    expect(await store.activeOverride('acme', 'api', 5)).toEqual({ sha: 'h1', by: 'dave', reason: 'hotfix', createdAt: T0, endedAt: null, approvalsNeeded: 3, approvedBy: [] });
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h1', login: 'frank', now: T0 + 2 })).toBe(true);
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h1', login: 'erin', now: T0 + 1 })).toBe(true);
    // the same person twice, an approval for another head, another PR: nothing recorded
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h1', login: 'erin', now: T0 + 3 })).toBe(false);
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h2', login: 'gina', now: T0 + 3 })).toBe(false);
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 6, sha: 'h1', login: 'gina', now: T0 + 3 })).toBe(false);
    expect((await store.activeOverride('acme', 'api', 5))?.approvedBy).toEqual(['erin', 'frank']);
    expect((await store.overrideForSha('acme', 'api', 'h1'))?.approvedBy).toEqual(['erin', 'frank']);
    // a new /override ends the pending one: its approvals stay with it
    await store.transaction(async (tx) => {
      await tx.createOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h2', by: 'erin', reason: 'again', now: T0 + 4, approvalsNeeded: 2 });
    });
    expect(await store.activeOverride('acme', 'api', 5)).toMatchObject({ sha: 'h2', by: 'erin', approvalsNeeded: 2, approvedBy: [] });
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h1', login: 'gina', now: T0 + 5 })).toBe(false);
    expect(await store.cancelOverride('acme', 'api', 5, T0 + 6)).toBe(true);
    expect(await store.approveOverride({ account: 'acme', repo: 'api', number: 5, sha: 'h2', login: 'gina', now: T0 + 7 })).toBe(false);
    expect(await store.activeOverride('acme', 'api', 5)).toBeNull();
  });

  it('keeps a pull request\'s changed files per head commit, and prunes old lists', async () => {
    expect(await store.getPullFiles('acme', 'api', 7, 'h1')).toBeNull();
    const files = { files: [{ path: 'docs/new.md', previousPath: 'docs/old.md' }, { path: 'README.md', previousPath: null }], count: 2, capped: false };
    await store.setPullFiles('Acme', 'API', 7, 'h1', files, T0);
    await store.setPullFiles('acme', 'api', 7, 'h2', { files: [], count: 4000, capped: true }, T0 + 1);
    expect(await store.getPullFiles('acme', 'api', 7, 'h1')).toEqual(files);
    expect(await store.getPullFiles('acme', 'api', 7, 'h2')).toEqual({ files: [], count: 4000, capped: true });
    expect(await store.getPullFiles('acme', 'api', 8, 'h1')).toBeNull();
    await store.prune(T0 + 31 * 86_400_000);
    expect(await store.getPullFiles('acme', 'api', 7, 'h1')).toBeNull();
  });

  it('migrates to the last numbered migration', async () => {
    expect(await store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.id);
    expect(await store.ping()).toBe(true);
  });

  it('keeps review verdicts per PR and head commit, and drops those of PRs no longer open', async () => {
    await store.setReviewVerdict('Acme', 'API', { number: 1, headSha: 'a1', pullUpdatedAt: T0, approved: true }, T0);
    await store.setReviewVerdict('acme', 'api', { number: 2, headSha: 'b1', pullUpdatedAt: T0, approved: false }, T0);
    await store.setReviewVerdict('acme', 'web', { number: 1, headSha: 'c1', pullUpdatedAt: T0, approved: true }, T0);
    // a later read of the same PR replaces the verdict
    await store.setReviewVerdict('acme', 'api', { number: 2, headSha: 'b2', pullUpdatedAt: T0 + 1, approved: true }, T0 + 1);
    expect([...(await store.reviewVerdictsOfRepo('acme', 'api')).values()]).toEqual([
      { number: 1, headSha: 'a1', pullUpdatedAt: T0, approved: true },
      { number: 2, headSha: 'b2', pullUpdatedAt: T0 + 1, approved: true },
    ]);
    await store.transaction(async (tx) => tx.dropClosedReviewVerdicts('acme', 'api', [2]));
    expect([...(await store.reviewVerdictsOfRepo('ACME', 'api')).keys()]).toEqual([2]);
    expect((await store.reviewVerdictsOfRepo('acme', 'web')).get(1)?.approved).toBe(true);
  });

  it('keeps a committed transaction across a reopen', async () => {
    const incident = await store.transaction(async (tx) => {
      await tx.upsertInstallation(1, 'Acme', 'Organization', false, T0);
      const i = await tx.createIncident({ account: 'Acme', repo: null, severity: 'sev1', title: 'API latency', by: 'alice', source: 'command', now: T0 });
      await tx.audit({ at: T0, account: 'Acme', actor: 'alice', source: 'command', action: 'incident.open', incidentId: i.id, details: { n: 1 } });
      await tx.enqueueJob('reply', { installationId: 1 }, T0, T0);
      return i;
    });
    await store.close();
    const again = await db.open();
    expect((await again.getIncident(incident.id))?.title).toBe('API latency');
    expect(await again.activeIncidents('acme')).toHaveLength(1);
    expect(await again.listInstallations()).toEqual([{ id: 1, account: 'acme', accountType: 'Organization', suspended: false }]);
    expect((await again.auditOfIncident(incident.id)).map((a) => [a.action, a.details])).toEqual([['incident.open', { n: 1 }]]);
    expect(await again.pendingJobCount()).toBe(1);
  });

  it('changes nothing when a transaction fails', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.createFreeze({ account: 'acme', repo: null, mode: 'all', reason: 'r', by: 'a', until: null, source: 'command', now: T0 });
        await tx.enqueueJob('fanout', { installationId: 1 }, T0, T0);
        expect(await tx.activeFreezes('acme', T0)).toHaveLength(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.activeFreezes('acme', T0)).toEqual([]);
    expect(await store.pendingJobCount()).toBe(0);
    // and the store is usable afterwards
    await store.transaction(async (tx) => void (await tx.setMeta('k', 'v')));
    expect(await store.getMeta('k')).toBe('v');
  });

  it('refuses a transaction used after its end, one inside another, and the store used inside one', async () => {
    let leaked: Parameters<Parameters<AsyncStore['transaction']>[0]>[0] | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
      await expect(store.getMeta('x')).rejects.toBeInstanceOf(TransactionMisuse);
      await expect(store.transaction(async () => 1)).rejects.toBeInstanceOf(TransactionMisuse);
    });
    await expect(leaked!.getMeta('x')).rejects.toBeInstanceOf(TransactionMisuse);
  });

  it('claims a delivery and a comment once, also when two replicas race for them', async () => {
    const other = await db.open();
    const results = await Promise.all([
      store.transaction((tx) => tx.claimDelivery('d1', 'pull_request', T0)),
      other.transaction((tx) => tx.claimDelivery('d1', 'pull_request', T0)),
      store.claimComment(2_500_000_000, 'Acme', T0),
      other.claimComment(2_500_000_000, 'acme', T0),
    ]);
    expect(results.slice(0, 2).filter(Boolean)).toHaveLength(1);
    expect(results.slice(2).filter(Boolean)).toHaveLength(1);
    expect(await store.deliverySeen('d1')).toBe(true);
    expect(await other.commentSeen(2_500_000_000)).toBe(true);
    expect(await store.claimDelivery('d1', 'pull_request', T0)).toBe(false);
  });

  it('gives the same records as today for every aggregate', async () => {
    await store.upsertInstallation(7, 'ACME', 'Organization', true, T0);
    await store.upsertRepo('Acme', 'API', 7, 'Acme/API', 'main');
    await store.upsertRepo('Acme', 'api', 7, 'Acme/api', null);
    await store.setLastValidConfig('acme', 'api', '{"a":1}');
    await store.setRequiredState('acme', 'api', 'required', T0);
    expect(await store.getRepo('acme', 'API')).toEqual({
      account: 'acme', repo: 'api', installationId: 7, fullName: 'Acme/api', defaultBranch: 'main', lastValidConfig: '{"a":1}', requiredCheckedAt: T0, requiredState: 'required',
    });
    await store.upsertRepo('acme', 'web-app', 7, 'acme/web-app', 'main');
    await store.upsertRepo('acme', 'web_app', 7, 'acme/web_app', 'main');
    expect((await store.reposOfAccount('Acme')).map((r) => r.repo)).toEqual(['api', 'web-app', 'web_app']);
    expect(await store.installationOfAccount('acme')).toBe(7);

    const f = await store.createFreeze({ account: 'ACME', repo: 'Api', mode: 'features', reason: 'launch', by: 'a', until: T0 + 1000, source: 'api', now: T0 });
    expect(f).toMatchObject({ scope: { account: 'acme', repo: 'api' }, mode: 'features', until: T0 + 1000, endedAt: null, source: 'api' });
    expect(await store.activeFreezesOfScope('Acme', 'API', T0)).toHaveLength(1);
    expect(await store.expiredFreezes(T0 + 1000)).toHaveLength(1);
    expect(await store.nextFreezeExpiry(T0)).toBe(T0 + 1000);
    expect(await store.countActiveFreezes(T0)).toEqual([{ mode: 'features', count: 1 }]);
    expect(await store.endFreeze(f.id, 'b', T0 + 1)).toBe(true);
    expect(await store.endFreeze(f.id, 'b', T0 + 1)).toBe(false);
    expect(await store.suppressWindow({ account: 'acme', repo: null, window: 'weekend', start: T0, end: T0 + 10, by: 'a', now: T0 })).toBe(true);
    expect(await store.suppressWindow({ account: 'acme', repo: null, window: 'weekend', start: T0, end: T0 + 10, by: 'a', now: T0 })).toBe(false);
    expect(await store.liveSuppressions('acme', T0)).toEqual([{ scope: { account: 'acme', repo: null }, window: 'weekend', occurrenceStart: T0 }]);

    const i = await store.createIncident({ account: 'acme', repo: 'api', severity: 'sev2', title: 't', by: 'a', source: 'api', now: T0 });
    expect(await store.closeIncident(i.id, T0)).toBe(true);
    expect(await store.resolveIncident(i.id, T0)).toBe(false);
    expect((await store.incidentCandidates('acme', 'api')).map((x) => x.id)).toEqual([i.id]);
    expect(await store.linkExternalIncident('pagerduty', 'P1', i.id, T0)).toBe(true);
    expect(await store.linkExternalIncident('pagerduty', 'P1', i.id, T0)).toBe(false);
    expect(await store.externalIncident('pagerduty', 'P1')).toBe(i.id);
    expect(await store.externalOfIncident(i.id)).toEqual([{ source: 'pagerduty', externalId: 'P1' }]);

    await store.transaction(async (tx) => {
      await tx.createOverride({ account: 'acme', repo: 'api', number: 3, sha: 'a1', by: 'x', reason: 'r', now: T0 });
      await tx.createOverride({ account: 'acme', repo: 'api', number: 3, sha: 'b2', by: 'y', reason: 's', now: T0 + 1 });
    });
    expect(await store.activeOverride('acme', 'api', 3)).toEqual({ sha: 'b2', by: 'y', reason: 's', createdAt: T0 + 1, endedAt: null, approvalsNeeded: 1, approvedBy: [] });
    expect((await store.overrideForSha('acme', 'api', 'a1'))?.endedAt).toBe(T0 + 1);
    expect(await store.cancelOverride('acme', 'api', 3, T0 + 2)).toBe(true);
    expect(await store.activeOverride('acme', 'api', 3)).toBeNull();

    const d = { dedupeKey: 'deployment:7', account: 'acme', repo: 'api', kind: 'deployment' as const, environment: 'production', at: T0, provisional: true };
    expect(await store.recordDeploy(d)).toBe(true);
    expect(await store.recordDeploy({ ...d, at: T0 + 5 })).toBe(false);
    expect(await store.deployTimes('acme', 'api', 'deployment', 'production', T0 - 1)).toEqual([T0]);
    expect(await store.deploysOfAccount('acme', T0 - 1, T0 + 1)).toEqual([]);
    expect(await store.settleDeploy('deployment:7', 'bob')).toBe(true);
    expect((await store.deploysOfAccount('acme', T0 - 1, T0 + 1)).map((x) => [x.actor, x.environment])).toEqual([['bob', 'production']]);
    expect(await store.dropProvisionalDeploy('deployment:7')).toBe(false);

    const posted = { account: 'Acme', repo: 'Api', sha: 's1', decisionKey: 'k', conclusion: 'failure', title: 'Frozen', blockedUntil: T0 + 60_000, nextChangeAt: T0 + 60_000, postedAt: T0 };
    await store.setPosted(posted);
    expect(await store.getPosted('acme', 'api', 's1')).toEqual({ ...posted, account: 'acme', repo: 'api' });
    expect(await store.postedDue(T0 + 60_000)).toEqual([{ account: 'acme', repo: 'api', sha: 's1' }]);
    expect(await store.nextPostedChange(T0)).toBe(T0 + 60_000);
    await store.setPostedNextChange('acme', 'api', 's1', null);
    expect(await store.postedDue(T0 + 60_000)).toEqual([]);

    const base = { account: 'acme', repo: 'api', installationId: 7, headRef: 'f', baseRef: 'main', headInRepo: true, draft: false, labels: ['hotfix'], title: 't', state: 'open' as const };
    await store.upsertPull({ ...base, number: 1, headSha: 'new', updatedAt: T0 + 10 });
    await store.upsertPull({ ...base, number: 1, headSha: 'old', updatedAt: T0 });
    await store.upsertPull({ ...base, number: 2, headSha: 'new', updatedAt: T0, draft: true });
    expect((await store.getPull('acme', 'api', 1))?.headSha).toBe('new');
    expect((await store.openPullsBySha('acme', 'api', 'new')).map((p) => [p.number, p.draft, p.labels])).toEqual([[1, false, ['hotfix']], [2, true, ['hotfix']]]);
    await store.closeMissingPulls('acme', 'api', [2]);
    expect((await store.getPull('acme', 'api', 1))?.state).toBe('closed');
    expect((await store.getPull('acme', 'api', 2))?.state).toBe('open');
    await store.setLabelGrant('acme', 'api', 2, 'Hotfix', 'carol', null, T0);
    expect(await store.getLabelGrant('acme', 'api', 2, 'hotfix')).toEqual({ actor: 'carol', authorized: null, checkedAt: T0 });
    await store.setLabelGrant('acme', 'api', 2, 'hotfix', 'carol', true, T0 + 1);
    expect((await store.getLabelGrant('acme', 'api', 2, 'HOTFIX'))?.authorized).toBe(true);
    await store.deleteLabelGrant('acme', 'api', 2, 'hotfix');
    expect(await store.getLabelGrant('acme', 'api', 2, 'hotfix')).toBeNull();

    const a1 = await store.audit({ at: T0, account: 'acme', actor: 'x', source: 'api', action: 'freeze.create' });
    const a2 = await store.audit({ at: T0 + 1, account: 'acme', repo: 'API', actor: 'y', source: 'webhook', action: 'pr.gate', deliveryId: 'd9' });
    expect(a2).toBeGreaterThan(a1);
    expect((await store.auditOfAccount('acme', 10)).map((a) => [a.id, a.repo, a.deliveryId])).toEqual([[a2, 'api', 'd9'], [a1, null, null]]);
    expect((await store.auditBetween('acme', T0, T0)).map((a) => a.id)).toEqual([a1]);
    expect((await store.recentAudit(1)).map((a) => a.id)).toEqual([a2]);

    const held = { account: 'acme', repo: 'api', installationId: 7, environment: 'production', callbackUrl: 'https://x/cb', deploymentId: 3_000_000_000, sha: 's', ref: 'main', prNumbers: [1, 2], requestedAt: T0 };
    expect(await store.holdDeployment(held)).toBe(true);
    expect(await store.holdDeployment(held)).toBe(false);
    const [w] = await store.waitingDeploymentsOfRepo('Acme', 'API');
    expect(w).toEqual({ ...held, id: w!.id, state: 'waiting' });
    expect(await store.decideHeld(w!.id, 'approved', 'open', T0)).toBe(true);
    expect(await store.decideHeld(w!.id, 'rejected', 'late', T0)).toBe(false);
    expect(await store.waitingDeployments()).toEqual([]);

    await store.setMeta('reconcile', '1');
    await store.setMeta('reconcile', '2');
    expect(await store.getMeta('reconcile')).toBe('2');
  });

  it('keeps conditional reads (ETag and body) that another store on the same database reads', async () => {
    const key = '7 GET /repos/acme/api/pulls page=1';
    expect(await store.getConditionalRead(key)).toBeNull();
    await store.putConditionalRead(key, 'W/"a1"', '{"items":[1],"more":false}', T0);
    await store.putConditionalRead(key, 'W/"b2"', '{"items":[2],"more":true}', T0 + 1);
    const other = await db.open();
    try {
      expect(await other.getConditionalRead(key)).toEqual({ etag: 'W/"b2"', body: '{"items":[2],"more":true}', seenAt: T0 + 1 });
      await other.dropConditionalRead(key);
      expect(await store.getConditionalRead(key)).toBeNull();
      await expect(store.putConditionalRead('k'.repeat(2001), 'e', '{}', T0)).rejects.toThrow(/longer than 2000/);
    } finally {
      await other.close();
    }
  });

  it('prunes the conditional reads that GitHub has not answered anew for 30 days, and keeps the others', async () => {
    const gone = '7 GET /repos/acme/left/pulls page=1';
    const kept = '7 GET /repos/acme/api/pulls page=1';
    await store.putConditionalRead(gone, 'W/"a1"', '{}', T0);
    await store.putConditionalRead(kept, 'W/"b1"', '{}', T0);
    // answered anew (a 200 with a new ETag) 20 days later: its 30 days start again
    await store.putConditionalRead(kept, 'W/"b2"', '{}', T0 + 20 * 86_400_000);
    await store.prune(T0 + 30 * 86_400_000);
    expect(await store.getConditionalRead(gone)).not.toBeNull();
    await store.prune(T0 + 30 * 86_400_000 + 1);
    expect(await store.getConditionalRead(gone)).toBeNull();
    expect(await store.getConditionalRead(kept)).toMatchObject({ etag: 'W/"b2"' });
  });

  describe('jobs', () => {
    const lease = engine.name === 'postgres' ? 400 : 30_000;

    it('never hands one job to two claimers at once', async () => {
      const other = await db.open();
      const ids = await store.transaction(async (tx) => {
        const out: number[] = [];
        for (let n = 0; n < 60; n++) out.push(await tx.enqueueJob('reply', { n }, T0, T0));
        return out;
      });
      const taken: number[][] = [[], [], [], []];
      const claimers = [store, other, store, other].map(async (s, k) => {
        for (;;) {
          const got = await s.claimJobs({ owner: `replica-${k}`, now: T0, leaseMs: 60_000, limit: 4 });
          if (got.length === 0) return;
          for (const j of got) {
            expect(j.lockedBy).toBe(`replica-${k}`);
            taken[k]!.push(j.id);
          }
        }
      });
      await Promise.all(claimers);
      const all = taken.flat();
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort((a, b) => a - b)).toEqual(ids);
    });

    it('claims due jobs oldest first, and not before their time', async () => {
      const late = await store.enqueueJob('reply', { n: 2 }, T0 + 5000, T0);
      const early = await store.enqueueJob('reply', { n: 1 }, T0, T0);
      const got = await store.claimJobs({ owner: 'a', now: T0, leaseMs: lease, limit: 10 });
      expect(got.map((j) => [j.id, j.payload])).toEqual([[early, { n: 1 }]]);
      expect(await store.completeJob(early, 'a', T0)).toBe(true);
      expect(await store.nextJobAt()).toBe(T0 + 5000);
      expect((await store.claimJobs({ owner: 'a', now: T0 + 5000, leaseMs: lease, limit: 10 })).map((j) => j.id)).toEqual([late]);
    });

    it('lets another replica take over a job whose lease ran out, and only the holder finish it', async () => {
      const other = await db.open();
      const id = await store.enqueueJob('fanout', { installationId: 1 }, T0, T0);
      const [first] = await store.claimJobs({ owner: 'dead', now: T0, leaseMs: lease, limit: 1 });
      expect(first?.id).toBe(id);
      expect(await other.claimJobs({ owner: 'alive', now: T0, leaseMs: 60_000, limit: 1 })).toEqual([]);
      // SQLite leases run on the caller's clock; PostgreSQL's on the database's own
      const later = T0 + lease + 1;
      const taken = await until('the lease to run out', async () => {
        const got = await other.claimJobs({ owner: 'alive', now: later, leaseMs: 60_000, limit: 1 });
        return got.length ? got : undefined;
      });
      expect(taken.map((j) => [j.id, j.lockedBy])).toEqual([[id, 'alive']]);
      expect(await store.extendJobLease(id, 'dead', 60_000, later)).toBe(false);
      expect(await store.completeJob(id, 'dead', later)).toBe(false);
      expect(await other.completeJob(id, 'alive', later)).toBe(true);
      expect(await store.jobState(id)).toMatchObject({ state: 'done', attempts: 1, lockedBy: null });
    });

    it('keeps an extended lease, retries with a new payload and fails for good', async () => {
      const id = await store.enqueueJob('reply', { step: 1 }, T0, T0);
      await store.claimJobs({ owner: 'a', now: T0, leaseMs: 60_000, limit: 1 });
      expect(await store.extendJobLease(id, 'a', 60_000, T0 + 30_000)).toBe(true);
      expect(await store.claimJobs({ owner: 'b', now: T0 + 70_000, leaseMs: 60_000, limit: 1 })).toEqual([]);
      expect(await store.retryJob(id, 'a', 'HTTP 502', T0 + 1000, { step: 2 })).toBe(true);
      expect(await store.jobState(id)).toMatchObject({ state: 'pending', attempts: 1, lockedBy: null, lastError: 'HTTP 502' });
      expect(await store.pendingJobsByKind()).toEqual([{ kind: 'reply', count: 1 }]);
      const [again] = await store.claimJobs({ owner: 'b', now: T0 + 1000, leaseMs: 60_000, limit: 1 });
      expect(again?.payload).toEqual({ step: 2 });
      expect(again?.attempts).toBe(1);
      expect(await store.failJob(id, 'b', 'HTTP 422', T0 + 2000)).toBe(true);
      expect(await store.pendingJobCount()).toBe(0);
      await store.prune(T0 + 8 * 86_400_000);
      expect(await store.jobState(id)).toBeNull();
    });
  });

  it('serialises transactions that lock the same key across replicas', async () => {
    const replicas = [store, await db.open(), await db.open()];
    let inside = 0;
    let most = 0;
    const admitted: boolean[] = await Promise.all(
      Array.from({ length: 9 }, (_, n) =>
        replicas[n % 3]!.transaction(async (tx) => {
          await tx.lockKey('cadence:acme/api');
          inside++;
          most = Math.max(most, inside);
          try {
            const times = await tx.deployTimes('acme', 'api', 'merge', '', T0 - 1);
            if (times.length >= 3) return false;
            await tx.getMeta('between the read and the write');
            return await tx.recordDeploy({ dedupeKey: `merge:${n}`, account: 'acme', repo: 'api', kind: 'merge', at: T0 + n });
          } finally {
            inside--;
          }
        }),
      ),
    );
    expect(most).toBe(1);
    expect(admitted.filter(Boolean)).toHaveLength(3);
    expect(await store.deployTimes('acme', 'api', 'merge', '', T0 - 1)).toHaveLength(3);
  });

  it('loses no update among concurrent read-then-write transactions (PostgreSQL runs them again)', async () => {
    const replicas = [store, await db.open(), await db.open()];
    await store.setMeta('counter', '0');
    let runs = 0;
    await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        replicas[n % 3]!.transaction(async (tx) => {
          runs++;
          const seen = Number(await tx.getMeta('counter'));
          await tx.audit({ at: T0, account: 'acme', actor: `r${n}`, source: 'api', action: 'between' });
          await tx.setMeta('counter', String(seen + 1));
        }),
      ),
    );
    expect(await store.getMeta('counter')).toBe('6');
    expect(runs).toBeGreaterThanOrEqual(6);
  });

  it('hands a claimed moment to one replica, and runs exclusive work once at a time', async () => {
    const other = await db.open();
    const claims = await Promise.all([store, other, store, other].map((s, n) => s.transaction((tx) => tx.claimOnce('boundary:weekend:1796115600000', `r${n}`, T0))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await other.claimOf('boundary:weekend:1796115600000'))?.by).toBe(`r${claims.indexOf(true)}`);

    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = store.runExclusive('reconcile', async () => {
      started();
      await new Promise<void>((r) => (release = r));
      return 'done';
    });
    await running;
    expect(await other.runExclusive('reconcile', async () => 'twice')).toEqual({ ran: false });
    expect(await other.runExclusive('another key', async () => 'other')).toEqual({ ran: true, value: 'other' });
    release();
    expect(await first).toEqual({ ran: true, value: 'done' });
    expect(await other.runExclusive('reconcile', async () => 'next')).toEqual({ ran: true, value: 'next' });
    await store.prune(T0 + 8 * 86_400_000);
    expect(await store.claimOf('boundary:weekend:1796115600000')).toBeNull();
  });

  it('tells every replica of a notification once its transaction commits, and never of a rolled-back one', async () => {
    const other = await db.open();
    const got: string[] = [];
    let arrived!: () => void;
    const both = new Promise<void>((r) => (arrived = r));
    const stop = await store.listen('config_changed', (payload) => {
      got.push(payload);
      if (got.length === 2) arrived();
    });
    await expect(
      other.transaction(async (tx) => {
        await tx.notify('config_changed', 'acme/api@rolled-back');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await other.transaction(async (tx) => {
      await tx.setLastValidConfig('acme', 'api', '{}');
      await tx.notify('config_changed', 'acme/api@1');
    });
    await other.notify('config_changed', 'acme/web@2');
    await both;
    expect(got).toEqual(['acme/api@1', 'acme/web@2']);
    await stop();
    await expect(other.notify('Config-Changed', 'x')).rejects.toThrow('not a topic name');
  });

  it('migrates once when several replicas start at once', async () => {
    const fresh = await engine.fresh();
    try {
      const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open(), fresh.open()]);
      for (const s of stores) expect(await s.schemaVersion()).toBe(MIGRATIONS.at(-1)!.id);
      if (engine.name === 'postgres') {
        const rows = await fresh.query('SELECT id, COUNT(*)::int AS n FROM schema_migrations GROUP BY id ORDER BY id');
        expect(rows).toEqual(MIGRATIONS.map((m) => ({ id: m.id, n: 1 })));
      }
    } finally {
      await fresh.drop();
    }
  });
});
