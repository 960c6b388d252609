/**
 * Section 7: several replicas (SPEC 9, issue 12 items 6 and 7).
 *
 * A. Reads at rest: an idle installation of 500 repositories and 2,000 open PRs (already gated),
 *    the app on its own (SQLite). Back-to-back reconcile rounds are counted in the fake's record
 *    (every request but the 304s, which GitHub does not count); the hour is computed for the default
 *    interval (10 minutes: 6 rounds), adding what back-to-back rounds do not reach: the account's
 *    `.github` config, read again after its 5-minute TTL (once a round), and the installation token
 *    (once an hour).
 * B. One replica and two (PostgreSQL + Redis), side by side, on section 2's burst (10 installations x
 *    3 PRs, the webhooks spread over the replicas) and section 3's incident fan-out (3 repositories x
 *    15 PRs, throttle on).
 * C. The hot queries' p99 on PostgreSQL with section 4's volumes (1M audit events).
 *
 * PostgreSQL and Redis: DATABASE_URL and REDIS_URL when given (a server where databases may be
 * created), else `scripts/test-servers.sh start` (stopped at the end); without them, B and C print
 * "skipped: no PostgreSQL".
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FakeGitHub } from '../../test/fake-github/index.js';
import { startApp, webhooks, type AppHandle } from '../../test/e2e/harness.js';
import { CHECK_ROUTE, startMoratorium, tap, waitForReconcile } from '../lib/apps.js';
import { postgresHotQueries } from '../lib/postgres-hot.js';
import { fmt, progress, type Row, type SectionResult } from '../lib/report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_INTERVAL_MS = 10 * 60_000;

interface Servers {
  databaseUrl: string;
  redisUrl: string;
  stop(): void;
}

function servers(): Servers | string {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return { databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL, stop: () => {} };
  try {
    const out = execFileSync(`${ROOT}/scripts/test-servers.sh`, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    const v = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    if (!v.MORATORIUM_TEST_DATABASE_URL || !v.MORATORIUM_TEST_REDIS_URL) return 'scripts/test-servers.sh printed no URLs';
    return {
      databaseUrl: v.MORATORIUM_TEST_DATABASE_URL,
      redisUrl: v.MORATORIUM_TEST_REDIS_URL,
      stop: () => execFileSync(`${ROOT}/scripts/test-servers.sh`, ['stop', v.MORATORIUM_TEST_SERVERS_DIR!], { stdio: 'ignore' }),
    };
  } catch (error) {
    return `scripts/test-servers.sh could not start them: ${String((error as { stderr?: string }).stderr ?? error).trim().split('\n').at(-1)}`;
  }
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

// ---- A. reads at rest

async function idleInstallation(): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const REPOS = 500;
  const PULLS = 2000;
  const ROUNDS = 3;
  // GitHub's limit for an installation on 500 repositories: 5,000 + 50 per repository over 20, at
  // most 12,500 an hour. The set-up needs more than 5,000: one write, one reviews read (merge-ready
  // first) per PR, the listings and the config files
  const fake = await FakeGitHub.start({ rateLimit: 12_500 });
  try {
    fake.addInstallation({ id: 7, account: 'acme' });
    for (let r = 0; r < REPOS; r++) {
      const repo = `svc-${String(r).padStart(3, '0')}`;
      fake.addRepo('acme', repo);
      // half the repositories have a config file of their own, the others follow the account (none)
      if (r % 2 === 0) fake.setFile('acme', repo, '.github/moratorium.yml', 'enforcement: check\n');
      for (let p = 0; p < PULLS / REPOS; p++) fake.addPull('acme', repo, { title: `Feature ${p}` });
    }
    progress(`section 7: idle installation, ${REPOS} repositories x ${PULLS / REPOS} PRs: gating them (throttle off)`);
    // back-to-back rounds (the cron wakes every 5 s); the throttle only paces writes, and an idle round writes nothing
    const app = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_RECONCILE_INTERVAL: '1s' });
    try {
      // the start-up reconcile queues the gates; they are posted by the jobs it queued
      await fake.waitFor((f) => f.requestsTo(CHECK_ROUTE).length >= PULLS, 120_000, 'every PR gated').catch(() => undefined);
      const gated = fake.requestsTo(CHECK_ROUTE).length;
      if (gated < PULLS) {
        const missing: string[] = [];
        for (let r = 0; r < REPOS; r++) {
          const repo = `svc-${String(r).padStart(3, '0')}`;
          for (const pr of fake.pulls('acme', repo)) if (!fake.latestCheck('acme', repo, pr.head.sha)) missing.push(`${repo}#${pr.number}`);
        }
        throw new Error(`set-up: ${gated} of ${PULLS} PRs gated; without a check: ${missing.slice(0, 20).join(', ')}\n${app.logs().split('\n').filter((l) => !l.includes('NODE-CRON')).slice(-25).join('\n')}`);
      }
      // one more round to settle, then count whole rounds
      await waitForReconcile(app, 2);
      fake.clearRequests();
      const started = Date.now();
      const done = await waitForReconcile(app, 2 + ROUNDS);
      const elapsed = Date.now() - started;
      const total = fake.requests.length;
      const notModified = fake.notModified().length;
      const counted = fake.counted();
      const writes = fake.writes().length;
      const perRound = counted.length / ROUNDS;
      const roundsPerHour = 3_600_000 / DEFAULT_INTERVAL_MS;
      const perHour = roundsPerHour * (perRound + 1) + 1;
      // without conditional reads: every listing request counted, and every repository's own file read again past the TTL
      const withoutPerHour = roundsPerHour * (total / ROUNDS + REPOS + 1) + 1;
      const countedRoutes = [...new Set(counted.map((r) => `${r.status} ${r.route}`))].join(', ') || 'none';
      return {
        rows: [
          {
            metric: `idle installation, ${REPOS} repos x ${PULLS} open PRs: counted requests an hour (default interval 10 min)`,
            moratorium: `${fmt(perHour)}`,
            baseline: `${fmt(withoutPerHour)} without ETags`,
            target: '< 200',
            pass: perHour < 200 && writes === 0,
          },
          {
            metric: `  from ${ROUNDS} back-to-back rounds: requests a round / of them 304 / counted (${countedRoutes}); writes`,
            moratorium: `${fmt(total / ROUNDS)} / ${fmt(notModified / ROUNDS)} / ${fmt(perRound)}; ${writes}`,
            baseline: '',
            target: '',
            pass: null,
          },
          {
            metric: '  one round, 500 listings answered 304 (wall time)',
            moratorium: fmt(elapsed / ROUNDS / 1000, 's'),
            baseline: '',
            target: '',
            pass: null,
          },
        ],
        data: { repos: REPOS, pulls: PULLS, rounds: ROUNDS, total, notModified, counted: counted.length, writes, perHour, withoutPerHour, elapsedMs: elapsed, lastRound: done },
      };
    } finally {
      await app.stop();
    }
  } finally {
    await fake.stop();
  }
}

// ---- B. one replica and two

async function startReplicas(fake: FakeGitHub, n: number, databaseUrl: string, redisUrl: string, env: Record<string, string> = {}): Promise<AppHandle[]> {
  const secret = 'bench-replicas-secret';
  const apps: AppHandle[] = [];
  // one after the other: the first migrates; both run the start-up reconcile (one at a time)
  for (let i = 0; i < n; i++) apps.push(await startMoratoriumOn(fake, { ...env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl }, secret));
  return apps;
}

/** one app, several replicas: one key pair and one webhook secret */
const APP_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });

