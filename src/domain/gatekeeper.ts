/**
 * Gate a PR: load what the decision needs (config, the PR and every open PR sharing its head
 * commit, the store's state), decide once with the pure core (src/gate/), publish through the
 * GitHub port when the posted decision changed. The store's record of what was posted decides
 * whether a write is owed. Also owns the `gate-pull` job (a retry after GitHub failed, or a PR an
 * override changed) and the re-gate of PRs whose decision changes by itself at a time boundary.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConfigService, LoadedConfig } from '../config/load.js';
import type { ConfigProblem } from '../config/schema.js';
import { decideSharedHead } from '../gate/combine.js';
import { FILES_CAP } from '../gate/paths.js';
import type { ChangedFiles, Decision, GateInput, LabelState, PullRequestChange } from '../gate/types.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { AsyncStore, Repositories } from '../store/contract.js';
import type { PullRecord } from '../store/records.js';
import { key } from '../store/records.js';
import { gateStateFor } from './gate-state.js';
import { CHECK_NAME } from '../github/octokit-port.js';
import type { JobRegistry } from './jobs.js';
import type { Authority, PortFactory, Wakeups } from './ports.js';
import { loadDefaultBranch, pullInfoFromRecord } from './repos.js';

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

/** What one PR's decision needs, loaded: the inputs of the PR and of the other open PRs on its head commit. */
export interface LoadedPull {
  loaded: LoadedConfig;
  own: GateInput;
  others: GateInput[];
}

export interface GatePullJob {
  installationId: number;
  account: string;
  repo: string;
  number: number;
  force: boolean;
}

export interface GatekeeperDeps {
  store: AsyncStore;
  configs: Pick<ConfigService, 'get'>;
  clock: Clock;
  log: Logger;
  ports: PortFactory;
  /** a decision with a time boundary was recorded: the timer may need to fire earlier */
  wakeups: Wakeups;
  authority: Authority;
  /** where the `gate-pull` job is registered and queued */
  jobs: JobRegistry;
}

