/**
 * Computes a PR's gate and posts it when it changed: "compute" is the pure core, "write" is the
 * GitHub port, and the store's record of what was posted decides whether a write is owed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConfigService, LoadedConfig } from '../config/load.js';
import type { ConfigProblem } from '../config/schema.js';
import { evaluateGate } from '../gate/evaluate.js';
import type { Decision, LabelState, PullRequestChange } from '../gate/types.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { Store } from '../store/store.js';
import { key } from '../store/store.js';
import { holds } from '../commands/authorize.js';
import { gateStateFor } from './gate-state.js';
import { CHECK_NAME } from '../github/octokit-port.js';

const REQUIRED_CHECK_TTL_MS = 86_400_000;

/**
 * Where the store keeps what is known of a head commit that changes `.github/moratorium.yml`:
 * `pending` once a push says it changed the file, then the JSON list of its problems once read.
 */
export const headConfigKey = (ref: RepoRef, sha: string): string => `config-push:${key(ref.owner)}/${key(ref.repo)}:${sha}`;

export interface GateOutcome {
  decision: Decision;
  posted: boolean;
}

export interface GatekeeperEvents {
  /** a decision with a time boundary was recorded: the scheduler may need to wake earlier */
  onBoundary?(at: number): void;
  onPosted?(decision: Decision, ref: RepoRef, sha: string): void;
}

export class Gatekeeper {
  constructor(
    private readonly store: Store,
    private readonly configs: ConfigService,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly events: GatekeeperEvents = {},
  ) {}

  /** The PR as the gate sees it, with who added its exempt labels resolved (cached in the store). */
  async changeFor(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, loaded: LoadedConfig): Promise<PullRequestChange> {
    const exempt = new Set(loaded.config.exempt.labels.map((l) => l.toLowerCase()));
    const labels: LabelState[] = [];
    for (const name of pull.labels) {
      if (!exempt.has(name.toLowerCase())) {
        labels.push({ name, addedBy: null, addedByAuthorized: null });
        continue;
      }
      let grant = this.store.getLabelGrant(ref.owner, ref.repo, pull.number, name);
      if (!grant) {
        const actor = await port.labelAddedBy(ref, pull.number, name);
        const answer = actor ? await holds(port, ref, actor, loaded.config.exempt.labeled_by, ref.owner) : null;
        // an error while checking leaves it unknown (null): it does not count, and is asked again later
        const authorized = answer && !answer.error ? answer.allowed : null;
        if (authorized !== null || !actor) this.store.setLabelGrant(ref.owner, ref.repo, pull.number, name, actor, authorized ?? false, this.clock.now());
        grant = { actor, authorized: authorized ?? (actor ? null : false), checkedAt: this.clock.now() };
      }
      labels.push({ name, addedBy: grant.actor, addedByAuthorized: grant.authorized });
    }
    return {
      kind: 'pull_request',
      account: ref.owner,
      repo: ref.repo,
      defaultBranch,
      number: pull.number,
      baseRef: pull.baseRef,
      headRef: pull.headRef,
      headSha: pull.headSha,
      headInRepo: pull.headRepoFullName?.toLowerCase() === `${ref.owner}/${ref.repo}`.toLowerCase(),
      labels,
    };
  }

  /** Pure evaluation of one PR with the store's state at `now`. */
  decide(loaded: LoadedConfig, change: PullRequestChange, now: number): Decision {
    return evaluateGate({ config: loaded.config, state: gateStateFor(this.store, loaded, change, now), change, now });
  }

  /**
   * Gates one PR: evaluates it (with every open PR that shares its head SHA: the strictest wins) and
   * posts the check or status when the conclusion, decisive reason or blocked-until time changed,
   * or always with `force` (a re-run request).
   */
  async gatePull(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, opts: { force?: boolean } = {}): Promise<GateOutcome> {
    // one at a time per head SHA: a PR event racing a fan-out or boundary on the same commit would
    // otherwise both read "nothing posted yet" and write the same check twice, or post out of order
    return this.oneAtATime(`${key(ref.owner)}/${key(ref.repo)}@${pull.headSha}`, () => this.gatePullNow(port, ref, defaultBranch, pull, opts));
  }

  /**
   * The problems of the config file as a PR's head commit has it, when that commit changes the file
   * (recorded by the push and PR handlers, see headConfigKey): shown on every post of that head,
   * whatever triggered it, with no GitHub read here.
   */
  private headConfigProblems(ref: RepoRef, sha: string): ConfigProblem[] {
    const stored = this.store.getMeta(headConfigKey(ref, sha));
    return stored?.startsWith('[') ? (JSON.parse(stored) as ConfigProblem[]) : [];
  }

  private readonly queues = new Map<string, Promise<unknown>>();

