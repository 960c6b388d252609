/**
 * Work owed after a committed state change (replies, fan-outs, held deployments), stored in the
 * jobs table in the same transaction as the change and retried with backoff until done, so a crash
 * between the two loses nothing. Jobs of one installation and lane run one at a time; lanes run in
 * parallel, so a reply never waits behind a long fan-out.
 *
 * Several replicas share the table: a runner claims due jobs with a lease (the store's
 * `claimJobs`, `FOR UPDATE SKIP LOCKED` on PostgreSQL) and extends it while it holds them, so each
 * job runs on one replica at a time, and a job of a replica that died is claimable again when its
 * lease runs out (30 s). Finishing a job (`completeJob`, `retryJob`, `failJob`) counts only while
 * the runner still holds it. On SQLite (one process per file) a starting runner first releases
 * the leases a killed process left, so a restart resumes its work at once, as before.
 *
 * A runner learns of its own jobs when they are enqueued (`kick`), but nothing tells it of a job
 * another replica enqueued and then died holding: on a shared store (PostgreSQL) it also looks for
 * claimable jobs every `SHARED_POLL_MS`, so such a job is taken over within its lease plus that.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AsyncStore } from '../store/contract.js';
import type { ClaimedJob, JobRecord } from '../store/records.js';
import { JOB_LEASE_EXTEND_EVERY_MS, JOB_LEASE_MS } from '../store/repos/jobs.js';

export type JobResult = void | { retry: { payload: unknown; error: string } };
export type JobHandler = (payload: never, job: JobRecord) => Promise<JobResult>;

/** Where a module registers the handlers of the job kinds it owns, and asks for due jobs to run. */
export interface JobRegistry {
  register(kind: string, handler: JobHandler): void;
  /** look for due jobs now (after an enqueue) */
  kick(): void;
}

const MAX_DELAY_MS = 10 * 60_000;
/** Node's timers overflow past 2^31-1 ms; waits are capped and re-planned. */
export const MAX_TIMER_MS = 60 * 60_000;

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : undefined;
}

/** Backoff for attempt n (0-based): 1s, 2s, 4s … capped at ten minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(attempts, 20));
}

export type JobStore = Pick<
  AsyncStore,
  'engine' | 'claimJobs' | 'extendJobLease' | 'completeJob' | 'retryJob' | 'failJob' | 'releaseJobLeases' | 'dueJobs' | 'nextJobAt' | 'pendingJobCount'
>;

/** how often a runner on a shared store looks for jobs nobody told it of (another replica's, left by its death) */
export const SHARED_POLL_MS = 5_000;

/**
 * After the store failed to hand out jobs, the next try comes 1 s later, then 2, 4, 8 and at most
 * this much; the first success starts again at 1 s. On SQLite each failed try has held the event
 * loop for the whole busy timeout (5 s, better-sqlite3 waits synchronously), so trying every second
 * would leave webhooks and the HTTP API a sixth of the time while another process holds the file.
 */
export const CLAIM_RETRY_MAX_MS = 16_000;

/** how many claimed jobs one runner holds at most (running or waiting for their lane) */
const CLAIM_LIMIT = 200;

export class JobRunner implements JobRegistry {
  private readonly handlers: Record<string, JobHandler> = {};
  private timer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private readonly busyLanes = new Set<string>();
  /** jobs this runner holds a lease on: running, or waiting for their lane */
  private readonly held = new Map<number, ClaimedJob>();
  private readonly inFlight = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private ticking: Promise<void> | null = null;
  private again = false;
  private released = false;
  /** failed tries to claim jobs in a row (the backoff's exponent) */
  private claimFailures = 0;
  /** who claims: unique per process */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Each module registers the job kinds it owns (one handler per kind). */
  register(kind: string, handler: JobHandler): void {
    if (this.handlers[kind]) throw new Error(`a handler for job kind ${kind} is already registered`);
    this.handlers[kind] = handler;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /**
   * Stops taking jobs and waits for the ones running (they are stored: an unfinished one runs again
   * after restart); the claimed jobs that did not start are released for any replica.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = null;
    await this.ticking?.catch(() => {});
    await Promise.allSettled([...this.running]);
    const waiting = [...this.held.keys()].filter((id) => !this.inFlight.has(id));
    this.held.clear();
    if (waiting.length) await this.store.releaseJobLeases(this.owner, waiting).catch((error: unknown) => this.log.warn({ err: error }, 'could not release claimed jobs'));
  }

  /** Look for due jobs now (after an enqueue). */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = (async () => {
      try {
        do {
          this.again = false;
          await this.tick();
        } while (this.again && !this.stopped);
        this.claimFailures = 0;
      } catch (error) {
        // the database did not answer: try again soon, a little later each time
        const retryMs = Math.min(CLAIM_RETRY_MAX_MS, backoffMs(this.claimFailures));
        this.claimFailures += 1;
        this.log.warn({ err: error, retry_ms: retryMs }, 'could not claim jobs');
        this.planIn(retryMs);
      } finally {
        this.ticking = null;
      }
    })();
  }

