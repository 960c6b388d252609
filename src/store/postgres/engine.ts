/**
 * The PostgreSQL engine of the asynchronous store (several replicas, chosen by DATABASE_URL).
 * Statements run as named prepared statements on a pool. A transaction takes one pooled client,
 * runs SERIALIZABLE (the same guarantee as SQLite's one-at-a-time transactions, across replicas)
 * and is run again from the start after a serialization failure or a deadlock. Migrations run at
 * start under an advisory lock, so replicas starting together migrate once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { checkTopic, repositories, runAfterCommit, StoreUnavailableError, TransactionMisuse, type AsyncStore, type ListenOptions, type Transaction, type TransactionOptions } from '../contract.js';
import type { Param, Row, Sql, Statement } from '../sql.js';
import { PG_MIGRATIONS } from './migrations.js';

/** pg_advisory_lock key held while migrating ("moratorium" in ASCII, as a bigint) */
export const MIGRATION_LOCK = '7881129105843097965';

const INT8 = 20;
const NUMERIC = 1700;
/** BIGINT (times in ms, ids, counts) as JS numbers, as SQLite hands them out */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** a 64-bit advisory lock key for a string (signed, as PostgreSQL's bigint) */
export function lockKeyOf(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/** where a URL points, without its password (for messages) */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'an unreadable DATABASE_URL';
  }
}

export interface PostgresOptions {
  /** most connections this process opens (default 10) */
  poolSize?: number;
  applicationName?: string;
  /** how long a connection attempt may take before it fails (default 5 s) */
  connectTimeoutMs?: number;
  /**
   * how long one statement may wait for its answer before it fails (default 8 s), so a webhook that
   * cannot be stored is answered 5xx within GitHub's 10-second timeout; 0: none. Migrations and
   * LISTEN have no limit.
   */
  queryTimeoutMs?: number;
}

