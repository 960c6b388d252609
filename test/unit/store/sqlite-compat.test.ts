/** The asynchronous SQLite engine opens the files today's synchronous store made, and the other way round. */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';
import { openDatabase, Store } from '../../../src/store/store.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

describe('SQLite files across the two stores', () => {
  it('opens a file of an earlier schema version, migrates it on and keeps its state', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moratorium-compat-')), 'm.db');
    // a file as a release before the job leases left it: migrations 1 and 2 only
    const old = new Database(path);
    for (const m of MIGRATIONS.filter((x) => x.id <= 2)) old.exec(m.sql);
    old.pragma('user_version = 2');
    old.prepare(`INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source) VALUES ('acme', '', 'sev1', 'old', 'open', ?, 'a', 'command')`).run(T0);
    old.prepare(`INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ('reply', '{"n":1}', ?, ?)`).run(T0, T0);
    old.close();

    const store = openSqliteStore(path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    expect((await store.activeIncidents('acme')).map((i) => i.title)).toEqual(['old']);
    const [job] = await store.claimJobs({ owner: 'r1', now: T0, leaseMs: 30_000, limit: 5 });
    expect(job?.payload).toEqual({ n: 1 });
    await store.close();
  });

  it('shares one file with the synchronous store of today', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moratorium-compat-')), 'm.db');
    const today = new Store(openDatabase(path));
    const incident = today.createIncident({ account: 'Acme', repo: null, severity: 'sev2', title: 'from today', by: 'a', source: 'api', now: T0 });
    today.enqueueJob('fanout', { installationId: 1 }, T0, T0);
    const next = openSqliteStore(path);
    expect((await next.getIncident(incident.id))?.title).toBe('from today');
    await next.transaction(async (tx) => {
      await tx.createFreeze({ account: 'acme', repo: null, mode: 'all', reason: '', by: 'b', until: null, source: 'api', now: T0 });
    });
    expect(today.activeFreezes('acme', T0)).toHaveLength(1);
    expect(await next.pendingJobCount()).toBe(today.pendingJobCount());
    await next.close();
    today.close();
  });
});
