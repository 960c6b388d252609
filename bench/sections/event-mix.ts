/**
 * Section 1: an everyday event mix, Moratorium against the stock Probot baseline, same fake, same
 * workload, throttle on as in production. Per PR: opened, labeled with a label that exempts nothing,
 * title edited, synchronize; one event every 1.1 s.
 */
import { FakeGitHub, type RecordedRequest } from '../../test/fake-github/index.js';
import { webhooks } from '../../test/e2e/harness.js';
import { startBaseline } from '../lib/baseline.js';
import { CHECK_ROUTE, TOKEN_ROUTE, quiesce, startMoratorium, tap } from '../lib/apps.js';
import { fmt, peakRssMiB, percentile, progress, ratio, sleep, vsBaseline, type SectionResult } from '../lib/report.js';

const OWNER = 'acme';
const REPOS = ['api', 'web'];
const PULLS_PER_REPO = 4;
const SPACING_MS = 1100;
const ACTIONS = ['opened', 'labeled', 'edited', 'synchronize'] as const;
/** a separate installation whose events warm both apps up (JIT, connection pools) and are not counted */
const WARMUP = { installation: 9, owner: 'warmup-org', repo: 'w', pulls: 2 };

interface Sent {
  action: (typeof ACTIONS)[number];
  repo: string;
  number: number;
  sha: string;
  at: number;
}

interface AppFigures {
  events: number;
  requests: number;
  requestsNoToken: number;
  writes: number;
  perEvent: number;
  perEventNoToken: number;
  writesPerEvent: number;
  byAction: Record<string, { events: number; requests: number; posted: number }>;
  latencies: number[];
  /** latencies of the events both apps post on (opened, synchronize): the like-for-like comparison */
  matched: number[];
  p50: number;
  p90: number;
  peakRssMiB: number;
}

/** Sends the workload's events for these PRs, one every 1.1 s; returns what was sent when. */
async function drive(fake: FakeGitHub, send: (event: string, payload: unknown) => Promise<{ status: number }>, owner: string, pulls: { repo: string; number: number }[]): Promise<Sent[]> {
  const hooks = webhooks(fake);
  const sent: Sent[] = [];
  for (const action of ACTIONS) {
    for (const p of pulls) {
      let sha: string;
      let payload: Record<string, unknown>;
      if (action === 'opened') {
        const pr = fake.addPull(owner, p.repo, { title: `Feature ${p.repo} ${sent.length}` });
        p.number = pr.number;
        sha = pr.head.sha;
        payload = hooks.pullRequest('opened', owner, p.repo, p.number);
      } else if (action === 'labeled') {
        const pr = fake.updatePull(owner, p.repo, p.number, { labels: ['documentation'] });
        sha = pr.head.sha;
        payload = hooks.pullRequest('labeled', owner, p.repo, p.number, { label: 'documentation' });
      } else if (action === 'edited') {
        const before = fake.pull(owner, p.repo, p.number)!.title as string;
        const pr = fake.updatePull(owner, p.repo, p.number, { title: `${before} (renamed)` });
        sha = pr.head.sha;
        payload = hooks.pullRequest('edited', owner, p.repo, p.number, { changes: { title: { from: before } } });
      } else {
        sha = fake.pushToPull(owner, p.repo, p.number);
        payload = hooks.pullRequest('synchronize', owner, p.repo, p.number);
      }
      const at = Date.now();
      const res = await send('pull_request', payload);
      if (res.status >= 300) throw new Error(`webhook answered ${res.status}`);
      sent.push({ action, repo: p.repo, number: p.number, sha, at });
      await sleep(Math.max(0, at + SPACING_MS - Date.now()));
    }
  }
  return sent;
}

