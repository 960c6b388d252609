/**
 * Incident tools' incidents (PagerDuty, Statuspage) linked to ours by the tool's own id, so a later
 * "resolved" finds ours and a repeated "triggered" opens nothing new.
 */
import type { ExternalSource } from '../records.js';
import { stmt, type Sql } from '../sql.js';

export const externalIncidentStatements = {
  getExternalIncident: stmt('getExternalIncident', 'SELECT incident_id FROM external_incidents WHERE source = ? AND external_id = ?'),
  linkExternalIncident: stmt(
    'linkExternalIncident',
    'INSERT INTO external_incidents (source, external_id, incident_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  ),
  externalOfIncident: stmt(
    'externalOfIncident',
    'SELECT source, external_id FROM external_incidents WHERE incident_id = ? ORDER BY source, external_id',
    'SELECT source, external_id FROM external_incidents WHERE incident_id = $1 ORDER BY source COLLATE "C", external_id COLLATE "C"',
  ),
};
const s = externalIncidentStatements;

export function externalIncidentsRepo(sql: Sql) {
  return {
    async externalIncident(source: ExternalSource, externalId: string): Promise<number | null> {
      const row = await sql.get(s.getExternalIncident, [source, externalId]);
      return row ? (row.incident_id as number) : null;
    },
    /** false when that external incident was already linked */
    async linkExternalIncident(source: ExternalSource, externalId: string, incidentId: number, now: number): Promise<boolean> {
      return (await sql.run(s.linkExternalIncident, [source, externalId, incidentId, now])) === 1;
    },
    async externalOfIncident(incidentId: number): Promise<{ source: ExternalSource; externalId: string }[]> {
      return (await sql.all(s.externalOfIncident, [incidentId])).map((r) => ({ source: r.source as ExternalSource, externalId: r.external_id as string }));
    },
  };
}
