/**
 * Section 3: fan-out after `/incident open sev1` by a write user.
 *
 * A. Throttle on, 3 repositories x 15 open PRs (drafts and hotfixes among them), every PR already
 *    gated "Open" (by an earlier run of the app with the throttle off, on the same database, so the
 *    set-up takes seconds, not a minute). Writes against the least possible (one per PR whose
 *    decision flips, plus the reply and the reaction) and the time until every feature PR is blocked.
 * B. Throttle off, 20 repositories x 100 PRs: the app's own cost per PR (gating 2000 new PRs at
 *    start-up, then flipping all of them), against a fake on the same machine.
 * C. Merge-ready first (SPEC 12), throttle on: 3 repositories x 40 PRs, every one gated "Open"
 *    first; then 12 of them are made merge-ready (4 auto-merge, 8 approved), others get comments
 *    and change requests, and all 120 get new update times in a random order (seeded), so no
 *    stored review verdict is valid: the incident's fan-out reads every review anew (each read
 *    answered after 150 ms, about GitHub's latency). The time until all 12 merge-ready PRs are
 *    blocked beside the time until all 120 are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub, type RecordedRequest } from '../../test/fake-github/index.js';
import { webhooks } from '../../test/e2e/harness.js';
import { CHECK_ROUTE, TOKEN_ROUTE, quiesce, startMoratorium, tap, waitForReconcile } from '../lib/apps.js';
import { cpuMs, fmt, progress, round, sleep, type Row, type SectionResult } from '../lib/report.js';

const OWNER = 'acme';
const WRITER = 'wendy';

interface Pull {
  repo: string;
  number: number;
  sha: string;
  kind: 'feature' | 'draft' | 'hotfix-branch' | 'hotfix-label';
}

/**
 * When each PR got its first failing check (`repo@head sha` -> when the fake answered it), read from
 * the tapped record until `done` holds (the figures are the fake's times, not the polling's).
 */
async function blockedTimes(t: { seen: RecordedRequest[] }, done: (blocked: Map<string, number>) => boolean, timeoutMs: number, what: string): Promise<Map<string, number>> {
  const blockedAt = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  for (let read = 0; ; await sleep(50)) {
    for (; read < t.seen.length; read++) {
      const r = t.seen[read]!;
      if (r.route === CHECK_ROUTE && r.body?.conclusion === 'failure' && r.status === 201) {
        const key = `${r.params.repo}@${r.body.head_sha}`;
        if (!blockedAt.has(key)) blockedAt.set(key, r.at);
      }
    }
    if (done(blockedAt)) return blockedAt;
    if (Date.now() > deadline) throw new Error(`${what}: ${blockedAt.size} blocked after ${timeoutMs / 1000} s`);
  }
}

