/**
 * Conditional reads: what a GitHub listing last answered (one row per page of one listing), with
 * the ETag GitHub gave it. The next read of that page sends `If-None-Match`; a `304 Not Modified`
 * (which GitHub does not count against the rate limit) is answered from the stored body. Kept in
 * the store, so every replica sends the ETags any of them last saw.
 */
import { stmt, type Sql } from '../sql.js';

export interface ConditionalRead {
  etag: string;
  /** what the listing returned, as the GitHub port stored it (JSON) */
  body: string;
  seenAt: number;
}

export const conditionalReadStatements = {
  getConditionalRead: stmt('getConditionalRead', 'SELECT etag, body, seen_at FROM conditional_reads WHERE key = ?'),
  putConditionalRead: stmt(
    'putConditionalRead',
    'INSERT INTO conditional_reads (key, etag, body, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, body = excluded.body, seen_at = excluded.seen_at',
  ),
  dropConditionalRead: stmt('dropConditionalRead', 'DELETE FROM conditional_reads WHERE key = ?'),
  pruneConditionalReads: stmt('pruneConditionalReads', 'DELETE FROM conditional_reads WHERE seen_at < ?'),
};
const s = conditionalReadStatements;

/**
 * A stored listing that GitHub has not answered anew (200) for this long is pruned, so the rows of
 * repositories and installations that are gone do not stay for ever. A listing that is still read
 * and merely unchanged for that long costs one counted request to store again.
 */
export const CONDITIONAL_READ_KEEP_MS = 30 * 86_400_000;

/** a key is at most this long (a listing's URL with its installation) */
const MAX_KEY = 2000;

export function conditionalReadsRepo(sql: Sql) {
  return {
    async getConditionalRead(key: string): Promise<ConditionalRead | null> {
      const r = await sql.get(s.getConditionalRead, [key]);
      return r ? { etag: r.etag as string, body: r.body as string, seenAt: Number(r.seen_at) } : null;
    },
    async putConditionalRead(key: string, etag: string, body: string, now: number): Promise<void> {
      if (key.length > MAX_KEY) throw new Error(`a conditional read's key is longer than ${MAX_KEY} characters`);
      await sql.run(s.putConditionalRead, [key, etag, body, now]);
    },
    async dropConditionalRead(key: string): Promise<void> {
      await sql.run(s.dropConditionalRead, [key]);
    },
    async pruneConditionalReads(now: number): Promise<number> {
      return sql.run(s.pruneConditionalReads, [now - CONDITIONAL_READ_KEEP_MS]);
    },
  };
}
