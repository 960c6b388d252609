/**
 * The fan-out's order (SPEC 12, merge-ready first): a queue the fan-out's single writer takes its
 * next PR from, while the reviews it needs are read beside it.
 *
 * - Every item starts with a readiness when it is known without a read (auto-merge enabled, or an
 *   approval verdict stored for its head commit), else unknown; the unknown ones are read
 *   concurrently (bounded), most recently updated first, each read settling its item's readiness.
 * - `next()` hands out the best known item of rank 0 or 1 (auto-merge, approved: the pure order of
 *   `gate/merge-order.ts`) at once. When there is none and reads are still running it waits for
 *   them, but only until `patienceMs` after the first time it had to wait (once per queue): from
 *   then on it hands out the best of the rest (read or not) whenever nothing merge-ready is known,
 *   so slow reads never leave the write budget idle for long. Once every read settled, the rest go
 *   in order. Each item is handed out once.
 *
 * The reads are GitHub GETs: Octokit's throttle paces only writes (its `write` limiter), so the
 * reads run while the writer waits for its next write slot.
 */
import type { PullInfo, RepoInfo } from '../github/port.js';
import { compareMergeFirst, type Readiness } from '../gate/merge-order.js';

export interface FanOutWork {
  repo: RepoInfo;
  pull: PullInfo;
}

export interface MergeFirstOptions {
  /** reads at once */
  concurrency: number;
  /** the longest the writer waits for reads while no merge-ready PR is known (ms) */
  patienceMs: number;
  /** a timer (injected by tests); default setTimeout */
  wait?: (ms: number) => { promise: Promise<void>; cancel(): void };
}

interface Slot {
  work: FanOutWork;
  readiness: Readiness | null;
  taken: boolean;
}

function timer(ms: number): { promise: Promise<void>; cancel(): void } {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    t = setTimeout(resolve, ms);
    t.unref?.();
  });
  return { promise, cancel: () => clearTimeout(t) };
}

export class MergeFirstQueue {
  /** every item in the base order: most recently updated first (ties: repository, newer number) */
  private readonly slots: Slot[];
  /** the lowest index that may hold an untaken item of each rank (0, 1, 2/unknown) */
  private readonly low = [0, 0, 0];
  private nextRead = 0;
  private running = 0;
  private settled: (() => void) | null = null;
  readonly stats = { reads: 0, readErrors: 0, patienceSpent: 0 };

  constructor(
    items: readonly { work: FanOutWork; readiness: Readiness | null }[],
    private readonly read: (work: FanOutWork) => Promise<boolean>,
    private readonly opts: MergeFirstOptions,
  ) {
    const key = (w: FanOutWork) => ({ repo: `${w.repo.owner}/${w.repo.repo}`, number: w.pull.number, updatedAt: w.pull.updatedAt, readiness: 'other' as const });
    this.slots = items
      .map((i) => ({ work: i.work, readiness: i.readiness, taken: false }))
      .sort((a, b) => compareMergeFirst(key(a.work), key(b.work)));
    for (let i = 0; i < Math.max(1, opts.concurrency); i++) this.startRead();
  }

  /** items not handed out whose reviews are not known yet (their read started or not) */
  get pendingReads(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.readiness === null && !slot.taken) n++;
    return n;
  }

  private startRead(): void {
    while (this.nextRead < this.slots.length) {
      const slot = this.slots[this.nextRead++]!;
      if (slot.readiness !== null || slot.taken) continue;
      this.running++;
      this.stats.reads++;
      void this.read(slot.work)
        .then(
          (approved) => approved,
          () => {
            this.stats.readErrors++;
            return false;
          },
        )
        .then((approved) => {
          this.running--;
          if (slot.readiness === null) this.settle(slot, approved ? 'approved' : 'other');
          this.startRead();
          this.wake();
        });
      return;
    }
  }

  private settle(slot: Slot, readiness: Readiness): void {
    slot.readiness = readiness;
    const rank = readiness === 'auto-merge' ? 0 : readiness === 'approved' ? 1 : 2;
    const index = this.slots.indexOf(slot);
    if (index < this.low[rank]!) this.low[rank] = index;
  }

  private wake(): void {
    const s = this.settled;
    this.settled = null;
    s?.();
  }

  /** the first untaken item of a rank (2 also takes unknown ones), advancing that rank's low mark */
  private first(rank: 0 | 1 | 2): Slot | undefined {
    for (let i = this.low[rank]!; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.taken) continue;
      const r = s.readiness === 'auto-merge' ? 0 : s.readiness === 'approved' ? 1 : s.readiness === 'other' ? 2 : rank === 2 ? 2 : -1;
      if (r === rank) {
        this.low[rank] = i;
        return s;
      }
    }
    this.low[rank] = this.slots.length;
    return undefined;
  }

  private take(slot: Slot): FanOutWork {
    slot.taken = true;
    return slot.work;
  }

  /** the writer's patience: started the first time it has nothing merge-ready to write, never again after it ran out */
  private patience: { promise: Promise<void>; cancel(): void } | null = null;
  private outOfPatience = false;

  /** the next PR to gate, or undefined when every one was handed out */
  async next(): Promise<FanOutWork | undefined> {
    for (;;) {
      const ready = this.first(0) ?? this.first(1);
      if (ready) return this.take(ready);
      if (this.pendingReads > 0 && !this.outOfPatience) {
        if (!this.patience) {
          this.patience = (this.opts.wait ?? timer)(this.opts.patienceMs);
          void this.patience.promise.then(() => {
            this.outOfPatience = true;
            this.stats.patienceSpent++;
            this.wake();
          });
        }
        await new Promise<void>((resolve) => {
          const previous = this.settled;
          this.settled = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      const rest = this.first(2);
      if (rest) return this.take(rest);
      this.patience?.cancel();
      return undefined;
    }
  }

  /** resolves once no read is running (the fan-out does not end with reads still writing to the store) */
  async idle(): Promise<void> {
    while (this.running > 0) {
      await new Promise<void>((resolve) => {
        const previous = this.settled;
        this.settled = () => {
          previous?.();
          resolve();
        };
      });
    }
  }
}
