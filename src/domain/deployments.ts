/**
 * The deploy side (SPEC 6): the custom deployment protection rule (approve, reject, or hold and
 * approve when the gate opens, oldest first and only as many as the cadence's free slots allow),
 * and counting what cadence counts (merged PRs, successful deployments).
 */
import type { LoadedConfig } from '../config/load.js';
import { evaluateGate } from '../gate/evaluate.js';
import { hotfixStatus } from '../gate/hotfix.js';
import { isGatedBranch } from '../gate/branches.js';
import type { Decision, DeploymentChange } from '../gate/types.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { HeldDeployment } from '../store/store.js';
import { key } from '../store/store.js';
import { escapeMarkdown } from '../util/escape.js';
import type { Services } from '../services.js';
import { gateStateFor } from './gate-state.js';

/** GitHub waits up to 30 days for an answer; give one, with a reason, before that. */
export const HOLD_LIMIT_MS = 29 * 86_400_000;
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

export type ProtectionOutcome = { answer: 'approved' | 'rejected' | 'held'; comment: string; decision: Decision | null };

export class Deployments {
  constructor(private readonly s: Services) {}

  /** What shipped in a deploy: hotfix when its commit is the merge commit of a hotfix or overridden PR, or every PR is one. */
  private async classify(port: GitHubPort, ref: RepoRef, loaded: LoadedConfig, sha: string, prNumbers: number[]): Promise<{ hotfix: { is: boolean; why: string }; overridden: boolean }> {
    const pulls = new Map<number, PullInfo>();
    if (sha) for (const p of await port.pullsForCommit(ref, sha).catch(() => [] as PullInfo[])) pulls.set(p.number, p);
    for (const n of prNumbers) {
      if (pulls.has(n)) continue;
      const p = await port.getPull(ref, n);
      if (p) pulls.set(n, p);
    }
    const repo = await this.s.repoInfo(port, ref);
    const verdicts: { pull: PullInfo; hotfix: boolean; overridden: boolean; why: string }[] = [];
    for (const pull of pulls.values()) {
      const change = await this.s.gatekeeper.changeFor(port, ref, repo.defaultBranch, pull, loaded);
      const h = hotfixStatus(loaded.config, change);
      const o = this.s.store.overrideForSha(ref.owner, ref.repo, pull.headSha);
      verdicts.push({ pull, hotfix: h.is, overridden: o !== null, why: h.is ? `#${pull.number}: ${h.why}` : o ? `#${pull.number} was overridden by ${o.by}` : `#${pull.number}: ${h.why}` });
    }
    const merged = verdicts.find((v) => v.pull.mergeCommitSha === sha);
    if (merged && (merged.hotfix || merged.overridden)) return { hotfix: { is: merged.hotfix, why: merged.why }, overridden: merged.overridden && !merged.hotfix };
    if (verdicts.length && verdicts.every((v) => v.hotfix || v.overridden)) {
      const allHotfix = verdicts.every((v) => v.hotfix);
      return { hotfix: { is: allHotfix, why: verdicts.map((v) => v.why).join('; ') }, overridden: !allHotfix };
    }
    return { hotfix: { is: false, why: verdicts.length ? 'not every PR in it is a hotfix' : 'no hotfix PR is associated with this commit' }, overridden: false };
  }

  private decide(loaded: LoadedConfig, change: DeploymentChange): Decision {
    const now = this.s.clock.now();
    return evaluateGate({ config: loaded.config, state: gateStateFor(this.s.store, loaded, change, now), change, now });
  }

