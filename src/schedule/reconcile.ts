/**
 * The recurring work: node-cron wakes every few seconds (noOverlap) and, every
 * MORATORIUM_RECONCILE_INTERVAL since the last run (persisted, so restarts keep the rhythm), fixes
 * any open PR whose posted decision is out of date, over every installation. Cron only wakes us up;
 * "is it time" is decided from timestamps. The same reconcile runs once at start-up.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { FanOut } from '../domain/fanout.js';
import type { HeldChecks } from '../domain/ports.js';
import type { AsyncStore } from '../store/contract.js';
import type { Boundaries } from './boundaries.js';

export interface InstallationInfo {
  id: number;
  account: string;
  accountType: string;
  suspended: boolean;
}

const LAST_RUN_KEY = 'reconcile:last-run';

export interface ReconcileDeps {
  store: Pick<AsyncStore, 'getMeta' | 'setMeta' | 'prune' | 'upsertInstallation' | 'listInstallations' | 'runExclusive'>;
  clock: Clock;
  log: Logger;
  fanout: Pick<FanOut, 'run'>;
  boundaries: Pick<Boundaries, 'fire' | 'plan'>;
  heldChecks: Pick<HeldChecks, 'queueAllHeldChecks'>;
}

export class Reconciler {
  private task: ScheduledTask | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: ReconcileDeps,
    private readonly intervalMs: number,
    private readonly listInstallations: () => Promise<InstallationInfo[]>,
  ) {}

  start(): void {
    this.task = cron.schedule('*/5 * * * * *', () => this.tick(), { noOverlap: true, name: 'moratorium-reconcile' });
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = null;
    await this.running;
  }

  /** Called by cron: run when the interval has passed since the last run (or the clock went backwards). */
  async tick(): Promise<void> {
    try {
      const now = this.deps.clock.now();
      const last = Number((await this.deps.store.getMeta(LAST_RUN_KEY)) ?? 0);
      if (now - last >= this.intervalMs || now < last) await this.run('interval');
      // a clock jump or a missed timer: boundaries are recomputed from the store, never fired twice
      await this.deps.boundaries.plan();
    } catch (error) {
      // the database did not answer: the next tick tries again
      this.deps.log.warn({ event: 'reconcile', err: error instanceof Error ? error.message : String(error) }, 'reconcile tick failed');
    }
  }

  async run(reason: string): Promise<void> {
    if (this.running) return this.running;
    // one round at a time across replicas (a session advisory lock on PostgreSQL); another
    // replica's round, just done, moved the last-run time on, so this one waits for the next interval
    this.running = this.deps.store
      .runExclusive('reconcile', () => this.reconcile(reason))
      .then((r) => {
        if (!r.ran) this.deps.log.info({ event: 'reconcile', reason }, 'reconcile skipped: another replica is running it');
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async reconcile(reason: string): Promise<void> {
    const { store, clock, log } = this.deps;
    const started = clock.now();
    await store.setMeta(LAST_RUN_KEY, String(clock.now()));
    await store.prune(clock.now());
    let installations: InstallationInfo[];
    try {
      installations = await this.listInstallations();
      for (const i of installations) await store.upsertInstallation(i.id, i.account, i.accountType, i.suspended, clock.now());
    } catch (error) {
      log.warn({ event: 'reconcile', err: error instanceof Error ? error.message : String(error) }, 'could not list installations; using the stored ones');
      installations = (await store.listInstallations());
    }
    let posted = 0;
    let failed = 0;
    for (const inst of installations) {
      if (inst.suspended) continue;
      try {
        const result = await this.deps.fanout.run({ installationId: inst.id, account: inst.account, repo: null, reason: `reconcile (${reason})` });
        posted += result.posted;
        failed += result.failedRepos.length;
      } catch (error) {
        failed++;
        log.warn({ event: 'reconcile', installation: inst.id, err: error instanceof Error ? error.message : String(error) }, 'reconcile failed for an installation');
      }
    }
    await this.deps.boundaries.fire();
    await this.deps.heldChecks.queueAllHeldChecks();
    log.info({ event: 'reconcile', reason, installations: installations.length, posted, failed, duration_ms: clock.now() - started }, 'reconcile done');
  }
}