async function smallRun(fake: FakeGitHub, dir: string) {
  const REPOS = ['api', 'web', 'worker'];
  const PER_REPO = 15;
  fake.reset();
  fake.addInstallation({ id: 7, account: OWNER });
  const pulls: Pull[] = [];
  for (const repo of REPOS) {
    fake.addRepo(OWNER, repo);
    fake.setPermission(OWNER, repo, WRITER, 'write');
    for (let i = 0; i < PER_REPO; i++) {
      const kind: Pull['kind'] = i < 2 ? 'draft' : i === 2 ? 'hotfix-branch' : i === 3 ? 'hotfix-label' : 'feature';
      const pr = fake.addPull(OWNER, repo, { title: `${kind} ${i}`, draft: kind === 'draft', ...(kind === 'hotfix-branch' ? { headRef: `hotfix/fix-${i}` } : {}) });
      if (kind === 'hotfix-label') fake.addLabelEvent(OWNER, repo, pr.number, 'hotfix', WRITER);
      pulls.push({ repo, number: pr.number, sha: pr.head.sha, kind });
    }
  }
  const db = join(dir, 'fanout-small.db');
  // set-up: gate every PR "Open" quickly (throttle off), then stop
  const setup = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_DB: db });
  const nonDraft = pulls.filter((p) => p.kind !== 'draft');
  const ungated = nonDraft.filter((p) => fake.latestCheck(OWNER, p.repo, p.sha)?.conclusion !== 'success');
  if (ungated.length) throw new Error(`set-up: ${ungated.length} PRs not gated Open`);
  await setup.stop();
  fake.clearRequests();

  // the measured run: throttle on, as in production
  const app = await startMoratorium(fake, { MORATORIUM_DB: db });
  await quiesce(fake, 1500);
  const startupWrites = fake.writes().length;
  fake.clearRequests();
  const t = tap(fake);
  const features = pulls.filter((p) => p.kind === 'feature');
  const host = features[0]!;
  const comment = webhooks(fake).issueComment(OWNER, host.repo, host.number, { body: '/incident open sev1 Database failover', user: WRITER });
  const started = Date.now();
  const res = await app.send('issue_comment', comment);
  if (res.status >= 300) throw new Error(`comment refused: ${res.status}`);
  const blockedAt = await blockedTimes(t, (b) => b.size >= features.length && fake.appComments(OWNER, host.repo, host.number).length > 0, 180_000, `fan-out: the ${features.length} feature PRs blocked and the reply`);
  await quiesce(fake, 3000);
  t.stop();
  const replyAt = t.seen.find((r) => r.route === 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments')?.at ?? NaN;
  const reactionAt = t.seen.find((r) => r.route === 'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions')?.at ?? NaN;
  const writes = t.seen.filter((r) => r.method !== 'GET' && r.route !== TOKEN_ROUTE);
  const reads = t.seen.filter((r) => r.method === 'GET');
  const wrong = pulls.filter((p) => p.kind !== 'draft' && fake.latestCheck(OWNER, p.repo, p.sha)?.conclusion !== (p.kind === 'feature' ? 'failure' : 'success'));
  const least = features.length + 2;
  const allBlockedMs = Math.max(...blockedAt.values()) - started;
  const fanoutLog = app.logLines().find((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /INC-/.test(String(l.reason)));
  await app.stop();
  return {
    repos: REPOS.length,
    pulls: pulls.length,
    drafts: pulls.filter((p) => p.kind === 'draft').length,
    hotfixes: pulls.filter((p) => p.kind.startsWith('hotfix')).length,
    features: features.length,
    startupWrites,
    writes: writes.length,
    writeRoutes: countBy(writes.map((w) => w.route ?? w.path)),
    reads: reads.length,
    least,
    allBlockedMs,
    firstBlockedMs: Math.min(...blockedAt.values()) - started,
    replyMs: replyAt - started,
    reactionMs: reactionAt - started,
    wrongGates: wrong.length,
    fanoutDurationMs: fanoutLog?.duration_ms ?? null,
  };
}

async function largeRun(fake: FakeGitHub, dir: string) {
  const REPOS = 20;
  const PER_REPO = 100;
  fake.reset();
  fake.addInstallation({ id: 7, account: OWNER });
  const repos = Array.from({ length: REPOS }, (_, i) => `repo-${String(i + 1).padStart(2, '0')}`);
  for (const repo of repos) {
    fake.addRepo(OWNER, repo);
    for (let i = 0; i < PER_REPO; i++) fake.addPull(OWNER, repo, { title: `Feature ${i}` });
  }
  fake.setPermission(OWNER, repos[0]!, WRITER, 'write');
  const total = REPOS * PER_REPO;
  const t = tap(fake);
  const gated = () => t.seen.filter((r) => r.route === CHECK_ROUTE && r.status === 201).length;
  // start-up reconcile: every PR is new to the app and gets its first gate
  const started = Date.now();
  const app = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_DB: join(dir, 'fanout-large.db'), LOG_LEVEL: 'info' });
  const startup = await waitForReconcile(app, 1);
  const firstGates = gated();
  const startupMs = Date.now() - started;
  t.seen.length = 0;
  const host = { repo: repos[0]!, number: 1 };
  const comment = webhooks(fake).issueComment(OWNER, host.repo, host.number, { body: '/incident open sev1 Database failover', user: WRITER });
  const cpu0 = cpuMs(app.appPid);
  const t0 = Date.now();
  const res = await app.send('issue_comment', comment);
  if (res.status >= 300) throw new Error(`comment refused: ${res.status}`);
  const deadline = Date.now() + 300_000;
  const failures = () => t.seen.filter((r) => r.route === CHECK_ROUTE && r.status === 201 && r.body?.conclusion === 'failure');
  while (failures().length < total) {
    if (Date.now() > deadline) throw new Error(`large fan-out: ${failures().length} of ${total} blocked after 300 s`);
    await sleep(100);
  }
  const flipMs = Math.max(...failures().map((r) => r.at)) - t0;
  const flipCpuMs = cpuMs(app.appPid) - cpu0;
  const requests = t.seen.length;
  t.stop();
  const fanoutLog = app.logLines().find((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /INC-/.test(String(l.reason)));
  await app.stop();
  return {
    repos: REPOS,
    pulls: total,
    startupReconcileMs: startup.duration_ms as number,
    startupGates: firstGates,
    startupWallMs: startupMs,
    flipMs,
    flipRequests: requests,
    fanoutDurationMs: (fanoutLog?.duration_ms as number | undefined) ?? null,
    msPerPr: flipMs / total,
    flipCpuMs,
    cpuMsPerPr: flipCpuMs / total,
    firstGateMsPerPr: (startup.duration_ms as number) / total,
  };
}