  /**
   * An approved deployment counts at once, provisionally, when a deployment cadence counts its
   * environment: otherwise every check before its success status would see the slot still free.
   * Its success status settles it; a failure drops it.
   */
  private countApproval(loaded: LoadedConfig, owner: string, repo: string, environment: string, deploymentId: number | null, callbackUrl: string, sha: string): void {
    const cadence = loaded.config.cadence;
    if (cadence?.counts !== 'deployments' || !cadence.environments.includes(environment)) return;
    this.s.store.recordDeploy({
      dedupeKey: deploymentId !== null ? `deployment:${deploymentId}` : `approval:${callbackUrl}#${environment}`,
      account: owner,
      repo,
      kind: 'deployment',
      environment,
      sha,
      at: this.s.clock.now(),
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
      return await this.decideProtectionRule(port, req);
    } catch (error) {
      this.holdForRetry(req);
      throw error;
    }
  }

  /** Stores a request to be answered later (see releaseHeld). */
  private hold(req: ProtectionRequest, now: number): void {
    this.s.store.holdDeployment({
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

  private holdForRetry(req: ProtectionRequest): void {
    const now = this.s.clock.now();
    this.hold(req, now);
    this.s.store.enqueueJob('held-check', { installationId: req.installationId, account: key(req.owner), repo: key(req.repo) } satisfies HeldCheckPayload, now + ANSWER_RETRY_MS, now);
    this.s.jobs.kick();
  }

  private async decideProtectionRule(port: GitHubPort, req: ProtectionRequest): Promise<ProtectionOutcome> {
    const ref = { owner: req.owner, repo: req.repo };
    const loaded = await this.s.configs.get(port, ref);
    if (!loaded.config.deployments.environments.includes(req.environment)) {
      const comment = notGatedComment(req.environment);
      await port.answerDeployment(req.callbackUrl, req.environment, 'approved', comment);
      return { answer: 'approved', comment, decision: null };
    }
    const classified = await this.classify(port, ref, loaded, req.sha, req.prNumbers);
    const change: DeploymentChange = { kind: 'deployment', account: req.owner, repo: req.repo, environment: req.environment, sha: req.sha, hotfix: classified.hotfix, overridden: classified.overridden };
    const decision = this.decide(loaded, change);
    // held requests go first: a newcomer queues behind them rather than taking a slot they wait for
    const queued = this.s.store.waitingDeploymentsOfRepo(req.owner, req.repo).some((h) => h.environment === req.environment);
    if (decision.conclusion === 'success' && !queued) {
      const comment = approveComment(decision);
      await port.answerDeployment(req.callbackUrl, req.environment, 'approved', comment);
      this.countApproval(loaded, req.owner, req.repo, req.environment, req.deploymentId, req.callbackUrl, req.sha);
      return { answer: 'approved', comment, decision };
    }
    if (decision.conclusion !== 'success' && loaded.config.deployments.when_blocked === 'reject') {
      const comment = rejectComment(decision);
      await port.answerDeployment(req.callbackUrl, req.environment, 'rejected', comment);
      return { answer: 'rejected', comment, decision };
    }
    this.hold(req, this.s.clock.now());
    if (decision.nextChangeAt !== null) this.s.boundaries.wakeBy(decision.nextChangeAt);
    this.s.boundaries.wakeBy(this.s.clock.now() + HOLD_LIMIT_MS);
    if (queued) this.queueHeldCheck(req.installationId, req.owner, req.repo);
    return { answer: 'held', comment: queued ? 'held behind older requests' : `held: ${decision.title}`, decision };
  }

  /** Queue a check of the held requests of a scope, if it has any. */
  queueHeldCheck(installationId: number, account: string, repo: string | null): void {
    const waiting = this.s.store.waitingDeployments().filter((h) => h.account === key(account) && (repo === null || h.repo === key(repo)));
    if (!waiting.length) return;
    const now = this.s.clock.now();
    this.s.store.enqueueJob('held-check', { installationId, account: key(account), repo: repo ? key(repo) : null } satisfies HeldCheckPayload, now, now);
    this.s.jobs.kick();
  }

  queueAllHeldChecks(): void {
    const seen = new Set<string>();
    for (const h of this.s.store.waitingDeployments()) {
      const k = `${h.installationId}:${h.account}`;
      if (seen.has(k)) continue;
      seen.add(k);
      this.queueHeldCheck(h.installationId, h.account, null);
    }
  }

  /**
   * Answers held requests whose gate is open: oldest first, no more than the free cadence slots.
   * A request held only because its answer failed is answered as it would be now (approved, or
   * rejected under `when_blocked: reject`). One request's failure does not stop the others; the job
   * is retried (with backoff) when any failed.
   */
  async releaseHeld(payload: HeldCheckPayload): Promise<void> {
    const held = this.s.store.waitingDeployments().filter((h) => h.account === payload.account && (payload.repo === null || h.repo === payload.repo));
    if (!held.length) return;
    const port = await this.s.ports(payload.installationId);
    const failures: string[] = [];
    // oldest first within each repository and environment: once one waits (or fails), newer ones wait too
    const stalled = new Set<string>();
    for (const h of held) {
      const lane = `${h.repo}#${h.environment}`;
      if (stalled.has(lane)) continue;
      try {
        if ((await this.releaseOne(port, h)) === null) stalled.add(lane);
      } catch (error) {
        stalled.add(lane);
        const message = error instanceof Error ? error.message : String(error);
        this.s.log.warn({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, err: message }, 'held deployment not answered yet');
        failures.push(`${h.account}/${h.repo} ${h.environment}: ${message}`);
      }
    }
    if (failures.length) throw new Error(`could not answer ${failures.length} held deployment(s): ${failures.join('; ')}`.slice(0, 1000));
  }

  private async releaseOne(port: GitHubPort, h: HeldDeployment): Promise<'approved' | 'rejected' | null> {
    const ref = { owner: h.account, repo: h.repo };
    const now = this.s.clock.now();
    if (now - h.requestedAt >= HOLD_LIMIT_MS) {
      const comment = 'Moratorium held this deployment for 29 days and the gate never opened; rejected before GitHub\'s 30-day limit. Request it again when the gate is open.';
      return this.answerHeld(port, h, 'rejected', comment);
    }
    const loaded = await this.s.configs.get(port, ref);
    if (!loaded.config.deployments.environments.includes(h.environment)) return this.answerHeld(port, h, 'approved', notGatedComment(h.environment));
    const classified = await this.classify(port, ref, loaded, h.sha, h.prNumbers);
    const change: DeploymentChange = { kind: 'deployment', account: h.account, repo: h.repo, environment: h.environment, sha: h.sha, hotfix: classified.hotfix, overridden: classified.overridden };
    // approvals made in this pass already count (provisionally): a slot is used once, however many wait
    const decision = this.decide(loaded, change);
    if (decision.conclusion !== 'success') {
      if (loaded.config.deployments.when_blocked === 'reject') return this.answerHeld(port, h, 'rejected', rejectComment(decision));
      if (decision.nextChangeAt !== null) this.s.boundaries.wakeBy(decision.nextChangeAt);
      return null;
    }
    const answered = await this.answerHeld(port, h, 'approved', `Moratorium: the gate opened (${escapeMarkdown(decision.title)}); approved.`);
    this.countApproval(loaded, h.account, h.repo, h.environment, h.deploymentId, h.callbackUrl, h.sha);
    return answered;
  }

  /**
   * Sends the answer and records it. GitHub refusing it for good (the run was cancelled, or has its
   * answer already) also decides the request, so it is not retried forever.
   */
  private async answerHeld(port: GitHubPort, h: HeldDeployment, state: 'approved' | 'rejected', comment: string): Promise<'approved' | 'rejected'> {
    const now = this.s.clock.now();
    try {
      await port.answerDeployment(h.callbackUrl, h.environment, state, comment);
    } catch (error) {
      const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : NaN;
      if (![400, 404, 410, 422].includes(status)) throw error;
      this.s.log.error({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, status, err: error instanceof Error ? error.message : String(error) }, 'GitHub refused the answer to a held deployment');
      this.s.store.decideHeld(h.id, state, `${comment} (GitHub refused this answer: ${status})`, now);
      return state;
    }
    this.s.store.decideHeld(h.id, state, comment, now);
    this.s.log.info({ event: 'deployment_protection_rule', repo: `${h.account}/${h.repo}`, environment: h.environment, sha: h.sha, decision: state, held_ms: now - h.requestedAt }, `held deployment ${state}`);
    return state;
  }

  /** A successful deployment of a configured environment counts once (by deployment id). */
  async recordDeploymentStatus(port: GitHubPort, d: { owner: string; repo: string; deploymentId: number; environment: string; state: string; sha: string; actor: string | null }): Promise<boolean> {
    const dedupeKey = `deployment:${d.deploymentId}`;
    if (d.state === 'failure' || d.state === 'error') {
      // an approval that never shipped frees its slot
      if (this.s.store.dropProvisionalDeploy(dedupeKey)) this.queueHeldCheck(port.installationId, d.owner, d.repo);
      return false;
    }
    if (d.state !== 'success') return false;
    if (this.s.store.settleDeploy(dedupeKey, d.actor)) return true;
    const loaded = await this.s.configs.get(port, { owner: d.owner, repo: d.repo });
    const counted = loaded.config.cadence?.counts === 'deployments' && loaded.config.cadence.environments.includes(d.environment);
    const gated = loaded.config.deployments.environments.includes(d.environment);
    if (!counted && !gated) return false;
    const held = this.s.store.waitingDeploymentsOfRepo(d.owner, d.repo).length > 0;
    const inserted = this.s.store.recordDeploy({ dedupeKey, account: d.owner, repo: d.repo, kind: 'deployment', environment: d.environment, sha: d.sha, actor: d.actor, at: this.s.clock.now() });
    if (inserted && held) this.queueHeldCheck(port.installationId, d.owner, d.repo);
    return inserted;
  }

  /** A PR merged into a gated branch counts once; the other PRs' gates may change (cadence). */
  async recordMerge(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, actor: string | null): Promise<boolean> {
    const loaded = await this.s.configs.get(port, ref);
    if (!isGatedBranch(loaded.config, pull.baseRef, defaultBranch)) return false;
    const change = await this.s.gatekeeper.changeFor(port, ref, defaultBranch, pull, loaded);
    const h = hotfixStatus(loaded.config, change);
    const o = this.s.store.activeOverride(ref.owner, ref.repo, pull.number);
    const exemption = o && o.sha === pull.headSha ? `override by ${o.by}: ${o.reason}` : h.is ? `hotfix: ${h.why}` : null;
    const inserted = this.s.store.recordDeploy({ dedupeKey: `merge:${key(ref.owner)}/${key(ref.repo)}#${pull.number}`, account: ref.owner, repo: ref.repo, kind: 'merge', sha: pull.mergeCommitSha, prNumber: pull.number, title: pull.title, actor, at: this.s.clock.now(), exemption });
    const cadenceInForce = loaded.config.cadence?.counts !== 'deployments' && (loaded.config.cadence !== null || this.s.store.activeIncidents(ref.owner).some((i) => i.phase === 'resolved'));
    if (inserted && cadenceInForce) this.s.queueFanOut(port.installationId, ref.owner, ref.repo, `#${pull.number} merged`);
    return inserted;
  }
}

function notGatedComment(environment: string): string {
  return `Moratorium does not gate the "${escapeMarkdown(environment)}" environment (deployments.environments), so it is approved.`;
}

/** The approval says why the gate is open: nothing in force, a hotfix, an override, or room in the cadence. */
function approveComment(decision: Decision): string {
  const parts = [`Moratorium: ${escapeMarkdown(decision.title)}.`];
  if (decision.reasons.length === 0) {
    parts.push('No incident, freeze, window or deploy limit is in force.');
  } else {
    if (decision.overridden) parts.push('Its commit is the merge commit of an overridden pull request.');
    else if (decision.hotfix.is) parts.push(`It is a hotfix (${escapeMarkdown(decision.hotfix.why)}).`);
    parts.push(`In force, and not blocking it: ${decision.reasons.map((r) => escapeMarkdown(r.label)).join('; ')}.`);
  }
  return parts.join(' ');
}

function rejectComment(decision: Decision): string {
  const when = decision.blockedUntil ? ` It can go after ${new Date(decision.blockedUntil).toISOString()}.` : ' It can go once the block is lifted.';
  return `Moratorium: ${escapeMarkdown(decision.title)}.${when}`;
}

export type { HeldDeployment };
