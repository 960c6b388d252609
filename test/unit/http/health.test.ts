/** SPEC 9: /moratorium/health answers 503 {"ok": false, "error": ...} when the database or Redis does not answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../src/http/router.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';

async function health(store: { ping(): Promise<boolean> }, redis?: { ping(): Promise<boolean> }) {
  const handler = createHttpHandler({ store, log: pino({ level: 'silent' }) }, [], { redis });
  let status = 0;
  let body = '';
  const res = {
    headersSent: false,
    writeHead(s: number) {
      status = s;
      return res;
    },
    end(text: string) {
      body = text;
    },
  } as unknown as ServerResponse;
  expect(await handler({ url: '/moratorium/health', method: 'GET' } as IncomingMessage, res)).toBe(true);
  return { status, body: JSON.parse(body) as unknown };
}

describe('/moratorium/health', () => {
  it('answers 200 while the database (and Redis) answer', async () => {
    const store = openSqliteStore(':memory:');
    expect(await health(store)).toEqual({ status: 200, body: { ok: true } });
    expect(await health(store, { ping: async () => true })).toEqual({ status: 200, body: { ok: true } });
    await store.close();
  });

  it('answers 503 with the reason when the database fails or is closed', async () => {
    const store = openSqliteStore(':memory:');
    await store.close();
    expect(await health(store)).toEqual({ status: 503, body: { ok: false, error: 'the database does not answer' } });
    expect(await health({ ping: async () => Promise.reject(new Error('connection refused')) })).toEqual({ status: 503, body: { ok: false, error: 'the database does not answer' } });
  });

  it('answers 503 when Redis does not answer, and names both when neither does', async () => {
    const store = openSqliteStore(':memory:');
    expect(await health(store, { ping: async () => false })).toEqual({ status: 503, body: { ok: false, error: 'Redis (REDIS_URL) does not answer' } });
    expect(await health({ ping: async () => false }, { ping: () => Promise.reject(new Error('ECONNREFUSED')) })).toEqual({
      status: 503,
      body: { ok: false, error: 'the database does not answer; Redis (REDIS_URL) does not answer' },
    });
    await store.close();
  });
});