async function startMoratoriumOn(fake: FakeGitHub, env: Record<string, string>, secret: string): Promise<AppHandle> {
  const app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'on', ...env }, webhookSecret: secret, healthTimeoutMs: 60_000, appKey: APP_KEYS });
  await waitForReconcile(app, 1);
  return app;
}

async function burst(fake: FakeGitHub, apps: AppHandle[]): Promise<number> {
  const orgs = Array.from({ length: 10 }, (_, i) => ({ id: 301 + i, owner: `org-${String(i + 1).padStart(2, '0')}` }));
  const hooks = webhooks(fake);
  const events: Array<{ owner: string; payload: unknown; sha: string }> = [];
  for (const o of orgs) {
    for (let p = 0; p < 3; p++) {
      const pr = fake.addPull(o.owner, 'service', { title: `Feature ${p}` });
      events.push({ owner: o.owner, payload: hooks.pullRequest('opened', o.owner, 'service', pr.number), sha: pr.head.sha });
    }
  }
  const t = tap(fake);
  const started = Date.now();
  const answers = await Promise.all(events.map((e, i) => apps[i % apps.length]!.send('pull_request', e.payload)));
  if (answers.some((a) => a.status >= 300)) throw new Error(`burst: a webhook was refused (${answers.map((a) => a.status).join(',')})`);
  await fake.waitFor((f) => events.every((e) => f.latestCheck(e.owner, 'service', e.sha)), 120_000, 'every gate of the burst');
  t.stop();
  return Date.now() - started;
}

