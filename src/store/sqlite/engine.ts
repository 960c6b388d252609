/**
 * The SQLite engine of the asynchronous store (the embedded default, one process). It opens files
 * made by today's synchronous store and continues the same numbered migrations (user_version).
 * better-sqlite3 is synchronous, so a transaction that awaits would let other work of the process
 * run inside it: every transaction therefore runs alone, BEGIN IMMEDIATE ... COMMIT behind an
 * in-process mutex (one per file), and a statement outside a transaction waits for the open one to
 * end. Other processes on the same file wait for the write lock (busy_timeout), as today.
 */
import Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from '../migrations.js';
import { checkTopic, repositories, runAfterCommit, TransactionMisuse, type AsyncStore, type ListenOptions, type Transaction } from '../contract.js';
import { Mutex } from '../mutex.js';
import type { Param, Row, Sql, Statement } from '../sql.js';

export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL can roll back a committed transaction on power loss; state must survive it.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrateSqlite(db);
  return db;
}

/**
 * Applies the migrations the file lacks, each in its own transaction; returns the version. The
 * version is read under the write lock, so processes opening one file together migrate it once.
 */
export function migrateSqlite(db: Database.Database): number {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.id <= version()) continue;
    db.transaction(() => {
      if (migration.id <= version()) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.id}`);
    }).immediate();
  }
  return version();
}

/**
 * One mutex per database file in this process: better-sqlite3 waits for another connection's write
 * lock synchronously (busy_timeout), which would block the very event loop that connection needs
 * to finish its transaction; two stores on one file in one process take turns here instead.
 */
const fileMutexes = new Map<string, Mutex>();
function mutexFor(path: string): Mutex {
  if (path === ':memory:') return new Mutex();
  const real = realpathSync(path);
  let m = fileMutexes.get(real);
  if (!m) {
    m = new Mutex();
    fileMutexes.set(real, m);
  }
  return m;
}

export function openSqliteStore(path: string): SqliteStore {
  const db = openSqliteDatabase(path);
  return new SqliteStore(db, mutexFor(path));
}

class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}
  get(s: Statement): Database.Statement {
    let p = this.cache.get(s.name);
    if (!p) {
      p = this.db.prepare(s.sqlite);
      this.cache.set(s.name, p);
    }
    return p;
  }
}

const inTransaction = new AsyncLocalStorage<true>();
/** the keys of withLock, per database file (its mutex) */
const keyLocks = new WeakMap<Mutex, Map<string, Mutex>>();

/** the keys of runExclusive running, per database file (its mutex) */
const exclusiveKeys = new WeakMap<Mutex, Set<string>>();
/** notifications, per database file (its mutex) */
const buses = new WeakMap<Mutex, EventEmitter>();
function busOf(mutex: Mutex): EventEmitter {
  let bus = buses.get(mutex);
  if (!bus) {
    bus = new EventEmitter();
    bus.setMaxListeners(0);
    buses.set(mutex, bus);
  }
  return bus;
}

export interface SqliteStore extends AsyncStore {}
export class SqliteStore {
  readonly engine = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly statements: Statements;
  private readonly mutex: Mutex;

  constructor(db: Database.Database, mutex = new Mutex()) {
    this.db = db;
    this.mutex = mutex;
    this.statements = new Statements(db);
    // statements outside a transaction: each waits for an open transaction to end
    const root: Sql = {
      dialect: 'sqlite',
      all: (s, p) => this.outside(() => this.exec('all', s, p) as Row[]),
      get: (s, p) => this.outside(() => this.exec('get', s, p) as Row | undefined),
      run: (s, p) => this.outside(() => this.exec('run', s, p) as number),
    };
    Object.assign(this, repositories(root));
  }

  private exec(kind: 'all' | 'get' | 'run', s: Statement, params: readonly Param[] = []): Row[] | Row | undefined | number {
    const p = this.statements.get(s);
    if (kind === 'all') return p.all(...params) as Row[];
    if (kind === 'get') return p.get(...params) as Row | undefined;
    return p.run(...params).changes;
  }

  private async outside<T>(fn: () => T): Promise<T> {
    if (inTransaction.getStore()) throw new TransactionMisuse('inside a transaction, use its tx, not the store');
    if (!this.mutex.isLocked) return fn();
    await this.mutex.lock();
    try {
      return fn();
    } finally {
      this.mutex.unlock();
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (inTransaction.getStore()) throw new TransactionMisuse('a transaction cannot be opened inside another');
    await this.mutex.lock();
    let open = true;
    const inside = async <R>(f: () => R): Promise<R> => {
      if (!open) throw new TransactionMisuse('this transaction has ended');
      return f();
    };
    const sql: Sql = {
      dialect: 'sqlite',
      all: (s, p) => inside(() => this.exec('all', s, p) as Row[]),
      get: (s, p) => inside(() => this.exec('get', s, p) as Row | undefined),
      run: (s, p) => inside(() => this.exec('run', s, p) as number),
    };
    const notes: [string, string][] = [];
    const after: (() => void)[] = [];
    const tx: Transaction = {
      ...repositories(sql),
      lockKey: (key: string) => inside(() => void key),
      notify: (topic: string, payload: string) => inside(() => void notes.push([checkTopic(topic), payload])),
      afterCommit: (f: () => void) => {
        if (!open) throw new TransactionMisuse('this transaction has ended');
        after.push(f);
      },
    };
    let result: T;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      result = await inTransaction.run(true, () => fn(tx));
      this.db.exec('COMMIT');
      const bus = busOf(this.mutex);
      for (const [topic, payload] of notes) queueMicrotask(() => bus.emit(topic, payload));
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      open = false;
      this.mutex.unlock();
    }
    runAfterCommit(after);
    return result;
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const locks = keyLocks.get(this.mutex) ?? new Map<string, Mutex>();
    keyLocks.set(this.mutex, locks);
    let m = locks.get(key);
    if (!m) {
      m = new Mutex();
      locks.set(key, m);
    }
    await m.lock();
    try {
      return await fn();
    } finally {
      m.unlock();
      if (!m.isLocked && locks.get(key) === m) locks.delete(key);
    }
  }

  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const held = exclusiveKeys.get(this.mutex) ?? new Set<string>();
    exclusiveKeys.set(this.mutex, held);
    if (held.has(key)) return { ran: false };
    held.add(key);
    try {
      return { ran: true, value: await fn() };
    } finally {
      held.delete(key);
    }
  }

  async notify(topic: string, payload: string): Promise<void> {
    checkTopic(topic);
    await this.outside(() => queueMicrotask(() => busOf(this.mutex).emit(topic, payload)));
  }

  /** one process: nothing is ever missed, so `onResync` is never called */
  async listen(topic: string, fn: (payload: string) => void, _options?: ListenOptions): Promise<() => Promise<void>> {
    const bus = busOf(this.mutex);
    bus.on(checkTopic(topic), fn);
    return async () => void bus.off(topic, fn);
  }

  async schemaVersion(): Promise<number> {
    return this.outside(() => this.db.pragma('user_version', { simple: true }) as number);
  }

  async ping(): Promise<boolean> {
    return this.outside(() => (this.db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1);
  }

  async close(): Promise<void> {
    await this.mutex.lock();
    try {
      if (this.db.open) this.db.close();
    } finally {
      this.mutex.unlock();
    }
  }
}
