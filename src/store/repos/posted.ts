/** What was last posted on each head SHA (read before write), and when it changes by itself. */
import { key, type PostedRecord } from '../records.js';
import { numOrNull, stmt, type Sql } from '../sql.js';

export const postedStatements = {
  getPosted: stmt('getPosted', 'SELECT * FROM posted WHERE account = ? AND repo = ? AND sha = ?'),
  upsertPosted: stmt(
    'upsertPosted',
    `INSERT INTO posted (account, repo, sha, decision_key, conclusion, title, blocked_until, next_change_at, posted_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account, repo, sha) DO UPDATE SET decision_key = excluded.decision_key, conclusion = excluded.conclusion,
     title = excluded.title, blocked_until = excluded.blocked_until, next_change_at = excluded.next_change_at, posted_at = excluded.posted_at`,
  ),
  postedDue: stmt('postedDue', 'SELECT account, repo, sha FROM posted WHERE next_change_at IS NOT NULL AND next_change_at <= ? ORDER BY next_change_at LIMIT 2000'),
  setPostedNextChange: stmt('setPostedNextChange', 'UPDATE posted SET next_change_at = ? WHERE account = ? AND repo = ? AND sha = ?'),
  nextPostedChange: stmt('nextPostedChange', 'SELECT MIN(next_change_at) AS t FROM posted WHERE next_change_at IS NOT NULL AND next_change_at > ?'),
};
const s = postedStatements;

export function postedRepo(sql: Sql) {
  return {
    async getPosted(account: string, repo: string, sha: string): Promise<PostedRecord | null> {
      const row = await sql.get(s.getPosted, [key(account), key(repo), sha]);
      if (!row) return null;
      return {
        account: row.account as string,
        repo: row.repo as string,
        sha: row.sha as string,
        decisionKey: row.decision_key as string,
        conclusion: row.conclusion as string,
        title: row.title as string,
        blockedUntil: numOrNull(row.blocked_until),
        nextChangeAt: numOrNull(row.next_change_at),
        postedAt: row.posted_at as number,
      };
    },
    async setPosted(p: PostedRecord): Promise<void> {
      await sql.run(s.upsertPosted, [key(p.account), key(p.repo), p.sha, p.decisionKey, p.conclusion, p.title, p.blockedUntil, p.nextChangeAt, p.postedAt]);
    },
    /** posted decisions whose next change is due */
    async postedDue(now: number): Promise<{ account: string; repo: string; sha: string }[]> {
      return (await sql.all(s.postedDue, [now])).map((r) => ({ account: r.account as string, repo: r.repo as string, sha: r.sha as string }));
    },
    async setPostedNextChange(account: string, repo: string, sha: string, next: number | null): Promise<void> {
      await sql.run(s.setPostedNextChange, [next, key(account), key(repo), sha]);
    },
    async nextPostedChange(now: number): Promise<number | null> {
      return numOrNull((await sql.get(s.nextPostedChange, [now]))?.t);
    },
  };
}