async function runOne(fake: FakeGitHub, who: 'moratorium' | 'baseline', checkName: string): Promise<AppFigures> {
  fake.reset();
  fake.addInstallation({ id: 7, account: OWNER });
  for (const repo of REPOS) fake.addRepo(OWNER, repo);
  fake.addInstallation({ id: WARMUP.installation, account: WARMUP.owner });
  fake.addRepo(WARMUP.owner, WARMUP.repo);
  const app = who === 'moratorium' ? await startMoratorium(fake) : await startBaseline(fake);
  const pid = who === 'moratorium' ? (app as Awaited<ReturnType<typeof startMoratorium>>).appPid : (app as Awaited<ReturnType<typeof startBaseline>>).pid;
  const send = (event: string, payload: unknown) => app.send(event, payload);
  await drive(fake, send, WARMUP.owner, Array.from({ length: WARMUP.pulls }, () => ({ repo: WARMUP.repo, number: 0 })));
  await quiesce(fake, 1500);
  fake.clearRequests();
  const t = tap(fake);
  const sent = await drive(fake, send, OWNER, REPOS.flatMap((repo) => Array.from({ length: PULLS_PER_REPO }, () => ({ repo, number: 0 }))));
  await quiesce(fake, 3000);
  t.stop();
  const peak = peakRssMiB(pid);
  await app.stop();

  const reqs: RecordedRequest[] = t.seen;
  const byAction: AppFigures['byAction'] = {};
  const latencies: number[] = [];
  const matched: number[] = [];
  sent.forEach((s, i) => {
    const end = sent[i + 1]?.at ?? Infinity;
    const mine = reqs.filter((r) => r.at >= s.at && r.at < end);
    const post = mine.find((r) => r.route === CHECK_ROUTE && r.body?.head_sha === s.sha && r.body?.name === checkName);
    const a = (byAction[s.action] ??= { events: 0, requests: 0, posted: 0 });
    a.events++;
    a.requests += mine.length;
    if (post) {
      a.posted++;
      latencies.push(post.at - s.at);
      if (s.action === 'opened' || s.action === 'synchronize') matched.push(post.at - s.at);
    }
  });
  const tokens = reqs.filter((r) => r.route === TOKEN_ROUTE).length;
  const writes = reqs.filter((r) => r.method !== 'GET' && r.route !== TOKEN_ROUTE).length;
  return {
    events: sent.length,
    requests: reqs.length,
    requestsNoToken: reqs.length - tokens,
    writes,
    perEvent: reqs.length / sent.length,
    perEventNoToken: (reqs.length - tokens) / sent.length,
    writesPerEvent: writes / sent.length,
    byAction,
    latencies,
    matched,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    peakRssMiB: peak,
  };
}

export async function eventMix(): Promise<SectionResult> {
  const fake = await FakeGitHub.start();
  try {
    progress('1. event mix: baseline (stock Probot run())');
    const b = await runOne(fake, 'baseline', 'baseline');
    progress('1. event mix: moratorium (npm start)');
    const m = await runOne(fake, 'moratorium', 'moratorium');
    const violations = fake.violations.length;
    const rows = [
      vsBaseline('GitHub requests per event', m.perEvent, b.perEvent, '', 0.6),
      vsBaseline('  same, without access-token requests', m.perEventNoToken, b.perEventNoToken, '', 0.6),
      { metric: '  writes per event', moratorium: fmt(m.writesPerEvent), baseline: fmt(b.writesPerEvent), target: `${ratio(m.writesPerEvent, b.writesPerEvent).toFixed(2)}x`, pass: null },
      vsBaseline('latency webhook -> gate posted, p50', m.p50, b.p50, 'ms', 1.3),
      { metric: 'latency webhook -> gate posted, p90', moratorium: fmt(m.p90, 'ms'), baseline: fmt(b.p90, 'ms'), target: `${ratio(m.p90, b.p90).toFixed(2)}x`, pass: null },
      vsBaseline('peak RSS (VmHWM)', m.peakRssMiB, b.peakRssMiB, 'MiB', 1.3),
    ];
    const describe = (f: AppFigures) =>
      Object.entries(f.byAction)
        .map(([a, x]) => `${a} ${fmt(x.requests / x.events)} req/event, posted ${x.posted}/${x.events}`)
        .join('; ');
    return {
      id: 'event-mix',
      title: `1. Event mix (${m.events} events: ${ACTIONS.join(', ')} on ${REPOS.length * PULLS_PER_REPO} PRs in ${REPOS.length} repositories, 1.1 s apart, throttle on)`,
      rows,
      notes: [
        `moratorium: ${describe(m)}`,
        `baseline:   ${describe(b)}`,
        `latency counts the events that post a gate: moratorium ${m.latencies.length} (a label or title edit that changes no decision costs no request), baseline ${b.latencies.length}; like for like (opened and synchronize only) p50 ${fmt(percentile(m.matched, 50), 'ms')} vs ${fmt(percentile(b.matched, 50), 'ms')} (${ratio(percentile(m.matched, 50), percentile(b.matched, 50)).toFixed(2)}x), p90 ${fmt(percentile(m.matched, 90), 'ms')} vs ${fmt(percentile(b.matched, 90), 'ms')}`,
        `both apps first handle ${WARMUP.pulls * ACTIONS.length} uncounted events of another installation (warm-up)`,
        `requests counted from the first webhook to quiet (Moratorium's start-up reconcile excluded); OpenAPI violations seen by the fake: ${violations}`,
      ],
      data: { moratorium: m, baseline: b, violations },
    };
  } finally {
    await fake.stop();
  }
}
