/** What a cadence counts: merges (environment '') and deployments, each counted once by its dedupe key. */
import { key, type DeployRecord, type NewDeploy } from '../records.js';
import { bool, stmt, strOrNull, numOrNull, type Row, type Sql } from '../sql.js';

export const deployStatements = {
  insertDeploy: stmt(
    'insertDeploy',
    `INSERT INTO deploys (dedupe_key, account, repo, kind, environment, sha, pr_number, title, actor, at, exemption, provisional)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  ),
  settleDeploy: stmt('settleDeploy', 'UPDATE deploys SET provisional = 0, actor = COALESCE(?, actor) WHERE dedupe_key = ? AND provisional = 1'),
  dropProvisional: stmt('dropProvisional', 'DELETE FROM deploys WHERE dedupe_key = ? AND provisional = 1'),
  deployTimes: stmt('deployTimes', 'SELECT at FROM deploys WHERE account = ? AND repo = ? AND kind = ? AND environment = ? AND at > ? ORDER BY at'),
  deploysOfAccount: stmt('deploysOfAccount', 'SELECT * FROM deploys WHERE account = ? AND at >= ? AND at <= ? AND provisional = 0 ORDER BY at, id'),
};
const s = deployStatements;

function deployFrom(row: Row): DeployRecord {
  return {
    id: row.id as number,
    account: row.account as string,
    repo: row.repo as string,
    kind: row.kind as DeployRecord['kind'],
    environment: row.environment as string,
    sha: strOrNull(row.sha),
    prNumber: numOrNull(row.pr_number),
    title: strOrNull(row.title),
    actor: strOrNull(row.actor),
    at: row.at as number,
    exemption: strOrNull(row.exemption),
  };
}

export function deploysRepo(sql: Sql) {
  return {
    /** true when it was not counted before (dedupe by key) */
    async recordDeploy(d: NewDeploy): Promise<boolean> {
      const params = [d.dedupeKey, key(d.account), key(d.repo), d.kind, d.environment ?? '', d.sha ?? null, d.prNumber ?? null, d.title ?? null, d.actor ?? null, d.at, d.exemption ?? null, bool(d.provisional ?? false)];
      return (await sql.run(s.insertDeploy, params)) === 1;
    },
    /** a provisional deploy (an approval) whose deployment succeeded: now a plain one; false when there was none */
    async settleDeploy(dedupeKey: string, actor: string | null): Promise<boolean> {
      return (await sql.run(s.settleDeploy, [actor, dedupeKey])) === 1;
    },
    /** an approval whose deployment failed: it no longer counts */
    async dropProvisionalDeploy(dedupeKey: string): Promise<boolean> {
      return (await sql.run(s.dropProvisional, [dedupeKey])) === 1;
    },
    async deployTimes(account: string, repo: string, kind: 'merge' | 'deployment', environment: string, since: number): Promise<number[]> {
      return (await sql.all(s.deployTimes, [key(account), key(repo), kind, environment, since])).map((r) => r.at as number);
    },
    async deploysOfAccount(account: string, from: number, to: number): Promise<DeployRecord[]> {
      return (await sql.all(s.deploysOfAccount, [key(account), from, to])).map(deployFrom);
    },
  };
}
