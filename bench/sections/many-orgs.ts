/**
 * Section 2: many organisations at once. A burst of `pull_request.opened` from ten installations
 * (three PRs each), all sent together: the time until every gate is posted, Moratorium against the
 * stock Probot baseline, throttle on. Stock Probot shares one write a second across installations;
 * Moratorium keys the throttle per installation. The fake's recorded writes show which: the most
 * writes in any one second, and the closest two writes of one installation.
 */
import { FakeGitHub, type RecordedRequest } from '../../test/fake-github/index.js';
import { webhooks } from '../../test/e2e/harness.js';
import { startBaseline } from '../lib/baseline.js';
import { CHECK_ROUTE, startMoratorium, tap } from '../lib/apps.js';
import { fmt, peakRssMiB, progress, ratio, sleep, vsBaseline, type SectionResult } from '../lib/report.js';

const INSTALLATIONS = 10;
const PULLS = 3;

interface Figures {
  gates: number;
  allPostedMs: number;
  /** the most check-run writes the fake saw within any 1000 ms */
  maxWritesPerSecond: number;
  /** the smallest gap between two writes of the same installation */
  minGapSameInstallationMs: number;
  /** the smallest gap between two writes of different installations that follow each other */
  minGapAcrossMs: number;
  peakRssMiB: number;
}

function spacing(writes: RecordedRequest[]): Pick<Figures, 'maxWritesPerSecond' | 'minGapSameInstallationMs' | 'minGapAcrossMs'> {
  const sorted = [...writes].sort((a, b) => a.at - b.at);
  let maxWritesPerSecond = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]!.at - sorted[j]!.at >= 1000) j++;
    maxWritesPerSecond = Math.max(maxWritesPerSecond, i - j + 1);
  }
  let minGapSameInstallationMs = Infinity;
  const lastOf = new Map<number | null, number>();
  let minGapAcrossMs = Infinity;
  for (let i = 0; i < sorted.length; i++) {
    const w = sorted[i]!;
    const last = lastOf.get(w.installationId);
    if (last !== undefined) minGapSameInstallationMs = Math.min(minGapSameInstallationMs, w.at - last);
    lastOf.set(w.installationId, w.at);
    const prev = sorted[i - 1];
    if (prev && prev.installationId !== w.installationId) minGapAcrossMs = Math.min(minGapAcrossMs, w.at - prev.at);
  }
  return { maxWritesPerSecond, minGapSameInstallationMs, minGapAcrossMs };
}

async function runOne(fake: FakeGitHub, who: 'moratorium' | 'baseline'): Promise<Figures> {
  fake.reset();
  const orgs = Array.from({ length: INSTALLATIONS }, (_, i) => ({ id: 201 + i, owner: `org-${String(i + 1).padStart(2, '0')}` }));
  for (const o of orgs) {
    fake.addInstallation({ id: o.id, account: o.owner });
    fake.addRepo(o.owner, 'service');
  }
  const app = who === 'moratorium' ? await startMoratorium(fake) : await startBaseline(fake);
  const pid = who === 'moratorium' ? (app as Awaited<ReturnType<typeof startMoratorium>>).appPid : (app as Awaited<ReturnType<typeof startBaseline>>).pid;
  await sleep(1500);
  fake.clearRequests();
  const hooks = webhooks(fake);
  // PRs appear after start-up, so Moratorium's start-up reconcile has not gated them
  const payloads = orgs.flatMap((o) => Array.from({ length: PULLS }, () => hooks.pullRequest('opened', o.owner, 'service', fake.addPull(o.owner, 'service', { title: 'Feature' }).number)));
  const t = tap(fake);
  const checkName = who === 'moratorium' ? 'moratorium' : 'baseline';
  const posted = () => t.seen.filter((r) => r.route === CHECK_ROUTE && r.status === 201 && r.body?.name === checkName);
  const started = Date.now();
  const answers = await Promise.all(payloads.map((p) => app.send('pull_request', p)));
  if (answers.some((a) => a.status >= 300)) throw new Error(`${who}: a webhook was refused`);
  const deadline = Date.now() + 180_000;
  while (posted().length < payloads.length) {
    if (Date.now() > deadline) throw new Error(`${who}: only ${posted().length} of ${payloads.length} gates posted in 180 s`);
    await sleep(20);
  }
  const writes = posted();
  const allPostedMs = Math.max(...writes.map((w) => w.at)) - started;
  t.stop();
  const peak = peakRssMiB(pid);
  await app.stop();
  return { gates: writes.length, allPostedMs, ...spacing(writes), peakRssMiB: peak };
}

export async function manyOrgs(): Promise<SectionResult> {
  const fake = await FakeGitHub.start();
  try {
    progress(`2. many organisations: baseline (${INSTALLATIONS} installations x ${PULLS} PRs)`);
    const b = await runOne(fake, 'baseline');
    progress('2. many organisations: moratorium');
    const m = await runOne(fake, 'moratorium');
    const perInstallation = m.maxWritesPerSecond > 1 && m.minGapSameInstallationMs >= 900;
    return {
      id: 'many-orgs',
      title: `2. Many organisations at once (${INSTALLATIONS} installations x ${PULLS} PRs opened in one burst, throttle on)`,
      rows: [
        vsBaseline('time until every gate is posted', m.allPostedMs / 1000, b.allPostedMs / 1000, 's', 0.3),
        { metric: 'gate writes per second, whole burst', moratorium: fmt(m.gates / (m.allPostedMs / 1000)), baseline: fmt(b.gates / (b.allPostedMs / 1000)), target: '', pass: null },
        { metric: 'most gate writes within any 1 s', moratorium: String(m.maxWritesPerSecond), baseline: String(b.maxWritesPerSecond), target: '> 1 (per-installation throttle)', pass: perInstallation },
        { metric: 'closest writes of one installation', moratorium: fmt(m.minGapSameInstallationMs, 'ms'), baseline: fmt(b.minGapSameInstallationMs, 'ms'), target: '≥ ~1000 ms (GitHub: 1 write/s)', pass: m.minGapSameInstallationMs >= 900 },
        { metric: 'closest writes of two installations', moratorium: fmt(m.minGapAcrossMs, 'ms'), baseline: fmt(b.minGapAcrossMs, 'ms'), target: `${ratio(m.minGapAcrossMs, b.minGapAcrossMs).toFixed(2)}x`, pass: null },
      ],
      notes: [
        perInstallation
          ? "Moratorium's throttle is keyed per installation: different installations write within the same second, each one at most once a second"
          : "Moratorium's writes are NOT spread per installation: the throttle id does not take effect",
        `stock Probot: about one write a second across all ${INSTALLATIONS} installations (${b.maxWritesPerSecond} in the worst 1 s window, arrival jitter): context.octokit is built from Probot's octokit options without a throttle id, so every installation shares the "no-id" limiter; Moratorium's Octokit class sets the id from the installation in ProbotOctokit.defaults(fn), which Probot applies to every client it builds`,
      ],
      data: { moratorium: m, baseline: b },
    };
  } finally {
    await fake.stop();
  }
}