async function incident(fake: FakeGitHub, apps: AppHandle[], databaseUrl: string, redisUrl: string): Promise<{ ms: number; writes: number; features: number }> {
  const OWNER = 'acme';
  const WRITER = 'wendy';
  const features: Array<{ repo: string; sha: string; number: number }> = [];
  for (const repo of ['api', 'web', 'worker']) {
    fake.addRepo(OWNER, repo);
    fake.setPermission(OWNER, repo, WRITER, 'write');
    for (let i = 0; i < 15; i++) {
      const pr = fake.addPull(OWNER, repo, { title: `Feature ${i}`, draft: i < 2 });
      if (i >= 2) features.push({ repo, sha: pr.head.sha, number: pr.number });
    }
  }
  // set-up: the replicas stop, one process gates every PR "Open" with the throttle off and stops,
  // then the replicas start again (throttle on), one after the other (each runs its start-up reconcile)
  for (const app of apps) await app.stop();
  const setup = await startReplicas(fake, 1, databaseUrl, redisUrl, { MORATORIUM_GITHUB_THROTTLE: 'off' });
  await setup[0]!.stop();
  const gated = features.filter((p) => fake.latestCheck(OWNER, p.repo, p.sha)?.conclusion === 'success').length;
  if (gated !== features.length) throw new Error(`set-up: ${gated} of ${features.length} feature PRs gated Open`);
  for (const app of apps) {
    const from = app.logLines().length;
    await app.restart();
    await app.waitForLogLine((l) => l.msg === 'reconcile done', 120_000, from);
  }
  fake.clearRequests();
  const host = features[0]!;
  const comment = webhooks(fake).issueComment(OWNER, host.repo, host.number, { body: '/incident open sev1 Database failover', user: WRITER });
  const started = Date.now();
  const res = await apps[apps.length - 1]!.send('issue_comment', comment);
  if (res.status >= 300) throw new Error(`comment refused: ${res.status}`);
  await fake.waitFor((f) => features.every((p) => f.latestCheck(OWNER, p.repo, p.sha)?.conclusion === 'failure'), 180_000, 'every feature PR blocked');
  const ms = Date.now() - started;
  return { ms, writes: fake.writes().length, features: features.length };
}

