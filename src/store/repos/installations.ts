/** Installations and the repositories they cover (with each repository's last valid config). */
import { key, type InstallationRecord, type RepoRecord } from '../records.js';
import { bool, numOrNull, stmt, strOrNull, type Row, type Sql } from '../sql.js';

export const installationStatements = {
  upsertInstallation: stmt(
    'upsertInstallation',
    `INSERT INTO installations (id, account, account_type, suspended, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET account = excluded.account, account_type = excluded.account_type,
     suspended = excluded.suspended, updated_at = excluded.updated_at`,
  ),
  deleteInstallation: stmt('deleteInstallation', 'DELETE FROM installations WHERE id = ?'),
  listInstallations: stmt('listInstallations', 'SELECT id, account, account_type, suspended FROM installations ORDER BY id'),
  installationsByAccount: stmt('installationsByAccount', 'SELECT id FROM installations WHERE account = ? ORDER BY id LIMIT 1'),
  upsertRepo: stmt(
    'upsertRepo',
    `INSERT INTO repos (account, repo, installation_id, full_name, default_branch) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account, repo) DO UPDATE SET installation_id = excluded.installation_id, full_name = excluded.full_name,
     default_branch = COALESCE(excluded.default_branch, repos.default_branch)`,
  ),
  getRepo: stmt('getRepo', 'SELECT * FROM repos WHERE account = ? AND repo = ?'),
  deleteRepo: stmt('deleteRepo', 'DELETE FROM repos WHERE account = ? AND repo = ?'),
  setLastValidConfig: stmt('setLastValidConfig', 'UPDATE repos SET last_valid_config = ? WHERE account = ? AND repo = ?'),
  setRequired: stmt('setRequired', 'UPDATE repos SET required_checked_at = ?, required_state = ? WHERE account = ? AND repo = ?'),
  // byte order on both engines (PostgreSQL's default collation may sort punctuation differently)
  reposOfAccount: stmt('reposOfAccount', 'SELECT * FROM repos WHERE account = ? ORDER BY repo', 'SELECT * FROM repos WHERE account = $1 ORDER BY repo COLLATE "C"'),
  allRepos: stmt('allRepos', 'SELECT * FROM repos ORDER BY account, repo', 'SELECT * FROM repos ORDER BY account COLLATE "C", repo COLLATE "C"'),
};
const s = installationStatements;

export function repoFrom(row: Row): RepoRecord {
  return {
    account: row.account as string,
    repo: row.repo as string,
    installationId: row.installation_id as number,
    fullName: row.full_name as string,
    defaultBranch: strOrNull(row.default_branch),
    lastValidConfig: strOrNull(row.last_valid_config),
    requiredCheckedAt: numOrNull(row.required_checked_at),
    requiredState: strOrNull(row.required_state),
  };
}

export function installationsRepo(sql: Sql) {
  return {
    async upsertInstallation(id: number, account: string, accountType: string, suspended: boolean, now: number): Promise<void> {
      await sql.run(s.upsertInstallation, [id, key(account), accountType, bool(suspended), now]);
    },
    async deleteInstallation(id: number): Promise<void> {
      await sql.run(s.deleteInstallation, [id]);
    },
    async listInstallations(): Promise<InstallationRecord[]> {
      return (await sql.all(s.listInstallations)).map((r) => ({
        id: r.id as number,
        account: r.account as string,
        accountType: r.account_type as string,
        suspended: r.suspended === 1,
      }));
    },
    async installationOfAccount(account: string): Promise<number | null> {
      const row = await sql.get(s.installationsByAccount, [key(account)]);
      return row ? (row.id as number) : null;
    },
    async upsertRepo(account: string, repo: string, installationId: number, fullName: string, defaultBranch: string | null): Promise<void> {
      await sql.run(s.upsertRepo, [key(account), key(repo), installationId, fullName, defaultBranch]);
    },
    async getRepo(account: string, repo: string): Promise<RepoRecord | null> {
      const row = await sql.get(s.getRepo, [key(account), key(repo)]);
      return row ? repoFrom(row) : null;
    },
    async deleteRepo(account: string, repo: string): Promise<void> {
      await sql.run(s.deleteRepo, [key(account), key(repo)]);
    },
    async setLastValidConfig(account: string, repo: string, json: string): Promise<void> {
      await sql.run(s.setLastValidConfig, [json, key(account), key(repo)]);
    },
    async setRequiredState(account: string, repo: string, state: string, now: number): Promise<void> {
      await sql.run(s.setRequired, [now, state, key(account), key(repo)]);
    },
    async reposOfAccount(account: string): Promise<RepoRecord[]> {
      return (await sql.all(s.reposOfAccount, [key(account)])).map(repoFrom);
    },
    async allRepos(): Promise<RepoRecord[]> {
      return (await sql.all(s.allRepos)).map(repoFrom);
    },
  };
}
