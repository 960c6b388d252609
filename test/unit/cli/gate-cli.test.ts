/** `moratorium gate --wait`'s pacing and the token sources, in process: a fake clock, sleep and fetch. */
import { describe, expect, it } from 'vitest';
import { gateCli, POLL_MS, type GateCliIo } from '../../../src/cli-gate.js';

const T0 = Date.UTC(2026, 11, 1, 10, 0);
const iso = (t: number) => new Date(t).toISOString();

interface Answer {
  open: boolean;
  next_change_at?: number | null;
}

function harness(answers: Answer[], env: Record<string, string> = { MORATORIUM_TOKEN: 't0k3n' }) {
  let t = T0;
  const sleeps: number[] = [];
  const requests: { url: string; authorization: string | null }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const fetchFake = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, authorization: new Headers(init?.headers).get('authorization') });
    if (url.startsWith('http://runner')) return new Response(JSON.stringify({ value: 'oidc-token' }), { status: 200 });
    const a = answers[Math.min(requests.filter((r) => !r.url.startsWith('http://runner')).length - 1, answers.length - 1)]!;
    const body = { open: a.open, title: a.open ? 'Open' : 'Frozen: manual freeze', reasons: [], hotfix: false, blocked_until: null, next_change_at: a.next_change_at ? iso(a.next_change_at) : null };
    return new Response(JSON.stringify(body), { status: 200 });
  }) as typeof fetch;
  const io: GateCliIo = {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    clock: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    env,
    fetch: fetchFake,
  };
  return { io, sleeps, requests, out, err, now: () => t };
}

const ARGS = ['--url', 'http://app.test', '--repo', 'acme/api', '--environment', 'production'];

describe('moratorium gate --wait', () => {
  it('asks again at next_change_at when that is sooner than 5 s, else every 5 s', async () => {
    const h = harness([{ open: false, next_change_at: T0 + 2_000 }, { open: false, next_change_at: T0 + 3_600_000 }, { open: false, next_change_at: null }, { open: true }]);
    expect(await gateCli([...ARGS, '--wait'], h.io)).toBe(0);
    expect(h.sleeps).toEqual([2_000, POLL_MS, POLL_MS]);
    expect(h.out.join('')).toMatch(/^blocked: Frozen[^\n]*waiting[^\n]*\nopen: Open\n$/);
    expect(h.requests.every((r) => r.authorization === 'Bearer t0k3n')).toBe(true);
  });

  it('ends with 1 when the timeout ends first, sleeping no further than it', async () => {
    const h = harness([{ open: false, next_change_at: null }]);
    expect(await gateCli([...ARGS, '--wait', '--timeout', '12s'], h.io)).toBe(1);
    expect(h.sleeps).toEqual([5_000, 5_000, 2_000]);
    expect(h.now()).toBe(T0 + 12_000);
    expect(h.err.join('')).toMatch(/still blocked after waiting 12s/);
  });

  it('without --wait asks once and exits 1 when blocked', async () => {
    const h = harness([{ open: false, next_change_at: T0 + 60_000 }]);
    expect(await gateCli(ARGS, h.io)).toBe(1);
    expect(h.sleeps).toEqual([]);
    expect(h.out.join('')).toMatch(/it may change at 2026-12-01T10:01:00.000Z/);
  });

  it('inside GitHub Actions asks the runner for a token with audience moratorium (or MORATORIUM_OIDC_AUDIENCE)', async () => {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://runner/token?api-version=2.0', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'req' };
    const h = harness([{ open: true }], env);
    expect(await gateCli(ARGS, h.io)).toBe(0);
    expect(h.requests[0]).toEqual({ url: 'http://runner/token?api-version=2.0&audience=moratorium', authorization: 'bearer req' });
    expect(h.requests[1]!.authorization).toBe('Bearer oidc-token');
    const custom = harness([{ open: true }], { ...env, MORATORIUM_OIDC_AUDIENCE: 'deploys' });
    expect(await gateCli(ARGS, custom.io)).toBe(0);
    expect(custom.requests[0]!.url).toMatch(/&audience=deploys$/);
  });

  it('exits 2 on usage errors: bad --timeout, bad --sha, no token', async () => {
    expect(await gateCli([...ARGS, '--timeout', 'soon'], harness([{ open: true }]).io)).toBe(2);
    expect(await gateCli([...ARGS, '--sha', 'abc'], harness([{ open: true }]).io)).toBe(2);
    expect(await gateCli(ARGS, harness([{ open: true }], {}).io)).toBe(2);
  });
});