async function oneAndTwo(s: Servers): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const figures: Record<number, { burstMs: number; incidentMs: number; writes: number }> = {};
  let least = 0;
  for (const n of [1, 2]) {
    progress(`section 7: ${n} replica(s) on PostgreSQL + Redis`);
    const fake = await FakeGitHub.start();
    const apps: AppHandle[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        fake.addInstallation({ id: 301 + i, account: `org-${String(i + 1).padStart(2, '0')}` });
        fake.addRepo(`org-${String(i + 1).padStart(2, '0')}`, 'service');
      }
      fake.addInstallation({ id: 7, account: 'acme' });
      const db = await freshDatabase(s.databaseUrl, `moratorium_bench_r${n}_${process.pid}`);
      // Redis keys are per installation: a fresh Redis database per run keeps the runs apart
      const redis = `${s.redisUrl.replace(/\/\d*$/, '')}/${n}`;
      apps.push(...(await startReplicas(fake, n, db, redis)));
      // what the start-up reconciles queued has run on every replica before the clock starts
      for (const app of apps) await app.waitForJobs(60_000);
      const burstMs = await burst(fake, apps);
      const inc = await incident(fake, apps, db, redis);
      figures[n] = { burstMs, incidentMs: inc.ms, writes: inc.writes };
      least = inc.features + 2;
    } finally {
      for (const a of apps) await a.stop().catch(() => null);
      await fake.stop();
    }
  }
  const one = figures[1]!;
  const two = figures[2]!;
  return {
    rows: [
      { metric: 'PostgreSQL + Redis: 10 installations x 3 PRs in one burst, until every gate is posted (1 replica | 2)', moratorium: `${fmt(one.burstMs / 1000, 's')} | ${fmt(two.burstMs / 1000, 's')}`, baseline: '', target: '', pass: null },
      { metric: 'PostgreSQL + Redis: incident over 3 repos x 15 PRs, until every feature PR is blocked (1 replica | 2)', moratorium: `${fmt(one.incidentMs / 1000, 's')} | ${fmt(two.incidentMs / 1000, 's')}`, baseline: '', target: '≤ 45 s', pass: one.incidentMs <= 45_000 && two.incidentMs <= 45_000 },
      // least possible: one check per feature PR (39: 13 of 15 per repository, the others drafts), the reply and the reaction
      { metric: `  its writes (1 replica | 2; ${least} least possible)`, moratorium: `${one.writes} | ${two.writes}`, baseline: '', target: `≤ ${Math.floor(least * 1.1)} (1.1x)`, pass: one.writes <= least * 1.1 && two.writes <= least * 1.1 },
    ],
    data: { figures },
  };
}

export async function replicas(): Promise<SectionResult> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const idle = await idleInstallation();
  // printed now: a failure further on keeps them
  for (const r of idle.rows) progress(`section 7: ${r.metric.trim()}: ${r.moratorium} (${r.baseline}; target ${r.target || '-'})`);
  rows.push(...idle.rows);
  data.idle = idle.data;
  const s = servers();
  if (typeof s === 'string') {
    rows.push({ metric: 'one replica and two; hot queries on PostgreSQL', moratorium: `skipped: no PostgreSQL (${s})`, baseline: '', target: '', pass: null });
  } else {
    try {
      const two = await oneAndTwo(s);
      for (const r of two.rows) progress(`section 7: ${r.metric.trim()}: ${r.moratorium}`);
      rows.push(...two.rows);
      data.replicas = two.data;
      progress('section 7: PostgreSQL hot queries (seeding 1M audit events)');
      const hot = await postgresHotQueries(s.databaseUrl);
      const slowest = hot.figures.reduce((a, b) => (b.p99 > a.p99 ? b : a));
      const scans = hot.figures.filter((f) => !f.indexed).map((f) => f.name);
      rows.push({
        metric: `PostgreSQL hot queries (${hot.figures.length}; 1M audit events, section 4's volumes): slowest p99 (${slowest.name})`,
        moratorium: fmt(slowest.p99, 'ms', 3),
        baseline: '',
        target: '< 2 ms',
        pass: slowest.p99 < 2,
      });
      rows.push({ metric: '  every hot query uses an index (EXPLAIN after ANALYZE)', moratorium: scans.length ? `no: ${scans.join(', ')}` : 'yes', baseline: '', target: 'yes', pass: scans.length === 0 });
      data.hot = hot;
    } finally {
      s.stop();
    }
  }
  return {
    id: '7',
    title: 'Several replicas: reads at rest, one replica and two, PostgreSQL hot queries',
    rows,
    notes: [
      'Idle hour = 6 rounds x (counted a round + 1 read of the account config past its TTL) + 1 installation token; "without ETags" counts every request of a round plus one config read per repository.',
    ],
    data,
  };
}
