/**
 * Whether each open PR is approved (merge-ready first, SPEC 12), as read from its reviews: one row
 * per PR, valid for the head commit and the PR's `updated_at` it was read at (a new review moves
 * `updated_at`, so it is read again). Shared by every replica; rows of PRs no longer open are dropped.
 */
import { key } from '../records.js';
import { bool, stmt, type Sql } from '../sql.js';

export interface ReviewVerdictRecord {
  number: number;
  headSha: string;
  /** the PR's `updated_at` when its reviews were read */
  pullUpdatedAt: number;
  approved: boolean;
}

export const reviewStatements = {
  reviewVerdictsOfRepo: stmt('reviewVerdictsOfRepo', 'SELECT number, head_sha, pull_updated_at, approved FROM pull_reviews WHERE account = ? AND repo = ?'),
  setReviewVerdict: stmt(
    'setReviewVerdict',
    `INSERT INTO pull_reviews (account, repo, number, head_sha, pull_updated_at, approved, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account, repo, number) DO UPDATE SET head_sha = excluded.head_sha, pull_updated_at = excluded.pull_updated_at,
     approved = excluded.approved, read_at = excluded.read_at`,
  ),
  dropClosedReviewVerdicts: stmt(
    'dropClosedReviewVerdicts',
    `DELETE FROM pull_reviews WHERE account = ? AND repo = ? AND number NOT IN (SELECT value FROM json_each(?))`,
    `DELETE FROM pull_reviews WHERE account = $1 AND repo = $2
     AND number NOT IN (SELECT value::bigint FROM json_array_elements_text($3::json) AS value)`,
  ),
};
const s = reviewStatements;

export function reviewsRepo(sql: Sql) {
  return {
    /** every stored verdict of the repository, by PR number (one read per fan-out and repository) */
    async reviewVerdictsOfRepo(account: string, repo: string): Promise<Map<number, ReviewVerdictRecord>> {
      const rows = await sql.all(s.reviewVerdictsOfRepo, [key(account), key(repo)]);
      return new Map(
        rows.map((row) => [
          Number(row.number),
          { number: Number(row.number), headSha: row.head_sha as string, pullUpdatedAt: Number(row.pull_updated_at), approved: Number(row.approved) === 1 },
        ]),
      );
    },
    async setReviewVerdict(account: string, repo: string, v: ReviewVerdictRecord, now: number): Promise<void> {
      await sql.run(s.setReviewVerdict, [key(account), key(repo), v.number, v.headSha, v.pullUpdatedAt, bool(v.approved), now]);
    },
    /** drops the verdicts of the repository's PRs that a full listing no longer shows open */
    async dropClosedReviewVerdicts(account: string, repo: string, openNumbers: number[]): Promise<void> {
      await sql.run(s.dropClosedReviewVerdicts, [key(account), key(repo), JSON.stringify(openNumbers)]);
    },
  };
}
