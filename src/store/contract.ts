/**
 * The store as a contract: one asynchronous interface, two engines (SQLite through better-sqlite3,
 * the embedded default; PostgreSQL through pg, chosen by DATABASE_URL: src/store/open.ts). Every
 * method is a repository method of one aggregate (src/store/repos/*.ts), the only code that knows
 * SQL. Every caller goes through this contract (the engine is chosen once, in src/main.ts).
 * test/unit/store/contract.test.ts runs the same cases on both engines.
 *
 * Transactions: `store.transaction(async (tx) => ...)` commits when the function resolves and rolls
 * back when it throws. Inside, use only `tx` (never the store itself) and never GitHub or other
 * I/O: on SQLite the transaction holds the write lock of the whole process until it ends, and on
 * PostgreSQL it may be run again from the start after a serialization failure.
 */
import { auditRepo } from './repos/audit.js';
import { claimsRepo } from './repos/claims.js';
import { conditionalReadsRepo } from './repos/conditional-reads.js';
import { deliveriesRepo } from './repos/deliveries.js';
import { deploysRepo } from './repos/deploys.js';
import { externalIncidentsRepo } from './repos/external-incidents.js';
import { freezesRepo } from './repos/freezes.js';
import { heldRepo } from './repos/held.js';
import { incidentsRepo } from './repos/incidents.js';
import { installationsRepo } from './repos/installations.js';
import { jobsRepo } from './repos/jobs.js';
import { metaRepo } from './repos/meta.js';
import { overridesRepo } from './repos/overrides.js';
import { postedRepo } from './repos/posted.js';
import { pullFilesRepo } from './repos/pull-files.js';
import { pullsRepo } from './repos/pulls.js';
import { sessionsRepo } from './repos/sessions.js';
import { reviewsRepo } from './repos/reviews.js';
import { windowNoticesRepo } from './repos/window-notices.js';
import type { Sql } from './sql.js';

export type { ClaimOptions } from './repos/jobs.js';
export type { ConditionalRead } from './repos/conditional-reads.js';
export type { NewFreeze } from './repos/freezes.js';
export type { NewIncident } from './repos/incidents.js';
export type { DashboardSession, NewDashboardSession, SessionKind } from './repos/sessions.js';
export type { ReviewVerdictRecord } from './repos/reviews.js';
export type { WindowNoticeKey } from './repos/window-notices.js';

/** every repository, over one connection or transaction */
export function repositories(sql: Sql) {
  const deliveries = deliveriesRepo(sql);
  const jobs = jobsRepo(sql);
  const claims = claimsRepo(sql);
  const pullFiles = pullFilesRepo(sql);
  const sessions = sessionsRepo(sql);
  const windowNotices = windowNoticesRepo(sql);
  const conditionalReads = conditionalReadsRepo(sql);
  return {
    ...deliveries,
    ...installationsRepo(sql),
    ...incidentsRepo(sql),
    ...externalIncidentsRepo(sql),
    ...freezesRepo(sql),
    ...overridesRepo(sql),
    ...deploysRepo(sql),
    ...postedRepo(sql),
    ...pullsRepo(sql),
    ...pullFiles,
    ...reviewsRepo(sql),
    ...auditRepo(sql),
    ...jobs,
    ...heldRepo(sql),
    ...metaRepo(sql),
    ...claims,
    ...sessions,
    ...conditionalReads,
    ...windowNotices,
    /** drops finished jobs, old delivery ids, old claims (kept a week: GitHub's redeliveries come sooner), old file lists, expired dashboard sessions, old window notices, listings not answered anew for 30 days */
    async prune(now: number): Promise<void> {
      await jobs.pruneJobs(now);
      await pullFiles.prunePullFiles(now);
      await deliveries.pruneDeliveries(now);
      await claims.pruneClaims(now);
      await sessions.pruneDashboard(now);
      await windowNotices.pruneWindowNotices(now);
      await conditionalReads.pruneConditionalReads(now);
    },
  };
}

