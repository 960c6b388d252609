/**
 * SPEC 9 across replicas, at the level of the app's parts: two apps composed on two stores (each its
 * own connection or pool) of one database behave as two replicas. On both engines where it means
 * something; the cases that need two processes' worth of PostgreSQL (a lock another replica waits
 * for, a retried transaction, a lost LISTEN connection) on PostgreSQL only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { composeApp, type AppParts } from '../../../src/compose.js';
import type { CheckOutput, RepoRef } from '../../../src/github/port.js';
import type { AsyncStore } from '../../../src/store/contract.js';
import { openPostgresStore } from '../../../src/store/postgres/engine.js';
import { engines, type EngineDb } from '../../support/engines.js';
import { FakePort } from '../../support/fake-port.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { until } from '../../support/until.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
const REF: RepoRef = { owner: 'acme', repo: 'api' };
const alice = { login: 'alice', source: 'api' as const };

/** a port whose check writes (or deployment answers) wait until the test lets them go */
class HeldPort extends FakePort {
  waiting = 0;
  private release: () => void = () => {};
  private gate: Promise<void> | null = null;
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  letGo(): void {
    this.gate = null;
    this.release();
  }
  private async pass(): Promise<void> {
    if (!this.gate) return;
    this.waiting++;
    await this.gate;
  }
  override async postCheck(ref: RepoRef, sha: string, o: CheckOutput) {
    await this.pass();
    return super.postCheck(ref, sha, o);
  }
  override async answerDeployment(...args: Parameters<FakePort['answerDeployment']>) {
    await this.pass();
    return super.answerDeployment(...args);
  }
}

