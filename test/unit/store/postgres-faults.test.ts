/**
 * PostgreSQL unreachable at start: a clear error naming where (never the password). Its connections
 * cut while running: the store answers false to a ping at worst, then works again by itself.
 */
import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import { openPostgresStore } from '../../../src/store/postgres/engine.js';
import { PG_URL, requireServer, withDatabase } from '../../support/engines.js';

requireServer('MORATORIUM_TEST_DATABASE_URL', 'the PostgreSQL fault tests');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('opening the store', () => {
  it('refuses an unreachable PostgreSQL with where it tried, without the password', async () => {
    const port = await freePort();
    const error = await openStore({ databaseUrl: `postgres://moratorium:s3cret-pw@127.0.0.1:${port}/state`, sqlitePath: ':memory:', postgres: { connectTimeoutMs: 2000 } }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${port}/state: .*ECONNREFUSED`));
    expect((error as Error).message).not.toContain('s3cret-pw');
  });

  it('refuses a DATABASE_URL that is not PostgreSQL', async () => {
    await expect(openStore({ databaseUrl: 'mysql://x@127.0.0.1/db', sqlitePath: ':memory:' })).rejects.toThrow('DATABASE_URL must be a postgres:// or postgresql:// URL');
  });

  it('uses the SQLite file when DATABASE_URL is unset or empty', async () => {
    const store = await openStore({ databaseUrl: ' ', sqlitePath: ':memory:' });
    expect(store.engine).toBe('sqlite');
    await store.close();
  });
});

describe.skipIf(!PG_URL)('PostgreSQL lost while running', () => {
  it('gives up on a statement that takes longer than the time limit, and stays usable', async () => {
    const store = await openPostgresStore(PG_URL!, { poolSize: 1, queryTimeoutMs: 300 });
    try {
      // a statement the server cancels at the limit
      await expect(store.pool.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout|canceling statement/);
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('works again by itself once its connections were cut', async () => {
    const name = `moratorium_cut_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const store = await openPostgresStore(withDatabase(PG_URL!, name), { poolSize: 3 });
    try {
      await store.setMeta('k', 'before');
      await Promise.all([store.getMeta('k'), store.getMeta('k'), store.getMeta('k')]);
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      expect(cut.rowCount).toBeGreaterThan(0);
      // the first calls may meet a dead connection; it is dropped and a new one made
      const deadline = Date.now() + 10_000;
      let value: string | null = null;
      while (Date.now() < deadline) {
        value = await store.getMeta('k').catch(() => null);
        if (value !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(value).toBe('before');
      expect(await store.ping()).toBe(true);
      await store.transaction(async (tx) => tx.setMeta('k', 'after'));
      expect(await store.getMeta('k')).toBe('after');
    } finally {
      await store.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
