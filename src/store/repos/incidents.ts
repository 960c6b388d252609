/** Incidents: opened, resolved, closed, each phase change allowed once. */
import { key, repoKey, scopeOf, type AuditSource, type Phase, type Severity, type StoredIncident } from '../records.js';
import { numOrNull, stmt, type Row, type Sql } from '../sql.js';

export const incidentStatements = {
  insertIncident: stmt(
    'insertIncident',
    `INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source)
     VALUES (?, ?, ?, ?, 'open', ?, ?, ?) RETURNING *`,
  ),
  getIncident: stmt('getIncident', 'SELECT * FROM incidents WHERE id = ?'),
  activeIncidents: stmt('activeIncidents', `SELECT * FROM incidents WHERE account = ? AND phase IN ('open', 'resolved') ORDER BY id`),
  incidentCandidates: stmt('incidentCandidates', `SELECT * FROM incidents WHERE account = ? AND repo IN ('', ?) ORDER BY id DESC LIMIT ?`),
  resolveIncident: stmt('resolveIncident', `UPDATE incidents SET phase = 'resolved', resolved_at = ? WHERE id = ? AND phase = 'open'`),
  closeIncident: stmt('closeIncident', `UPDATE incidents SET phase = 'closed', closed_at = ? WHERE id = ? AND phase IN ('open', 'resolved')`),
  countActiveIncidents: stmt(
    'countActiveIncidents',
    `SELECT phase, severity, COUNT(*) AS n FROM incidents WHERE phase IN ('open', 'resolved') GROUP BY phase, severity`,
  ),
};
const s = incidentStatements;

export function incidentFrom(row: Row): StoredIncident {
  return {
    id: row.id as number,
    severity: row.severity as Severity,
    title: row.title as string,
    phase: row.phase as Phase,
    scope: scopeOf(row.account as string, row.repo as string),
    openedAt: row.opened_at as number,
    openedBy: row.opened_by as string,
    resolvedAt: numOrNull(row.resolved_at),
    closedAt: numOrNull(row.closed_at),
    source: row.source as string,
  };
}

export interface NewIncident {
  account: string;
  repo: string | null;
  severity: Severity;
  title: string;
  by: string;
  source: AuditSource;
  now: number;
}

export function incidentsRepo(sql: Sql) {
  return {
    async createIncident(i: NewIncident): Promise<StoredIncident> {
      const row = await sql.get(s.insertIncident, [key(i.account), repoKey(i.repo), i.severity, i.title, i.now, i.by, i.source]);
      return incidentFrom(row!);
    },
    async getIncident(id: number): Promise<StoredIncident | null> {
      const row = await sql.get(s.getIncident, [id]);
      return row ? incidentFrom(row) : null;
    },
    async activeIncidents(account: string): Promise<StoredIncident[]> {
      return (await sql.all(s.activeIncidents, [key(account)])).map(incidentFrom);
    },
    /** the account's incidents and this repository's own, newest first */
    async incidentCandidates(account: string, repo: string | null, limit = 200): Promise<StoredIncident[]> {
      return (await sql.all(s.incidentCandidates, [key(account), repoKey(repo), limit])).map(incidentFrom);
    },
    /** false when the phase does not allow it */
    async resolveIncident(id: number, now: number): Promise<boolean> {
      return (await sql.run(s.resolveIncident, [now, id])) === 1;
    },
    async closeIncident(id: number, now: number): Promise<boolean> {
      return (await sql.run(s.closeIncident, [now, id])) === 1;
    },
    async countActiveIncidents(): Promise<{ phase: Phase; severity: Severity; count: number }[]> {
      return (await sql.all(s.countActiveIncidents)).map((r) => ({ phase: r.phase as Phase, severity: r.severity as Severity, count: r.n as number }));
    },
  };
}
