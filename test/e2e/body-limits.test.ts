/**
 * Bounded bodies, end to end (issue 10, SPEC 8): the app (`npm start`) against the fake GitHub API,
 * sent bodies over 25 MiB by a real client that keeps sending (declared length, chunked, with
 * `Expect: 100-continue`), slow and truncated bodies. Each is refused with a 4xx that reaches the
 * client (no reset), nothing is stored, the app's memory stays bounded, and signed webhooks are
 * served meanwhile.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { stubbornPost } from '../support/stubborn-client.js';
import { expectFakeClean, sign, startApp, webhooks, type AppHandle, type Webhooks } from './harness.js';

const OWNER = 'acme';
const REPO = 'api';
const MiB = 1024 * 1024;
const LIMIT = 25 * MiB;
const BIG = 30 * 1000 * 1000;

/** Raw bytes over TCP; resolves with everything the server sent once it closes (or errors) the connection. */
function rawExchange(port: number, first: string | Buffer, opts: { thenSend?: (socket: import('node:net').Socket) => void } = {}): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let error: string | null = null;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(first);
      opts.thenSend?.(socket);
    });
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ text, error }));
  });
}

function status(procStatus: string, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+)\\s+kB`).exec(procStatus);
  if (!m) throw new Error(`no ${key} in /proc status`);
  return Number(m[1]) * 1024;
}

describe('bounded bodies (npm start against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, REPO);
    hooks = webhooks(fake);
    app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_REQUEST_TIMEOUT: '3s' } });
    await app.waitForLog('reconcile done', 20_000);
  });

  afterEach(() => {
    expectFakeClean(fake);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  const webhookHeaders = (signature: string | null, extra: Record<string, string> = {}): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/fake',
    'x-github-event': 'pull_request',
    'x-github-delivery': randomUUID(),
    ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    ...extra,
  });

  async function stored() {
    const a = await app.api('GET', `/moratorium/api/v1/audit?account=${OWNER}&limit=500`);
    expect(a.status).toBe(200);
    return { audit: a.body.entries.length as number, writes: fake.writes().length };
  }

  /** A genuine webhook is still handled: answered 200 and its gate posted. */
  async function servesSigned(): Promise<void> {
    const pr = fake.addPull(OWNER, REPO, { title: `Genuine ${randomUUID().slice(0, 8)}` });
    const res = await app.send('pull_request', hooks.pullRequest('opened', OWNER, REPO, pr.number));
    expect(res.status).toBe(200);
    const check = await fake.waitFor((f) => f.latestCheck(OWNER, REPO, pr.head.sha), 20_000, 'the gate of the genuine delivery');
    expect(check.conclusion).toBe('success');
  }

  it('refuses 10 concurrent 30 MB unsigned bodies with 413 (declared and chunked), keeps memory bounded and serves a signed webhook meanwhile', async () => {
    const pid = app.appPid;
    expect(pid).not.toBeNull();
    const idle = status(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    const before = await stored();

    for (const chunked of [false, true]) {
      const genuine = servesSigned();
      // chunked: the client holds the rest back after 25 MiB + 1 byte until it is answered; declared: before the first body byte
      const pauseAfter = chunked ? LIMIT + 1 : 0;
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => stubbornPost(app.url, '/api/github/webhooks', webhookHeaders(null), BIG, { chunked, pauseAfter })));
      await genuine;
      for (const o of outcomes) {
        expect(o.error, `chunked ${chunked}`).toBeNull();
        expect(o.status, `chunked ${chunked}`).toBe(413);
        expect(JSON.parse(o.body)).toEqual({ error: 'the body is larger than 25 MiB' });
        expect(o.sent).toBe(BIG);
        // answered as soon as 25 MiB had arrived (chunked) or before the body was sent (declared)
        expect(o.sentAtResponse).toBe(pauseAfter);
      }
    }
    const peak = status(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
    expect(peak, `peak RSS ${(peak / MiB).toFixed(0)} MiB, idle ${(idle / MiB).toFixed(0)} MiB`).toBeLessThan(idle + 100 * 1000 * 1000);
    const after = await stored();
    // the two genuine webhooks posted their gates; nothing else was written or audited
    expect(after.audit).toBe(before.audit);
    expect(after.writes - before.writes).toBe(2);
  }, 120_000);

  it('refuses mis-signed 30 MB bodies with 413 too, without holding them all (the unverified budget)', async () => {
    const pid = app.appPid;
    const idle = status(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => stubbornPost(app.url, '/api/github/webhooks', webhookHeaders(`sha256=${randomBytes(32).toString('hex')}`), BIG, { chunked: true })),
    );
    for (const o of outcomes) {
      expect(o.error).toBeNull();
      expect(o.status).toBe(413);
    }
    const peak = status(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
    // at most 10 x 1 MiB free + the 40 MiB budget are held, plus buffers in flight
    expect(peak, `peak RSS ${(peak / MiB).toFixed(0)} MiB, idle ${(idle / MiB).toFixed(0)} MiB`).toBeLessThan(idle + 100 * 1000 * 1000);
    await servesSigned();
  }, 120_000);

  it('answers a declared length over 25 MiB before the body is sent, and before 100 Continue', async () => {
    const head = (extra: string) =>
      `POST /api/github/webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-github-event: push\r\nx-github-delivery: ${randomUUID()}\r\nx-hub-signature-256: sha256=${'0'.repeat(64)}\r\ncontent-length: ${LIMIT + 1}\r\n${extra}\r\n`;
    // no body byte is ever sent: the answer still comes, and the connection is closed by the server
    const plain = await rawExchange(app.port, head(''));
    expect(plain.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(plain.text).toContain('the body is larger than 25 MiB');
    expect(plain.text.toLowerCase()).toContain('connection: close');
    const expecting = await rawExchange(app.port, head('expect: 100-continue\r\n'));
    expect(expecting.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(expecting.text).not.toContain('100 Continue');
    await servesSigned();
  });

  it('answers 413 on every other route too, before the token is checked (64 KiB for the API)', async () => {
    const token = { authorization: 'Bearer not-the-token', 'content-type': 'application/json' };
    for (const path of ['/moratorium/api/v1/freezes', '/moratorium/webhooks/pagerduty', '/metrics', '/nowhere']) {
      const declared = await stubbornPost(app.url, path, token, 2 * MiB);
      expect(declared.error, path).toBeNull();
      expect(declared.status, path).toBe(413);
      // declared too long: answered though not a byte of the body is sent
      const headOnly = await rawExchange(app.port, `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer not-the-token\r\ncontent-length: ${64 * 1024 + 1}\r\n\r\n`);
      expect(headOnly.text, path).toMatch(/^HTTP\/1\.1 413 /);
      const chunked = await stubbornPost(app.url, path, token, BIG, { chunked: true });
      expect(chunked.error, path).toBeNull();
      expect(chunked.status, path).toBe(413);
      expect(JSON.parse(chunked.body), path).toEqual({ error: 'the body is larger than 64 KiB' });
    }
    // within the limit, the token is checked as before
    const small = await stubbornPost(app.url, '/moratorium/api/v1/freezes', token, 100);
    expect(small.status).toBe(401);
  }, 60_000);

  it('times out slow bodies and slow headers, drops truncated bodies, stores nothing and serves signed webhooks meanwhile', async () => {
    const before = await stored();
    const body = JSON.stringify(hooks.issueComment(OWNER, REPO, fake.addPull(OWNER, REPO).number, { body: '/incident open sev1 Slow one', user: 'octocat' }));
    const signature = sign(app.webhookSecret, body);
    const head = (length: number) =>
      `POST /api/github/webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-github-event: issue_comment\r\nx-github-delivery: ${randomUUID()}\r\nx-hub-signature-256: ${signature}\r\ncontent-length: ${length}\r\n\r\n`;
    // a signed body sent one byte at a time, too slowly to finish within the request timeout
    const slowBody = rawExchange(app.port, head(Buffer.byteLength(body)), {
      thenSend: (socket) => {
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= body.length) return clearInterval(timer);
          socket.write(body[i++]!);
        }, 200);
        socket.once('close', () => clearInterval(timer));
      },
    });
    // headers that never end
    const slowHeaders = rawExchange(app.port, 'POST /api/github/webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\n', {
      thenSend: (socket) => {
        const timer = setInterval(() => socket.destroyed || socket.write('x-padding: 1\r\n'), 200);
        socket.once('close', () => clearInterval(timer));
      },
    });
    // meanwhile, a genuine delivery is served
    await servesSigned();
    const [body408, headers408] = await Promise.all([slowBody, slowHeaders]);
    expect(body408.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(headers408.text).toMatch(/^HTTP\/1\.1 408 /);

    // a signed body cut off half way: the connection closes, nothing is handled
    const truncated = await rawExchange(app.port, head(Buffer.byteLength(body)), {
      thenSend: (socket) => socket.end(body.slice(0, Math.floor(body.length / 2))),
    });
    // Node answers a request cut off by the client's FIN with 400 (or the connection is just closed)
    expect(truncated.text).toMatch(/^$|^HTTP\/1\.1 400 /);
    await app.waitForLog(/"aborted":true/);
    const after = await stored();
    expect(after.audit).toBe(before.audit);
    // only the genuine delivery's gate was written
    expect(after.writes - before.writes).toBe(1);
    const health = await fetch(`${app.url}/moratorium/health`);
    expect(health.status).toBe(200);
  }, 60_000);

  it('answers bad and missing signatures with a clear 4xx and never 2xx', async () => {
    const body = JSON.stringify(hooks.pullRequest('opened', OWNER, REPO, fake.addPull(OWNER, REPO).number));
    const missing = await app.sendRaw(webhookHeaders(null), body);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).error).toBe('Required headers missing: x-hub-signature-256');
    const wrong = await app.sendRaw(webhookHeaders(sign('not-the-secret', body)), body);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toMatch(/does not match the body and the webhook secret/);
    const malformed = await app.sendRaw(webhookHeaders('sha256=xyz'), body);
    expect(malformed.status).toBe(401);
    expect(JSON.parse(malformed.body).error).toMatch(/must be "sha256=" and 64 hex digits/);
  });
});
