/**
 * Builds the app's parts in one pass, each given only the few things it uses, and returns them for
 * the composition root (src/main.ts) to serve and start, or for a test to drive. Nothing in src/
 * but main.ts imports this file; no part is handed this result.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { DashboardActs } from './commands/act.js';
import { registerReplyJob } from './commands/reply-job.js';
import { holds } from './commands/authorize.js';
import { CommandRunner } from './commands/execute.js';
import { ConfigService } from './config/load.js';
import { Actions, type StateEvent } from './domain/actions.js';
import { Deployments } from './domain/deployments.js';
import { FanOut } from './domain/fanout.js';
import { Gatekeeper } from './domain/gatekeeper.js';
import { Installations } from './domain/installations.js';
import { JobRunner } from './domain/jobs.js';
import { MergeGroups } from './domain/merge-groups.js';
import type { PortFactory } from './domain/ports.js';
import { PullRequests } from './domain/pull-requests.js';
import { StateChanges } from './domain/state-changes.js';
import { WindowNotices, type WindowNoticeSender } from './domain/window-notices.js';
import { Boundaries } from './schedule/boundaries.js';
import type { AsyncStore } from './store/contract.js';

export interface ComposeOptions {
  store: AsyncStore;
  clock: Clock;
  log: Logger;
  ports: PortFactory;
  /** called with state changes after they are committed (notifications, metrics) */
  onStateEvents?: (events: StateEvent[]) => void;
  /** sends the notices of windows with `notify_before` (MORATORIUM_SLACK_WEBHOOK_URL); none when unset */
  windowNotices?: WindowNoticeSender;
}

export type AppParts = ReturnType<typeof composeApp>;

export function composeApp(o: ComposeOptions) {
  const { store, clock, log, ports } = o;
  const authority = holds;
  const jobs = new JobRunner(store, clock, log);
  const configs = new ConfigService(store, clock);
  const actions = new Actions(clock);
  const changes = new StateChanges(store, actions, jobs, log, o.onStateEvents);
  const boundaries = new Boundaries(store, clock);
  const gatekeeper = new Gatekeeper({ store, configs, clock, log, ports, wakeups: boundaries, authority, jobs });
  const deployments = new Deployments({ store, configs, clock, log, ports, gatekeeper, wakeups: boundaries, jobs, fanOuts: changes });
  const fanout = new FanOut({ store, gatekeeper, ports, log, jobs, heldChecks: deployments, clock });
  const mergeGroups = new MergeGroups({ store, configs, clock, gatekeeper });
  const pulls = new PullRequests({ store, configs, clock, gatekeeper, deployments, authority });
  const installations = new Installations({ store, clock, fanOuts: changes });
  const committed = changes.committed;
  const commands = new CommandRunner(store, configs, actions, clock, log, committed);
  const dashboardActs = new DashboardActs({ store, configs, actions, ports, clock, log, committed });
  registerReplyJob(jobs, ports, store);

  // at a boundary, in order: timed freezes end, due decisions are re-posted, held deployments are looked at
  boundaries.onDue(async () => {
    await store.transaction((tx) => actions.expireFreezes(tx));
    committed();
  });
  boundaries.onDue((now) => gatekeeper.regateDue(now));
  boundaries.onDue(() => deployments.queueAllHeldChecks());
  // windows[].notify_before: the notices due are claimed and queued at their own boundaries
  const windowNotices = o.windowNotices ? new WindowNotices({ store, clock, log, jobs, send: o.windowNotices, owner: jobs.owner }) : null;
  if (windowNotices) {
    boundaries.addSource((now) => windowNotices.nextAt(now));
    boundaries.onDue(async (now) => void (await windowNotices.run(now)));
  }
  boundaries.onRun((ran, now) =>
    log.info({ event: 'boundaries', ran, at: new Date(now).toISOString() }, ran ? 'boundaries done' : 'boundaries skipped: another replica is running them'),
  );

  return {
    store,
    clock,
    log,
    ports,
    configs,
    actions,
    jobs,
    boundaries,
    gatekeeper,
    deployments,
    heldChecks: deployments,
    fanout,
    mergeGroups,
    pulls,
    installations,
    windowNotices,
    commands,
    dashboardActs,
    committed,
    queueFanOut: async (installationId: number, account: string, repo: string | null, reason: string) => await changes.queueFanOut(installationId, account, repo, reason),
    async start(): Promise<void> {
      await configs.start();
      await jobs.start();
      await boundaries.start();
    },
    async stop(): Promise<void> {
      boundaries.stop();
      await jobs.stop();
      await configs.stop();
    },
  };
}
