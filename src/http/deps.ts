/** What the HTTP routes (API, incident-tool webhooks, dashboard, metrics) are given by the composition root. */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DashboardActs } from '../commands/act.js';
import type { Actions } from '../domain/actions.js';
import type { Deployments } from '../domain/deployments.js';
import type { AsyncStore } from '../store/contract.js';

export interface HttpDeps {
  store: AsyncStore;
  clock: Clock;
  log: Logger;
  /** state changes, each inside `store.tx` */
  actions: Actions;
  /** the deploy side: the gate for any deploy tool and deploys they report (SPEC 10) */
  deployments: Pick<Deployments, 'askGate' | 'recordExternalDeploy'>;
  /** the dashboard's actions of a signed-in person (src/commands/act.ts) */
  dashboardActs: Pick<DashboardActs, 'run'>;
  /** after a transaction that changed state: run owed jobs now and announce the changes */
  committed(): void;
}
