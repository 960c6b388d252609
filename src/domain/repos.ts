/** Loading what is known of a repository and its PRs from the store (no GitHub read when known). */
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { Repositories } from '../store/contract.js';
import type { PullRecord } from '../store/records.js';

/** A PR as last seen (the store's record), in the port's shape. */
export function pullInfoFromRecord(p: PullRecord): PullInfo {
  return {
    number: p.number,
    state: p.state,
    draft: p.draft,
    title: p.title,
    headSha: p.headSha,
    headRef: p.headRef,
    headRepoFullName: p.headInRepo ? `${p.account}/${p.repo}` : null,
    baseRef: p.baseRef,
    labels: p.labels,
    updatedAt: p.updatedAt,
    merged: false,
    mergeCommitSha: null,
  };
}

/** A repository's default branch, from the store when known (no GitHub read on the hot path). */
export async function loadDefaultBranch(store: Pick<Repositories, 'getRepo' | 'upsertRepo'>, port: GitHubPort, ref: RepoRef): Promise<string> {
  const known = await store.getRepo(ref.owner, ref.repo);
  if (known?.defaultBranch) return known.defaultBranch;
  const info = await port.getRepository(ref);
  await store.upsertRepo(info.owner, info.repo, port.installationId, `${info.owner}/${info.repo}`, info.defaultBranch);
  return info.defaultBranch;
}
