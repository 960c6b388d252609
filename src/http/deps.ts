/** What the HTTP routes (API, incident-tool webhooks, dashboard, metrics) are given by the composition root. */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Actions } from '../domain/actions.js';
import type { AsyncStore } from '../store/contract.js';

export interface HttpDeps {
  store: AsyncStore;
  clock: Clock;
  log: Logger;
  /** state changes, each inside `store.tx` */
  actions: Actions;
  /** after a transaction that changed state: run owed jobs now and announce the changes */
  committed(): void;
}
