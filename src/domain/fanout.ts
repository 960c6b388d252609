/**
 * Fan-out: after a state change, re-evaluate every open PR in scope across the installation's
 * repositories, most recently updated first (the likeliest to merge next), writing only where the
 * posted decision changed. One repository's failure never stops the rest; the failed ones are
 * returned so the job retries just those. Owns the `fanout` job.
 */
import type { Logger } from 'pino';
import type { PullInfo, RepoInfo } from '../github/port.js';
import type { AsyncStore } from '../store/contract.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { JobRegistry, JobResult } from './jobs.js';
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
  failedRepos: string[];
  errors: string[];
}

const LIST_CONCURRENCY = 4;

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
    const started = Date.now();
    const port = await this.ports(payload.installationId);
    const result: FanOutResult = { repos: 0, pulls: 0, evaluated: 0, posted: 0, failedRepos: [], errors: [] };
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

    const listed = await mapLimit(repos, LIST_CONCURRENCY, async (r) => {
      try {
        const pulls = await port.listOpenPulls(r);
        // one transaction per listing: one commit (and fsync) instead of one per PR
        await this.store.transaction(async (tx) => {
          for (const p of pulls) await this.gatekeeper.remember(payload.installationId, r, p, tx);
          await tx.closeMissingPulls(r.owner, r.repo, pulls.map((p) => p.number));
        });
        return pulls.map((pull) => ({ repo: r, pull }));
      } catch (error) {
        fail(r.repo, error);
        return [] as { repo: RepoInfo; pull: PullInfo }[];
      }
    });

    // drafts cannot be merged: they get their gate when marked ready for review
    const work = listed.flat().filter((w) => !w.pull.draft);
    work.sort((a, b) => b.pull.updatedAt - a.pull.updatedAt);
    result.pulls = listed.flat().length;
    for (const { repo, pull } of work) {
      if (failed.has(repo.repo)) continue;
      try {
        const outcome = await this.gatekeeper.gatePull(port, repo, repo.defaultBranch, pull);
        result.evaluated++;
        if (outcome.posted) result.posted++;
      } catch (error) {
        fail(repo.repo, error);
      }
    }
    result.failedRepos = [...failed];
    this.log.info(
      { event: 'fanout', account: payload.account, repo: payload.repo, reason: payload.reason, repos: result.repos, pulls: result.pulls, posted: result.posted, failed: result.failedRepos.length, duration_ms: Date.now() - started },
      'fan-out done',
    );
    return result;
  }
}