/** a small seeded generator (mulberry32): the same spread on every run */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REVIEWS_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';

export async function mergeFirstRun(fake: FakeGitHub, dir: string) {
  const REPOS = ['api', 'web', 'worker'];
  const PER_REPO = 40;
  const AUTO = 4;
  const APPROVED = 8;
  fake.reset();
  fake.addInstallation({ id: 7, account: OWNER });
  const pulls: { repo: string; number: number; sha: string; kind: 'auto-merge' | 'approved' | 'rest'; rank: number }[] = [];
  for (const repo of REPOS) {
    fake.addRepo(OWNER, repo);
    fake.setPermission(OWNER, repo, WRITER, 'write');
    for (let i = 0; i < PER_REPO; i++) {
      const pr = fake.addPull(OWNER, repo, { title: `Feature ${i}` });
      pulls.push({ repo, number: pr.number, sha: pr.head.sha, kind: 'rest', rank: 0 });
    }
  }
  const db = join(dir, 'fanout-merge-first.db');
  const setup = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_DB: db });
  const ungated = pulls.filter((p) => fake.latestCheck(OWNER, p.repo, p.sha)?.conclusion !== 'success');
  if (ungated.length) throw new Error(`set-up: ${ungated.length} PRs not gated Open`);
  await setup.stop();

  const app = await startMoratorium(fake, { MORATORIUM_DB: db });
  await quiesce(fake, 1500);
  // now, after the start-up reconcile: merge-ready PRs spread at random through a new update order
  const random = seeded(20261201);
  const order = pulls.map((p) => ({ p, r: random() })).sort((a, b) => a.r - b.r).map((x) => x.p);
  order.forEach((p, i) => (p.rank = i)); // 0 = the most recently updated
  const picks = [...pulls].map((p) => ({ p, r: random() })).sort((a, b) => a.r - b.r).map((x) => x.p);
  picks.slice(0, AUTO).forEach((p) => (p.kind = 'auto-merge'));
  picks.slice(AUTO, AUTO + APPROVED).forEach((p) => (p.kind = 'approved'));
  const now = Date.now();
  for (const p of pulls) {
    const updatedAt = now - 1000 * (p.rank + 1);
    const at = updatedAt - 60_000;
    if (p.kind === 'approved') fake.addReview(OWNER, p.repo, p.number, { user: 'mia', state: 'APPROVED', at });
    else if (p.kind === 'rest' && p.rank % 5 === 0) fake.addReview(OWNER, p.repo, p.number, { user: 'bob', state: 'CHANGES_REQUESTED', at });
    else if (p.kind === 'rest' && p.rank % 5 === 1) fake.addReview(OWNER, p.repo, p.number, { user: 'bob', state: 'COMMENTED', at });
    fake.updatePull(OWNER, p.repo, p.number, { updatedAt, ...(p.kind === 'auto-merge' ? { autoMerge: true } : {}) });
  }
  const slowReads = fake.inject({ route: REVIEWS_ROUTE, times: Infinity, fault: { delayMs: 150 } });
  fake.clearRequests();
  const t = tap(fake);
  const issue = fake.addIssue(OWNER, 'api', { title: 'Incident room' });
  const comment = webhooks(fake).issueComment(OWNER, 'api', issue, { body: '/incident open sev1 Database failover', user: WRITER });
  const started = Date.now();
  const res = await app.send('issue_comment', comment);
  if (res.status >= 300) throw new Error(`comment refused: ${res.status}`);
  const blockedAt = await blockedTimes(t, (b) => b.size >= pulls.length, 300_000, `merge-first fan-out: the ${pulls.length} PRs blocked`);
  await quiesce(fake, 2000);
  t.stop();
  slowReads.cancel();
  const at = (p: (typeof pulls)[number]) => blockedAt.get(`${p.repo}@${p.sha}`)! - started;
  const ready = pulls.filter((p) => p.kind !== 'rest');
  const writes = t.seen.filter((r) => r.method !== 'GET' && r.route !== TOKEN_ROUTE);
  const reviewReads = t.seen.filter((r) => r.route === REVIEWS_ROUTE);
  // where the merge-ready PRs were in the update order, and where they were written
  const written = [...blockedAt.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  const positions = ready.map((p) => written.indexOf(`${p.repo}@${p.sha}`) + 1).sort((a, b) => a - b);
  const fanoutLog = app.logLines().find((l) => l.event === 'fanout' && l.msg === 'fan-out done' && /INC-/.test(String(l.reason)));
  await app.stop();
  return {
    repos: REPOS.length,
    pulls: pulls.length,
    mergeReady: ready.length,
    autoMerge: AUTO,
    approved: APPROVED,
    updateRanksOfMergeReady: ready.map((p) => p.rank + 1).sort((a, b) => a - b),
    writePositionsOfMergeReady: positions,
    readyBlockedMs: Math.max(...ready.map(at)),
    firstReadyBlockedMs: Math.min(...ready.map(at)),
    allBlockedMs: Math.max(...pulls.map(at)),
    writes: writes.length,
    reviewReads: reviewReads.length,
    lastReviewReadMs: reviewReads.length ? Math.max(...reviewReads.map((r) => r.at)) - started : null,
    fanoutDurationMs: (fanoutLog?.duration_ms as number | undefined) ?? null,
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export async function fanOut(): Promise<SectionResult> {
  const fake = await FakeGitHub.start();
  const dir = mkdtempSync(join(tmpdir(), 'moratorium-bench-'));
  try {
    progress('3A. fan-out, throttle on: 3 repositories x 15 PRs');
    const a = await smallRun(fake, dir);
    progress('3B. fan-out, throttle off: 20 repositories x 100 PRs');
    const b = await largeRun(fake, dir);
    progress('3C. merge-ready first, throttle on: 3 repositories x 40 PRs, 12 merge-ready');
    const c = await mergeFirstRun(fake, dir);
    const readyBudget = c.mergeReady * 1000 + 10_000;
    const allBudget = c.writes * 1000 + 10_000;
    const writeRatio = a.writes / a.least;
    const timeBudget = a.writes * 1000 + 10_000;
    const rows: Row[] = [
      { metric: 'A: writes for the incident', moratorium: String(a.writes), baseline: `${a.least} least possible`, target: `${writeRatio.toFixed(2)}x (≤1.1x)`, pass: writeRatio <= 1.1 },
      { metric: 'A: time to every feature PR blocked', moratorium: fmt(a.allBlockedMs / 1000, 's'), baseline: '', target: `≤ ${a.writes} x 1 s + 10 s = ${timeBudget / 1000} s`, pass: a.allBlockedMs <= timeBudget },
      { metric: 'A: time to first PR blocked', moratorium: fmt(a.firstBlockedMs / 1000, 's'), baseline: '', target: '', pass: null },
      { metric: 'A: time to the reply comment', moratorium: fmt(a.replyMs / 1000, 's'), baseline: '', target: '', pass: null },
      { metric: 'A: gates wrong after the fan-out', moratorium: String(a.wrongGates), baseline: '', target: '0', pass: a.wrongGates === 0 },
      { metric: 'C: time to all 12 merge-ready PRs blocked (of 120)', moratorium: fmt(c.readyBlockedMs / 1000, 's'), baseline: `updated-first: ≈ ${Math.max(...c.updateRanksOfMergeReady) + 2} s (est.)`, target: `≤ ${c.mergeReady} x 1 s + 10 s = ${readyBudget / 1000} s`, pass: c.readyBlockedMs <= readyBudget },
      { metric: 'C: time to all 120 PRs blocked', moratorium: fmt(c.allBlockedMs / 1000, 's'), baseline: '', target: `≤ ${c.writes} writes x 1 s + 10 s = ${allBudget / 1000} s`, pass: c.allBlockedMs <= allBudget },
      { metric: 'B: fan-out cost per PR (flip 2000, throttle off)', moratorium: fmt(b.msPerPr, 'ms/PR'), baseline: '', target: '', pass: null },
      { metric: "B: the app's CPU per PR flipped", moratorium: fmt(b.cpuMsPerPr, 'ms/PR'), baseline: '', target: '', pass: null },
      { metric: 'B: first gate per PR (start-up reconcile)', moratorium: fmt(b.firstGateMsPerPr, 'ms/PR'), baseline: '', target: '', pass: null },
    ];
    return {
      id: 'fanout',
      title: '3. Fan-out after /incident open sev1',
      rows,
      notes: [
        `A: ${a.repos} repositories, ${a.pulls} open PRs (${a.drafts} drafts, ${a.hotfixes} hotfixes, ${a.features} features), all gated Open before; throttle on; writes by route: ${Object.entries(a.writeRoutes).map(([k, v]) => `${v} ${k}`).join(', ')}; ${a.reads} reads; writes after the restart, before the incident: ${a.startupWrites}`,
        `A: the least possible is one check per feature PR that flips (${a.features}) + the reply + the reaction; drafts wait for ready_for_review, hotfixes stay green without a write`,
        `C: ${c.repos} repositories x ${c.pulls / c.repos} PRs, ${c.autoMerge} with auto-merge and ${c.approved} approved, at update ranks ${c.updateRanksOfMergeReady.join(', ')} (1 = most recently updated); they were written ${c.writePositionsOfMergeReady.join(', ')} of ${c.pulls}; first merge-ready PR blocked after ${fmt(c.firstReadyBlockedMs / 1000, 's')}; ${c.reviewReads} reviews read (150 ms each, the last ${c.lastReviewReadMs === null ? '-' : fmt(c.lastReviewReadMs / 1000, 's')} after the comment) beside ${c.writes} writes`,
        `B: ${b.repos} repositories x ${b.pulls / b.repos} PRs: start-up reconcile gated ${b.startupGates} PRs in ${fmt(b.startupReconcileMs / 1000, 's')}; the incident flipped ${b.pulls} in ${fmt(b.flipMs / 1000, 's')} (fan-out job ${b.fanoutDurationMs ?? '?'} ms, ${fmt(b.flipCpuMs / 1000, 's')} of the app's CPU), ${b.flipRequests} requests; wall time per PR includes the fake GitHub (OpenAPI validation of every request), which shares the two cores`,
      ],
      data: { small: a, mergeFirst: c, large: { ...b, msPerPr: round(b.msPerPr, 3), cpuMsPerPr: round(b.cpuMsPerPr, 3), firstGateMsPerPr: round(b.firstGateMsPerPr, 3) } },
    };
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
