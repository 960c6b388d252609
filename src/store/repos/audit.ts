/** The audit trail: who did what, when, why, from which delivery. */
import { key, repoKey, type AuditEntry, type AuditSource, type NewAudit } from '../records.js';
import { numOrNull, stmt, strOrNull, type Row, type Sql } from '../sql.js';

export const auditStatements = {
  insertAudit: stmt(
    'insertAudit',
    `INSERT INTO audit (at, account, repo, actor, source, action, target, reason, delivery_id, incident_id, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  ),
  auditOfAccount: stmt('auditOfAccount', 'SELECT * FROM audit WHERE account = ? ORDER BY id DESC LIMIT ?'),
  auditOfIncident: stmt('auditOfIncident', 'SELECT * FROM audit WHERE incident_id = ? ORDER BY id'),
  auditBetween: stmt('auditBetween', 'SELECT * FROM audit WHERE account = ? AND at >= ? AND at <= ? ORDER BY at, id LIMIT 5000'),
  recentAudit: stmt('recentAudit', 'SELECT * FROM audit ORDER BY id DESC LIMIT ?'),
};
const s = auditStatements;

function auditFrom(row: Row): AuditEntry {
  return {
    id: row.id as number,
    at: row.at as number,
    account: row.account as string,
    repo: (row.repo as string) || null,
    actor: row.actor as string,
    source: row.source as AuditSource,
    action: row.action as string,
    target: row.target as string,
    reason: row.reason as string,
    deliveryId: strOrNull(row.delivery_id),
    incidentId: numOrNull(row.incident_id),
    details: row.details ? (JSON.parse(row.details as string) as Record<string, unknown>) : null,
  };
}

export function auditRepo(sql: Sql) {
  return {
    async audit(e: NewAudit): Promise<number> {
      const row = await sql.get(s.insertAudit, [
        e.at, key(e.account), repoKey(e.repo), e.actor, e.source, e.action, e.target ?? '', e.reason ?? '',
        e.deliveryId ?? null, e.incidentId ?? null, e.details ? JSON.stringify(e.details) : null,
      ]);
      return row!.id as number;
    },
    async auditOfAccount(account: string, limit: number): Promise<AuditEntry[]> {
      return (await sql.all(s.auditOfAccount, [key(account), limit])).map(auditFrom);
    },
    async auditBetween(account: string, from: number, to: number): Promise<AuditEntry[]> {
      return (await sql.all(s.auditBetween, [key(account), from, to])).map(auditFrom);
    },
    async auditOfIncident(incidentId: number): Promise<AuditEntry[]> {
      return (await sql.all(s.auditOfIncident, [incidentId])).map(auditFrom);
    },
    /** the newest audit entries of every account */
    async recentAudit(limit: number): Promise<AuditEntry[]> {
      return (await sql.all(s.recentAudit, [limit])).map(auditFrom);
    },
  };
}
