/**
 * Starts bench/baseline-app.ts (stock Probot `run()`) as a child process against a FakeGitHub, the
 * way test/e2e/harness.ts starts Moratorium: its own process group, explicit environment, loopback
 * only, signed webhooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FakeGitHub } from '../../test/fake-github/index.js';
import { freePort, sign } from '../../test/e2e/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PASS_THROUGH = ['PATH', 'HOME', 'USER', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'];

export interface ChildApp {
  readonly url: string;
  /** the node process of the app */
  readonly pid: number;
  send(event: string, payload: unknown): Promise<{ status: number; deliveryId: string }>;
  stop(): Promise<void>;
  logs(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export async function startBaseline(fake: FakeGitHub, opts: { logLevel?: string } = {}): Promise<ChildApp> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  fake.setAppKey(publicKey);
  const port = await freePort();
  const secret = `whsec-${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = {};
  for (const k of PASS_THROUGH) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  Object.assign(env, {
    APP_ID: String(fake.appId),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: secret,
    PORT: String(port),
    HOST: '127.0.0.1',
    GHE_HOST: fake.host,
    GHE_PROTOCOL: 'http',
    LOG_LEVEL: opts.logLevel ?? 'info',
    LOG_FORMAT: 'json',
    NODE_ENV: 'production',
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-app.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const append = (b: Buffer) => {
    log += b.toString('utf8');
    if (log.length > 2_000_000) log = log.slice(-1_000_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    live.delete(child);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`baseline exited before it was healthy:\n${log.slice(-3000)}`);
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`baseline not healthy within 30 s:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    async send(event, payload) {
      const body = JSON.stringify(payload);
      const deliveryId = randomUUID();
      const res = await fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': event,
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': sign(secret, body),
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await res.text();
      return { status: res.status, deliveryId };
    },
    async stop() {
      if (gone) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    },
    logs: () => log,
  };
}
