/**
 * Work owed after a committed state change (replies, fan-outs, gate retries, held deployments),
 * written in the change's own transaction. A replica claims due jobs with a lease (`locked_by`,
 * `locked_until`): on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two replicas never take the same
 * job, and against the database's own clock, so no two replicas' clocks are compared. A job whose
 * lease ran out (its replica died or hung) is claimable again; a long job extends its lease.
 * Finishing a job is conditional on still holding it, so a replica that lost its lease cannot
 * overwrite what the replica that took over did.
 */
import type { ClaimedJob, JobRecord } from '../records.js';
import { stmt, type Param, type Row, type Sql } from '../sql.js';

const WEEK = 7 * 86_400_000;
/**
 * The lease a runner should claim with, and how often it should extend it while a job runs: a job
 * of a replica that died is claimable again within 30 s (SPEC 9: within a minute), and a live
 * replica extends its lease twice before another could take it.
 */
export const JOB_LEASE_MS = 30_000;
export const JOB_LEASE_EXTEND_EVERY_MS = 10_000;
/** the database's clock, in milliseconds since the epoch */
const PG_NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export const jobStatements = {
  insertJob: stmt('insertJob', 'INSERT INTO jobs (kind, payload, run_at, created_at) VALUES (?, ?, ?, ?) RETURNING id'),
  dueJobs: stmt('dueJobs', `SELECT * FROM jobs WHERE state = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?`),
  // sqlite: owner, now (lease start), lease, now (due), now (lease over), limit
  // pg: owner, lease, now (due), limit
  claimJobs: stmt(
    'claimJobs',
    `UPDATE jobs SET locked_by = ?, locked_until = ? + ?
     WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND run_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
                  ORDER BY run_at, id LIMIT ?)
     RETURNING *`,
    `WITH due AS (
       SELECT id FROM jobs WHERE state = 'pending' AND run_at <= $3 AND (locked_until IS NULL OR locked_until <= ${PG_NOW})
       ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
     UPDATE jobs SET locked_by = $1, locked_until = ${PG_NOW} + $2 FROM due WHERE jobs.id = due.id RETURNING jobs.*`,
  ),
  // sqlite: now, lease, id, owner, now; pg: lease, id, owner
  extendLease: stmt(
    'extendJobLease',
    `UPDATE jobs SET locked_until = ? + ? WHERE id = ? AND state = 'pending' AND locked_by = ? AND locked_until > ?`,
    `UPDATE jobs SET locked_until = ${PG_NOW} + $1 WHERE id = $2 AND state = 'pending' AND locked_by = $3 AND locked_until > ${PG_NOW}`,
  ),
  completeJob: stmt(
    'completeJob',
    `UPDATE jobs SET state = 'done', finished_at = ?, attempts = attempts + 1, locked_by = NULL, locked_until = NULL
     WHERE id = ? AND state = 'pending' AND locked_by = ?`,
  ),
  retryJob: stmt(
    'retryJob',
    `UPDATE jobs SET attempts = attempts + 1, run_at = ?, last_error = ?, payload = COALESCE(?, payload), locked_by = NULL, locked_until = NULL
     WHERE id = ? AND state = 'pending' AND locked_by = ?`,
  ),
  failJob: stmt(
    'failJob',
    `UPDATE jobs SET state = 'failed', attempts = attempts + 1, finished_at = ?, last_error = ?, locked_by = NULL, locked_until = NULL
     WHERE id = ? AND state = 'pending' AND locked_by = ?`,
  ),
  releaseJobLease: stmt('releaseJobLease', `UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE id = ? AND state = 'pending' AND locked_by = ?`),
  releaseAllJobLeases: stmt('releaseAllJobLeases', `UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE state = 'pending' AND locked_by IS NOT NULL`),
  updateJobPayload: stmt('updateJobPayload', 'UPDATE jobs SET payload = ? WHERE id = ?'),
  // a due job that another replica holds becomes claimable when its lease ends
  nextJobAt: stmt(
    'nextJobAt',
    `SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > run_at THEN locked_until ELSE run_at END) AS t FROM jobs WHERE state = 'pending'`,
  ),
  pendingJobCount: stmt('pendingJobCount', `SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending'`),
  pendingJobsByKind: stmt('pendingJobsByKind', `SELECT kind, COUNT(*) AS n FROM jobs WHERE state = 'pending' GROUP BY kind`),
  jobState: stmt('jobState', 'SELECT state, attempts, locked_by, locked_until, last_error FROM jobs WHERE id = ?'),
  pruneJobs: stmt('pruneJobs', `DELETE FROM jobs WHERE state != 'pending' AND finished_at < ?`),
};
const s = jobStatements;

