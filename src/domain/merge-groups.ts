/**
 * Gate a merge group: load its PRs (as last seen, else from GitHub) judged against the group's
 * base branch, decide once with the pure core (each PR must pass, overrides included), publish on
 * the group's head SHA. This is where a cadence becomes exact: the queue asks at merge time, one
 * group at a time.
 */
import type { Clock } from '../clock.js';
import type { ConfigService } from '../config/load.js';
import { decideMergeGroup } from '../gate/combine.js';
import type { Decision, GateInput } from '../gate/types.js';
import type { GitHubPort, RepoRef } from '../github/port.js';
import type { AsyncStore } from '../store/contract.js';
import type { Gatekeeper } from './gatekeeper.js';
import { pullInfoFromRecord } from './repos.js';
import { ordinaryChange } from './status.js';

/**
 * The base branch and PR of a merge queue's branch, `gh-readonly-queue/<base>/pr-<number>-<base sha>`
 * (with or without `refs/heads/`), or null for any other branch. Only the last segment names the PR,
 * so a base branch such as `release/pr-5` is not mistaken for one.
 */
export function parseQueueRef(ref: string | null | undefined): { baseRef: string; numbers: number[] } | null {
  const m = /^(?:refs\/heads\/)?gh-readonly-queue\/(.+)\/pr-(\d+)-[0-9a-f]+$/.exec(ref ?? '');
  return m ? { baseRef: m[1]!, numbers: [Number(m[2])] } : null;
}

export interface MergeGroupDeps {
  store: Pick<AsyncStore, 'getPull'>;
  configs: Pick<ConfigService, 'get'>;
  clock: Clock;
  gatekeeper: Pick<Gatekeeper, 'loadChange' | 'inputFor' | 'post'>;
}

export class MergeGroups {
  constructor(private readonly deps: MergeGroupDeps) {}

  /** {@link parseQueueRef}. */
  queueOf(ref: string | null | undefined): { baseRef: string; numbers: number[] } | null {
    return parseQueueRef(ref);
  }

  /** Decides the group and posts it on its head SHA: when the decision changed, or always with `force` (a re-run request). */
  async gate(port: GitHubPort, ref: RepoRef, defaultBranch: string, headSha: string, baseRef: string, numbers: number[], opts: { force?: boolean } = {}): Promise<Decision> {
    const { configs, clock, gatekeeper } = this.deps;
    // load
    const loaded = await configs.get(port, ref);
    const now = clock.now();
    const members: GateInput[] = [];
    for (const n of numbers) {
      const stored = await this.deps.store.getPull(ref.owner, ref.repo, n);
      const pull = stored ? pullInfoFromRecord(stored) : await port.getPull(ref, n);
      if (!pull) continue;
      members.push(await gatekeeper.inputFor(loaded, await gatekeeper.loadChange(port, ref, defaultBranch, { ...pull, baseRef }, loaded), now));
    }
    // a group whose PRs cannot be found is judged as an ordinary feature change
    const whenEmpty = members.length ? members[0]! : await gatekeeper.inputFor(loaded, { ...ordinaryChange(ref.owner, ref.repo, defaultBranch), baseRef, headSha }, now);
    // decide
    const verdict = decideMergeGroup(members, whenEmpty);
    // publish
    await gatekeeper.post(port, ref, headSha, verdict, loaded, opts.force ?? false);
    return verdict;
  }
}