for (const engine of engines()) {
  describe(`two replicas on ${engine.name}`, () => {
    let db: EngineDb | null = null;
    const apps: AppParts[] = [];
    const extra: AsyncStore[] = [];
    const clock = { t: T0, now() { return this.t; } };

    afterEach(async () => {
      for (const a of apps.splice(0)) await a.stop();
      for (const s of extra.splice(0)) await s.close().catch(() => {});
      await db?.drop();
      db = null;
      clock.t = T0;
    });

    async function replica(port: FakePort, store?: AsyncStore): Promise<AppParts> {
      db ??= await engine.fresh();
      const s = store ?? (await db.open());
      const app = composeApp({ store: s, clock, log: pino({ level: 'silent' }), ports: async () => port });
      apps.push(app);
      await s.upsertInstallation(1, 'acme', 'Organization', false, T0);
      return app;
    }

    function ports(): [HeldPort, HeldPort] {
      const a = new HeldPort();
      const b = new HeldPort();
      for (const p of [a, b]) {
        p.addRepo('acme', 'api');
        p.addPull('api', { number: 1 });
      }
      return [a, b];
    }

    it('runs a time boundary on one replica only: the timed freeze ending is posted once', async () => {
      const [pa, pb] = ports();
      const a = await replica(pa);
      const b = await replica(pb);
      await a.store.transaction((tx) => a.actions.freeze(tx, { account: 'acme', repo: null }, 'all', T0 + 60_000, 'release', alice, 1));
      const pull = pa.pulls.get('api')![0]!;
      await a.gatekeeper.remember(1, REF, pull);
      expect((await a.gatekeeper.gatePull(pa, REF, 'main', pull)).decision.conclusion).toBe('failure');
      clock.t = T0 + 61_000;
      // replica A's boundary run is in the middle of its write when replica B's timer fires
      pa.hold();
      const first = a.boundaries.fire();
      await until(() => pa.waiting === 1);
      await b.boundaries.fire();
      pa.letGo();
      await first;
      const afterBoundary = [...pa.posted, ...pb.posted].slice(1);
      expect(afterBoundary.map((p) => p.conclusion)).toEqual(['success']);
      expect(await a.store.expiredFreezes(clock.t)).toEqual([]);
    });

    it('drops the cached config on every replica when one sees a push to the default branch', async () => {
      const [pa, pb] = ports();
      pb.config = { kind: 'found', data: { enforcement: 'check' } };
      const a = await replica(pa);
      const b = await replica(pb);
      await a.configs.start();
      await b.configs.start();
      await b.configs.get(pb, REF);
      await b.configs.get(pb, REF);
      const fetches = () => pb.log.filter((x) => x === 'fetchConfig').length;
      expect(fetches()).toBe(1);
      await a.pulls.onPush(pa, REF, 'main', { ref: 'refs/heads/main', after: 'abc', touchesConfig: true });
      await until(async () => {
        await b.configs.get(pb, REF);
        return fetches() === 2;
      });
      expect(fetches()).toBe(2);
    });

    it('announces a state change once it committed, and nothing of a transaction that rolled back', async () => {
      const a = await replica(new FakePort());
      await expect(
        a.store.transaction(async (tx) => {
          await a.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev1', 'db down', alice, 1);
          throw new Error('something after it failed');
        }),
      ).rejects.toThrow('something after it failed');
      expect(a.actions.drainEvents()).toEqual([]);
      await a.store.transaction((tx) => a.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev1', 'db down', alice, 1));
      expect(a.actions.drainEvents().map((e) => e.type)).toEqual(['incident.opened']);
    });

    if (engine.name !== 'postgres') return;

    it('announces a change once when its transaction is run again after a serialization failure', async () => {
      const a = await replica(new FakePort());
      let attempts = 0;
      await a.store.transaction(async (tx) => {
        await a.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev1', 'db down', alice, 1);
        if (++attempts === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      });
      expect(attempts).toBe(2);
      expect(a.actions.drainEvents().map((e) => e.type)).toEqual(['incident.opened']);
      expect(await a.store.activeIncidents('acme')).toHaveLength(1);
    });

    it('never lets two replicas admit the last free cadence slot', async () => {
      const [pa, pb] = ports();
      for (const p of [pa, pb]) p.config = { kind: 'found', data: { cadence: { max: 1, per: '24h', counts: 'deployments' } } };
      const a = await replica(pa);
      const b = await replica(pb);
      const request = (n: number) => ({ installationId: 1, owner: 'acme', repo: 'api', environment: 'production', callbackUrl: `https://x/repos/acme/api/actions/runs/${n}/deployment_protection_rule`, deploymentId: n, sha: `deploy-${n}`, ref: 'main', prNumbers: [] });
      // replica A has decided to approve and is answering GitHub when replica B's request arrives
      pa.hold();
      const first = a.deployments.handleProtectionRule(pa, request(1));
      await until(() => pa.waiting === 1);
      const second = b.deployments.handleProtectionRule(pb, request(2));
      // B either answered already (the slot admitted twice) or waits for A's admission lock
      const waitingForLock = async () => Number((await db!.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))[0]!.n) > 0;
      await until(async () => pb.answers.length > 0 || (await waitingForLock()));
      pa.letGo();
      const outcomes = [(await first).answer, (await second).answer];
      expect(outcomes).toEqual(['approved', 'held']);
      expect([...pa.answers, ...pb.answers].map((x) => x.state)).toEqual(['approved']);
    });

    it('takes over the job of a replica that died holding it, though nothing told this replica of the job', async () => {
      const [pa, pb] = ports();
      const a = await replica(pa);
      const b = await replica(pb);
      // B runs its jobs and has none: it plans no wake-up of its own
      await b.jobs.start();
      await b.jobs.idle();
      // A enqueues a fan-out and claims it, then dies: it never runs it, and its lease ends
      const id = await a.store.transaction((tx) => tx.enqueueJob('fanout', { installationId: 1, account: 'acme', repo: null, reason: 'INC-1 opened' }, T0, T0));
      const claimed = await a.store.claimJobs({ owner: 'replica-a-dead', now: T0, leaseMs: 200, limit: 10 });
      expect(claimed.map((j) => j.id)).toEqual([id]);
      await until(async () => (await db!.query('SELECT state FROM jobs WHERE id = $1', [id]))[0]?.state === 'done', 20_000, 'replica B to run the fan-out');
      expect(pb.posted.map((p) => p.conclusion)).toEqual(['success']);
      expect(pa.posted).toHaveLength(0);
    });

    it("runs a boundary whose replica died on another replica", async () => {
      const [pa, pb] = ports();
      db = await engine.fresh();
      const url = (db as EngineDb & { url: string }).url;
      const dying = await openPostgresStore(url, { applicationName: 'moratorium-dying' });
      extra.push(dying);
      const a = await replica(pa, dying);
      const b = await replica(pb);
      await a.store.transaction((tx) => a.actions.freeze(tx, { account: 'acme', repo: null }, 'all', T0 + 60_000, 'release', alice, 1));
      const pull = pa.pulls.get('api')![0]!;
      await a.gatekeeper.remember(1, REF, pull);
      await a.gatekeeper.gatePull(pa, REF, 'main', pull);
      clock.t = T0 + 61_000;
      pa.hold();
      const first = a.boundaries.fire().catch(() => {});
      await until(() => pa.waiting === 1);
      await b.boundaries.fire();
      expect(pb.posted).toHaveLength(0);
      // replica A dies holding the boundaries: its connections are gone
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'moratorium-dying'");
      await until(async () => {
        await b.boundaries.fire();
        return pb.posted.length > 0;
      });
      expect(pb.posted.map((p) => p.conclusion)).toEqual(['success']);
      pa.letGo();
      await first;
    });

    it('listens again by itself after the connection was lost, and drops the cached configs it may have missed', async () => {
      const [pa, pb] = ports();
      pb.config = { kind: 'found', data: { enforcement: 'check' } };
      db = await engine.fresh();
      const url = (db as EngineDb & { url: string }).url;
      const target = new URL(url);
      const proxy = await TcpProxy.start(target.hostname, Number(target.port));
      try {
        const far = await openPostgresStore(proxy.through(url));
        extra.push(far);
        const a = await replica(pa);
        const b = await replica(pb, far);
        await b.configs.start();
        await b.configs.get(pb, REF);
        const fetches = () => pb.log.filter((x) => x === 'fetchConfig').length;
        expect(fetches()).toBe(1);
        proxy.cut();
        // the listener tries again and fails, more than once, while the database is unreachable
        await until(() => proxy.refused >= 3);
        proxy.restore();
        await until(async () => {
          await a.pulls.onPush(pa, REF, 'main', { ref: 'refs/heads/main', after: 'abc', touchesConfig: true });
          await b.configs.get(pb, REF);
          return fetches() >= 2;
        });
        // and a change notified once it listens again is heard (another repository, read after that)
        const web: string[] = [];
        const fetchConfig = pb.fetchConfig.bind(pb);
        pb.fetchConfig = async (ref?: RepoRef) => (ref?.repo === 'web' && web.push('fetch'), fetchConfig(ref));
        const WEB = { owner: 'acme', repo: 'web' };
        await b.configs.get(pb, WEB);
        await b.configs.get(pb, WEB);
        expect(web).toHaveLength(1);
        await a.pulls.onPush(pa, WEB, 'main', { ref: 'refs/heads/main', after: 'def', touchesConfig: true });
        await until(async () => {
          await b.configs.get(pb, WEB);
          return web.length === 2;
        });
      } finally {
        await proxy.stop();
      }
    });
  });
}