/** migrates on a connection of its own, without the pool's statement time limit */
export async function migratePostgres(config: pg.ClientConfig): Promise<number> {
  const c = new pg.Client({ ...config, types });
  // a lost connection also fails the statement under way, which says so; without a listener the
  // 'error' event pg emits beside it would end the process
  c.on('error', () => {});
  await c.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK]);
    try {
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const done = new Set((await c.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      for (const m of PG_MIGRATIONS) {
        if (done.has(m.id)) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
          await c.query('COMMIT');
        } catch (error) {
          await c.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.id} (${m.name}) failed: ${(error as Error).message}`, { cause: error });
        }
      }
      const row = (await c.query<{ v: number | null }>('SELECT MAX(id) AS v FROM schema_migrations')).rows[0];
      return row?.v ?? 0;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK]);
    }
  } finally {
    await c.end();
  }
}

export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  const base = {
    connectionString: url,
    application_name: options.applicationName ?? 'moratorium',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  };
  const timeout = options.queryTimeoutMs ?? 8000;
  // the server cancels a statement that runs too long; the client gives up on a server that went silent
  const pool = new pg.Pool({ ...base, max: options.poolSize ?? 10, statement_timeout: timeout, query_timeout: timeout ? timeout + 1000 : 0, types });
  // an idle client that loses its connection must not crash the process; the next query reconnects
  pool.on('error', () => {});
  try {
    await migratePostgres(base);
  } catch (error) {
    await pool.end().catch(() => {});
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`PostgreSQL at ${describeUrl(url)}: ${message}`, { cause: error });
  }
  return new PostgresStore(pool);
}

/**
 * An error of pg that says the database did not answer, as a StoreUnavailableError: anything but
 * an answer of the server (a refused or lost connection, pg's own timeouts), or an answer of the
 * classes connection exception (08), insufficient resources (53), operator intervention (57:
 * shutting down, a statement cancelled by its time limit). Anything else (a constraint, a
 * serialization failure) is returned as it is.
 */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof TransactionMisuse) return error;
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return /^(08|53|57)/.test(code) ? new StoreUnavailableError(error) : error;
  }
  return new StoreUnavailableError(error);
}

/** serialization_failure, deadlock_detected: the transaction may succeed when run again */
const RETRYABLE = new Set(['40001', '40P01']);
const inTransaction = new AsyncLocalStorage<true>();

function onClient(dialectClient: pg.Pool | pg.PoolClient, guard: () => void): Sql {
  const query = async (s: Statement, params: readonly Param[] = []) => {
    guard();
    try {
      return await dialectClient.query({ name: s.name, text: s.pg, values: params as Param[] });
    } catch (error) {
      throw asUnavailable(error);
    }
  };
  return {
    dialect: 'pg',
    all: async (s, p) => (await query(s, p)).rows as Row[],
    get: async (s, p) => (await query(s, p)).rows[0] as Row | undefined,
    run: async (s, p) => (await query(s, p)).rowCount ?? 0,
  };
}

export interface PostgresStore extends AsyncStore {}
export class PostgresStore {
  readonly engine = 'postgres' as const;

  constructor(readonly pool: pg.Pool) {
    Object.assign(
      this,
      repositories(
        onClient(pool, () => {
          if (inTransaction.getStore()) throw new TransactionMisuse('inside a transaction, use its tx, not the store');
        }),
      ),
    );
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (inTransaction.getStore()) throw new TransactionMisuse('a transaction cannot be opened inside another');
    const retries = options.retries ?? 8;
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect().catch((error: unknown) => Promise.reject(asUnavailable(error)));
      let open = true;
      let broken: Error | undefined;
      const guard = () => {
        if (!open) throw new TransactionMisuse('this transaction has ended');
      };
      // a checked-out connection that the server ends while idle emits 'error': without a listener
      // the process would die; the connection is dropped instead of going back to the pool
      const onError = (e: Error) => (broken = e);
      client.on('error', onError);
      const sql = onClient(client, guard);
      // this attempt's own: an attempt rolled back for a retry owes nothing
      const after: (() => void)[] = [];
      const tx: Transaction = {
        ...repositories(sql),
        lockKey: async (key: string) => {
          guard();
          await client.query({ name: 'lockKey', text: 'SELECT pg_advisory_xact_lock($1::bigint)', values: [lockKeyOf(key)] });
        },
        // delivered by PostgreSQL when (and only if) the transaction commits
        notify: async (topic: string, payload: string) => {
          guard();
          await client.query({ name: 'notify', text: 'SELECT pg_notify($1, $2)', values: [checkTopic(topic), payload] });
        },
        afterCommit: (f: () => void) => {
          guard();
          after.push(f);
        },
      };
      let result: T;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE').catch((e: unknown) => Promise.reject(asUnavailable(e)));
        result = await inTransaction.run(true, () => fn(tx));
        // a serialization failure may come at COMMIT: it is retried like one inside
        await client.query('COMMIT').catch((e: unknown) => Promise.reject(asUnavailable(e)));
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < retries) {
          // jittered backoff, so the transactions that collided do not collide again
          await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** Math.min(attempt, 5)));
          continue;
        }
        throw error;
      } finally {
        open = false;
        client.off('error', onError);
        client.release(broken);
      }
      runAfterCommit(after);
      return result;
    }
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (inTransaction.getStore()) throw new TransactionMisuse('withLock cannot be used inside a transaction');
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => (broken = e);
    client.on('error', onError);
    const k = lockKeyOf(`lock:${key}`);
    try {
      // waits for the replica holding it, at most the pool's statement time limit
      await client.query('SELECT pg_advisory_lock($1::bigint)', [k]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [k]).catch((e: Error) => (broken = e));
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // the lock's connection idles while fn runs: the server ending it must not end the process
    const onError = (e: Error) => (broken = e);
    client.on('error', onError);
    try {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [lockKeyOf(`exclusive:${key}`)]);
      if (!got.rows[0]?.ok) return { ran: false };
      try {
        return { ran: true, value: await fn() };
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockKeyOf(`exclusive:${key}`)]).catch((e: Error) => (broken = e));
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async notify(topic: string, payload: string): Promise<void> {
    if (inTransaction.getStore()) throw new TransactionMisuse('inside a transaction, use its tx, not the store');
    await this.pool.query({ name: 'notify', text: 'SELECT pg_notify($1, $2)', values: [checkTopic(topic), payload] });
  }

  async listen(topic: string, fn: (payload: string) => void, options: ListenOptions = {}): Promise<() => Promise<void>> {
    checkTopic(topic);
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
      await (await this.listener()).query(`LISTEN ${topic}`);
    }
    set.add(fn);
    const resync = options.onResync;
    if (resync) this.resyncs.add(resync);
    return async () => {
      set.delete(fn);
      if (resync) this.resyncs.delete(resync);
    };
  }

  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private readonly resyncs = new Set<() => void>();
  private listenClient: Promise<pg.Client> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * One connection of its own for LISTEN (no statement time limit). When it is lost (the server
   * restarted, the network dropped), it is made again by itself, with backoff up to 5 s, for as long
   * as the store is open; once listening again to every topic, the `onResync` functions run, since
   * what was notified meanwhile is lost.
   */
  private listener(): Promise<pg.Client> {
    this.listenClient ??= (async () => {
      const { query_timeout: _q, statement_timeout: _s, ...options } = this.pool.options as pg.ClientConfig & { max?: number };
      const c = new pg.Client({ ...options, types, keepAlive: true });
      c.on('notification', (n) => {
        for (const fn of this.listeners.get(n.channel) ?? []) fn(n.payload ?? '');
      });
      let lost = false;
      const onLost = () => {
        if (lost) return;
        lost = true;
        this.listenClient = undefined;
        void c.end().catch(() => {});
        this.reconnect(0);
      };
      c.on('error', onLost);
      c.on('end', onLost);
      try {
        await c.connect();
      } catch (error) {
        lost = true;
        this.listenClient = undefined;
        throw error;
      }
      return c;
    })();
    return this.listenClient;
  }

  private reconnect(attempt: number): void {
    if (this.closed || this.reconnectTimer || this.listeners.size === 0) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      void (async () => {
        const fresh = await this.listener();
        for (const topic of this.listeners.keys()) await fresh.query(`LISTEN ${topic}`);
        for (const f of this.resyncs) f();
      })().catch(() => {
        // still unreachable (or lost again while listening): try again, a little later each time
        if (this.listenClient) {
          const c = this.listenClient;
          this.listenClient = undefined;
          void c.then((x) => x.end()).catch(() => {});
        }
        this.reconnect(attempt + 1);
      });
    }, Math.min(5000, 250 * 2 ** attempt));
    this.reconnectTimer.unref();
  }

  async schemaVersion(): Promise<number> {
    const r = await this.pool.query<{ v: number | null }>('SELECT MAX(id) AS v FROM schema_migrations');
    return r.rows[0]?.v ?? 0;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.pool.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const l = this.listenClient;
    this.listenClient = undefined;
    if (l) await (await l).end().catch(() => {});
    await this.pool.end();
  }
}
