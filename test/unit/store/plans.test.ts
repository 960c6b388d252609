/**
 * Every hot query of the asynchronous store is served by an index on both engines, read from the
 * statements themselves: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with sequential scans
 * priced out (enable_seqscan = off: a plan that still scans a table has no index to use).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Param, Statement } from '../../../src/store/sql.js';
import { auditStatements as audit } from '../../../src/store/repos/audit.js';
import { claimStatements as claims } from '../../../src/store/repos/claims.js';
import { conditionalReadStatements as conditional } from '../../../src/store/repos/conditional-reads.js';
import { deliveryStatements as deliveries } from '../../../src/store/repos/deliveries.js';
import { deployStatements as deploys } from '../../../src/store/repos/deploys.js';
import { freezeStatements as freezes } from '../../../src/store/repos/freezes.js';
import { heldStatements as held } from '../../../src/store/repos/held.js';
import { incidentStatements as incidents } from '../../../src/store/repos/incidents.js';
import { externalIncidentStatements as external } from '../../../src/store/repos/external-incidents.js';
import { installationStatements as installations } from '../../../src/store/repos/installations.js';
import { jobStatements as jobs } from '../../../src/store/repos/jobs.js';
import { overrideStatements as overrides } from '../../../src/store/repos/overrides.js';
import { postedStatements as posted } from '../../../src/store/repos/posted.js';
import { pullStatements as pulls } from '../../../src/store/repos/pulls.js';
import { pullFileStatements as pullFiles } from '../../../src/store/repos/pull-files.js';
import { reviewStatements as reviews } from '../../../src/store/repos/reviews.js';
import { windowNoticeStatements as notices } from '../../../src/store/repos/window-notices.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/engine.js';
import { openPostgresStore, type PostgresStore } from '../../../src/store/postgres/engine.js';
import { engines, withDatabase, PG_URL } from '../../support/engines.js';

/** each hot statement with sample parameters (SQLite's order; PostgreSQL's where it differs) */
const HOT: [Statement, Param[], Param[]?][] = [
  [deliveries.deliverySeen, ['d']],
  [deliveries.commentSeen, [1]],
  [installations.installationsByAccount, ['a']],
  [installations.getRepo, ['a', 'r']],
  [installations.reposOfAccount, ['a']],
  [incidents.getIncident, [1]],
  [incidents.activeIncidents, ['a']],
  [incidents.incidentCandidates, ['a', 'r', 200]],
  [incidents.countActiveIncidents, []],
  [external.getExternalIncident, ['pagerduty', 'P1']],
  [external.externalOfIncident, [1]],
  [freezes.activeFreezes, ['a', 1]],
  [freezes.activeFreezesOfScope, ['a', 'r', 1]],
  [freezes.expiredFreezes, [1]],
  [freezes.nextFreezeExpiry, [1]],
  [freezes.countActiveFreezes, [1]],
  [freezes.liveSuppressions, ['a', 1]],
  [overrides.activeOverride, ['a', 'r', 1]],
  [overrides.overrideForSha, ['a', 'r', 's']],
  [overrides.activeOverrideId, ['a', 'r', 1, 's']],
  [pullFiles.getPullFiles, ['a', 'r', 1, 's']],
  [pullFiles.prunePullFiles, [1]],
  [deploys.deployTimes, ['a', 'r', 'merge', '', 1]],
  [deploys.deploysOfAccount, ['a', 1, 2]],
  [posted.getPosted, ['a', 'r', 's']],
  [posted.postedDue, [1]],
  [posted.nextPostedChange, [1]],
  [pulls.getPull, ['a', 'r', 1]],
  [pulls.openPullsBySha, ['a', 'r', 's']],
  [pulls.getLabelGrant, ['a', 'r', 1, 'hotfix']],
  [reviews.reviewVerdictsOfRepo, ['a', 'r']],
  [reviews.dropClosedReviewVerdicts, ['a', 'r', '[1]']],
  [audit.auditOfAccount, ['a', 10]],
  [audit.auditOfIncident, [1]],
  [audit.auditBetween, ['a', 1, 2]],
  [audit.recentAudit, [10]],
  [jobs.dueJobs, [1, 10]],
  [jobs.claimJobs, ['o', 1, 1000, 1, 1, 10], ['o', 1000, 1, 10]],
  [jobs.nextJobAt, []],
  [jobs.pendingJobCount, []],
  [jobs.pendingJobsByKind, []],
  [held.waitingHeld, []],
  [held.waitingHeldOfRepo, ['a', 'r']],
  [claims.claimOf, ['boundary:x']],
  [claims.pruneClaims, [1]],
  [conditional.getConditionalRead, ['7 GET /installation/repositories page=1']],
  [conditional.dropConditionalRead, ['7 GET /installation/repositories page=1']],
  [conditional.pruneConditionalReads, [1]],
  [notices.windowNoticeOf, ['a', 'k', 1]],
  [notices.pruneWindowNotices, [1]],
];

const TABLES = 'deliveries|command_comments|installations|repos|incidents|external_incidents|freezes|window_suppressions|overrides|override_approvals|pull_files|deploys|posted|pulls|pull_reviews|label_grants|audit|jobs|held_deployments|meta|claims|conditional_reads|window_notices';

const names = engines().map((e) => e.name);

describe('hot queries on sqlite', () => {
  let store: SqliteStore;
  beforeAll(() => {
    store = openSqliteStore(':memory:');
  });
  afterAll(async () => store.close());

  it.each(HOT.map(([s, p]) => [s.name, s, p] as const))('%s uses an index', (_name, s, params) => {
    const detail = (store.db.prepare(`EXPLAIN QUERY PLAN ${s.sqlite}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    if (s === audit.recentAudit) {
      // the newest entries: a backwards walk of the rowid that stops at the limit, no sort
      expect(detail).toBe('SCAN audit');
      return;
    }
    expect(detail, s.sqlite).not.toMatch(new RegExp(`SCAN (${TABLES})\\b(?! USING)`));
    expect(detail, s.sqlite).toMatch(/USING (INDEX|COVERING INDEX|PRIMARY KEY|INTEGER PRIMARY KEY|ROWID)/);
  });
});

describe.skipIf(!names.includes('postgres'))('hot queries on postgres', () => {
  const dbName = `moratorium_plans_${process.pid}`;
  let admin: pg.Client;
  let store: PostgresStore;
  let client: pg.PoolClient;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    store = await openPostgresStore(withDatabase(PG_URL!, dbName), { poolSize: 1 });
    client = await store.pool.connect();
    await client.query('SET enable_seqscan = off');
  });
  afterAll(async () => {
    client?.release();
    await store?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  it.each(HOT.map(([s, p, pgp]) => [s.name, s, pgp ?? p] as const))('%s uses an index', async (_name, s, params) => {
    const rows = (await client.query(`EXPLAIN ${s.pg}`, params)).rows as { 'QUERY PLAN': string }[];
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan, s.pg).not.toMatch(/Seq Scan/);
    expect(plan, s.pg).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
  });

  it('runs statements as named prepared statements', async () => {
    client.release();
    // the pool has one connection: what the store prepared is visible from it
    await store.getPosted('a', 'r', 's');
    await store.activeFreezes('a', 1);
    const c = await store.pool.connect();
    try {
      const rows = (await c.query('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r: { name: string }) => r.name);
      expect(rows).toEqual(expect.arrayContaining(['activeFreezes', 'getPosted']));
    } finally {
      client = c;
    }
  });
});
