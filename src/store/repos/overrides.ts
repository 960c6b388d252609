/** Overrides: one active per pull request, pinned to the head SHA it was given for. */
import { key, type StoredOverride } from '../records.js';
import { numOrNull, stmt, type Row, type Sql } from '../sql.js';

export const overrideStatements = {
  endOverrides: stmt('endOverrides', 'UPDATE overrides SET ended_at = ? WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL'),
  insertOverride: stmt('insertOverride', 'INSERT INTO overrides (account, repo, number, sha, created_by, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  activeOverride: stmt('activeOverride', 'SELECT * FROM overrides WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1'),
  overrideForSha: stmt('overrideForSha', 'SELECT * FROM overrides WHERE account = ? AND repo = ? AND sha = ? ORDER BY id DESC LIMIT 1'),
};
const s = overrideStatements;

function overrideFrom(row: Row): StoredOverride {
  return {
    sha: row.sha as string,
    by: row.created_by as string,
    reason: row.reason as string,
    createdAt: row.created_at as number,
    endedAt: numOrNull(row.ended_at),
  };
}

export function overridesRepo(sql: Sql) {
  return {
    /** ends the PR's earlier override and records this one (call inside a transaction) */
    async createOverride(o: { account: string; repo: string; number: number; sha: string; by: string; reason: string; now: number }): Promise<void> {
      await sql.run(s.endOverrides, [o.now, key(o.account), key(o.repo), o.number]);
      await sql.run(s.insertOverride, [key(o.account), key(o.repo), o.number, o.sha, o.by, o.reason, o.now]);
    },
    /** ends the PR's override; false when it had none */
    async cancelOverride(account: string, repo: string, number: number, now: number): Promise<boolean> {
      return (await sql.run(s.endOverrides, [now, key(account), key(repo), number])) > 0;
    },
    async activeOverride(account: string, repo: string, number: number): Promise<StoredOverride | null> {
      const row = await sql.get(s.activeOverride, [key(account), key(repo), number]);
      return row ? overrideFrom(row) : null;
    },
    async overrideForSha(account: string, repo: string, sha: string): Promise<StoredOverride | null> {
      const row = await sql.get(s.overrideForSha, [key(account), key(repo), sha]);
      return row ? overrideFrom(row) : null;
    },
  };
}
