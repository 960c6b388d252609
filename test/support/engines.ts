/**
 * Both store engines for tests that must pass on each: SQLite in a temporary file, PostgreSQL in a
 * fresh database on the server of MORATORIUM_TEST_DATABASE_URL (scripts/test-servers.sh starts one;
 * .ci/run always does). Without that variable the PostgreSQL half is skipped with a loud message,
 * unless MORATORIUM_TEST_REQUIRE_SERVERS=1 (CI), where its absence fails the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AsyncStore } from '../../src/store/contract.js';
import { openPostgresStore } from '../../src/store/postgres/engine.js';
import { openSqliteStore } from '../../src/store/sqlite/engine.js';

export const PG_URL = process.env.MORATORIUM_TEST_DATABASE_URL?.trim() || undefined;
export const REDIS_URL = process.env.MORATORIUM_TEST_REDIS_URL?.trim() || undefined;
const REQUIRED = process.env.MORATORIUM_TEST_REQUIRE_SERVERS === '1';

export function requireServer(name: 'MORATORIUM_TEST_DATABASE_URL' | 'MORATORIUM_TEST_REDIS_URL', what: string): void {
  if (process.env[name]?.trim()) return;
  if (REQUIRED) throw new Error(`${name} is not set but MORATORIUM_TEST_REQUIRE_SERVERS=1: ${what} cannot be skipped`);
  console.warn(
    [
      '',
      '!'.repeat(88),
      `!!! ${name} is not set: ${what} is SKIPPED.`,
      '!!! Start the servers with: eval "$(scripts/test-servers.sh start)"',
      '!'.repeat(88),
      '',
    ].join('\n'),
  );
}

/** one engine: opens stores on one database (several at once behave as several replicas) */
export interface Engine {
  name: 'sqlite' | 'postgres';
  /** a new database for one test */
  fresh(): Promise<EngineDb>;
}

export interface EngineDb {
  /** a store (a connection or pool of its own) on this database */
  open(): Promise<AsyncStore>;
  /** raw SQL on this database, for assertions the contract does not offer */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

function sqliteEngine(): Engine {
  return {
    name: 'sqlite',
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'moratorium-contract-'));
      const path = join(dir, 'state.db');
      const opened: AsyncStore[] = [];
      let raw: AsyncStore | undefined;
      return {
        async open() {
          const s = openSqliteStore(path);
          opened.push(s);
          return s;
        },
        async query(sql, params = []) {
          raw ??= openSqliteStore(path);
          opened.push(raw);
          const db = (raw as unknown as { db: import('better-sqlite3').Database }).db;
          const st = db.prepare(sql);
          return st.reader ? (st.all(...params) as Record<string, unknown>[]) : (st.run(...params), []);
        },
        async drop() {
          await Promise.all(opened.map((s) => s.close()));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A test's own connection or pool, with a listener for 'error': pg emits it (beside failing the
 * statement under way) when a connection is lost, and without a listener the test process ends.
 */
export function quiet<T extends pg.Client | pg.Pool>(c: T): T {
  (c as pg.Client).on('error', () => {});
  return c;
}

function postgresEngine(adminUrl: string): Engine {
  return {
    name: 'postgres',
    async fresh() {
      const name = `moratorium_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const admin = quiet(new pg.Client({ connectionString: adminUrl }));
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = withDatabase(adminUrl, name);
      const opened: AsyncStore[] = [];
      const raw = quiet(new pg.Pool({ connectionString: url, max: 2 }));
      return {
        async open() {
          const s = await openPostgresStore(url, { poolSize: 8 });
          opened.push(s);
          return s;
        },
        async query(sql, params = []) {
          return (await raw.query(sql, params)).rows as Record<string, unknown>[];
        },
        async drop() {
          await Promise.all(opened.map((s) => s.close().catch(() => {})));
          await raw.end();
          const a = quiet(new pg.Client({ connectionString: adminUrl }));
          await a.connect();
          await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await a.end();
        },
        url,
      } as EngineDb & { url: string };
    },
  };
}

/** the engines to run on: SQLite always, PostgreSQL when its server is given */
export function engines(): Engine[] {
  requireServer('MORATORIUM_TEST_DATABASE_URL', 'the PostgreSQL half of the store tests');
  return PG_URL ? [sqliteEngine(), postgresEngine(PG_URL)] : [sqliteEngine()];
}
