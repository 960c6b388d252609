/**
 * The deploy side (SPEC 6). Answer a deployment protection rule: load the config, the PRs of the
 * deployed commit and the gate's state, decide once with the pure core (src/gate/deployment.ts:
 * approve, reject, or hold), publish the answer through the GitHub port. Held requests are
 * answered when the gate opens, oldest first and only as many as the cadence's free slots allow
 * (the `held-check` job, registered here). Also counts what cadence counts (merged PRs,
 * successful deployments).
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConfigService, LoadedConfig } from '../config/load.js';
import { overrideInForce } from '../gate/override.js';
import { hotfixStatus } from '../gate/hotfix.js';
import { isGatedBranch } from '../gate/branches.js';
import { decideDeployment, expiredHold, gateAnswerOf, gatesEnvironment, type DeployedPull, type DeploymentVerdict, type GateAnswer } from '../gate/deployment.js';
import type { Decision, DeploymentChange, GateState } from '../gate/types.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { AsyncStore, Repositories } from '../store/contract.js';
import type { HeldDeployment } from '../store/records.js';
import { key } from '../store/records.js';
import { gateStateFor } from './gate-state.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { JobRegistry } from './jobs.js';
import type { FanOutQueue, HeldChecks, PortFactory, Wakeups } from './ports.js';
import { loadDefaultBranch } from './repos.js';

export { HOLD_LIMIT_MS } from '../gate/deployment.js';

/** When an answer failed (after Octokit's own retries), the stored held-check tries again after this long. */
const ANSWER_RETRY_MS = 2_000;

export interface ProtectionRequest {
  installationId: number;
  owner: string;
  repo: string;
  environment: string;
  callbackUrl: string;
  deploymentId: number | null;
  sha: string;
  ref: string | null;
  prNumbers: number[];
}

export interface HeldCheckPayload {
  installationId: number;
  account: string;
  repo: string | null;
}

/** A deploy tool asking the gate over HTTP (SPEC 10): the answer a protection rule would get now. */
export interface GateQuery {
  installationId: number;
  owner: string;
  repo: string;
  environment: string;
  /** the commit to ship; null: no PR is looked up (nothing is a hotfix) */
  sha: string | null;
}

/** A deploy made by another tool, reported over HTTP (SPEC 10). */
export interface ExternalDeploy {
  installationId: number;
  owner: string;
  repo: string;
  environment: string;
  sha: string;
  /** the tool's own id of the deploy: a success counts once per id and repository */
  id: string;
  state: 'success' | 'failure';
  actor: string;
}

export type { GateAnswer };

export type ProtectionOutcome = { answer: 'approved' | 'rejected' | 'held'; comment: string; decision: Decision | null };

export interface DeploymentDeps {
  store: AsyncStore;
  configs: Pick<ConfigService, 'get'>;
  clock: Clock;
  log: Logger;
  ports: PortFactory;
  gatekeeper: Pick<Gatekeeper, 'loadChange'>;
  /** a held request's gate can open by itself at a time boundary */
  wakeups: Wakeups;
  /** where the `held-check` job is registered and queued */
  jobs: JobRegistry;
  /** a merge counted for a cadence changes the other PRs' gates */
  fanOuts: FanOutQueue;
}

