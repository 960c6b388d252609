/**
 * What follows a committed state change: the jobs it stored run now, and its events are announced
 * (notifications, metrics). Also queues a fan-out outside a command (installation events, merges).
 */
import type { Logger } from 'pino';
import type { AsyncStore } from '../store/contract.js';
import type { Actions, StateEvent } from './actions.js';
import type { FanOutQueue } from './ports.js';

export class StateChanges implements FanOutQueue {
  constructor(
    private readonly store: Pick<AsyncStore, 'transaction'>,
    private readonly actions: Pick<Actions, 'fanOut' | 'drainEvents'>,
    private readonly jobs: { kick(): void },
    private readonly log: Logger,
    /** called with state changes after they are committed */
    private readonly onStateEvents: (events: StateEvent[]) => void = () => {},
  ) {}

  /** After a transaction that changed state: run owed jobs now and announce the changes. */
  readonly committed = (): void => {
    this.jobs.kick();
    const events = this.actions.drainEvents();
    if (events.length) {
      try {
        this.onStateEvents(events);
      } catch (error) {
        this.log.warn({ err: error }, 'state event listener failed');
      }
    }
  };

  async queueFanOut(installationId: number, account: string, repo: string | null, reason: string): Promise<void> {
    await this.store.transaction((tx) => this.actions.fanOut(tx, { account, repo }, reason, installationId));
    this.committed();
  }
}
