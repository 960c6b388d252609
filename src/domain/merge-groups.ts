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

export class MergeGroups {
  constructor(private readonly s: Services) {}

  async gate(port: GitHubPort, ref: RepoRef, defaultBranch: string, headSha: string, baseRef: string, numbers: number[]): Promise<Decision> {
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
    await this.s.gatekeeper.post(port, ref, headSha, verdict, loaded, false);
    return verdict;
  }
}
