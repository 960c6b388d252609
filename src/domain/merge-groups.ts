/**
 * Merge queues: the gate on a merge group's head SHA. The group passes when each of its PRs would
 * pass (overrides included), judged against the group's base branch. This is where a cadence
 * becomes exact: the queue asks at merge time, one group at a time.
 */
import type { Decision } from '../gate/types.js';
import type { GitHubPort, RepoRef } from '../github/port.js';
import { pullInfoFromRecord } from '../schedule/boundaries.js';
import type { Services } from '../services.js';
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

export class MergeGroups {
  constructor(private readonly s: Services) {}

  /** {@link parseQueueRef}, for callers holding the services. */
  queueOf(ref: string | null | undefined): { baseRef: string; numbers: number[] } | null {
    return parseQueueRef(ref);
  }

  /** Decides the group and posts it on its head SHA: when the decision changed, or always with `force` (a re-run request). */
  async gate(port: GitHubPort, ref: RepoRef, defaultBranch: string, headSha: string, baseRef: string, numbers: number[], opts: { force?: boolean } = {}): Promise<Decision> {
    const loaded = await this.s.configs.get(port, ref);
    const now = this.s.clock.now();
    let verdict: Decision | null = null;
    for (const n of numbers) {
      const stored = this.s.store.getPull(ref.owner, ref.repo, n);
      const pull = stored ? pullInfoFromRecord(stored) : await port.getPull(ref, n);
      if (!pull) continue;
      const change = await this.s.gatekeeper.changeFor(port, ref, defaultBranch, { ...pull, baseRef }, loaded);
      const decision = this.s.gatekeeper.decide(loaded, change, now);
      if (!verdict || (decision.conclusion === 'failure' && verdict.conclusion === 'success')) verdict = decision;
    }
    // a group whose PRs cannot be found is judged as an ordinary feature change
    verdict ??= this.s.gatekeeper.decide(loaded, { ...ordinaryChange(ref.owner, ref.repo, defaultBranch), baseRef, headSha }, now);
    await this.s.gatekeeper.post(port, ref, headSha, verdict, loaded, opts.force ?? false);
    return verdict;
  }
}