  private oneAtATime<T>(k: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(k) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(k, tail);
    void tail.then(() => {
      if (this.queues.get(k) === tail) this.queues.delete(k);
    });
    return run;
  }

  private async gatePullNow(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, opts: { force?: boolean }): Promise<GateOutcome> {
    const loaded = await this.configs.get(port, ref);
    const own = this.headConfigProblems(ref, pull.headSha);
    const effective = own.length ? { ...loaded, problems: [...loaded.problems, ...own] } : loaded;
    const now = this.clock.now();
    let decision = this.decide(effective, await this.changeFor(port, ref, defaultBranch, pull, effective), now);
    for (const other of this.store.openPullsBySha(ref.owner, ref.repo, pull.headSha)) {
      if (other.number === pull.number || decision.conclusion === 'failure') continue;
      const otherPull: PullInfo = { ...pull, number: other.number, baseRef: other.baseRef, headRef: other.headRef, labels: other.labels };
      const otherDecision = this.decide(effective, await this.changeFor(port, ref, defaultBranch, otherPull, effective), now);
      if (otherDecision.conclusion === 'failure') decision = otherDecision;
    }
    const posted = await this.post(port, ref, pull.headSha, decision, loaded, opts.force ?? false, pull.baseRef);
    return { decision, posted };
  }

  /** Posts `decision` on `sha` unless the store says the same decision is already there. */
  /**
   * Whether the branch requires the `moratorium` check: asked of GitHub at most once a day per
   * repository, and only when a blocking gate is posted (a gate nobody requires protects nothing).
   */
  private async requiredState(port: GitHubPort, ref: RepoRef, branch: string): Promise<string | null> {
    const repo = this.store.getRepo(ref.owner, ref.repo);
    const now = this.clock.now();
    if (repo?.requiredCheckedAt && now - repo.requiredCheckedAt < REQUIRED_CHECK_TTL_MS) return repo.requiredState;
    if (!repo) return null;
    let state: string;
    try {
      const required = await port.requiresCheck(ref, branch, CHECK_NAME);
      state = required === null ? 'unknown' : required ? 'required' : 'not-required';
    } catch (error) {
      this.log.warn({ event: 'required-check', repo: `${ref.owner}/${ref.repo}`, err: error instanceof Error ? error.message : String(error) }, 'could not tell whether the check is required');
      state = 'unknown';
    }
    this.store.setRequiredState(ref.owner, ref.repo, state, now);
    return state;
  }

  async post(port: GitHubPort, ref: RepoRef, sha: string, decision: Decision, loaded: LoadedConfig, force: boolean, baseRef: string | null = null): Promise<boolean> {
    const previous = this.store.getPosted(ref.owner, ref.repo, sha);
    if (decision.nextChangeAt !== null) this.events.onBoundary?.(decision.nextChangeAt);
    if (!force && previous?.decisionKey === decision.key) {
      if (previous.nextChangeAt !== decision.nextChangeAt) this.store.setPostedNextChange(ref.owner, ref.repo, sha, decision.nextChangeAt);
      return false;
    }
    let summary = decision.summary;
    if (decision.conclusion === 'failure' && baseRef !== null && (await this.requiredState(port, ref, baseRef)) === 'not-required') {
      summary += `\n\n**Warning:** no branch protection rule or ruleset of \`${baseRef.replace(/`/g, '')}\` requires the \`moratorium\` check, so this failure does not block merging. Require it, with this app as its source.`;
    }
    if (loaded.config.enforcement === 'status') {
      await port.postStatus(ref, sha, decision.conclusion, decision.title);
    } else {
      await port.postCheck(ref, sha, { conclusion: decision.conclusion, title: decision.title, summary });
    }
    this.store.setPosted({
      account: ref.owner,
      repo: ref.repo,
      sha,
      decisionKey: decision.key,
      conclusion: decision.conclusion,
      title: decision.title,
      blockedUntil: decision.blockedUntil,
      nextChangeAt: decision.nextChangeAt,
      postedAt: this.clock.now(),
    });
    this.events.onPosted?.(decision, ref, sha);
    return true;
  }


  /** Records the PR as last seen, so fan-outs, boundaries and shared-SHA checks can find it. */
  remember(installationId: number, ref: RepoRef, pull: PullInfo): void {
    this.store.upsertPull({
      account: key(ref.owner),
      repo: key(ref.repo),
      number: pull.number,
      installationId,
      headSha: pull.headSha,
      headRef: pull.headRef,
      baseRef: pull.baseRef,
      headInRepo: pull.headRepoFullName?.toLowerCase() === `${ref.owner}/${ref.repo}`.toLowerCase(),
      draft: pull.draft,
      labels: pull.labels,
      title: pull.title,
      state: pull.state,
      updatedAt: pull.updatedAt,
    });
  }

}
