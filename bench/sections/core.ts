/**
 * Section 4: the core and the store, in process (no server).
 *
 * - gate decisions per second on one core, typical config (a weekend window, a cadence, default
 *   incidents), over a mix of quiet, incident, freeze, window and hotfix states;
 * - the command parser on worst-case 64 KB comments (several adversarial shapes, the slowest counts);
 * - window evaluation per call (occurrencesAt + nextBoundary, a cron window with DST and a range);
 * - hot queries, p50/p99, in a temporary file database holding 1M audit events, 100k deploys and
 *   10k freezes (plus pulls, posted decisions, deliveries and jobs), each with the index SQLite's
 *   EXPLAIN QUERY PLAN names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { parseComment } from '../../src/commands/parse.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { evaluateGate } from '../../src/gate/evaluate.js';
import type { GateInput, GateState, PullRequestChange } from '../../src/gate/types.js';
import { nextBoundary, occurrencesAt } from '../../src/time/windows.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/engine.js';
import type { Statement } from '../../src/store/sql.js';
import { auditStatements } from '../../src/store/repos/audit.js';
import { deliveryStatements } from '../../src/store/repos/deliveries.js';
import { deployStatements } from '../../src/store/repos/deploys.js';
import { freezeStatements } from '../../src/store/repos/freezes.js';
import { incidentStatements } from '../../src/store/repos/incidents.js';
import { installationStatements } from '../../src/store/repos/installations.js';
import { jobStatements } from '../../src/store/repos/jobs.js';
import { overrideStatements } from '../../src/store/repos/overrides.js';
import { postedStatements } from '../../src/store/repos/posted.js';
import { pullStatements } from '../../src/store/repos/pulls.js';
import { externalIncidentStatements } from '../../src/store/repos/external-incidents.js';
import { heldStatements } from '../../src/store/repos/held.js';
import { fmt, percentile, progress, round, type Row, type SectionResult } from '../lib/report.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Wednesday 2026-06-10 12:00 UTC */
const NOW = Date.UTC(2026, 5, 10, 12, 0);

