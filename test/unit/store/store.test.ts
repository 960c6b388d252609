import { describe, it, expect, beforeEach } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase as openDatabase, migrateSqlite as migrate, openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/engine.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';

const T0 = Date.UTC(2026, 10, 29, 12, 0);

function plan(db: Database.Database, sql: string, ...params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
}

describe('store', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });

  it('applies every numbered migration once and records the version', () => {
    const version = store.db.pragma('user_version', { simple: true });
    expect(version).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.id);
    expect(migrate(store.db)).toBe(version);
  });

  it('uses WAL with synchronous FULL and a busy timeout on a file database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moratorium-store-'));
    const db = openDatabase(join(dir, 'nested', 'm.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
  });

  it('keeps committed state across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moratorium-store-'));
    const path = join(dir, 'm.db');
    const a = openSqliteStore(path);
    await a.upsertInstallation(1, 'Acme', 'Organization', false, T0);
    const inc = await a.createIncident({ account: 'Acme', repo: null, severity: 'sev1', title: 'API latency', by: 'alice', source: 'command', now: T0 });
    await a.close();
    const b = openSqliteStore(path);
    expect((await b.getIncident(inc.id))?.title).toBe('API latency');
    expect(await b.activeIncidents('acme')).toHaveLength(1);
    await b.close();
  });

  it('claims a delivery and a comment only once', async () => {
    expect(await store.claimDelivery('d1', 'pull_request', T0)).toBe(true);
    expect(await store.claimDelivery('d1', 'pull_request', T0)).toBe(false);
    expect(await store.claimComment(42, 'acme', T0)).toBe(true);
    expect(await store.claimComment(42, 'acme', T0)).toBe(false);
  });

  it('allows only legal incident phase changes', async () => {
    const i = await store.createIncident({ account: 'acme', repo: null, severity: 'sev2', title: 't', by: 'a', source: 'api', now: T0 });
    expect(await store.closeIncident(i.id, T0)).toBe(true);
    expect(await store.resolveIncident(i.id, T0)).toBe(false);
    expect(await store.closeIncident(i.id, T0)).toBe(false);
  });

  it('treats account and repository names case-insensitively', async () => {
    await store.createFreeze({ account: 'ACME', repo: 'Api', mode: 'all', reason: '', by: 'a', until: null, source: 'command', now: T0 });
    expect(await store.activeFreezes('acme', T0)).toHaveLength(1);
    expect(await store.activeFreezesOfScope('Acme', 'API', T0)).toHaveLength(1);
  });

  it('ignores timed freezes once their time is up', async () => {
    await store.createFreeze({ account: 'acme', repo: null, mode: 'all', reason: '', by: 'a', until: T0 + 1000, source: 'command', now: T0 });
    expect(await store.activeFreezes('acme', T0 + 999)).toHaveLength(1);
    expect(await store.activeFreezes('acme', T0 + 1000)).toHaveLength(0);
    expect(await store.expiredFreezes(T0 + 1000)).toHaveLength(1);
  });

  it('counts a deploy once per dedupe key', async () => {
    const d = { dedupeKey: 'deployment:7', account: 'acme', repo: 'api', kind: 'deployment' as const, environment: 'production', at: T0 };
    expect(await store.recordDeploy(d)).toBe(true);
    expect(await store.recordDeploy({ ...d, at: T0 + 5 })).toBe(false);
    expect(await store.deployTimes('acme', 'api', 'deployment', 'production', T0 - 1)).toEqual([T0]);
  });

  it('keeps the newest pull request update when an older one arrives late', async () => {
    const base = { account: 'acme', repo: 'api', number: 1, installationId: 1, headRef: 'f', baseRef: 'main', headInRepo: true, draft: false, labels: [], title: 't', state: 'open' as const };
    await store.upsertPull({ ...base, headSha: 'new', updatedAt: T0 + 10 });
    await store.upsertPull({ ...base, headSha: 'old', updatedAt: T0 });
    expect((await store.getPull('acme', 'api', 1))?.headSha).toBe('new');
  });

  it('serves every hot query from an index, never a full table scan', () => {
    const db = store.db;
    // each hot query and the index that must serve it (a primary-key prefix is not enough: it can
    // scan every row of a repository)
    const hot: [string, unknown[], string][] = [
      ['SELECT * FROM freezes WHERE account = ? AND ended_at IS NULL AND (until IS NULL OR until > ?)', ['a', 1], 'freezes_'],
      ["SELECT * FROM incidents WHERE account = ? AND phase IN ('open', 'resolved')", ['a'], 'incidents_'],
      ['SELECT * FROM window_suppressions WHERE account = ? AND occurrence_end > ?', ['a', 1], 'window_suppressions_live'],
      ['SELECT * FROM overrides WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1', ['a', 'r', 1], 'overrides_by_pr'],
      ['SELECT at FROM deploys WHERE account = ? AND repo = ? AND kind = ? AND environment = ? AND at > ? ORDER BY at', ['a', 'r', 'merge', '', 1], 'deploys_by_repo_time'],
      ['SELECT * FROM posted WHERE account = ? AND repo = ? AND sha = ?', ['a', 'r', 's'], 'PRIMARY KEY'],
      ['SELECT * FROM posted WHERE next_change_at IS NOT NULL AND next_change_at <= ? ORDER BY next_change_at LIMIT 2000', [1], 'posted_next_change'],
      ["SELECT * FROM pulls INDEXED BY pulls_by_sha WHERE account = ? AND repo = ? AND head_sha = ? AND state = 'open'", ['a', 'r', 's'], 'pulls_by_sha'],
      ['SELECT * FROM label_grants WHERE account = ? AND repo = ? AND number = ? AND label = ?', ['a', 'r', 1, 'hotfix'], 'PRIMARY KEY'],
      ['SELECT * FROM audit WHERE account = ? ORDER BY id DESC LIMIT ?', ['a', 10], 'audit_by_account'],
      ['SELECT * FROM audit WHERE incident_id = ? ORDER BY id', [1], 'audit_by_incident'],
      ['SELECT * FROM audit WHERE account = ? AND at >= ? AND at <= ? ORDER BY at, id LIMIT 5000', ['a', 1, 2], 'audit_by_account_time'],
      ["SELECT * FROM jobs WHERE state = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?", [1, 10], 'jobs_due'],
      ["SELECT * FROM held_deployments WHERE state = 'waiting' AND account = ? AND repo = ? ORDER BY requested_at, id", ['a', 'r'], 'held_waiting'],
      ['SELECT * FROM deploys WHERE account = ? AND at >= ? AND at <= ? AND provisional = 0 ORDER BY at', ['a', 1, 2], 'deploys_by_account_time'],
    ];
    for (const [sql, params, index] of hot) {
      const detail = plan(db, sql, ...params);
      expect(detail, sql).not.toMatch(/SCAN (freezes|incidents|window_suppressions|overrides|deploys|posted|pulls|label_grants|audit|jobs|held_deployments)\b(?! USING)/);
      expect(detail, sql).toContain(index);
    }
  });
});
