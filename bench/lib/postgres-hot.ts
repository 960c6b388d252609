/**
 * Section 7's PostgreSQL rows: the store's hot queries, p50/p99 on loopback, with the same volumes as section 4's
 * SQLite figures (1M audit events, 100k deploys, 100k PRs and posted decisions, 50k jobs, 10k
 * freezes, overrides and held deployments, 2k incidents, 100 organisations of 20 repositories). Each query runs through the store
 * (named prepared statements) after ANALYZE, and its plan is read from the real planner.
 *
 * It creates and drops a database of its own on the server of `adminUrl`.
 */
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { openPostgresStore } from '../../src/store/postgres/engine.js';
import type { AsyncStore } from '../../src/store/contract.js';
import type { Statement } from '../../src/store/sql.js';
import { auditStatements as audit } from '../../src/store/repos/audit.js';
import { deployStatements as deploys } from '../../src/store/repos/deploys.js';
import { freezeStatements as freezes } from '../../src/store/repos/freezes.js';
import { incidentStatements as incidents } from '../../src/store/repos/incidents.js';
import { jobStatements as jobs } from '../../src/store/repos/jobs.js';
import { overrideStatements as overrides } from '../../src/store/repos/overrides.js';
import { postedStatements as posted } from '../../src/store/repos/posted.js';
import { pullStatements as pulls } from '../../src/store/repos/pulls.js';
import { heldStatements as held } from '../../src/store/repos/held.js';
import { conditionalReadStatements as conditional } from '../../src/store/repos/conditional-reads.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0);
const DAY = 86_400_000;
const HOUR = 3_600_000;
const ACCOUNTS = 100;
const REPOS = 20;
const acct = (i: number) => `org-${i % ACCOUNTS}`;
const repo = (i: number) => `repo-${i % REPOS}`;
const ckey = (i: number) => `v1 ${1000 + (i % ACCOUNTS)} GET /repos/{owner}/{repo}/pulls?owner=org-${i % ACCOUNTS}&repo=repo-${i % 10000}&page=1`;

