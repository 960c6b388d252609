/**
 * SPEC 9: writes for one installation keep the throttle's pace across replicas, as seen by GitHub
 * (no gap under 0.8 s, no two consecutive gaps adding up to under 1.8 s). Two replica processes
 * write for one installation to a local HTTP server through the real Redis of
 * MORATORIUM_TEST_REDIS_URL; the server's record of arrival times is checked.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSharedThrottle, PACING_SLOT_EXPIRY_MS } from '../../src/github/shared-throttle.js';
import { REDIS_URL, requireServer } from '../support/engines.js';

requireServer('MORATORIUM_TEST_REDIS_URL', 'the Redis-shared throttle test');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const REPLICA = fileURLToPath(new URL('../support/throttle-replica.ts', import.meta.url));
const PER_REPLICA = 4;

function lines(child: ChildProcessWithoutNullStreams, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes(want)) resolve();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (!out.split('\n').includes(want)) reject(new Error(`replica exited (${code}) before "${want}": ${err.slice(-2000)}`));
    });
  });
}

describe.skipIf(!REDIS_URL)('the write throttle shared through Redis', () => {
  let server: Server;
  let baseUrl: string;
  const writes: { at: number; sha: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const json = (status: number, data: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(data));
        };
        if (req.method === 'POST' && /^\/app\/installations\/\d+\/access_tokens$/.test(req.url ?? '')) {
          return json(201, { token: 'ghs_test', expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: 'all' });
        }
        if (req.method === 'GET' && req.url === '/repos/acme/api') return json(200, { id: 1, name: 'api', full_name: 'acme/api' });
        if (req.method === 'POST' && req.url === '/repos/acme/api/check-runs') {
          writes.push({ at: performance.now(), sha: (JSON.parse(body) as { head_sha: string }).head_sha });
          return json(201, { id: writes.length });
        }
        json(404, { message: 'Not Found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps one installation to SPEC 9 pace across two replicas', { timeout: 60_000 }, async () => {
    // an installation id of this run alone, so no earlier run's Redis keys pace it
    const installation = String(100_000 + Math.floor(Math.random() * 900_000));
    const replicas = ['a', 'b'].map((name) =>
      spawn(process.execPath, ['--import', 'tsx', REPLICA], {
        env: { ...process.env, BASE_URL: baseUrl, REDIS_URL: REDIS_URL!, INSTALLATION: installation, COUNT: String(PER_REPLICA), NAME: name, PRIVATE_KEY: privateKey },
      }),
    );
    try {
      await Promise.all(replicas.map((r) => lines(r, 'ready')));
      const done = Promise.all(replicas.map((r) => lines(r, 'done')));
      for (const r of replicas) r.stdin.write('go\n');
      await done;
    } finally {
      for (const r of replicas) if (r.exitCode === null) r.kill();
    }
    expect(writes.map((w) => w.sha).sort()).toEqual(['a', 'b'].flatMap((n) => Array.from({ length: PER_REPLICA }, (_, i) => `${n}-${i}`)).sort());
    // both replicas wrote, interleaved in one paced sequence
    const times = writes.map((w) => w.at).sort((x, y) => x - y);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const g of gaps) expect(g, `gaps ${gaps.map((x) => Math.round(x)).join(', ')} ms`).toBeGreaterThanOrEqual(800);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i - 1]! + gaps[i]!, `gaps ${gaps.map((x) => Math.round(x)).join(', ')} ms`).toBeGreaterThanOrEqual(1800);
  });

  it("holds a pacing slot in Redis for seconds, not the plugin's minute, and keeps the concurrency limits per process, so a replica killed in the middle stops nobody for long", async () => {
    const throttle = createSharedThrottle(REDIS_URL!);
    const redis = new Redis(REDIS_URL!);
    try {
      await throttle.ready();
      const key = `installation-${100_000 + Math.floor(Math.random() * 900_000)}`;
      /** the expiry Redis holds for the one running job of a group's limiter, in ms from now (Redis's clock) */
      const heldFor = async (groupId: string): Promise<number[]> => {
        const scores = await redis.zrange(`b_${groupId}-${key}_job_expirations`, 0, -1, 'WITHSCORES');
        const [seconds, micros] = await redis.time();
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
        return scores.filter((_, i) => i % 2 === 1).map((score) => Number(score) - now);
      };
      /**
       * what `look` sees while one job of the group holds its slot: scheduled as
       * @octokit/plugin-throttling does with clustering (an expiry of 60 s), and held until released,
       * as a process killed in the middle would hold it
       */
      const whileHeld = async <T>(group: Bottleneck.Group, look: () => Promise<T>): Promise<T> => {
        let release!: () => void;
        let started!: () => void;
        const running = new Promise<void>((resolve) => (started = resolve));
        const job = group.key(key).schedule({ expiration: 60_000 }, () => {
          started();
          return new Promise<void>((resolve) => (release = resolve));
        });
        await running;
        try {
          return await look();
        } finally {
          release();
          await job;
        }
      };
      for (const [group, id, most] of [
        [throttle.options.write, 'octokit-write', PACING_SLOT_EXPIRY_MS],
        [throttle.options.notifications, 'octokit-notifications', PACING_SLOT_EXPIRY_MS],
      ] as const) {
        const held = await whileHeld(group, () => heldFor(id));
        expect(held, id).toHaveLength(1);
        expect(held[0]!, id).toBeLessThanOrEqual(most);
        // and not less than the slot needs: a job waits at most its group's minTime (3 s) before it runs
        expect(held[0]!, id).toBeGreaterThan(most - 5_000);
      }
      // the concurrency groups are not in Redis at all: a dead replica's requests in flight hold nobody else up
      for (const [group, id] of [
        [throttle.options.global, 'octokit-global'],
        [throttle.options.auth, 'octokit-auth'],
      ] as const) {
        expect(await whileHeld(group, () => redis.keys(`b_${id}-${key}_*`)), id).toEqual([]);
      }
    } finally {
      redis.disconnect();
      await throttle.close();
    }
  });
});