export type Repositories = ReturnType<typeof repositories>;

export interface Transaction extends Repositories {
  /**
   * Serialises this transaction with every other one that locks the same key (a repository's
   * cadence, say) until it commits or rolls back: `pg_advisory_xact_lock` on PostgreSQL; on SQLite
   * every transaction already runs alone (BEGIN IMMEDIATE behind an in-process mutex).
   */
  lockKey(key: string): Promise<void>;
  /** tells every replica's listeners of `topic` once this transaction commits (nothing if it rolls back) */
  notify(topic: string, payload: string): Promise<void>;
  /**
   * Runs `fn` once this transaction has committed, and never when it rolls back. A PostgreSQL
   * transaction run again after a serialization failure starts with a fresh `tx`: only the
   * functions of the attempt that committed run. For what is announced after a change.
   */
  afterCommit(fn: () => void): void;
}

/** a topic name: lower-case letters, digits and underscores (a PostgreSQL channel) */
export function checkTopic(topic: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(topic)) throw new Error(`not a topic name: ${JSON.stringify(topic)}`);
  return topic;
}

export interface ListenOptions {
  /**
   * called after the listening connection was lost and is listening again (PostgreSQL): what was
   * notified meanwhile is lost, so a listener drops what it would have been told (a cache). The
   * connection is made again by itself, with backoff, for as long as the store is open.
   */
  onResync?: () => void;
}

export interface TransactionOptions {
  /** PostgreSQL: how many times a serialization failure or deadlock is retried (default 8) */
  retries?: number;
}

export interface AsyncStore extends Repositories {
  /** notifies `topic` at once (outside a transaction) */
  notify(topic: string, payload: string): Promise<void>;
  readonly engine: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` unless another replica (or this process) is running work of the same key: for work
   * with GitHub I/O that must not run twice at once, such as a reconcile round. On PostgreSQL a
   * session advisory lock (`pg_try_advisory_lock`) on a connection held for the run, released
   * when the run ends or its replica dies; on SQLite an in-process flag.
   */
  runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /**
   * Runs `fn` once no other replica (or work of this process) holds `key`, waiting for it: for a
   * decision that must be taken, published and recorded by one replica at a time, GitHub I/O
   * included (a cadence admission: two replicas must never both admit the last free slot). On
   * PostgreSQL a session advisory lock (`pg_advisory_lock`, waiting at most the statement time
   * limit, then failing) on a connection held for the run, released when it ends or its replica
   * dies; on SQLite an in-process queue per key.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Calls `fn` with each payload notified on `topic`, by any replica, from now on (`LISTEN/NOTIFY`
   * on PostgreSQL, in-process on SQLite): how a configuration change seen by one replica reaches
   * the others. Resolves once listening; the function it resolves to stops listening.
   */
  listen(topic: string, fn: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  /** the schema version (the highest migration applied) */
  schemaVersion(): Promise<number>;
  /** true when the database answers */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Runs what a committed transaction owes (its afterCommit functions), outside of it: the change is
 * committed whatever they do, so one that throws is reported as a process warning, not as the
 * transaction's failure, and does not stop the others.
 */
export function runAfterCommit(after: readonly (() => void)[]): void {
  for (const f of after) {
    try {
      f();
    } catch (error) {
      process.emitWarning(`an afterCommit function failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * The database did not answer (unreachable, connection lost, a statement past its time limit, the
 * server shutting down): nothing of the work was stored. A webhook handler lets it through, so the
 * delivery is answered 5xx and GitHub's redelivery can be used (SPEC 9). `cause` is the engine's error.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the database does not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** true when `error` (or one of its causes) is a StoreUnavailableError */
export function isStoreUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
  }
  return false;
}

/** thrown when a transaction is used after it ended, or when one is opened inside another */
export class TransactionMisuse extends Error {}