const SEED = `
  INSERT INTO installations (id, account, account_type, suspended, updated_at)
    SELECT 1000 + a, 'org-' || a, 'Organization', 0, ${NOW} FROM generate_series(0::bigint, ${ACCOUNTS - 1}) a;
  INSERT INTO repos (account, repo, installation_id, full_name, default_branch)
    SELECT 'org-' || a, 'repo-' || r, 1000 + a, 'org-' || a || '/repo-' || r, 'main' FROM generate_series(0::bigint, ${ACCOUNTS - 1}) a, generate_series(0::bigint, ${REPOS - 1}) r;
  INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source, closed_at)
    SELECT 'org-' || (i % ${ACCOUNTS}), CASE WHEN i % 4 = 0 THEN 'repo-' || (i % ${REPOS}) ELSE '' END, 'sev' || (1 + i % 4), 'incident ' || i,
      CASE WHEN i < 2000 - ${ACCOUNTS} THEN 'closed' ELSE 'open' END, ${NOW} - (i % 365) * ${DAY}, 'carol', 'command', NULL
    FROM generate_series(0::bigint, 1999) i;
  INSERT INTO freezes (account, repo, mode, reason, created_by, created_at, until, ended_at, source)
    SELECT 'org-' || (i % ${ACCOUNTS}), CASE WHEN i % 3 = 0 THEN '' ELSE 'repo-' || (i % ${REPOS}) END, CASE WHEN i % 2 = 1 THEN 'all' ELSE 'features' END, 'x', 'alice',
      ${NOW} - (i % 365) * ${DAY}, CASE WHEN i % 5 = 0 THEN ${NOW} + (1 + i % 48) * ${HOUR} END, CASE WHEN i % 20 <> 0 THEN ${NOW} - (i % 365) * ${DAY} + ${HOUR} END, 'command'
    FROM generate_series(0::bigint, 9999) i;
  INSERT INTO deploys (dedupe_key, account, repo, kind, environment, sha, pr_number, actor, at)
    SELECT 'd' || i, 'org-' || (i % ${ACCOUNTS}), 'repo-' || ((i / ${ACCOUNTS}) % ${REPOS}), CASE WHEN i % 3 = 0 THEN 'deployment' ELSE 'merge' END,
      CASE WHEN i % 3 = 0 THEN 'production' ELSE '' END, 'sha' || i, i, 'dev', ${NOW} - (i % 90) * ${DAY} - (i % 24) * ${HOUR}
    FROM generate_series(0::bigint, 99999) i;
  INSERT INTO pulls (account, repo, number, installation_id, head_sha, head_ref, base_ref, head_in_repo, draft, labels, title, state, updated_at)
    SELECT 'org-' || (i % ${ACCOUNTS}), 'repo-' || ((i / ${ACCOUNTS}) % ${REPOS}), i / ${ACCOUNTS * REPOS} + 1, 1000 + i % ${ACCOUNTS}, 'head' || i, 'f/' || i, 'main', 1, 0,
      CASE WHEN i % 10 = 0 THEN '["hotfix"]' ELSE '[]' END, 'PR ' || i, CASE WHEN i % 4 = 0 THEN 'open' ELSE 'closed' END, ${NOW} - (i % 1000) * ${HOUR}
    FROM generate_series(0::bigint, 99999) i;
  INSERT INTO posted (account, repo, sha, decision_key, conclusion, title, next_change_at, posted_at)
    SELECT 'org-' || (i % ${ACCOUNTS}), 'repo-' || ((i / ${ACCOUNTS}) % ${REPOS}), 'head' || i, 'success|open|-', 'success', 'Open',
      CASE WHEN i % 10000 = 0 THEN ${NOW} - 1000 WHEN i % 50 = 0 THEN ${NOW} + (1 + i % 97) * ${HOUR} END, ${NOW} - (i % 1000) * ${HOUR}
    FROM generate_series(0::bigint, 99999) i;
  INSERT INTO jobs (kind, payload, state, run_at, created_at, finished_at)
    SELECT CASE WHEN i % 2 = 1 THEN 'fanout' ELSE 'reply' END, '{"installationId":' || (1000 + i % ${ACCOUNTS}) || '}',
      CASE WHEN i % 2500 = 0 THEN 'pending' ELSE 'done' END, ${NOW} - (i % 1000) * 60000, ${NOW} - ${DAY}, CASE WHEN i % 2500 <> 0 THEN ${NOW} - (i % 1000) * 60000 END
    FROM generate_series(0::bigint, 49999) i;
  INSERT INTO audit (at, account, repo, actor, source, action, target, reason, delivery_id, incident_id)
    SELECT ${NOW} - (1000000 - i) * 30000, 'org-' || (i % ${ACCOUNTS}), CASE WHEN i % 2 = 1 THEN 'repo-' || (i % ${REPOS}) ELSE '' END, 'alice', 'command', 'freeze.start',
      'freeze ' || i, 'reason text', 'delivery-' || i, CASE WHEN i % 50 = 0 THEN 1 + (i / 50) % 2000 END
    FROM generate_series(0::bigint, 999999) i;
  INSERT INTO overrides (account, repo, number, sha, created_by, reason, created_at, ended_at)
    SELECT 'org-' || (i % ${ACCOUNTS}), 'repo-' || ((i / ${ACCOUNTS}) % ${REPOS}), i / ${ACCOUNTS * REPOS} + 1, 'head' || i, 'lead', 'hotfix', ${NOW} - (i % 90) * ${DAY},
      CASE WHEN i % 10 <> 0 THEN ${NOW} - (i % 90) * ${DAY} + ${HOUR} END
    FROM generate_series(0::bigint, 9999) i;
  -- one override in five needs two people (overrides.approvals: 2) and has one approval
  UPDATE overrides SET approvals_needed = 2 WHERE id % 5 = 0;
  INSERT INTO override_approvals (override_id, login, approved_at) SELECT id, 'reviewer', created_at + 60000 FROM overrides WHERE id % 5 = 0;
  INSERT INTO held_deployments (account, repo, installation_id, environment, callback_url, deployment_id, sha, ref, requested_at, state)
    SELECT 'org-' || (i % ${ACCOUNTS}), 'repo-' || ((i / ${ACCOUNTS}) % ${REPOS}), 1000 + i % ${ACCOUNTS}, 'production', 'https://api.github.test/cb/' || i, i, 'sha' || i, 'main',
      ${NOW} - (i % 90) * ${DAY}, CASE WHEN i % 100 = 0 THEN 'waiting' ELSE 'approved' END
    FROM generate_series(0::bigint, 9999) i;
  INSERT INTO conditional_reads (key, etag, body, seen_at)
    SELECT 'v1 ' || (1000 + i % ${ACCOUNTS}) || ' GET /repos/{owner}/{repo}/pulls?owner=org-' || (i % ${ACCOUNTS}) || '&repo=repo-' || i || '&page=1', 'W/"' || md5(i::text) || '"', '{"items":[],"more":false}', ${NOW}
    FROM generate_series(0::bigint, 9999) i;
  ANALYZE;
`;

interface Hot {
  name: string;
  stmt: Statement;
  params: (i: number) => unknown[];
  run: (s: AsyncStore, i: number) => Promise<unknown>;
}

