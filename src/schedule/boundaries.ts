/**
 * Time boundaries without waiting for an event: one precise timer for the earliest moment any posted
 * decision can change on its own (a window starts or ends, a timed freeze expires, a cadence slot
 * opens). At that moment the affected PRs are re-gated from the store, with no GitHub read.
 * Everything is recomputed from the store, so a restart or a clock jump re-plans instead of firing twice.
 * This is only the timer: what is due at a boundary is registered by the domain (`onDue`).
 */
import type { Clock } from '../clock.js';
import type { Wakeups } from '../domain/ports.js';
import type { AsyncStore } from '../store/contract.js';
import { MAX_TIMER_MS } from '../domain/jobs.js';

/** Fire a little after the boundary so the evaluation sees it passed. */
const SLACK_MS = 25;
const RETRY_MS = 5_000;

/** Work due at a boundary, given the boundary run's `now`. */
export type DueWork = (now: number) => Promise<void> | void;

/** The next moment some work is due (at or before `now` when it is due already), or null. */
export type NextMoment = (now: number) => Promise<number | null>;

export class Boundaries implements Wakeups {
  private timer: NodeJS.Timeout | null = null;
  /** when the pending timer fires */
  private timerAt: number | null = null;
  private plannedAt: number | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** the `now` of the last run: a boundary due by then and still pending is a failed re-gate */
  private lastRunAt = -Infinity;
  /** boundaries known only in memory until a decision is stored (held deployments) */
  private readonly extra = new Set<number>();

  private readonly due: DueWork[] = [];
  /** other moments of work registered by the domain (a window's notice): each gives its next one */
  private readonly sources: NextMoment[] = [];

  constructor(
    private readonly store: Pick<AsyncStore, 'nextPostedChange' | 'nextFreezeExpiry' | 'runExclusive'>,
    private readonly clock: Clock,
  ) {}

  /** Registers work to run at every boundary, in registration order. */
  onDue(work: DueWork): void {
    this.due.push(work);
  }

  /** Registers another source of boundaries (its work is registered with `onDue`). */
  addSource(next: NextMoment): void {
    this.sources.push(next);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.plan();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.plannedAt = null;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
  }

  /** Make sure the timer fires no later than `at`. */
  wakeBy(at: number): void {
    this.extra.add(at);
    if (this.plannedAt === null || at < this.plannedAt) this.replan();
  }

  /** plan() in the background; a database that does not answer is asked again shortly */
  private replan(): void {
    this.plan().catch(() => {
      if (this.stopped || this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.replan();
      }, RETRY_MS);
      this.timer.unref?.();
    });
  }

  /** The earliest pending boundary, from the store (and any in-memory wake-ups). */
  async nextBoundary(): Promise<number | null> {
    const now = this.clock.now();
    for (const t of this.extra) if (t <= now - 60_000) this.extra.delete(t);
    const sourced: (number | null)[] = [];
    for (const next of this.sources) sourced.push(await next(now));
    const candidates = [await this.store.nextPostedChange(now - 60_000), await this.store.nextFreezeExpiry(now - 60_000), ...sourced, ...this.extra].filter(
      (t): t is number => t !== null,
    );
    return candidates.length ? Math.min(...candidates) : null;
  }

  /**
   * (Re)plans the timer for the next boundary. Called often (after every decision with a boundary,
   * and by the reconcile's wake-up every few seconds), so it never postpones a wake-up already
   * planned for earlier: a boundary that has just come due fires now, not after the next re-plan.
   */
  async plan(): Promise<void> {
    if (this.stopped) return;
    const next = await this.nextBoundary();
    this.plannedAt = next;
    if (next === null) {
      this.clearTimer();
      return;
    }
    const now = this.clock.now();
    // still due although the last run saw it due (its re-gate failed): try again shortly, not in a tight loop
    let delay = Math.min(MAX_TIMER_MS, next <= this.lastRunAt ? RETRY_MS : Math.max(0, next - now + SLACK_MS));
    if (this.timer && this.timerAt !== null) {
      // an earlier wake-up stands; one already overdue (about to run, or the clock jumped ahead) runs now
      if (this.timerAt <= now) delay = 0;
      else if (this.timerAt <= now + delay) return;
    }
    this.clearTimer();
    this.timerAt = now + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = null;
      this.fire().catch(() => {});
    }, delay);
    this.timer.unref?.();
  }

  /** Re-gates everything due now. Safe to call at any time (the reconcile calls it too). */
  async fire(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runDue().finally(() => {
      this.running = null;
      this.replan();
    });
    return this.running;
  }

  /**
   * One replica at a time (SPEC 9: every time boundary runs once, not once per replica): the run
   * holds the store's exclusive `boundaries` lock (a session advisory lock on PostgreSQL, released
   * if its replica dies). A replica that finds it held does nothing now; what the run it skipped
   * handles is no longer due afterwards (each re-gate stores its new decision and next boundary),
   * and a boundary still due because the holder died is tried again shortly (RETRY_MS).
   */
  private async runDue(): Promise<void> {
    const now = this.clock.now();
    this.lastRunAt = now;
    for (const t of this.extra) if (t <= now) this.extra.delete(t);
    const r = await this.store.runExclusive('boundaries', async () => {
      for (const work of this.due) await work(now);
    });
    for (const f of this.ran) f(r.ran, now);
  }

  private readonly ran: ((ran: boolean, now: number) => void)[] = [];

  /** Called after each run with whether it ran (false: another replica held the boundaries). */
  onRun(fn: (ran: boolean, now: number) => void): void {
    this.ran.push(fn);
  }
}
