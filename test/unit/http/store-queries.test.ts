import { describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/engine.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);

function plan(store: SqliteStore, sql: string, ...params: unknown[]): string {
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
}

describe('store queries of the API, incident tools, dashboard and metrics', () => {
  it('serves each from an index or the primary key', async () => {
    const store = openSqliteStore(':memory:');
    expect(plan(store, 'SELECT incident_id FROM external_incidents WHERE source = ? AND external_id = ?', 'pagerduty', 'P1')).toMatch(/USING PRIMARY KEY/);
    expect(plan(store, 'SELECT source, external_id FROM external_incidents WHERE incident_id = ? ORDER BY source, external_id', 1)).toMatch(/external_incidents_by_incident/);
    expect(plan(store, 'SELECT * FROM repos WHERE account = ? ORDER BY repo', 'acme')).toMatch(/USING PRIMARY KEY \(account=\?\)/);
    expect(plan(store, `SELECT phase, severity, COUNT(*) AS n FROM incidents WHERE phase IN ('open', 'resolved') GROUP BY phase, severity`)).toMatch(/incidents_active/);
    expect(plan(store, 'SELECT mode, COUNT(*) AS n FROM freezes WHERE ended_at IS NULL AND (until IS NULL OR until > ?) GROUP BY mode', T0)).toMatch(/freezes_open/);
    expect(plan(store, `SELECT kind, COUNT(*) AS n FROM jobs WHERE state = 'pending' GROUP BY kind`)).toMatch(/jobs_due/);
    // newest audit entries: a backwards walk of the rowid that stops at the limit
    expect(plan(store, 'SELECT * FROM audit ORDER BY id DESC LIMIT ?', 10)).not.toMatch(/TEMP B-TREE/);
    await store.close();
  });

  it('links an external incident once and counts active rows', async () => {
    const store = openSqliteStore(':memory:');
    const a = await store.createIncident({ account: 'Acme', repo: null, severity: 'sev1', title: 't', by: 'pagerduty', source: 'webhook', now: T0 });
    const b = await store.createIncident({ account: 'acme', repo: 'api', severity: 'sev2', title: 'u', by: 'x', source: 'api', now: T0 });
    expect(await store.linkExternalIncident('pagerduty', 'P1', a.id, T0)).toBe(true);
    expect(await store.linkExternalIncident('pagerduty', 'P1', b.id, T0)).toBe(false);
    expect(await store.externalIncident('pagerduty', 'P1')).toBe(a.id);
    expect(await store.externalIncident('statuspage', 'P1')).toBeNull();
    expect(await store.externalOfIncident(a.id)).toEqual([{ source: 'pagerduty', externalId: 'P1' }]);
    await store.resolveIncident(b.id, T0);
    expect((await store.countActiveIncidents()).sort((x, y) => x.phase.localeCompare(y.phase))).toEqual([
      { phase: 'open', severity: 'sev1', count: 1 },
      { phase: 'resolved', severity: 'sev2', count: 1 },
    ]);
    await store.createFreeze({ account: 'acme', repo: null, mode: 'all', reason: '', by: 'x', until: T0 + 1000, source: 'api', now: T0 });
    expect(await store.countActiveFreezes(T0)).toEqual([{ mode: 'all', count: 1 }]);
    expect(await store.countActiveFreezes(T0 + 1000)).toEqual([]);
    await store.enqueueJob('fanout', {}, T0, T0);
    await store.enqueueJob('reply', {}, T0, T0);
    await store.enqueueJob('fanout', {}, T0, T0);
    expect((await store.pendingJobsByKind()).sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
      { kind: 'fanout', count: 2 },
      { kind: 'reply', count: 1 },
    ]);
    await store.close();
  });
});