const HOT: Hot[] = [
  { name: 'active freezes of an account', stmt: freezes.activeFreezes, params: (i) => [acct(i), NOW], run: (s, i) => s.activeFreezes(acct(i), NOW) },
  { name: 'active incidents of an account', stmt: incidents.activeIncidents, params: (i) => [acct(i)], run: (s, i) => s.activeIncidents(acct(i)) },
  { name: 'incident candidates of a repository', stmt: incidents.incidentCandidates, params: (i) => [acct(i), repo(i), 200], run: (s, i) => s.incidentCandidates(acct(i), repo(i)) },
  { name: 'active override of a PR', stmt: overrides.activeOverride, params: (i) => [acct(i), repo(i), 1], run: (s, i) => s.activeOverride(acct(i), repo(i), 1) },
  { name: 'cadence: deploy times of a repository', stmt: deploys.deployTimes, params: (i) => [acct(i), repo(i), 'merge', '', NOW - 7 * DAY], run: (s, i) => s.deployTimes(acct(i), repo(i), 'merge', '', NOW - 7 * DAY) },
  { name: 'what was posted on a SHA', stmt: posted.getPosted, params: (i) => [acct(i), repo(i), `head${i}`], run: (s, i) => s.getPosted(acct(i), repo(i), `head${i}`) },
  { name: 'posted decisions due', stmt: posted.postedDue, params: () => [NOW], run: (s) => s.postedDue(NOW) },
  { name: 'open PRs of a SHA', stmt: pulls.openPullsBySha, params: (i) => [acct(i), repo(i), `head${i}`], run: (s, i) => s.openPullsBySha(acct(i), repo(i), `head${i}`) },
  { name: 'audit of an account, newest 50', stmt: audit.auditOfAccount, params: (i) => [acct(i), 50], run: (s, i) => s.auditOfAccount(acct(i), 50) },
  { name: "an incident's audit trail", stmt: audit.auditOfIncident, params: (i) => [1 + (i % 2000)], run: (s, i) => s.auditOfIncident(1 + (i % 2000)) },
  { name: 'newest 50 audit entries (dashboard)', stmt: audit.recentAudit, params: () => [50], run: (s) => s.recentAudit(50) },
  { name: 'audit of an account in a day', stmt: audit.auditBetween, params: (i) => [acct(i), NOW - DAY, NOW], run: (s, i) => s.auditBetween(acct(i), NOW - DAY, NOW) },
  { name: 'due jobs', stmt: jobs.dueJobs, params: () => [NOW, 200], run: (s) => s.dueJobs(NOW, 200) },
  { name: "a listing's stored ETag (conditional read)", stmt: conditional.getConditionalRead, params: (i) => [ckey(i)], run: (s, i) => s.getConditionalRead(ckey(i)) },
  { name: 'held deployments of a repository', stmt: held.waitingHeldOfRepo, params: (i) => [acct(i), repo(i)], run: (s, i) => s.waitingDeploymentsOfRepo(acct(i), repo(i)) },
];

export interface HotFigure {
  name: string;
  p50: number;
  p99: number;
  indexed: boolean;
}

/** Seeds a database of its own on `adminUrl`'s server, times each hot query (2000 runs after 200 warm-ups), drops it. */
export async function postgresHotQueries(adminUrl: string): Promise<{ seedMs: number; figures: HotFigure[] }> {
  const name = `moratorium_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  // no statement time limit: the seed runs for tens of seconds
  const store = await openPostgresStore(u.toString(), { poolSize: 1, queryTimeoutMs: 0 });
  try {
    const t = performance.now();
    await store.pool.query(SEED);
    const seedMs = performance.now() - t;
    // the seed's own aftermath is not what is measured: autovacuum would start on the million new
    // rows in the middle of the timings, and the first runs pay for JIT and cold pages
    await store.pool.query('VACUUM ANALYZE');
    await store.pool.query('CHECKPOINT');
    for (let round = 0; round < 3; round++) for (const h of HOT) for (let i = 0; i < 200; i++) await h.run(store, i);
    const figures: HotFigure[] = [];
    for (const h of HOT) {
      const plan = ((await store.pool.query(`EXPLAIN ${h.stmt.pg}`, h.params(7))).rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join(' ');
      for (let i = 0; i < 200; i++) await h.run(store, i); // warm: prepared on the connection, pages cached
      const times: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const s = performance.now();
        await h.run(store, i);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
      figures.push({ name: h.name, p50: p(0.5), p99: p(0.99), indexed: !/Seq Scan/.test(plan) });
    }
    return { seedMs, figures };
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
