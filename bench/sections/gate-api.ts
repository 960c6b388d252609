/**
 * Section 5: the gate API (SPEC 10) as a deploy tool polls it. The app runs as users run it
 * (`npm start`, test/e2e/harness.ts) against the fake GitHub API on 127.0.0.1, with a typical
 * config (a window, a deployment cadence, a timed freeze in force); after a warm-up (config and
 * installation token cached) a fixed number of keep-alive clients ask
 * `GET /moratorium/api/v1/gate?repo=...&environment=production` for a bounded time and count.
 * The app's node process runs JavaScript on one core: requests per second are also given per
 * second of the app's CPU time (/proc), the figure the target is for.
 */
import { Agent, request } from 'node:http';
import { FakeGitHub } from '../../test/fake-github/index.js';
import { startMoratorium } from '../lib/apps.js';
import { cpuMs, fmt, percentile, progress, round, type SectionResult } from '../lib/report.js';

const CONCURRENCY = 8;
const WARMUP = 300;
const MAX_REQUESTS = 30_000;
const MAX_MS = 8_000;
const TARGET_PER_S = 2_000;
const CONFIG = [
  'windows:',
  '  - name: weekend',
  '    cron: "0 18 * * FRI"',
  '    duration: 63h',
  '    timezone: Europe/Berlin',
  'cadence:',
  '  max: 20',
  '  per: 24h',
  '  counts: deployments',
  '  environments: [production]',
  '',
].join('\n');

function get(agent: Agent, url: URL, token: string): Promise<{ status: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function gateApi(): Promise<SectionResult> {
  const fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  fake.addRepo('acme', 'api', { files: { '.github/moratorium.yml': CONFIG } });
  const app = await startMoratorium(fake, { MORATORIUM_GITHUB_THROTTLE: 'off', LOG_LEVEL: 'info' });
  try {
    const freeze = await app.api('POST', '/moratorium/api/v1/freezes', { account: 'acme', repo: 'api', until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'bench' });
    if (freeze.status !== 201) throw new Error(`freeze refused: ${freeze.status}`);
    const url = new URL(`${app.url}/moratorium/api/v1/gate?repo=acme/api&environment=production`);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    progress(`gate API: warm-up (${WARMUP} requests)`);
    for (let i = 0; i < WARMUP; i++) {
      const r = await get(agent, url, app.apiToken);
      if (r.status !== 200) throw new Error(`gate API answered ${r.status}`);
    }
    progress(`gate API: ${CONCURRENCY} clients, at most ${MAX_REQUESTS} requests or ${MAX_MS / 1000} s`);
    const latencies: number[] = [];
    let errors = 0;
    let sent = 0;
    const cpu0 = cpuMs(app.appPid);
    const t0 = Date.now();
    const deadline = t0 + MAX_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < MAX_REQUESTS && Date.now() < deadline) {
          sent++;
          const r = await get(agent, url, app.apiToken);
          if (r.status !== 200) errors++;
          latencies.push(r.ms);
        }
      }),
    );
    const wallMs = Date.now() - t0;
    const appCpuMs = cpuMs(app.appPid) - cpu0;
    agent.destroy();
    const perWallS = (latencies.length / wallMs) * 1000;
    const perCpuS = Number.isFinite(appCpuMs) && appCpuMs > 0 ? (latencies.length / appCpuMs) * 1000 : NaN;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    return {
      id: 'gate-api',
      title: '6. Gate API (GET /moratorium/api/v1/gate, warm cache)',
      rows: [
        { metric: "requests per second of the app's CPU (one core)", moratorium: fmt(perCpuS, '/s'), baseline: '', target: `≥ ${TARGET_PER_S}/s`, pass: Number.isFinite(perCpuS) ? perCpuS >= TARGET_PER_S : null },
        { metric: 'requests per second, wall clock (client on the same machine)', moratorium: fmt(perWallS, '/s'), baseline: '', target: '', pass: null },
        { metric: 'latency p50', moratorium: fmt(p50, 'ms'), baseline: '', target: '', pass: null },
        { metric: 'latency p99', moratorium: fmt(p99, 'ms'), baseline: '', target: '', pass: null },
        { metric: 'answers other than 200', moratorium: String(errors), baseline: '', target: '0', pass: errors === 0 },
      ],
      notes: [
        `${latencies.length} requests from ${CONCURRENCY} keep-alive clients in ${fmt(wallMs / 1000, 's')} after ${WARMUP} warm-up requests; a timed freeze, a window and a deployment cadence in the config.`,
        "The client runs on the same machine: the wall-clock rate shares the cores with it; the target is for requests per second of the app's own CPU time.",
      ],
      data: { requests: latencies.length, concurrency: CONCURRENCY, wallMs, appCpuMs, perWallS: round(perWallS), perCpuS: round(perCpuS), p50Ms: round(p50, 3), p99Ms: round(p99, 3), errors },
    };
  } finally {
    await app.stop();
    await fake.stop();
  }
}