export class Gatekeeper {
  private readonly store: AsyncStore;
  private readonly configs: Pick<ConfigService, 'get'>;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly deps: GatekeeperDeps) {
    this.store = deps.store;
    this.configs = deps.configs;
    this.clock = deps.clock;
    this.log = deps.log;
    deps.jobs.register('gate-pull', (payload: GatePullJob) => this.gatePullJob(payload));
  }

  /** The `gate-pull` job: re-evaluate one PR as GitHub has it now. */
  private async gatePullJob(payload: GatePullJob): Promise<void> {
    const port = await this.deps.ports(payload.installationId);
    const ref = { owner: payload.account, repo: payload.repo };
    const pull = await port.getPull(ref, payload.number);
    if (!pull || pull.state !== 'open') return;
    const defaultBranch = await loadDefaultBranch(this.store, port, ref);
    await this.remember(payload.installationId, ref, pull);
    await this.gatePull(port, ref, defaultBranch, pull, { force: payload.force });
  }

  /** Queue a re-evaluation of one PR (a retry after GitHub failed), run at `runAt`. */
  async queueGatePull(installationId: number, account: string, repo: string, number: number, runAt: number): Promise<void> {
    await this.store.enqueueJob('gate-pull', { installationId, account: account.toLowerCase(), repo: repo.toLowerCase(), number, force: false } satisfies GatePullJob, runAt, this.clock.now());
    this.deps.jobs.kick();
  }

  /**
   * The PR as the gate sees it, with who added its exempt labels resolved: from the store, or asked
   * of GitHub once and saved (an answer GitHub could not give is asked again next time).
   */
  async loadChange(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, loaded: LoadedConfig): Promise<PullRequestChange> {
    const exempt = new Set(loaded.config.exempt.labels.map((l) => l.toLowerCase()));
    const labels: LabelState[] = [];
    for (const name of pull.labels) {
      if (!exempt.has(name.toLowerCase())) {
        labels.push({ name, addedBy: null, addedByAuthorized: null });
        continue;
      }
      let grant = await this.store.getLabelGrant(ref.owner, ref.repo, pull.number, name);
      if (!grant) {
        const actor = await port.labelAddedBy(ref, pull.number, name);
        const answer = actor ? await this.deps.authority(port, ref, actor, loaded.config.exempt.labeled_by, ref.owner) : null;
        // an error while checking leaves it unknown (null): it does not count, and is asked again later
        const authorized = answer && !answer.error ? answer.allowed : null;
        if (authorized !== null || !actor) await this.store.setLabelGrant(ref.owner, ref.repo, pull.number, name, actor, authorized ?? false, this.clock.now());
        grant = { actor, authorized: authorized ?? (actor ? null : false), checkedAt: this.clock.now() };
      }
      labels.push({ name, addedBy: grant.actor, addedByAuthorized: grant.authorized });
    }
    const files = loaded.config.exempt.paths.length ? await this.loadFiles(port, ref, pull) : null;
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
      ...(pull.author ? { author: pull.author } : {}),
      ...(files ? { files } : {}),
    };
  }

  /**
   * The PR's changed files at its head commit (only asked when `exempt.paths` is set): from the
   * store, or read from GitHub once per head commit and saved. A PR whose `changed_files` is above
   * the endpoint's cap is not read at all: it can never be exempt by paths.
   */
  private async loadFiles(port: GitHubPort, ref: RepoRef, pull: PullInfo): Promise<ChangedFiles> {
    const stored = await this.store.getPullFiles(ref.owner, ref.repo, pull.number, pull.headSha);
    if (stored) return stored;
    const count = pull.changedFiles ?? null;
    let files: ChangedFiles;
    if (count !== null && count > FILES_CAP) files = { files: [], count, capped: true };
    else {
      const listed = await port.listPullFiles(ref, pull.number);
      files = { files: listed.files, count, capped: listed.capped };
    }
    await this.store.setPullFiles(ref.owner, ref.repo, pull.number, pull.headSha, files, this.clock.now());
    this.log.info({ event: 'pull-files', repo: `${ref.owner}/${ref.repo}`, pr: pull.number, sha: pull.headSha, files: files.files.length, capped: files.capped }, 'changed files read');
    return files;
  }

  /** The gate's input for one change: the store's state at `now`. */
  async inputFor(loaded: LoadedConfig, change: GateInput['change'], now: number): Promise<GateInput> {
    return { config: loaded.config, state: await gateStateFor(this.store, loaded, change, now), change, now };
  }

  /**
   * Gates one PR: load, decide once (with every open PR that shares its head SHA: the strictest
   * wins), and post the check or status when the conclusion, decisive reason or blocked-until
   * time changed, or always with `force` (a re-run request).
   */
  async gatePull(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo, opts: { force?: boolean } = {}): Promise<GateOutcome> {
    // one at a time per head SHA: a PR event racing a fan-out or boundary on the same commit would
    // otherwise both read "nothing posted yet" and write the same check twice, or post out of order
    return this.oneAtATime(`${key(ref.owner)}/${key(ref.repo)}@${pull.headSha}`, async () => {
      const inputs = await this.loadPull(port, ref, defaultBranch, pull);
      const decision = decideSharedHead(inputs.own, inputs.others);
      const posted = await this.post(port, ref, pull.headSha, decision, inputs.loaded, opts.force ?? false, pull.baseRef);
      return { decision, posted };
    });
  }

  /**
   * Load: the config (with the problems of the PR's own version of the file), the PR's change
   * and state, and those of every other open PR on the same head commit (as last seen).
   */
  async loadPull(port: GitHubPort, ref: RepoRef, defaultBranch: string, pull: PullInfo): Promise<LoadedPull> {
    const loaded = await this.configs.get(port, ref);
    const own = await this.loadHeadConfigProblems(ref, pull.headSha);
    const effective = own.length ? { ...loaded, problems: [...loaded.problems, ...own] } : loaded;
    const now = this.clock.now();
    const input = await this.inputFor(effective, await this.loadChange(port, ref, defaultBranch, pull, effective), now);
    const others: GateInput[] = [];
    for (const other of await this.store.openPullsBySha(ref.owner, ref.repo, pull.headSha)) {
      if (other.number === pull.number) continue;
      const otherPull: PullInfo = { ...pull, number: other.number, baseRef: other.baseRef, headRef: other.headRef, labels: other.labels, author: null, changedFiles: null };
      others.push(await this.inputFor(effective, await this.loadChange(port, ref, defaultBranch, otherPull, effective), now));
    }
    return { loaded, own: input, others };
  }

  /**
   * The problems of the config file as a PR's head commit has it, when that commit changes the file
   * (recorded by the push and PR handlers, see headConfigKey): shown on every post of that head,
   * whatever triggered it, with no GitHub read here.
   */
  private async loadHeadConfigProblems(ref: RepoRef, sha: string): Promise<ConfigProblem[]> {
    const stored = await this.store.getMeta(headConfigKey(ref, sha));
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

  /**
   * Whether the branch requires the `moratorium` check: asked of GitHub at most once a day per
   * repository, and only when a blocking gate is posted (a gate nobody requires protects nothing).
   */
  private async requiredState(port: GitHubPort, ref: RepoRef, branch: string): Promise<string | null> {
    const repo = await this.store.getRepo(ref.owner, ref.repo);
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
    await this.store.setRequiredState(ref.owner, ref.repo, state, now);
    return state;
  }

  /**
   * Publish: posts `decision` on `sha` unless the store says the same decision is already there
   * ("has it changed"), then saves what was posted. A failure posted where no rule requires the
   * check says so in its summary.
   */
  async post(port: GitHubPort, ref: RepoRef, sha: string, decision: Decision, loaded: LoadedConfig, force: boolean, baseRef: string | null = null): Promise<boolean> {
    const previous = await this.store.getPosted(ref.owner, ref.repo, sha);
    if (decision.nextChangeAt !== null) await this.deps.wakeups.wakeBy(decision.nextChangeAt);
    if (!force && previous?.decisionKey === decision.key) {
      if (previous.nextChangeAt !== decision.nextChangeAt) await this.store.setPostedNextChange(ref.owner, ref.repo, sha, decision.nextChangeAt);
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
    await this.savePosted(ref, sha, decision);
    return true;
  }

  private async savePosted(ref: RepoRef, sha: string, decision: Decision): Promise<void> {
    await this.store.setPosted({
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
  }

  /**
   * At a time boundary: re-gates, from the store and with no GitHub read but the write, every
   * head commit whose posted decision is due to change by `now` (one PR per commit, most recently
   * updated first per installation; installations in parallel). A failure leaves it due: the next
   * boundary or reconcile tries again.
   */
  async regateDue(now: number): Promise<void> {
    const { store, log } = this;
    const byInstallation = new Map<number, PullRecord[]>();
    for (const d of await store.postedDue(now)) {
      const pulls = (await store.openPullsBySha(d.account, d.repo, d.sha)).filter((p) => !p.draft);
      if (pulls.length === 0) {
        await store.setPostedNextChange(d.account, d.repo, d.sha, null);
        continue;
      }
      const first = pulls[0]!;
      const list = byInstallation.get(first.installationId) ?? [];
      list.push(first);
      byInstallation.set(first.installationId, list);
    }
    await Promise.all(
      [...byInstallation].map(async ([installationId, pulls]) => {
        let port;
        try {
          port = await this.deps.ports(installationId);
        } catch (error) {
          log.warn({ event: 'boundary', installation: installationId, err: error }, 'could not authenticate for a boundary');
          return;
        }
        pulls.sort((a, b) => b.updatedAt - a.updatedAt);
        for (const p of pulls) {
          try {
            const ref = { owner: p.account, repo: p.repo };
            const defaultBranch = await loadDefaultBranch(store, port, ref);
            const outcome = await this.gatePull(port, ref, defaultBranch, pullInfoFromRecord(p));
            log.info({ event: 'boundary', repo: `${p.account}/${p.repo}`, pr: p.number, sha: p.headSha, decision: outcome.decision.conclusion, changed: outcome.posted }, 'boundary re-gate');
          } catch (error) {
            // leave next_change_at due: the next boundary or reconcile tries again
            log.warn({ event: 'boundary', repo: `${p.account}/${p.repo}`, pr: p.number, err: error instanceof Error ? error.message : String(error) }, 'boundary re-gate failed');
          }
        }
      }),
    );
  }

  /** Records the PR as last seen, so fan-outs, boundaries and shared-SHA checks can find it. */
  async remember(installationId: number, ref: RepoRef, pull: PullInfo, repos: Pick<Repositories, 'upsertPull'> = this.store): Promise<void> {
    await repos.upsertPull({
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
