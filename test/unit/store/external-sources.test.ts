/** Migration 4: incident.io, Rootly and the generic webhook link incidents too, on both engines; older links survive it. */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../src/store/contract.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';
import { engines, type EngineDb } from '../../support/engines.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

describe.each(engines())('external incident sources on $name', (engine) => {
  let db: EngineDb;
  let store: AsyncStore;
  beforeEach(async () => {
    db = await engine.fresh();
    store = await db.open();
  });
  afterEach(async () => db.drop());

  it('links one incident per tool id for every incident tool, and refuses an unknown source', async () => {
    const i = await store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 't', by: 'incident-io', source: 'webhook', now: T0 });
    for (const source of ['incident-io', 'rootly', 'generic'] as const) {
      expect(await store.linkExternalIncident(source, 'X1', i.id, T0)).toBe(true);
      expect(await store.linkExternalIncident(source, 'X1', i.id, T0)).toBe(false);
      expect(await store.externalIncident(source, 'X1')).toBe(i.id);
    }
    expect((await store.externalOfIncident(i.id)).map((e) => e.source)).toEqual(['generic', 'incident-io', 'rootly']);
    await expect(db.query(`INSERT INTO external_incidents (source, external_id, incident_id, created_at) VALUES ('opsgenie', 'X', ${i.id}, 0)`)).rejects.toThrow(/check/i);
  });
});

describe('migration 4 on an existing SQLite file', () => {
  it('keeps the PagerDuty and Statuspage links made before it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moratorium-m4-')), 'm.db');
    const old = new Database(path);
    for (const m of MIGRATIONS.filter((x) => x.id <= 3)) old.exec(m.sql);
    old.pragma('user_version = 3');
    const id = Number(old.prepare(`INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source) VALUES ('acme', '', 'sev1', 'old', 'open', ?, 'pagerduty', 'webhook')`).run(T0).lastInsertRowid);
    old.prepare(`INSERT INTO external_incidents (source, external_id, incident_id, created_at) VALUES ('pagerduty', 'PGR0VU2', ?, ?), ('statuspage', 'p31z', ?, ?)`).run(id, T0, id, T0);
    expect(() => old.prepare(`INSERT INTO external_incidents (source, external_id, incident_id, created_at) VALUES ('rootly', 'r', ?, ?)`).run(id, T0)).toThrow(/CHECK/);
    old.close();

    const store = openSqliteStore(path);
    try {
      expect(await store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.id);
      expect(await store.externalIncident('pagerduty', 'PGR0VU2')).toBe(id);
      expect(await store.externalOfIncident(id)).toEqual([{ source: 'pagerduty', externalId: 'PGR0VU2' }, { source: 'statuspage', externalId: 'p31z' }]);
      expect(await store.linkExternalIncident('rootly', 'r', id, T0)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
