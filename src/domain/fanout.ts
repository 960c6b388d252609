/**
 * Fan-out: after a state change, re-evaluate every open PR in scope across the installation's
 * repositories, merge-ready first (SPEC 12: auto-merge enabled, then approved, then the rest, most
 * recently updated first, across repositories; see merge-first.ts), writing only where the posted
 * decision changed. The reviews the order needs are read beside the writes, once per head commit
 * (stored). One repository's failure never stops the rest; the failed ones are returned so the job
 * retries just those. Owns the `fanout` job.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isApproved, type Readiness } from '../gate/merge-order.js';
import type { GitHubPort, PullInfo, RepoInfo } from '../github/port.js';
import type { AsyncStore, ReviewVerdictRecord } from '../store/contract.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { JobRegistry, JobResult } from './jobs.js';
import { MergeFirstQueue, type FanOutWork, type MergeFirstOptions } from './merge-first.js';
import type { HeldChecks, PortFactory } from './ports.js';

export type { PortFactory } from './ports.js';

export interface FanOutPayload {
  installationId: number;
  account: string;
  /** null: every repository of the installation */
  repo: string | null;
  reason: string;
  /** on retry: only these repositories */
  only?: string[];
}

export interface FanOutResult {
  repos: number;
  pulls: number;
  evaluated: number;
  posted: number;
  /** PRs with auto-merge enabled, and approved ones */
  autoMerge: number;
  approved: number;
  /** reviews read from GitHub (the others were known for their head commit) */
  reviewsRead: number;
  failedRepos: string[];
  errors: string[];
}

const LIST_CONCURRENCY = 4;
/**
 * Reviews reads at once: Octokit runs at most 10 requests of an installation at once (its `global`
 * limiter, reads and writes alike), so the writes and the gate's own reads keep room.
 */
const REVIEW_CONCURRENCY = 6;
/** while no merge-ready PR is known and reviews are still being read, the writer waits for them at most this long (once per fan-out) before writing the rest */
const PATIENCE_MS = 2000;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

export interface FanOutDeps {
  store: AsyncStore;
  gatekeeper: Pick<Gatekeeper, 'remember' | 'gatePull'>;
  ports: PortFactory;
  log: Logger;
  /** where the `fanout` job is registered */
  jobs: JobRegistry;
  /** held deployments may be free to go after a fan-out */
  heldChecks: Pick<HeldChecks, 'queueHeldCheck'>;
  clock: Clock;
  /** the order's reads and patience (tests) */
  order?: Partial<MergeFirstOptions>;
}

export class FanOut {
  private readonly store: AsyncStore;
  private readonly gatekeeper: FanOutDeps['gatekeeper'];
  private readonly ports: PortFactory;
  private readonly log: Logger;

  constructor(private readonly deps: FanOutDeps) {
    this.store = deps.store;
    this.gatekeeper = deps.gatekeeper;
    this.ports = deps.ports;
    this.log = deps.log;
    deps.jobs.register('fanout', (payload: FanOutPayload) => this.runJob(payload));
  }

  /** The `fanout` job: a retry covers only the repositories that failed. */
  private async runJob(payload: FanOutPayload): Promise<JobResult> {
    const result = await this.run(payload);
    if (result.failedRepos.length) {
      return { retry: { payload: { ...payload, repo: payload.repo, only: payload.repo ? undefined : result.failedRepos }, error: result.errors.join('; ').slice(0, 1000) } };
    }
    // held deployments may be free to go now
    await this.deps.heldChecks.queueHeldCheck(payload.installationId, payload.account, payload.repo);
  }