export class Deployments implements HeldChecks {
  private readonly store: AsyncStore;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly deps: DeploymentDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.log;
    deps.jobs.register('held-check', (payload: HeldCheckPayload) => this.releaseHeld(payload));
  }

  /**
   * Load: the PRs that shipped in the deploy (associated with its commit, plus those the request
   * names), each as the gate sees it, with any override recorded for its head commit.
   */
  private async loadDeployedPulls(port: GitHubPort, ref: RepoRef, loaded: LoadedConfig, sha: string, prNumbers: number[]): Promise<DeployedPull[]> {
    const pulls = new Map<number, PullInfo>();
    if (sha) for (const p of await port.pullsForCommit(ref, sha).catch(() => [] as PullInfo[])) pulls.set(p.number, p);
    for (const n of prNumbers) {
      if (pulls.has(n)) continue;
      const p = await port.getPull(ref, n);
      if (p) pulls.set(n, p);
    }
    const defaultBranch = await loadDefaultBranch(this.store, port, ref);
    const out: DeployedPull[] = [];
    for (const pull of pulls.values()) {
      const change = await this.deps.gatekeeper.loadChange(port, ref, defaultBranch, pull, loaded);
      const o = await this.store.overrideForSha(ref.owner, ref.repo, pull.headSha);
      // a pending override (overrides.approvals) exempts nothing
      out.push({ change, mergeCommitSha: pull.mergeCommitSha, override: o && overrideInForce(o, pull.headSha, pull.author) ? { by: o.by } : null });
    }
    return out;
  }

  /**
   * Load everything the answer to a request needs and decide it once. Nothing but the config is
   * loaded for an environment Moratorium does not gate, and nothing at all for a request held too long.
   */
  private async loadAndDecide(port: GitHubPort, r: { owner: string; repo: string; environment: string; sha: string; prNumbers: number[]; heldSince: number | null }): Promise<DeploymentVerdict> {
    const ref = { owner: r.owner, repo: r.repo };
    const now = this.clock.now();
    const base = { account: r.owner, repo: r.repo, environment: r.environment, sha: r.sha, heldSince: r.heldSince, now };
    const expired = r.heldSince !== null ? expiredHold(r.heldSince, now) : null;
    if (expired) return expired;
    const loaded = await this.deps.configs.get(port, ref);
    if (!gatesEnvironment(loaded.config, r.environment)) return decideDeployment({ ...base, config: loaded.config, state: emptyState(), pulls: [], behindOlder: false });
    const pulls = await this.loadDeployedPulls(port, ref, loaded, r.sha, r.prNumbers);
    const stateChange: DeploymentChange = { kind: 'deployment', account: r.owner, repo: r.repo, environment: r.environment, sha: r.sha, hotfix: { is: false, why: '' }, overridden: false };
    // approvals made in this pass already count (provisionally): a slot is used once, however many wait
    const state = await gateStateFor(this.store, loaded, stateChange, this.clock.now());
    // held requests go first: a newcomer queues behind them rather than taking a slot they wait for
    const behindOlder = r.heldSince === null && (await this.store.waitingDeploymentsOfRepo(r.owner, r.repo)).some((h) => h.environment === r.environment);
    return decideDeployment({ ...base, now: this.clock.now(), config: loaded.config, state, pulls, behindOlder });
  }

  /**
   * An approved deployment counts at once, provisionally, when a deployment cadence counts its
   * environment: otherwise every check before its success status would see the slot still free.
   * Its success status settles it; a failure drops it.
   */
  private async saveApproval(r: { owner: string; repo: string; environment: string; deploymentId: number | null; callbackUrl: string; sha: string }): Promise<void> {
    await this.store.recordDeploy({
      dedupeKey: r.deploymentId !== null ? `deployment:${r.deploymentId}` : `approval:${r.callbackUrl}#${r.environment}`,
      account: r.owner,
      repo: r.repo,
      kind: 'deployment',
      environment: r.environment,
      sha: r.sha,
      at: this.clock.now(),
      provisional: true,
    });
  }

  /**
   * Answers a protection request, or holds it. GitHub never sends the event again and waits up to
   * 30 days for an answer, so when anything fails here (GitHub still failing after Octokit's
   * retries, the config unreadable) the request is held and a stored held-check job answers it,
   * re-deciding with the gate as it is then and retrying with backoff until GitHub takes the answer.
   */
  async handleProtectionRule(port: GitHubPort, req: ProtectionRequest): Promise<ProtectionOutcome> {
    try {
      // one admission at a time per repository, across replicas: decided, answered and recorded
      // before another replica decides on the same free slot
      return await this.store.withLock(admissionKey(req.owner, req.repo), async () => {
        // load and decide
        const verdict = await this.loadAndDecide(port, { ...req, heldSince: null });
        // publish
        if (verdict.answer !== 'held') {
          await port.answerDeployment(req.callbackUrl, req.environment, verdict.answer, verdict.comment);
          if (verdict.counts) await this.saveApproval(req);
        } else {
          await this.saveHeld(req, this.clock.now());
          for (const at of verdict.wakeAt) await this.deps.wakeups.wakeBy(at);
          if (verdict.recheckHeld) await this.queueHeldCheck(req.installationId, req.owner, req.repo);
        }
        return { answer: verdict.answer, comment: verdict.comment, decision: verdict.decision };
      });
    } catch (error) {
      await this.holdForRetry(req);
      throw error;
    }
  }

  /**
   * SPEC 10's gate for any deploy tool: load and decide exactly as a protection request would be
   * (loadAndDecide), publish nothing: the answer goes back to the caller.
   */
  async askGate(q: GateQuery): Promise<GateAnswer> {
    // a deploy tool may poll: the port (an installation token, an Octokit) is made only when the
    // cached config and the store do not answer everything
    const port = lazyPort(q.installationId, this.deps.ports);
    const verdict = await this.loadAndDecide(port, { owner: q.owner, repo: q.repo, environment: q.environment, sha: q.sha ?? '', prNumbers: [], heldSince: null });
    return gateAnswerOf(verdict, q.environment);
  }

  /**
   * A deploy another tool made: a success is recorded once per id (it counts toward a
   * `counts: deployments` cadence of its environment and shows in incident reports); a failure
   * records nothing. `created` is false for an id already recorded.
   */
  async recordExternalDeploy(d: ExternalDeploy): Promise<{ created: boolean; counted: boolean }> {
    if (d.state !== 'success') return { created: false, counted: false };
    const loaded = await this.deps.configs.get(lazyPort(d.installationId, this.deps.ports), { owner: d.owner, repo: d.repo });
    const counted = loaded.config.cadence?.counts === 'deployments' && loaded.config.cadence.environments.includes(d.environment);
    const held = (await this.store.waitingDeploymentsOfRepo(d.owner, d.repo)).length > 0;
    const created = await this.store.recordDeploy({
      dedupeKey: `external:${key(d.owner)}/${key(d.repo)}:${d.id}`,
      account: d.owner,
      repo: d.repo,
      kind: 'deployment',
      environment: d.environment,
      sha: d.sha,
      actor: d.actor,
      at: this.clock.now(),
    });
    if (created && held) await this.queueHeldCheck(d.installationId, d.owner, d.repo);
    return { created, counted };
  }

  /** Stores a request to be answered later (see releaseHeld). */
  private async saveHeld(req: ProtectionRequest, now: number, repos: Pick<Repositories, 'holdDeployment'> = this.store): Promise<void> {
    await repos.holdDeployment({
      account: key(req.owner),
      repo: key(req.repo),
      installationId: req.installationId,
      environment: req.environment,
      callbackUrl: req.callbackUrl,
      deploymentId: req.deploymentId,
      sha: req.sha,
      ref: req.ref,
      prNumbers: req.prNumbers,
      requestedAt: now,
    });
  }

  private async holdForRetry(req: ProtectionRequest): Promise<void> {
    const now = this.clock.now();
    // the hold and its retry job are stored together
    await this.store.transaction(async (tx) => {
      await this.saveHeld(req, now, tx);
      await tx.enqueueJob('held-check', { installationId: req.installationId, account: key(req.owner), repo: key(req.repo) } satisfies HeldCheckPayload, now + ANSWER_RETRY_MS, now);
    });
    this.deps.jobs.kick();
  }

  /** Queue a check of the held requests of a scope, if it has any. */
  async queueHeldCheck(installationId: number, account: string, repo: string | null): Promise<void> {
    const waiting = (await this.store.waitingDeployments()).filter((h) => h.account === key(account) && (repo === null || h.repo === key(repo)));
    if (!waiting.length) return;
    const now = this.clock.now();
    await this.store.enqueueJob('held-check', { installationId, account: key(account), repo: repo ? key(repo) : null } satisfies HeldCheckPayload, now, now);
    this.deps.jobs.kick();
  }

  async queueAllHeldChecks(): Promise<void> {
    const seen = new Set<string>();
    for (const h of await this.store.waitingDeployments()) {
      const k = `${h.installationId}:${h.account}`;
      if (seen.has(k)) continue;
      seen.add(k);
      await this.queueHeldCheck(h.installationId, h.account, null);
    }
  }

  /**
   * Answers held requests whose gate is open: oldest first, no more than the free cadence slots.
   * A request held only because its answer failed is answered as it would be now (approved, or
   * rejected under `when_blocked: reject`). One request's failure does not stop the others; the job
   * is retried (with backoff) when any failed.
   */
  async releaseHeld(payload: HeldCheckPayload): Promise<void> {
    const held = (await this.store.waitingDeployments()).filter((h) => h.account === payload.account && (payload.repo === null || h.repo === payload.repo));
    if (!held.length) return;
    const port = await this.deps.ports(payload.installationId);
    const failures: string[] = [];
    // oldest first within each repository and environment: once one waits (or fails), newer ones wait too
    const stalled = new Set<string>();
    for (const h of held) {
      const lane = `${h.repo}#${h.environment}`;
      if (stalled.has(lane)) continue;
      try {
        // under the repository's admission lock, like a new request (see handleProtectionRule)
        if ((await this.store.withLock(admissionKey(h.account, h.repo), () => this.releaseOne(port, h))) === null) stalled.add(lane);
      } catch (error) {
        stalled.add(lane);
        const message = error instanceof Error ? error.message : String(error);
        this.log.warn({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, err: message }, 'held deployment not answered yet');
        failures.push(`${h.account}/${h.repo} ${h.environment}: ${message}`);
      }
    }
    if (failures.length) throw new Error(`could not answer ${failures.length} held deployment(s): ${failures.join('; ')}`.slice(0, 1000));
  }

  /** One held request: load and decide (as the gate is now), then answer it, or leave it held. */
  private async releaseOne(port: GitHubPort, h: HeldDeployment): Promise<'approved' | 'rejected' | 'decided' | null> {
    // another replica's held-check may have answered it while this one waited for the lock
    if (!(await this.store.waitingDeploymentsOfRepo(h.account, h.repo)).some((w) => w.id === h.id)) return 'decided';
    const verdict = await this.loadAndDecide(port, { owner: h.account, repo: h.repo, environment: h.environment, sha: h.sha, prNumbers: h.prNumbers, heldSince: h.requestedAt });
    if (verdict.answer === 'held') {
      for (const at of verdict.wakeAt) await this.deps.wakeups.wakeBy(at);
      return null;
    }
    const answered = await this.answerHeld(port, h, verdict.answer, verdict.comment);
    if (verdict.counts) await this.saveApproval({ ...h, owner: h.account });
    return answered;
  }

  /**
   * Sends the answer and records it. GitHub refusing it for good (the run was cancelled, or has its
   * answer already) also decides the request, so it is not retried forever.
   */
  private async answerHeld(port: GitHubPort, h: HeldDeployment, state: 'approved' | 'rejected', comment: string): Promise<'approved' | 'rejected'> {
    const now = this.clock.now();
    try {
      await port.answerDeployment(h.callbackUrl, h.environment, state, comment);
    } catch (error) {
      const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : NaN;
      if (![400, 404, 410, 422].includes(status)) throw error;
      this.log.error({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, status, err: error instanceof Error ? error.message : String(error) }, 'GitHub refused the answer to a held deployment');
      await this.store.decideHeld(h.id, state, `${comment} (GitHub refused this answer: ${status})`, now);
      return state;
    }
    await this.store.decideHeld(h.id, state, comment, now);
    this.log.info({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, decision: state, held_ms: now - h.requestedAt }, `held deployment ${state}`);
    return state;
  }

  /** A successful deployment of a configured environment counts once (by deployment id). */
  async recordDeploymentStatus(port: GitHubPort, d: { owner: string; repo: string; deploymentId: number; environment: string; state: string; sha: string; actor: string | null }): Promise<boolean> {
    const dedupeKey = `deployment:${d.deploymentId}`;
    if (d.state === 'failure' || d.state === 'error') {
      // an approval that never shipped frees its slot
      if (await this.store.dropProvisionalDeploy(dedupeKey)) await this.queueHeldCheck(port.installationId, d.owner, d.repo);
      return false;
    }
    if (d.state !== 'success') return false;
    if (await this.store.settleDeploy(dedupeKey, d.actor)) return true;
    const loaded = await this.deps.configs.get(port, { owner: d.owner, repo: d.repo });
    const counted = loaded.config.cadence?.counts === 'deployments' && loaded.config.cadence.environments.includes(d.environment);
    const gated = loaded.config.deployments.environments.includes(d.environment);
    if (!counted && !gated) return false;
    const held = (await this.store.waitingDeploymentsOfRepo(d.owner, d.repo)).length > 0;
    const inserted = await this.store.recordDeploy({ dedupeKey, account: d.owner, repo: d.repo, kind: 'deployment', environment: d.environment, sha: d.sha, actor: d.actor, at: this.clock.now() });
    if (inserted && held) await this.queueHeldCheck(port.installationId, d.owner, d.repo);
    return inserted;
  }

  /** A PR merged into a gated branch counts once; the other PRs' gates may change (cadence). */
  async recordMerge(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, actor: string | null): Promise<boolean> {
    const loaded = await this.deps.configs.get(port, ref);
    if (!isGatedBranch(loaded.config, pull.baseRef, defaultBranch)) return false;
    const change = await this.deps.gatekeeper.loadChange(port, ref, defaultBranch, pull, loaded);
    const h = hotfixStatus(loaded.config, change);
    const o = await this.store.activeOverride(ref.owner, ref.repo, pull.number);
    const exemption = overrideInForce(o, pull.headSha, pull.author) ? `override by ${o!.by}: ${o!.reason}` : h.is ? `hotfix: ${h.why}` : null;
    const inserted = await this.store.recordDeploy({ dedupeKey: `merge:${key(ref.owner)}/${key(ref.repo)}#${pull.number}`, account: ref.owner, repo: ref.repo, kind: 'merge', sha: pull.mergeCommitSha, prNumber: pull.number, title: pull.title, actor, at: this.clock.now(), exemption });
    const cadenceInForce = loaded.config.cadence?.counts !== 'deployments' && (loaded.config.cadence !== null || (await this.store.activeIncidents(ref.owner)).some((i) => i.phase === 'resolved'));
    if (inserted && cadenceInForce) await this.deps.fanOuts.queueFanOut(port.installationId, ref.owner, ref.repo, `#${pull.number} merged`);
    return inserted;
  }
}

/** The lock a repository's cadence admissions are serialised on (store.withLock). */
export const admissionKey = (owner: string, repo: string): string => `admission:${key(owner)}/${key(repo)}`;

/** A GitHub port made on its first call. */
function lazyPort(installationId: number, ports: PortFactory): GitHubPort {
  let made: Promise<GitHubPort> | null = null;
  const get = () => (made ??= ports(installationId));
  return new Proxy({} as GitHubPort, {
    get(_target, name) {
      if (name === 'installationId') return installationId;
      if (typeof name !== 'string' || name === 'then') return undefined;
      return async (...args: unknown[]) => {
        const port = (await get()) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return port[name]!(...args);
      };
    },
  });
}

/** The gate's state when it is not asked (an environment Moratorium does not gate). */
function emptyState(): GateState {
  return { freezes: [], incidents: [], windowSuppressions: [], override: null, deploys: [], configProblems: [] };
}

export type { HeldDeployment };
