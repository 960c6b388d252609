/**
 * The PR use cases behind the webhook handlers: a PR event, a re-run request, and a push that
 * changes the config file on a branch. Each records what the event says, then gates the PRs it
 * concerns through the Gatekeeper (load, decide once, publish). Payloads arrive here already
 * read into plain values (src/handlers.ts).
 */
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../clock.js';
import type { ConfigService } from '../config/load.js';
import { parseConfig, type ConfigProblem } from '../config/schema.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { AsyncStore } from '../store/contract.js';
import type { Deployments } from './deployments.js';
import { headConfigKey, type Gatekeeper } from './gatekeeper.js';
import type { Authority } from './ports.js';
import { pullInfoFromRecord } from './repos.js';

export const CONFIG_FILE = '.github/moratorium.yml';

/** How long after GitHub failed a stored `gate-pull` job tries the PR again. */
const GATE_RETRY_MS = 5_000;

export type LogFields = Record<string, unknown>;

export interface PullRequestEvent {
  deliveryId: string;
  action: string;
  ref: RepoRef;
  defaultBranch: string;
  pull: PullInfo;
  /** the label of a `labeled` or `unlabeled` event */
  label: string | null;
  sender: string | null;
}

export interface PullRequestDeps {
  store: AsyncStore;
  configs: Pick<ConfigService, 'get' | 'changed'>;
  clock: Clock;
  gatekeeper: Pick<Gatekeeper, 'remember' | 'gatePull' | 'queueGatePull'>;
  deployments: Pick<Deployments, 'recordMerge'>;
  authority: Authority;
}

export class PullRequests {
  constructor(private readonly deps: PullRequestDeps) {}

  /** opened, reopened, synchronize, ready_for_review, labeled, unlabeled, edited, closed. */
  async onPullRequest(port: GitHubPort, e: PullRequestEvent): Promise<LogFields> {
    const { store, clock, gatekeeper } = this.deps;
    const { ref, pull, action } = e;
    const repo = `${ref.owner}/${ref.repo}`;
    if (!(await store.claimDelivery(e.deliveryId, `pull_request.${action}`, clock.now()))) return { repo, pr: pull.number, duplicate: true };
    // an older SHA arriving after a newer one must not win: the store keeps the newest by updated_at
    await gatekeeper.remember(port.installationId, ref, pull);
    const latest = await store.getPull(ref.owner, ref.repo, pull.number);
    if (latest && latest.headSha !== pull.headSha) return { repo, pr: pull.number, stale: true };

    if (action === 'closed') {
      if (pull.merged) await this.deps.deployments.recordMerge(port, ref, e.defaultBranch, pull, e.sender);
      return { repo, pr: pull.number, merged: pull.merged };
    }
    if ((action === 'labeled' || action === 'unlabeled') && e.label) await this.saveLabelGrant(port, ref, pull.number, e.label, action, e.sender ?? undefined);
    // drafts get their gate when opened and when marked ready; other events on drafts change nothing mergeable
    if (pull.draft && action !== 'opened' && action !== 'reopened') return { repo, pr: pull.number, draft: true };
    let outcome;
    try {
      await this.loadHeadConfigProblems(port, ref, pull.headSha);
      outcome = await gatekeeper.gatePull(port, ref, e.defaultBranch, pull);
    } catch (error) {
      // GitHub failed even after Octokit's retries: a stored job keeps trying, so no stale check stays
      await gatekeeper.queueGatePull(port.installationId, ref.owner, ref.repo, pull.number, clock.now() + GATE_RETRY_MS);
      throw error;
    }
    return { repo, pr: pull.number, sha: pull.headSha, decision: outcome.decision.conclusion, changed: outcome.posted };
  }

