/** Deployment protection rule requests waiting for the gate to open; each decided once. */
import { key, type HeldDeployment } from '../records.js';
import { numOrNull, stmt, strOrNull, type Row, type Sql } from '../sql.js';

export const heldStatements = {
  insertHeld: stmt(
    'insertHeld',
    `INSERT INTO held_deployments (account, repo, installation_id, environment, callback_url, deployment_id, sha, ref, pr_numbers, requested_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  ),
  waitingHeld: stmt('waitingHeld', `SELECT * FROM held_deployments WHERE state = 'waiting' ORDER BY requested_at, id`),
  waitingHeldOfRepo: stmt('waitingHeldOfRepo', `SELECT * FROM held_deployments WHERE state = 'waiting' AND account = ? AND repo = ? ORDER BY requested_at, id`),
  decideHeld: stmt('decideHeld', `UPDATE held_deployments SET state = ?, decided_at = ?, comment = ? WHERE id = ? AND state = 'waiting'`),
};
const s = heldStatements;

function heldFrom(row: Row): HeldDeployment {
  return {
    id: row.id as number,
    account: row.account as string,
    repo: row.repo as string,
    installationId: row.installation_id as number,
    environment: row.environment as string,
    callbackUrl: row.callback_url as string,
    deploymentId: numOrNull(row.deployment_id),
    sha: row.sha as string,
    ref: strOrNull(row.ref),
    prNumbers: JSON.parse(row.pr_numbers as string) as number[],
    requestedAt: row.requested_at as number,
    state: row.state as HeldDeployment['state'],
  };
}

export function heldRepo(sql: Sql) {
  return {
    /** false when this request (callback, environment, deployment) is already held */
    async holdDeployment(h: Omit<HeldDeployment, 'id' | 'state'>): Promise<boolean> {
      const params = [key(h.account), key(h.repo), h.installationId, h.environment, h.callbackUrl, h.deploymentId, h.sha, h.ref, JSON.stringify(h.prNumbers), h.requestedAt];
      return (await sql.run(s.insertHeld, params)) === 1;
    },
    async waitingDeployments(): Promise<HeldDeployment[]> {
      return (await sql.all(s.waitingHeld)).map(heldFrom);
    },
    async waitingDeploymentsOfRepo(account: string, repo: string): Promise<HeldDeployment[]> {
      return (await sql.all(s.waitingHeldOfRepo, [key(account), key(repo)])).map(heldFrom);
    },
    /** false when it was already decided (by this replica or another) */
    async decideHeld(id: number, state: 'approved' | 'rejected', comment: string, now: number): Promise<boolean> {
      return (await sql.run(s.decideHeld, [state, now, comment, id])) === 1;
    },
  };
}
