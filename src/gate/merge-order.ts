/**
 * Merge-ready first (SPEC 12): which open PRs are likeliest to merge next, as pure rules.
 *
 * - `isApproved(reviews)`: for each reviewer, the newest of their `APPROVED` and `CHANGES_REQUESTED`
 *   reviews counts; `COMMENTED` (and `PENDING`, only ever seen by its author) changes nothing;
 *   `DISMISSED` (what GitHub turns a dismissed approval or change request into) removes it.
 *   Approved: at least one approval and no change request.
 * - `compareMergeFirst`: auto-merge enabled, then approved, then the rest; within each, most
 *   recently updated first; ties by repository, then the newer (higher) number.
 */

export interface Review {
  /** the reviewer's login; null for a deleted account (such a review is not counted) */
  reviewer: string | null;
  /** GitHub's review state: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING */
  state: string;
  /** submitted_at in ms; null when GitHub gives none (a pending review) */
  submittedAt: number | null;
}

type Verdict = 'approved' | 'changes';

/**
 * The reviews as GitHub lists them (chronological); sorted again by `submittedAt` (stable, so
 * reviews without one keep their place) in case a page boundary or a replica returns them out of
 * order.
 */
export function reviewVerdicts(reviews: readonly Review[]): Map<string, Verdict> {
  const ordered = reviews
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.submittedAt ?? Number.NEGATIVE_INFINITY) - (b.r.submittedAt ?? Number.NEGATIVE_INFINITY) || a.i - b.i);
  const verdicts = new Map<string, Verdict>();
  for (const { r } of ordered) {
    if (r.reviewer === null) continue;
    const who = r.reviewer.toLowerCase();
    const state = r.state.toUpperCase();
    if (state === 'APPROVED') verdicts.set(who, 'approved');
    else if (state === 'CHANGES_REQUESTED') verdicts.set(who, 'changes');
    else if (state === 'DISMISSED') verdicts.delete(who);
    // COMMENTED, PENDING and anything new: no change
  }
  return verdicts;
}

/** at least one reviewer's verdict is an approval and none requests changes */
export function isApproved(reviews: readonly Review[]): boolean {
  const verdicts = [...reviewVerdicts(reviews).values()];
  return verdicts.includes('approved') && !verdicts.includes('changes');
}

export type Readiness = 'auto-merge' | 'approved' | 'other';

/** 0 auto-merge, 1 approved, 2 the rest (also: reviews not known) */
export function readinessRank(r: Readiness): number {
  return r === 'auto-merge' ? 0 : r === 'approved' ? 1 : 2;
}

export interface MergeCandidate {
  /** `owner/repo`, any case */
  repo: string;
  number: number;
  updatedAt: number;
  readiness: Readiness;
}

export function compareMergeFirst(a: MergeCandidate, b: MergeCandidate): number {
  return (
    readinessRank(a.readiness) - readinessRank(b.readiness) ||
    b.updatedAt - a.updatedAt ||
    (a.repo.toLowerCase() < b.repo.toLowerCase() ? -1 : a.repo.toLowerCase() > b.repo.toLowerCase() ? 1 : 0) ||
    b.number - a.number
  );
}

/** the candidates in fan-out order (a new array) */
export function mergeFirstOrder<T extends MergeCandidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort(compareMergeFirst);
}
