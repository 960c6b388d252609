/**
 * The app's parts, built once by the composition root (src/main.ts) or by a test, and shared by the
 * webhook handlers, the HTTP routes and the scheduler.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { ConfigService } from './config/load.js';
import { Actions, type StateEvent } from './domain/actions.js';
import { FanOut, type FanOutPayload, type PortFactory } from './domain/fanout.js';
import { Gatekeeper } from './domain/gatekeeper.js';
import { JobRunner, type JobHandler } from './domain/jobs.js';
import { CommandRunner, sendReply, type ReplyJob } from './commands/execute.js';
import type { Store } from './store/store.js';
import { Boundaries } from './schedule/boundaries.js';
import { Deployments, type HeldCheckPayload } from './domain/deployments.js';
import { MergeGroups } from './domain/merge-groups.js';

export interface ServicesOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  ports: PortFactory;
  /** called with state changes after they are committed (notifications, metrics) */
  onStateEvents?: (events: StateEvent[]) => void;
}

export class Services {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly ports: PortFactory;
  readonly configs: ConfigService;
  readonly actions: Actions;
  readonly gatekeeper: Gatekeeper;
  readonly fanout: FanOut;
  readonly jobs: JobRunner;
  readonly commands: CommandRunner;
  readonly boundaries: Boundaries;
  readonly deployments: Deployments;
  readonly mergeGroups: MergeGroups;
  private readonly onStateEvents: (events: StateEvent[]) => void;

  constructor(o: ServicesOptions) {
    this.store = o.store;
    this.clock = o.clock;
    this.log = o.log;
    this.ports = o.ports;
    this.onStateEvents = o.onStateEvents ?? (() => {});
    this.configs = new ConfigService(o.store, o.clock);
    this.actions = new Actions(o.store, o.clock);
    this.gatekeeper = new Gatekeeper(o.store, this.configs, o.clock, o.log, { onBoundary: (at) => this.boundaries.wakeBy(at) });
    this.fanout = new FanOut(o.store, this.gatekeeper, o.ports, o.log);
    this.deployments = new Deployments(this);
    this.mergeGroups = new MergeGroups(this);
    this.jobs = new JobRunner(o.store, o.clock, o.log, this.jobHandlers());
    this.commands = new CommandRunner(o.store, this.configs, this.actions, o.clock, o.log, () => this.committed());
    this.boundaries = new Boundaries(this);
  }

  /** After a transaction that changed state: run owed jobs now and announce the changes. */
  committed(): void {
    this.jobs.kick();
    const events = this.actions.drainEvents();
    if (events.length) {
      try {
        this.onStateEvents(events);
      } catch (error) {
        this.log.warn({ err: error }, 'state event listener failed');
      }
    }
  }

  private jobHandlers(): Record<string, JobHandler> {
    const fanout: JobHandler = async (payload: FanOutPayload) => {
      const result = await this.fanout.run(payload);
      if (result.failedRepos.length) {
        return { retry: { payload: { ...payload, repo: payload.repo, only: payload.repo ? undefined : result.failedRepos }, error: result.errors.join('; ').slice(0, 1000) } };
      }
      // held deployments may be free to go now
      this.deployments.queueHeldCheck(payload.installationId, payload.account, payload.repo);
    };
    const reply: JobHandler = async (payload: ReplyJob, job) => {
      const port = await this.ports(payload.installationId);
      await sendReply(port, payload, (p) => this.store.updateJobPayload(job.id, p));
    };
    const gatePull: JobHandler = async (payload: { installationId: number; account: string; repo: string; number: number; force: boolean }) => {
      const port = await this.ports(payload.installationId);
      const ref = { owner: payload.account, repo: payload.repo };
      const pull = await port.getPull(ref, payload.number);
      if (!pull || pull.state !== 'open') return;
      const repo = await this.repoInfo(port, ref);
      this.gatekeeper.remember(payload.installationId, ref, pull);
      await this.gatekeeper.gatePull(port, ref, repo.defaultBranch, pull, { force: payload.force });
    };
    const heldCheck: JobHandler = async (payload: HeldCheckPayload) => {
      await this.deployments.releaseHeld(payload);
    };
    return { fanout, reply, 'gate-pull': gatePull, 'held-check': heldCheck };
  }

  /** A repository's default branch, from the store when known (no GitHub read on the hot path). */
  async repoInfo(port: Awaited<ReturnType<PortFactory>>, ref: { owner: string; repo: string }): Promise<{ defaultBranch: string }> {
    const known = this.store.getRepo(ref.owner, ref.repo);
    if (known?.defaultBranch) return { defaultBranch: known.defaultBranch };
    const info = await port.getRepository(ref);
    this.store.upsertRepo(info.owner, info.repo, port.installationId, `${info.owner}/${info.repo}`, info.defaultBranch);
    return { defaultBranch: info.defaultBranch };
  }

  /** Queue a re-evaluation of one PR (a retry after GitHub failed), run at `runAt`. */
  queueGatePull(installationId: number, account: string, repo: string, number: number, runAt: number): void {
    this.store.enqueueJob('gate-pull', { installationId, account: account.toLowerCase(), repo: repo.toLowerCase(), number, force: false }, runAt, this.clock.now());
    this.jobs.kick();
  }

  /** Queue a fan-out outside a command (installation events, reconcile). */
  queueFanOut(installationId: number, account: string, repo: string | null, reason: string): void {
    this.store.tx(() => this.actions.fanOut({ account, repo }, reason, installationId));
    this.committed();
  }

  async start(): Promise<void> {
    this.jobs.start();
    this.boundaries.start();
  }

  async stop(): Promise<void> {
    this.boundaries.stop();
    await this.jobs.stop();
  }
}