  async run(payload: FanOutPayload): Promise<FanOutResult> {
    const started = this.deps.clock.now();
    // which replica runs it (with 'fan-out done', what an operator and the replica tests follow)
    this.log.info({ event: 'fanout', account: payload.account, repo: payload.repo, reason: payload.reason, only: payload.only }, 'fan-out started');
    const port = await this.ports(payload.installationId);
    const result: FanOutResult = { repos: 0, pulls: 0, evaluated: 0, posted: 0, autoMerge: 0, approved: 0, reviewsRead: 0, failedRepos: [], errors: [] };
    const failed = new Set<string>();
    const fail = (repo: string, error: unknown) => {
      failed.add(repo);
      const message = error instanceof Error ? error.message : String(error);
      result.errors.push(`${repo}: ${message}`);
      this.log.warn({ event: 'fanout', account: payload.account, repo, err: message }, 'fan-out failed for a repository');
    };

    let repos: RepoInfo[];
    if (payload.repo !== null) {
      repos = [await port.getRepository({ owner: payload.account, repo: payload.repo })];
    } else {
      repos = (await port.listRepositories()).filter((r) => !r.archived && r.owner.toLowerCase() === payload.account.toLowerCase());
      if (payload.only) {
        const only = new Set(payload.only.map((r) => r.toLowerCase()));
        repos = repos.filter((r) => only.has(r.repo.toLowerCase()));
      }
    }
    result.repos = repos.length;
    for (const r of repos) await this.store.upsertRepo(r.owner, r.repo, payload.installationId, `${r.owner}/${r.repo}`, r.defaultBranch);

    const known = new Map<string, Map<number, ReviewVerdictRecord>>();
    const listed = await mapLimit(repos, LIST_CONCURRENCY, async (r) => {
      try {
        const pulls = await port.listOpenPulls(r);
        // one transaction per listing: one commit (and fsync) instead of one per PR
        await this.store.transaction(async (tx) => {
          for (const p of pulls) await this.gatekeeper.remember(payload.installationId, r, p, tx);
          await tx.closeMissingPulls(r.owner, r.repo, pulls.map((p) => p.number));
          await tx.dropClosedReviewVerdicts(r.owner, r.repo, pulls.map((p) => p.number));
        });
        known.set(repoKey(r), await this.store.reviewVerdictsOfRepo(r.owner, r.repo));
        return pulls.map((pull) => ({ repo: r, pull }));
      } catch (error) {
        fail(r.repo, error);
        return [] as { repo: RepoInfo; pull: PullInfo }[];
      }
    });

    // drafts cannot be merged: they get their gate when marked ready for review
    const work = listed.flat().filter((w) => !w.pull.draft);
    result.pulls = listed.flat().length;
    const items = work.map((w) => ({ work: w, readiness: this.knownReadiness(w, known.get(repoKey(w.repo))?.get(w.pull.number)) }));
    result.autoMerge = items.filter((i) => i.readiness === 'auto-merge').length;
    let approved = items.filter((i) => i.readiness === 'approved').length;
    const verdicts = new VerdictBatch(this.store, this.deps.clock, this.log);
    const queue = new MergeFirstQueue(
      items,
      async (w) => {
        const verdict = await this.readApproval(port, w, verdicts);
        if (verdict) approved++;
        return verdict;
      },
      { concurrency: REVIEW_CONCURRENCY, patienceMs: PATIENCE_MS, ...this.deps.order },
    );
    for (let next = await queue.next(); next; next = await queue.next()) {
      const { repo, pull } = next;
      if (failed.has(repo.repo)) continue;
      try {
        const outcome = await this.gatekeeper.gatePull(port, repo, repo.defaultBranch, pull);
        result.evaluated++;
        if (outcome.posted) result.posted++;
      } catch (error) {
        fail(repo.repo, error);
      }
    }
    await queue.idle();
    await verdicts.flush();
    result.approved = approved;
    result.reviewsRead = queue.stats.reads - queue.stats.readErrors;
    result.failedRepos = [...failed];
    this.log.info(
      { event: 'fanout', account: payload.account, repo: payload.repo, reason: payload.reason, repos: result.repos, pulls: result.pulls, posted: result.posted, auto_merge: result.autoMerge, approved: result.approved, reviews_read: result.reviewsRead, failed: result.failedRepos.length, duration_ms: this.deps.clock.now() - started },
      'fan-out done',
    );
    return result;
  }

  /** known without a read: auto-merge enabled, or a verdict stored for this head commit and no update since */
  private knownReadiness(w: FanOutWork, stored: ReviewVerdictRecord | undefined): Readiness | null {
    if (w.pull.autoMerge) return 'auto-merge';
    if (stored && stored.headSha === w.pull.headSha && stored.pullUpdatedAt >= w.pull.updatedAt) return stored.approved ? 'approved' : 'other';
    return null;
  }

  /** the PR's reviews, read and reduced to approved or not, kept for its head commit; a failed read counts as not approved (and is not kept) */
  private async readApproval(port: GitHubPort, w: FanOutWork, verdicts: VerdictBatch): Promise<boolean> {
    let approved: boolean;
    try {
      approved = isApproved(await port.listReviews(w.repo, w.pull.number));
    } catch (error) {
      this.log.warn({ event: 'fanout', repo: `${w.repo.owner}/${w.repo.repo}`, pr: w.pull.number, err: error instanceof Error ? error.message : String(error) }, 'reviews could not be read: the PR is ordered as not approved');
      throw error;
    }
    verdicts.add(w.repo, { number: w.pull.number, headSha: w.pull.headSha, pullUpdatedAt: w.pull.updatedAt, approved });
    return approved;
  }
}

/**
 * Verdicts are stored in batches (one transaction, one commit, per 25), not one commit per PR: a
 * fan-out's reads must not crowd the database the webhooks of the moment write to.
 */
class VerdictBatch {
  private pending: { owner: string; repo: string; v: ReviewVerdictRecord }[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AsyncStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  add(repo: RepoInfo, v: ReviewVerdictRecord): void {
    this.pending.push({ owner: repo.owner, repo: repo.repo, v });
    if (this.pending.length >= 25) void this.flush();
  }

  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length) {
      this.chain = this.chain.then(async () => {
        try {
          const now = this.clock.now();
          await this.store.transaction(async (tx) => {
            for (const b of batch) await tx.setReviewVerdict(b.owner, b.repo, b.v, now);
          });
        } catch (error) {
          // only the cache is lost: read again next time
          this.log.warn({ event: 'fanout', verdicts: batch.length, err: error instanceof Error ? error.message : String(error) }, 'review verdicts could not be stored');
        }
      });
    }
    return this.chain;
  }
}

const repoKey = (r: RepoInfo) => `${r.owner}/${r.repo}`.toLowerCase();
