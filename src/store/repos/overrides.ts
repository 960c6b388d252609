/**
 * Overrides: one active per pull request, pinned to the head SHA it was given for. One that needs
 * more than one person (overrides.approvals) keeps who approved it; whether it is in force is the
 * pure core's to say (src/gate/override.ts).
 */
import { key, type StoredOverride } from '../records.js';
import { numOrNull, stmt, toPg, type Row, type Sql } from '../sql.js';

/** who approved, oldest first, as one comma-separated column (logins hold no comma) */
const APPROVED_BY_SQLITE =
  "CASE WHEN o.approvals_needed > 1 THEN (SELECT group_concat(login, ',') FROM (SELECT login FROM override_approvals a WHERE a.override_id = o.id ORDER BY approved_at, login)) END AS approved_by";
const APPROVED_BY_PG =
  "CASE WHEN o.approvals_needed > 1 THEN (SELECT string_agg(login, ',' ORDER BY approved_at, login) FROM override_approvals a WHERE a.override_id = o.id) END AS approved_by";

const select = (approvedBy: string, where: string) => `SELECT o.*, ${approvedBy} FROM overrides o WHERE ${where} ORDER BY o.id DESC LIMIT 1`;
const ACTIVE = 'o.account = ? AND o.repo = ? AND o.number = ? AND o.ended_at IS NULL';
const FOR_SHA = 'o.account = ? AND o.repo = ? AND o.sha = ?';

export const overrideStatements = {
  endOverrides: stmt('endOverrides', 'UPDATE overrides SET ended_at = ? WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL'),
  insertOverride: stmt(
    'insertOverride',
    'INSERT INTO overrides (account, repo, number, sha, created_by, reason, created_at, approvals_needed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  activeOverride: stmt('activeOverride', select(APPROVED_BY_SQLITE, ACTIVE), toPg(select(APPROVED_BY_PG, ACTIVE))),
  overrideForSha: stmt('overrideForSha', select(APPROVED_BY_SQLITE, FOR_SHA), toPg(select(APPROVED_BY_PG, FOR_SHA))),
  activeOverrideId: stmt('activeOverrideId', 'SELECT id FROM overrides WHERE account = ? AND repo = ? AND number = ? AND sha = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1'),
  insertApproval: stmt('insertApproval', 'INSERT INTO override_approvals (override_id, login, approved_at) VALUES (?, ?, ?) ON CONFLICT (override_id, login) DO NOTHING'),
};
const s = overrideStatements;

function overrideFrom(row: Row): StoredOverride {
  const approved = (row.approved_by as string | null | undefined) ?? null;
  return {
    sha: row.sha as string,
    by: row.created_by as string,
    reason: row.reason as string,
    createdAt: row.created_at as number,
    endedAt: numOrNull(row.ended_at),
    approvalsNeeded: (row.approvals_needed as number | null | undefined) ?? 1,
    approvedBy: approved === null || approved === '' ? [] : approved.split(','),
  };
}

export function overridesRepo(sql: Sql) {
  return {
    /**
     * ends the PR's earlier override (pending or in force) and records this one, which needs
     * `approvalsNeeded` different people (default 1: in force at once); call inside a transaction
     */
    async createOverride(o: { account: string; repo: string; number: number; sha: string; by: string; reason: string; now: number; approvalsNeeded?: number }): Promise<void> {
      await sql.run(s.endOverrides, [o.now, key(o.account), key(o.repo), o.number]);
      await sql.run(s.insertOverride, [key(o.account), key(o.repo), o.number, o.sha, o.by, o.reason, o.now, o.approvalsNeeded ?? 1]);
    },
    /**
     * records `login`'s approval of the PR's active override for head `sha`; false when there is
     * none for that head, or when `login` had already approved it
     */
    async approveOverride(a: { account: string; repo: string; number: number; sha: string; login: string; now: number }): Promise<boolean> {
      const row = await sql.get(s.activeOverrideId, [key(a.account), key(a.repo), a.number, a.sha]);
      if (!row) return false;
      return (await sql.run(s.insertApproval, [row.id as number, a.login, a.now])) > 0;
    },
    /** ends the PR's override, pending or in force; false when it had none */
    async cancelOverride(account: string, repo: string, number: number, now: number): Promise<boolean> {
      return (await sql.run(s.endOverrides, [now, key(account), key(repo), number])) > 0;
    },
    /** the PR's newest override that has not ended (pending or in force; for whichever head) */
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
