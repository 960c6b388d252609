/** Open pull requests as last seen (webhooks and listings), and who added an exempt label. */
import { key, type LabelGrant, type PullRecord } from '../records.js';
import { bool, stmt, type Row, type Sql } from '../sql.js';

export const pullStatements = {
  upsertPull: stmt(
    'upsertPull',
    `INSERT INTO pulls (account, repo, number, installation_id, head_sha, head_ref, base_ref, head_in_repo, draft, labels, title, state, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account, repo, number) DO UPDATE SET installation_id = excluded.installation_id, head_sha = excluded.head_sha,
     head_ref = excluded.head_ref, base_ref = excluded.base_ref, head_in_repo = excluded.head_in_repo, draft = excluded.draft,
     labels = excluded.labels, title = excluded.title, state = excluded.state, updated_at = excluded.updated_at
     WHERE excluded.updated_at >= pulls.updated_at`,
  ),
  getPull: stmt('getPull', 'SELECT * FROM pulls WHERE account = ? AND repo = ? AND number = ?'),
  // INDEXED BY: without ANALYZE SQLite prefers the primary key's (account, repo) prefix, which scans
  // every PR ever stored for the repository
  openPullsBySha: stmt(
    'openPullsBySha',
    `SELECT * FROM pulls INDEXED BY pulls_by_sha WHERE account = ? AND repo = ? AND head_sha = ? AND state = 'open' ORDER BY number`,
    `SELECT * FROM pulls WHERE account = $1 AND repo = $2 AND head_sha = $3 AND state = 'open' ORDER BY number`,
  ),
  closeMissingPulls: stmt(
    'closeMissingPulls',
    `UPDATE pulls SET state = 'closed' WHERE account = ? AND repo = ? AND state = 'open' AND number NOT IN (SELECT value FROM json_each(?))`,
    `UPDATE pulls SET state = 'closed' WHERE account = $1 AND repo = $2 AND state = 'open'
     AND number NOT IN (SELECT value::bigint FROM json_array_elements_text($3::json) AS value)`,
  ),
  getLabelGrant: stmt('getLabelGrant', 'SELECT * FROM label_grants WHERE account = ? AND repo = ? AND number = ? AND label = ?'),
  setLabelGrant: stmt(
    'setLabelGrant',
    `INSERT INTO label_grants (account, repo, number, label, actor, authorized, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account, repo, number, label) DO UPDATE SET actor = excluded.actor, authorized = excluded.authorized, checked_at = excluded.checked_at`,
  ),
  deleteLabelGrant: stmt('deleteLabelGrant', 'DELETE FROM label_grants WHERE account = ? AND repo = ? AND number = ? AND label = ?'),
};
const s = pullStatements;

function pullFrom(row: Row): PullRecord {
  return {
    account: row.account as string,
    repo: row.repo as string,
    number: row.number as number,
    installationId: row.installation_id as number,
    headSha: row.head_sha as string,
    headRef: row.head_ref as string,
    baseRef: row.base_ref as string,
    headInRepo: row.head_in_repo === 1,
    draft: row.draft === 1,
    labels: JSON.parse(row.labels as string) as string[],
    title: row.title as string,
    state: row.state as PullRecord['state'],
    updatedAt: row.updated_at as number,
  };
}

export function pullsRepo(sql: Sql) {
  return {
    /** an older update arriving late changes nothing */
    async upsertPull(p: PullRecord): Promise<void> {
      await sql.run(s.upsertPull, [
        key(p.account), key(p.repo), p.number, p.installationId, p.headSha, p.headRef, p.baseRef,
        bool(p.headInRepo), bool(p.draft), JSON.stringify(p.labels), p.title, p.state, p.updatedAt,
      ]);
    },
    async getPull(account: string, repo: string, number: number): Promise<PullRecord | null> {
      const row = await sql.get(s.getPull, [key(account), key(repo), number]);
      return row ? pullFrom(row) : null;
    },
    async openPullsBySha(account: string, repo: string, sha: string): Promise<PullRecord[]> {
      return (await sql.all(s.openPullsBySha, [key(account), key(repo), sha])).map(pullFrom);
    },
    /** marks the repository's stored open PRs that a full listing no longer shows as closed */
    async closeMissingPulls(account: string, repo: string, openNumbers: number[]): Promise<void> {
      await sql.run(s.closeMissingPulls, [key(account), key(repo), JSON.stringify(openNumbers)]);
    },
    async getLabelGrant(account: string, repo: string, number: number, label: string): Promise<LabelGrant | null> {
      const row = await sql.get(s.getLabelGrant, [key(account), key(repo), number, label.toLowerCase()]);
      if (!row) return null;
      return {
        actor: (row.actor as string | null) ?? null,
        authorized: row.authorized === null || row.authorized === undefined ? null : row.authorized === 1,
        checkedAt: row.checked_at as number,
      };
    },
    async setLabelGrant(account: string, repo: string, number: number, label: string, actor: string | null, authorized: boolean | null, now: number): Promise<void> {
      await sql.run(s.setLabelGrant, [key(account), key(repo), number, label.toLowerCase(), actor, authorized === null ? null : bool(authorized), now]);
    },
    async deleteLabelGrant(account: string, repo: string, number: number, label: string): Promise<void> {
      await sql.run(s.deleteLabelGrant, [key(account), key(repo), number, label.toLowerCase()]);
    },
  };
}
