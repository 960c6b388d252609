/**
 * Work owed after a committed state change (replies, fan-outs, held deployments), stored in the
 * jobs table in the same transaction as the change and retried with backoff until done, so a crash
 * between the two loses nothing. Jobs of one installation and lane run one at a time; lanes run in
 * parallel, so a reply never waits behind a long fan-out.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { JobRecord, Store } from '../store/store.js';

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

export class JobRunner implements JobRegistry {
  private readonly handlers: Record<string, JobHandler> = {};
  private timer: NodeJS.Timeout | null = null;
  private readonly busyLanes = new Set<string>();
  private readonly inFlight = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private ticking = false;
  private again = false;

  constructor(
    private readonly store: Store,
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

  /** Stops taking jobs and waits for the ones running (they are stored: an unfinished one runs again after restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running]);
  }

  /** Look for due jobs now (after an enqueue). */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        this.tick();
      } while (this.again && !this.stopped);
    } finally {
      this.ticking = false;
    }
  }

  /** Resolves when no job is due or running (tests and shutdown). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const due = this.store.dueJobs(this.clock.now(), 1).length;
      if (this.running.size === 0 && due === 0) return;
      if (Date.now() > deadline) throw new Error('jobs did not become idle');
      await Promise.race([...this.running, new Promise((r) => setTimeout(r, 20))]);
    }
  }

  get pending(): number {
    return this.store.pendingJobCount();
  }

  private tick(): void {
    const now = this.clock.now();
    for (const job of this.store.dueJobs(now, 200)) {
      if (this.inFlight.has(job.id)) continue;
      const lane = laneOf(job);
      if (this.busyLanes.has(lane)) continue;
      this.busyLanes.add(lane);
      this.inFlight.add(job.id);
      const p = this.run(job).finally(() => {
        this.busyLanes.delete(lane);
        this.inFlight.delete(job.id);
        this.running.delete(p);
        this.kick();
      });
      this.running.add(p);
    }
    this.plan();
  }

  private plan(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.store.nextJobAt();
    if (next === null) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.clock.now()));
    // a due job whose lane is busy is picked up when the lane frees (kick in finally)
    if (delay === 0) return;
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref?.();
  }

  private async run(job: JobRecord): Promise<void> {
    const handler = this.handlers[job.kind];
    const started = Date.now();
    if (!handler) {
      this.store.jobFailed(job.id, `no handler for job kind ${job.kind}`, this.clock.now());
      return;
    }
    try {
      const result = await handler(job.payload as never, job);
      if (result && 'retry' in result) {
        this.store.updateJobPayload(job.id, result.retry.payload);
        this.store.jobRetry(job.id, result.retry.error, this.clock.now() + backoffMs(job.attempts));
        this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts + 1, error: result.retry.error }, 'job incomplete, will retry');
      } else {
        this.store.jobDone(job.id, this.clock.now());
        this.log.debug({ job: job.id, kind: job.kind, duration_ms: Date.now() - started }, 'job done');
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const status = statusOf(error);
      // a client error that keeps coming back will not heal by itself
      if (status !== undefined && status >= 400 && status < 500 && status !== 403 && status !== 429 && job.attempts >= 9) {
        this.store.jobFailed(job.id, message, this.clock.now());
        this.log.error({ job: job.id, kind: job.kind, err: error }, 'job failed for good');
        return;
      }
      this.store.jobRetry(job.id, message, this.clock.now() + backoffMs(job.attempts));
      this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts + 1, error: message }, 'job failed, will retry');
    }
  }
}

function laneOf(job: JobRecord): string {
  const p = job.payload as { installationId?: number } | null;
  const lane = job.kind === 'fanout' ? 'fanout' : 'quick';
  return `${p?.installationId ?? 0}:${lane}`;
}
