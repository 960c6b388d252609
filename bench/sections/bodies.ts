/**
 * Section 5: hostile bodies (issue 10, SPEC 8). Moratorium (`npm start`) is sent 10 concurrent 30 MB
 * webhook bodies by clients that keep sending: unsigned with a declared length, unsigned chunked,
 * and chunked with a well-formed but wrong signature; a genuine signed webhook is sent meanwhile.
 * Every oversized body must be answered 413 without a reset, and the app's peak RSS (VmHWM) must stay
 * below its idle RSS plus 100 MB.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FakeGitHub } from '../../test/fake-github/index.js';
import { webhooks } from '../../test/e2e/harness.js';
import { stubbornPost, type Outcome } from '../../test/support/stubborn-client.js';
import { startMoratorium } from '../lib/apps.js';
import { fmt, peakRssMiB, progress, type Row, type SectionResult } from '../lib/report.js';

const CONCURRENT = 10;
const BIG = 30 * 1000 * 1000;
const MB = 1000 * 1000;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function bodies(): Promise<SectionResult> {
  const fake = await FakeGitHub.start();
  try {
    fake.addInstallation({ id: 7, account: 'acme' });
    fake.addRepo('acme', 'api');
    const app = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off' });
    const pid = app.appPid!;
    const idle = rssMiB(pid);
    const headers = (signature: string | null) => ({
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': randomUUID(),
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    });
    const kinds: Array<{ name: string; chunked: boolean; signed: boolean }> = [
      { name: 'unsigned, declared length', chunked: false, signed: false },
      { name: 'unsigned, chunked', chunked: true, signed: false },
      { name: 'wrong signature, chunked', chunked: true, signed: true },
    ];
    const results: Record<string, { answered413: number; resets: number; ms: number }> = {};
    const genuine: number[] = [];
    const peaks: number[] = [];
    for (const kind of kinds) {
      progress(`5. bodies: ${CONCURRENT} x 30 MB, ${kind.name}`);
      const pr = fake.addPull('acme', 'api');
      const t = Date.now();
      const load = Promise.all(
        Array.from({ length: CONCURRENT }, () => stubbornPost(app.url, '/api/github/webhooks', headers(kind.signed ? `sha256=${randomBytes(32).toString('hex')}` : null), BIG, { chunked: kind.chunked })),
      );
      const g = Date.now();
      const res = await app.send('pull_request', webhooks(fake).pullRequest('opened', 'acme', 'api', pr.number));
      if (res.status !== 200) throw new Error(`the genuine webhook was answered ${res.status}`);
      await fake.waitFor((f) => f.latestCheck('acme', 'api', pr.head.sha), 30_000, 'the genuine gate');
      genuine.push(Date.now() - g);
      const outcomes: Outcome[] = await load;
      peaks.push(peakRssMiB(pid));
      results[kind.name] = { answered413: outcomes.filter((o) => o.status === 413).length, resets: outcomes.filter((o) => o.error !== null).length, ms: Date.now() - t };
    }
    // after the two unsigned kinds, then after the mis-signed one too
    const peakUnsigned = peaks[1]!;
    const peak = peaks[2]!;
    await app.stop();
    const limit = idle + (100 * MB) / 1024 / 1024;
    const rows: Row[] = [
      ...kinds.map((k) => ({
        metric: `${CONCURRENT} x 30 MB ${k.name}: answered 413, no reset`,
        moratorium: `${results[k.name]!.answered413 - results[k.name]!.resets}/${CONCURRENT}`,
        baseline: '',
        target: `${CONCURRENT}/${CONCURRENT}`,
        pass: results[k.name]!.answered413 === CONCURRENT && results[k.name]!.resets === 0,
      })),
      { metric: 'peak RSS (VmHWM) under the unsigned load', moratorium: fmt(peakUnsigned, 'MiB'), baseline: '', target: `≤ idle + 100 MB (${fmt(limit, 'MiB')})`, pass: peakUnsigned < limit },
      { metric: '  and after the wrongly signed load too', moratorium: fmt(peak, 'MiB'), baseline: '', target: `≤ idle + 100 MB (${fmt(limit, 'MiB')})`, pass: peak < limit },
      { metric: 'a signed webhook meanwhile: sent -> gate posted, worst', moratorium: fmt(Math.max(...genuine), 'ms'), baseline: '', target: '', pass: null },
    ];
    return {
      id: 'bodies',
      title: `5. Hostile bodies (${CONCURRENT} concurrent 30 MB webhook bodies per kind, clients that keep sending, loopback)`,
      rows,
      notes: [
        `idle RSS ${fmt(idle, 'MiB')} after start and the start-up reconcile; peak is the process's VmHWM, start-up included`,
        ...kinds.map((k) => `${k.name}: ${results[k.name]!.answered413}/${CONCURRENT} answered 413, ${results[k.name]!.resets} reset, all answered and drained in ${results[k.name]!.ms} ms`),
      ],
      data: { idleRssMiB: idle, peakRssMiB: peak, peakUnsignedRssMiB: peakUnsigned, results, genuineMs: genuine },
    };
  } finally {
    await fake.stop();
  }
}