  /** Resolves when no job is due or running (tests and shutdown). */
  async idle(timeoutMs = 30_000): Promise<void> {
    // a timer, not the clock: the runner's clock may be a test's, standing still
    let late = false;
    const timer = setTimeout(() => (late = true), timeoutMs);
    timer.unref();
    try {
      for (;;) {
        if (this.ticking) await this.ticking;
        const due = (await this.store.dueJobs(this.clock.now(), 1)).length;
        if (this.running.size === 0 && this.held.size === 0 && !this.ticking && due === 0) return;
        if (late) throw new Error('jobs did not become idle');
        await Promise.race([...this.running, new Promise((r) => setTimeout(r, 20))]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async pending(): Promise<number> {
    return this.store.pendingJobCount();
  }

  private async tick(): Promise<void> {
    if (!this.leaseTimer) {
      this.leaseTimer = setInterval(() => void this.extendLeases(), JOB_LEASE_EXTEND_EVERY_MS);
      this.leaseTimer.unref?.();
    }
    if (!this.released && this.store.engine === 'sqlite') {
      // one process per SQLite file: leases left by a process that was killed are void
      await this.store.releaseJobLeases(null);
      this.released = true;
    }
    const now = this.clock.now();
    const room = CLAIM_LIMIT - this.held.size;
    if (room > 0) {
      for (const job of await this.store.claimJobs({ owner: this.owner, now, leaseMs: JOB_LEASE_MS, limit: room })) this.held.set(job.id, job);
    }
    if (this.stopped) return;
    const waiting = [...this.held.values()].sort((a, b) => a.runAt - b.runAt || a.id - b.id);
    for (const job of waiting) {
      if (this.inFlight.has(job.id)) continue;
      const lane = laneOf(job);
      if (this.busyLanes.has(lane)) continue;
      this.busyLanes.add(lane);
      this.inFlight.add(job.id);
      const p = this.run(job)
        .catch((error: unknown) => this.log.error({ job: job.id, kind: job.kind, err: error }, 'could not record a job\'s end'))
        .finally(() => {
        this.busyLanes.delete(lane);
        this.inFlight.delete(job.id);
        this.held.delete(job.id);
        this.running.delete(p);
        this.kick();
      });
      this.running.add(p);
    }
    await this.plan();
  }

  private async plan(): Promise<void> {
    if (this.stopped) return;
    const next = await this.store.nextJobAt();
    // one process per SQLite file: only a shared store has jobs nobody told this runner of
    const shared = this.store.engine !== 'sqlite';
    if (next === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (shared) this.planIn(SHARED_POLL_MS);
      return;
    }
    // a due job whose lane is busy is picked up when the lane frees (kick in finally)
    const delay = Math.min(shared ? SHARED_POLL_MS : MAX_TIMER_MS, Math.max(0, next - this.clock.now()));
    if (delay === 0) return;
    this.planIn(delay);
  }

  private planIn(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref?.();
  }

  /** Keeps the leases of the jobs this runner holds; a lost one is given up (another replica has it). */
  private async extendLeases(): Promise<void> {
    for (const id of [...this.held.keys()]) {
      try {
        if (await this.store.extendJobLease(id, this.owner, JOB_LEASE_MS, this.clock.now())) continue;
        if (!this.inFlight.has(id)) this.held.delete(id);
        this.log.warn({ job: id }, 'job lease lost: another replica may take the job');
      } catch (error) {
        this.log.warn({ job: id, err: error }, 'could not extend a job lease');
      }
    }
  }

  private async run(job: JobRecord): Promise<void> {
    const handler = this.handlers[job.kind];
    const started = this.clock.now();
    const lost = (done: boolean) => {
      if (!done) this.log.warn({ job: job.id, kind: job.kind }, 'job finished after its lease was lost: another replica had taken it');
    };
    if (!handler) {
      lost(await this.store.failJob(job.id, this.owner, `no handler for job kind ${job.kind}`, this.clock.now()));
      return;
    }
    try {
      const result = await handler(job.payload as never, job);
      if (result && 'retry' in result) {
        lost(await this.store.retryJob(job.id, this.owner, result.retry.error, this.clock.now() + backoffMs(job.attempts), result.retry.payload));
        this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts + 1, error: result.retry.error }, 'job incomplete, will retry');
      } else {
        lost(await this.store.completeJob(job.id, this.owner, this.clock.now()));
        this.log.debug({ job: job.id, kind: job.kind, duration_ms: this.clock.now() - started }, 'job done');
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const status = statusOf(error);
      try {
        // a client error that keeps coming back will not heal by itself
        if (status !== undefined && status >= 400 && status < 500 && status !== 403 && status !== 429 && job.attempts >= 9) {
          lost(await this.store.failJob(job.id, this.owner, message, this.clock.now()));
          this.log.error({ job: job.id, kind: job.kind, err: error }, 'job failed for good');
          return;
        }
        lost(await this.store.retryJob(job.id, this.owner, message, this.clock.now() + backoffMs(job.attempts)));
        this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts + 1, error: message }, 'job failed, will retry');
      } catch (storeError) {
        // the lease runs out and the job is taken again
        this.log.error({ job: job.id, kind: job.kind, err: storeError }, 'could not record a job\'s failure');
      }
    }
  }
}

function laneOf(job: JobRecord): string {
  const p = job.payload as { installationId?: number } | null;
  const lane = job.kind === 'fanout' ? 'fanout' : 'quick';
  return `${p?.installationId ?? 0}:${lane}`;
}