function jobFrom(r: Row): JobRecord {
  return { id: r.id as number, kind: r.kind as string, payload: JSON.parse(r.payload as string) as unknown, attempts: r.attempts as number, runAt: r.run_at as number };
}

export interface ClaimOptions {
  /** who claims: unique per replica (host, pid and a random part) */
  owner: string;
  /** the claimer's time: jobs whose run_at has come are due; on SQLite also the lease's start */
  now: number;
  /** how long the claim holds unless extended; after it, any replica may take the job */
  leaseMs: number;
  limit: number;
}

export function jobsRepo(sql: Sql) {
  const pg = sql.dialect === 'pg';
  return {
    async enqueueJob(kind: string, payload: unknown, runAt: number, now: number): Promise<number> {
      return (await sql.get(s.insertJob, [kind, JSON.stringify(payload), runAt, now]))!.id as number;
    },
    /** due jobs, whoever holds them (for reads; a runner uses claimJobs) */
    async dueJobs(now: number, limit: number): Promise<JobRecord[]> {
      return (await sql.all(s.dueJobs, [now, limit])).map(jobFrom);
    },
    /** takes up to `limit` due jobs that nobody holds (or whose lease ran out), oldest first */
    async claimJobs(o: ClaimOptions): Promise<ClaimedJob[]> {
      const params: Param[] = pg ? [o.owner, o.leaseMs, o.now, o.limit] : [o.owner, o.now, o.leaseMs, o.now, o.now, o.limit];
      const rows = await sql.all(s.claimJobs, params);
      return rows
        .map((r) => ({ ...jobFrom(r), lockedBy: r.locked_by as string, lockedUntil: r.locked_until as number }))
        .sort((a, b) => a.runAt - b.runAt || a.id - b.id);
    },
    /** false when the lease was lost (ran out, or the job is finished) */
    async extendJobLease(id: number, owner: string, leaseMs: number, now: number): Promise<boolean> {
      const params: Param[] = pg ? [leaseMs, id, owner] : [now, leaseMs, id, owner, now];
      return (await sql.run(s.extendLease, params)) === 1;
    },
    /** false when this owner no longer holds the job */
    async completeJob(id: number, owner: string, now: number): Promise<boolean> {
      return (await sql.run(s.completeJob, [now, id, owner])) === 1;
    },
    /** runs it again at `runAt` (with a new payload when given) and releases it */
    async retryJob(id: number, owner: string, error: string, runAt: number, payload?: unknown): Promise<boolean> {
      const p = payload === undefined ? null : JSON.stringify(payload);
      return (await sql.run(s.retryJob, [runAt, error.slice(0, 2000), p, id, owner])) === 1;
    },
    async failJob(id: number, owner: string, error: string, now: number): Promise<boolean> {
      return (await sql.run(s.failJob, [now, error.slice(0, 2000), id, owner])) === 1;
    },
    /**
     * Gives up claimed jobs that did not run (a runner stopping): claimable at once by any replica.
     * With `owner` null, every lease (SQLite only, one process per file: what a killed process left).
     */
    async releaseJobLeases(owner: string | null, ids: number[] = []): Promise<number> {
      if (owner === null) return sql.run(s.releaseAllJobLeases);
      let n = 0;
      for (const id of ids) n += await sql.run(s.releaseJobLease, [id, owner]);
      return n;
    },
    async updateJobPayload(id: number, payload: unknown): Promise<void> {
      await sql.run(s.updateJobPayload, [JSON.stringify(payload), id]);
    },
    async nextJobAt(): Promise<number | null> {
      const t = (await sql.get(s.nextJobAt))?.t;
      return t === null || t === undefined ? null : (t as number);
    },
    async pendingJobCount(): Promise<number> {
      return (await sql.get(s.pendingJobCount))!.n as number;
    },
    async pendingJobsByKind(): Promise<{ kind: string; count: number }[]> {
      return (await sql.all(s.pendingJobsByKind)).map((r) => ({ kind: r.kind as string, count: r.n as number }));
    },
    async jobState(id: number): Promise<{ state: 'pending' | 'done' | 'failed'; attempts: number; lockedBy: string | null; lockedUntil: number | null; lastError: string | null } | null> {
      const r = await sql.get(s.jobState, [id]);
      if (!r) return null;
      return {
        state: r.state as 'pending' | 'done' | 'failed',
        attempts: r.attempts as number,
        lockedBy: (r.locked_by as string | null) ?? null,
        lockedUntil: (r.locked_until as number | null) ?? null,
        lastError: (r.last_error as string | null) ?? null,
      };
    },
    /** drops jobs finished more than a week ago */
    async pruneJobs(now: number): Promise<number> {
      return sql.run(s.pruneJobs, [now - WEEK]);
    },
  };
}