const TYPICAL: Config = configSchema.parse({
  branches: ['main', 'release/*'],
  windows: [{ name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin' }],
  cadence: { max: 6, per: '24h', min_interval: '30m', counts: 'merges' },
});

function gateInputs(): GateInput[] {
  const change = (over: Partial<PullRequestChange> = {}): PullRequestChange => ({
    kind: 'pull_request',
    account: 'acme',
    repo: 'api',
    defaultBranch: 'main',
    number: 42,
    baseRef: 'main',
    headRef: 'feature/search',
    headSha: 'c0ffee1234567890c0ffee1234567890c0ffee12',
    headInRepo: true,
    labels: [],
    ...over,
  });
  const state = (over: Partial<GateState> = {}): GateState => ({ freezes: [], incidents: [], windowSuppressions: [], override: null, deploys: [NOW - 20 * HOUR, NOW - 6 * HOUR, NOW - 2 * HOUR], configProblems: [], ...over });
  const incident = { id: 3, severity: 'sev1' as const, title: 'API latency', phase: 'open' as const, scope: { account: 'acme', repo: null }, openedAt: NOW - HOUR, openedBy: 'carol', resolvedAt: null };
  const freeze = { id: 9, scope: { account: 'acme', repo: 'api' }, mode: 'features' as const, reason: 'release prep', createdBy: 'alice', createdAt: NOW - HOUR, until: NOW + 4 * HOUR };
  const saturday = Date.UTC(2026, 5, 13, 10, 0);
  return [
    { config: TYPICAL, state: state(), change: change(), now: NOW },
    { config: TYPICAL, state: state({ incidents: [incident] }), change: change(), now: NOW },
    { config: TYPICAL, state: state({ freezes: [freeze] }), change: change({ headRef: 'hotfix/db' }), now: NOW },
    { config: TYPICAL, state: state(), change: change(), now: saturday },
    { config: TYPICAL, state: state({ deploys: [NOW - 5 * HOUR, NOW - 4 * HOUR, NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW - 10 * 60_000] }), change: change(), now: NOW },
    { config: TYPICAL, state: state({ incidents: [{ ...incident, phase: 'resolved', resolvedAt: NOW - 600_000 }] }), change: change({ labels: [{ name: 'hotfix', addedBy: 'alice', addedByAuthorized: true }] }), now: NOW },
  ];
}

function gateThroughput(): { perSecond: number; decisions: number; ms: number } {
  const inputs = gateInputs();
  // warm up, then run for a fixed time
  for (let i = 0; i < 20_000; i++) evaluateGate(inputs[i % inputs.length]!);
  let n = 0;
  let sink = 0;
  const started = performance.now();
  const budget = 2000;
  while (performance.now() - started < budget) {
    for (let i = 0; i < 1000; i++) sink += evaluateGate(inputs[(n + i) % inputs.length]!).title.length;
    n += 1000;
  }
  const ms = performance.now() - started;
  if (sink === 0) throw new Error('unreachable');
  return { perSecond: (n / ms) * 1000, decisions: n, ms };
}

/** Adversarial 64 KB comments: long lines, many commands, unclosed code and comments, deep quotes. */
export function worstComments(): Record<string, string> {
  const K64 = 64 * 1024;
  const fill = (unit: string) => unit.repeat(Math.ceil(K64 / unit.length)).slice(0, K64);
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const alphabet = ['`', '```', '~~~', '<!--', '-->', '>', '    ', '\n', '/freeze ', '/incident ', '--', ' ', 'a', '\\', '*', '[', ']', '<', '/'];
  let random = '';
  while (random.length < K64) random += alphabet[Math.floor(rand() * alphabet.length)]!;
  return {
    'one 64 KB command line': `/freeze --org --all ${'a'.repeat(K64 - 20)}`,
    '1,900 command lines': fill('/freeze --org --for 1h x\n'),
    '3,000 incident lines': fill('/incident open sev1 --repo t\n'),
    'backticks only': fill('`'),
    'backtick runs': fill('`` ` ``` ` '),
    'unclosed HTML comment': `<!--${fill('/freeze\n').slice(4)}`,
    'unclosed fence': `\`\`\`\n${fill('/freeze\n').slice(4)}`,
    'fence toggles': fill('```\n/freeze\n'),
    'deep block quote': fill('> '),
    'quoted commands': fill('> /freeze x\n'),
    'indented code': fill('    /freeze\n'),
    'inline code everywhere': fill('/freeze `a` `b` `c`\n'),
    'flags only': `/freeze ${fill('--org ').slice(8)}`,
    'random markup': random.slice(0, K64),
    '32,000-line paragraph': `${fill('a\n').slice(0, K64 - 8)}/freeze`,
    'quoted nested list items': `${fill('> - > - a\n').slice(0, K64 - 9)}\n/freeze`,
    'nested list markers': `${fill('- ').slice(0, K64 - 10)}x\n/freeze`,
    'image openers': fill('![a\n/freeze '),
    'link openers': fill('[a\n/freeze '),
    'image openers, one ] at the end': `${fill('![a\n/freeze ').slice(0, K64 - 1)}]`,
  };
}

function timeIt(fn: () => unknown, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

function parserWorstCase(): { worstMs: number; worst: string; perShape: Record<string, number> } {
  const perShape: Record<string, number> = {};
  for (const [name, body] of Object.entries(worstComments())) {
    timeIt(() => parseComment(body), 3);
    perShape[name] = round(percentile(timeIt(() => parseComment(body), 15), 50), 3);
  }
  const [worst, worstMs] = Object.entries(perShape).sort((a, b) => b[1] - a[1])[0]!;
  return { worstMs, worst, perShape };
}

function windowEvaluation(): { cronUs: number; rangeUs: number } {
  const cron = TYPICAL.windows[0]!.plan;
  const range = configSchema.parse({ windows: [{ name: 'year-end', from: '2026-12-21T00:00', to: '2027-01-04T09:00', timezone: 'America/New_York' }] }).windows[0]!.plan;
  const per = (w: typeof cron) => {
    // times spread over a year, DST changes included
    const times = Array.from({ length: 997 }, (_, i) => NOW + i * 8.8 * HOUR);
    for (const t of times) (occurrencesAt(w, t), nextBoundary(w, t));
    const reps = 20_000;
    const started = performance.now();
    for (let i = 0; i < reps; i++) {
      const t = times[i % times.length]!;
      occurrencesAt(w, t);
      nextBoundary(w, t);
    }
    return ((performance.now() - started) / reps) * 1000;
  };
  return { cronUs: per(cron), rangeUs: per(range) };
}

// ---------------------------------------------------------------------------------------------
// the store

const ACCOUNTS = 200;
const REPOS_PER_ACCOUNT = 20;

async function seed(store: SqliteStore): Promise<Record<string, number>> {
  const db = store.db;
  const acct = (i: number) => `org-${i % ACCOUNTS}`;
  const repo = (i: number) => `repo-${i % REPOS_PER_ACCOUNT}`;
  const counts = { bigRepoPulls: 20_000, audit: 1_000_000, deploys: 100_000, freezes: 10_000, incidents: 2_000, pulls: 100_000, posted: 100_000, deliveries: 100_000, jobs: 50_000, repos: ACCOUNTS * REPOS_PER_ACCOUNT };
  const markDone = db.prepare(`UPDATE jobs SET state = 'done', finished_at = ?, attempts = attempts + 1 WHERE id = ?`);
  await store.transaction(async (tx) => {
    for (let a = 0; a < ACCOUNTS; a++) {
      await tx.upsertInstallation(1000 + a, acct(a), 'Organization', false, NOW - 30 * DAY);
      for (let r = 0; r < REPOS_PER_ACCOUNT; r++) await tx.upsertRepo(acct(a), repo(r), 1000 + a, `${acct(a)}/${repo(r)}`, 'main');
    }
    for (let i = 0; i < counts.incidents; i++) {
      const inc = await tx.createIncident({ account: acct(i), repo: i % 4 === 0 ? repo(i) : null, severity: (['sev1', 'sev2', 'sev3', 'sev4'] as const)[i % 4]!, title: `incident ${i}`, by: 'carol', source: 'command', now: NOW - (i % 365) * DAY });
      // all but the last few per account are closed
      if (i < counts.incidents - ACCOUNTS) await tx.closeIncident(inc.id, NOW - (i % 365) * DAY + HOUR);
    }
    for (let i = 0; i < counts.freezes; i++) {
      // timed ones end within two days; a handful are past their time and not yet marked ended (the boundary timer does that within seconds)
      const until = i % 5 === 0 ? (i % 2000 === 0 ? NOW - HOUR : NOW + (1 + (i % 48)) * HOUR) : null;
      const f = await tx.createFreeze({ account: acct(i), repo: i % 3 === 0 ? null : repo(i), mode: i % 2 ? 'all' : 'features', reason: 'x', by: 'alice', until, source: 'command', now: NOW - (i % 365) * DAY });
      // ~95 % have ended
      if (i % 20 !== 0) await tx.endFreeze(f.id, 'bob', NOW - (i % 365) * DAY + HOUR);
    }
    for (let i = 0; i < counts.deploys; i++) {
      await tx.recordDeploy({ dedupeKey: `d${i}`, account: acct(i), repo: repo(Math.floor(i / ACCOUNTS)), kind: i % 3 ? 'merge' : 'deployment', environment: i % 3 ? '' : 'production', sha: `sha${i}`, prNumber: i, actor: 'dev', at: NOW - (i % 90) * DAY - (i % 24) * HOUR });
    }
    for (let i = 0; i < counts.pulls; i++) {
      const a = acct(i);
      const r = repo(Math.floor(i / ACCOUNTS));
      const number = Math.floor(i / (ACCOUNTS * REPOS_PER_ACCOUNT)) + 1;
      await tx.upsertPull({ account: a, repo: r, number, installationId: 1000 + (i % ACCOUNTS), headSha: `head${i}`, headRef: `f/${i}`, baseRef: 'main', headInRepo: true, draft: false, labels: i % 10 ? [] : ['hotfix'], title: `PR ${i}`, state: i % 4 ? 'closed' : 'open', updatedAt: NOW - (i % 1000) * HOUR });
      if (i < counts.posted) await tx.setPosted({ account: a, repo: r, sha: `head${i}`, decisionKey: 'success|open|-', conclusion: 'success', title: 'Open', blockedUntil: null, nextChangeAt: i % 10_000 === 0 ? NOW - 1000 : i % 50 === 0 ? NOW + (1 + (i % 97)) * HOUR : null, postedAt: NOW - (i % 1000) * HOUR });
      if (i % 10 === 0) await tx.setLabelGrant(a, r, number, 'hotfix', 'alice', true, NOW);
    }
    // one busy repository: every PR the app has seen stays stored (closed ones too)
    await tx.upsertRepo('big-org', 'monorepo', 999, 'big-org/monorepo', 'main');
    for (let i = 0; i < counts.bigRepoPulls; i++) {
      await tx.upsertPull({ account: 'big-org', repo: 'monorepo', number: i + 1, installationId: 999, headSha: `big${i}`, headRef: `f/${i}`, baseRef: 'main', headInRepo: true, draft: false, labels: [], title: `PR ${i}`, state: i % 400 ? 'closed' : 'open', updatedAt: NOW - (counts.bigRepoPulls - i) * 60_000 });
    }
    for (let i = 0; i < counts.deliveries; i++) {
      await tx.claimDelivery(`delivery-${i}`, 'pull_request.opened', NOW - (i % 7) * DAY);
      if (i % 2 === 0) await tx.claimComment(10_000_000 + i, acct(i), NOW - (i % 7) * DAY);
    }
    for (let i = 0; i < counts.jobs; i++) {
      // finished jobs are kept a week; a few are pending (half of them due)
      const pending = i % 2500 === 0;
      const id = await tx.enqueueJob(i % 2 ? 'fanout' : 'reply', { installationId: 1000 + (i % ACCOUNTS) }, pending && i % 5000 === 0 ? NOW + HOUR : NOW - (i % 1000) * 60_000, NOW - DAY);
      if (!pending) markDone.run(NOW - (i % 1000) * 60_000, id);
    }
    const insertAudit = db.prepare(`INSERT INTO audit (at, account, repo, actor, source, action, target, reason, delivery_id, incident_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (let i = 0; i < counts.audit; i++) {
      insertAudit.run(NOW - (counts.audit - i) * 30_000, acct(i), i % 2 ? repo(i) : '', 'alice', 'command', 'freeze.start', `freeze ${i}`, 'reason text', `delivery-${i}`, i % 50 === 0 ? 1 + ((i / 50) % counts.incidents) : null, null);
    }
  });
  return counts;
}

interface QueryCase {
  name: string;
  /** statement key in the store (for EXPLAIN) */
  stmt: string;
  params: (i: number) => unknown[];
  run: (store: SqliteStore, i: number) => Promise<unknown>;
}

function queryCases(): QueryCase[] {
  const acct = (i: number) => `org-${(i * 7) % ACCOUNTS}`;
  const repo = (i: number) => `repo-${(i * 3) % REPOS_PER_ACCOUNT}`;
  return [
    { name: 'active freezes of an account', stmt: 'activeFreezes', params: (i) => [acct(i), NOW], run: (s, i) => s.activeFreezes(acct(i), NOW) },
    { name: 'active incidents of an account', stmt: 'activeIncidents', params: (i) => [acct(i)], run: (s, i) => s.activeIncidents(acct(i)) },
    { name: 'live window suppressions', stmt: 'liveSuppressions', params: (i) => [acct(i), NOW], run: (s, i) => s.liveSuppressions(acct(i), NOW) },
    { name: "a PR's active override", stmt: 'activeOverride', params: (i) => [acct(i), repo(i), i], run: (s, i) => s.activeOverride(acct(i), repo(i), i) },
    { name: 'deploy times in the last 24 h', stmt: 'deployTimes', params: (i) => [acct(i), repo(i), 'merge', '', NOW - DAY], run: (s, i) => s.deployTimes(acct(i), repo(i), 'merge', '', NOW - DAY) },
    { name: 'posted decision of a SHA', stmt: 'getPosted', params: (i) => [acct(i), repo(i), `head${i * 13}`], run: (s, i) => s.getPosted(acct(i), repo(i), `head${i * 13}`) },
    { name: 'a stored PR', stmt: 'getPull', params: (i) => [acct(i), repo(i), (i % 5) + 1], run: (s, i) => s.getPull(acct(i), repo(i), (i % 5) + 1) },
    { name: 'open PRs sharing a head SHA', stmt: 'openPullsBySha', params: (i) => [acct(i), repo(i), `head${i * 13}`], run: (s, i) => s.openPullsBySha(acct(i), repo(i), `head${i * 13}`) },
    { name: 'open PRs sharing a head SHA, 20k PRs in the repo', stmt: 'openPullsBySha', params: (i) => ['big-org', 'monorepo', `big${i * 7}`], run: (s, i) => s.openPullsBySha('big-org', 'monorepo', `big${(i * 7) % 20_000}`) },
    { name: 'a stored PR, 20k PRs in the repo', stmt: 'getPull', params: (i) => ['big-org', 'monorepo', i], run: (s, i) => s.getPull('big-org', 'monorepo', 1 + ((i * 7) % 20_000)) },
    { name: 'label grant', stmt: 'getLabelGrant', params: (i) => [acct(i), repo(i), (i % 5) + 1, 'hotfix'], run: (s, i) => s.getLabelGrant(acct(i), repo(i), (i % 5) + 1, 'hotfix') },
    { name: 'a repository', stmt: 'getRepo', params: (i) => [acct(i), repo(i)], run: (s, i) => s.getRepo(acct(i), repo(i)) },
    { name: 'delivery seen', stmt: 'deliverySeen', params: (i) => [`delivery-${i * 37}`], run: (s, i) => s.deliverySeen(`delivery-${i * 37}`) },
    { name: 'comment seen', stmt: 'commentSeen', params: (i) => [10_000_000 + i * 2], run: (s, i) => s.commentSeen(10_000_000 + i * 2) },
    { name: 'audit of an account, newest 50', stmt: 'auditOfAccount', params: (i) => [acct(i), 50], run: (s, i) => s.auditOfAccount(acct(i), 50) },
    { name: "an incident's audit trail", stmt: 'auditOfIncident', params: (i) => [1 + (i % 2000)], run: (s, i) => s.auditOfIncident(1 + (i % 2000)) },
    { name: 'newest 50 audit entries (dashboard)', stmt: 'recentAudit', params: () => [50], run: (s) => s.recentAudit(50) },
    { name: 'incident candidates of a repository', stmt: 'incidentCandidates', params: (i) => [acct(i), repo(i), 200], run: (s, i) => s.incidentCandidates(acct(i), repo(i)) },
    { name: 'due jobs', stmt: 'dueJobs', params: () => [NOW, 200], run: (s) => s.dueJobs(NOW, 200) },
    { name: 'next job time', stmt: 'nextJobAt', params: () => [], run: (s) => s.nextJobAt() },
    { name: 'posted decisions due (boundaries)', stmt: 'postedDue', params: () => [NOW], run: (s) => s.postedDue(NOW) },
    { name: 'next posted boundary', stmt: 'nextPostedChange', params: () => [NOW], run: (s) => s.nextPostedChange(NOW) },
    { name: 'next timed freeze expiry', stmt: 'nextFreezeExpiry', params: () => [NOW], run: (s) => s.nextFreezeExpiry(NOW) },
    { name: 'expired timed freezes', stmt: 'expiredFreezes', params: () => [NOW], run: (s) => s.expiredFreezes(NOW) },
    { name: 'pending job count', stmt: 'pendingJobCount', params: () => [], run: (s) => s.pendingJobCount() },
    { name: 'metrics: active freezes by mode', stmt: 'countActiveFreezes', params: () => [NOW], run: (s) => s.countActiveFreezes(NOW) },
    { name: 'metrics: active incidents by phase', stmt: 'countActiveIncidents', params: () => [], run: (s) => s.countActiveIncidents() },
    { name: 'metrics: pending jobs by kind', stmt: 'pendingJobsByKind', params: () => [], run: (s) => s.pendingJobsByKind() },
    { name: 'audit of an account in a day (report)', stmt: 'auditBetween', params: (i) => [acct(i), NOW - DAY, NOW], run: (s, i) => s.auditBetween(acct(i), NOW - DAY, NOW) },
    { name: 'deploys of an account in a week (report)', stmt: 'deploysOfAccount', params: (i) => [acct(i), NOW - 7 * DAY, NOW], run: (s, i) => s.deploysOfAccount(acct(i), NOW - 7 * DAY, NOW) },
  ];
}

/** The indexes (or primary keys) a statement's query plan uses, or "SCAN <table>" when it scans. */
function planOf(db: Database.Database, sql: string, params: unknown[]): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  const parts = rows.map((r) => {
    const idx = /USING (?:COVERING )?INDEX (\S+)/.exec(r.detail);
    if (idx) return idx[1]!;
    if (/USING (INTEGER )?PRIMARY KEY/.test(r.detail)) return `${/(?:SEARCH|SCAN) (\S+)/.exec(r.detail)?.[1] ?? '?'} pk`;
    if (/^SCAN /.test(r.detail)) return r.detail.replace(/^SCAN (\S+).*/, 'SCAN $1');
    return null;
  });
  // a hinted index is named in the SQL, not always in the plan's words
  if (/INDEXED BY (\w+)/.test(sql) && !parts.some((p) => p !== null && sql.includes(p))) parts.push(/INDEXED BY (\w+)/.exec(sql)![1]!);
  return [...new Set(parts.filter((p): p is string => p !== null))].join(' + ') || rows.map((r) => r.detail).join('; ');
}

async function hotQueries(): Promise<{ counts: Record<string, number>; seedMs: number; sizeMiB: number; queries: { name: string; plan: string; p50: number; p99: number; rows: number }[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'moratorium-bench-store-'));
  try {
    const path = join(dir, 'bench.db');
    const store = openSqliteStore(path);
    const t = performance.now();
    const counts = await seed(store);
    const seedMs = performance.now() - t;
    const statements = new Map<string, Statement>();
    for (const group of [auditStatements, deliveryStatements, deployStatements, freezeStatements, incidentStatements, installationStatements, jobStatements, overrideStatements, postedStatements, pullStatements, externalIncidentStatements, heldStatements]) {
      for (const st of Object.values(group) as Statement[]) statements.set(st.name, st);
    }
    const queries: { name: string; plan: string; p50: number; p99: number; rows: number }[] = [];
    for (const q of queryCases()) {
      const stmt = statements.get(q.stmt);
      if (!stmt) throw new Error(`no statement ${q.stmt} in the store`);
      const plan = planOf(store.db, stmt.sqlite, q.params(1));
      for (let i = 0; i < 200; i++) await q.run(store, i);
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < 3000; i++) {
        const started = process.hrtime.bigint();
        const result = await q.run(store, i);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (i === 0) rows = Array.isArray(result) ? result.length : result === null || result === undefined ? 0 : 1;
      }
      queries.push({ name: q.name, plan, p50: percentile(times, 50), p99: percentile(times, 99), rows });
    }
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    await store.close();
    return { counts, seedMs, sizeMiB: (pages * pageSize) / 2 ** 20, queries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function core(): Promise<SectionResult> {
  progress('4. core: gate decisions');
  const gate = gateThroughput();
  progress('4. core: parser, windows');
  const parser = parserWorstCase();
  const windows = windowEvaluation();
  progress('4. store: seeding 1M audit events, 100k deploys, 10k freezes ...');
  const store = await hotQueries();
  const worstQuery = [...store.queries].sort((a, b) => b.p99 - a.p99)[0]!;
  const rows: Row[] = [
    { metric: 'gate decisions per second (one core)', moratorium: `${Math.round(gate.perSecond).toLocaleString('en')}/s`, baseline: '', target: '≥ 100,000/s', pass: gate.perSecond >= 100_000 },
    { metric: `command parser, worst 64 KB comment (${parser.worst})`, moratorium: fmt(parser.worstMs, 'ms'), baseline: '', target: '< 50 ms', pass: parser.worstMs < 50 },
    { metric: 'window evaluation per call, cron + DST', moratorium: fmt(windows.cronUs, 'µs'), baseline: '', target: '< 10 µs', pass: windows.cronUs < 10 },
    { metric: 'window evaluation per call, from/to', moratorium: fmt(windows.rangeUs, 'µs'), baseline: '', target: '< 10 µs', pass: windows.rangeUs < 10 },
    ...store.queries.map((q) => ({ metric: `query: ${q.name} [${q.plan}]`, moratorium: `${fmt(q.p50 * 1000, 'µs')} / ${fmt(q.p99 * 1000, 'µs')}`, baseline: '', target: 'p99 < 1 ms', pass: q.p99 < 1 })),
  ];
  return {
    id: 'core',
    title: '4. Core and store (in process; query figures are p50 / p99)',
    rows,
    notes: [
      `gate: ${gate.decisions.toLocaleString('en')} decisions in ${fmt(gate.ms, 'ms')} over 6 states (quiet, open incident, freeze + hotfix branch, weekend window, cadence full, recovery + hotfix label), title and summary rendered each time`,
      `parser (p50 of 15 runs per shape): ${Object.entries(parser.perShape).map(([k, v]) => `${k} ${v} ms`).join('; ')}`,
      `store: ${Object.entries(store.counts).map(([k, v]) => `${v.toLocaleString('en')} ${k}`).join(', ')}; seeded in ${fmt(store.seedMs / 1000, 's')}, ${fmt(store.sizeMiB, 'MiB')} on disk; slowest p99: ${worstQuery.name} ${fmt(worstQuery.p99 * 1000, 'µs')}; plans from EXPLAIN QUERY PLAN (pk = primary key)`,
    ],
    data: { gate, parser, windows, store },
  };
}