  /**
   * A re-run request on a PR's check: re-evaluates and posts, always. `numbers` are the PRs the
   * payload names; without any that are open on `headSha`, GitHub is asked which are.
   */
  async onRerequest(port: GitHubPort, ref: RepoRef, defaultBranch: string, headSha: string, numbers: number[]): Promise<LogFields> {
    let pulls: PullInfo[] = [];
    for (const n of numbers) {
      const p = await port.getPull(ref, n);
      if (p && p.state === 'open' && p.headSha === headSha) pulls.push(p);
    }
    if (!pulls.length) pulls = (await port.pullsForCommit(ref, headSha)).filter((p) => p.state === 'open' && p.headSha === headSha);
    let posted = 0;
    for (const pull of pulls) {
      await this.deps.gatekeeper.remember(port.installationId, ref, pull);
      const outcome = await this.deps.gatekeeper.gatePull(port, ref, defaultBranch, pull, { force: true });
      if (outcome.posted) posted++;
    }
    return { repo: `${ref.owner}/${ref.repo}`, sha: headSha, prs: pulls.map((p) => p.number), posted };
  }

  /**
   * A push to the default branch drops the cached config (of the account, for `.github`), on
   * every replica. A push
   * elsewhere that changes the config file marks its head commit, so the PR's check shows the
   * problems of its own version.
   */
  async onPush(port: GitHubPort, ref: RepoRef, defaultBranch: string, push: { ref: string; after: string | null; touchesConfig: boolean }): Promise<LogFields> {
    const { store, gatekeeper } = this.deps;
    const repo = `${ref.owner}/${ref.repo}`;
    if (push.ref === `refs/heads/${defaultBranch}`) {
      // every replica drops it (SPEC 9): a store notification the others listen to
      await this.deps.configs.changed(ref.owner, ref.repo);
      return { repo, ref: push.ref, config: 'invalidated' };
    }
    const after = push.after;
    if (!push.touchesConfig || !after) return { repo, ref: push.ref };
    if ((await store.getMeta(headConfigKey(ref, after))) === null) await store.setMeta(headConfigKey(ref, after), 'pending');
    // the PR event may have come first: gate its PRs again with the problems of their version
    const pulls = await store.openPullsBySha(ref.owner, ref.repo, after);
    if (pulls.length) {
      const problems = await this.loadHeadConfigProblems(port, ref, after);
      // the problems change the summary, not the decision: post even when the decision is the same
      for (const p of pulls) await gatekeeper.gatePull(port, ref, defaultBranch, pullInfoFromRecord(p), { force: problems.length > 0 });
    }
    return { repo, ref: push.ref, config: 'changed on branch' };
  }

  /**
   * A PR whose head commit changes `.github/moratorium.yml` gets its own version's problems in its
   * summary. Known from push events, so PRs that do not touch the file cost no GitHub read; the file
   * is read once per head commit and its problems saved for every later post. Returns them.
   */
  private async loadHeadConfigProblems(port: GitHubPort, ref: RepoRef, sha: string): Promise<ConfigProblem[]> {
    const { store } = this.deps;
    const k = headConfigKey(ref, sha);
    const stored = await store.getMeta(k);
    if (stored !== 'pending') return [];
    const text = await port.fileAt(ref, CONFIG_FILE, sha);
    let problems: ConfigProblem[] = [];
    if (text !== null) {
      let raw: unknown;
      try {
        raw = parseYaml(text);
        const parsed = parseConfig(raw);
        if (!parsed.ok) problems = parsed.problems.map((p) => ({ path: `this PR's .github/moratorium.yml: ${p.path}`, message: p.message }));
      } catch (error) {
        problems = [{ path: "this PR's .github/moratorium.yml", message: `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` }];
      }
    }
    await store.setMeta(k, JSON.stringify(problems));
    return problems;
  }

  /** Who added an exempt label, and whether they may: asked once and saved, dropped when removed. */
  private async saveLabelGrant(port: GitHubPort, ref: RepoRef, number: number, label: string, action: string, sender: string | undefined): Promise<void> {
    const { store, clock } = this.deps;
    const loaded = await this.deps.configs.get(port, ref);
    if (!loaded.config.exempt.labels.some((l) => l.toLowerCase() === label.toLowerCase())) return;
    const now = clock.now();
    if (action === 'unlabeled' || !sender) {
      await store.deleteLabelGrant(ref.owner, ref.repo, number, label);
      return;
    }
    const answer = await this.deps.authority(port, ref, sender, loaded.config.exempt.labeled_by, ref.owner);
    if (answer.error) await store.deleteLabelGrant(ref.owner, ref.repo, number, label);
    else await store.setLabelGrant(ref.owner, ref.repo, number, label, sender, answer.allowed, now);
  }
}
