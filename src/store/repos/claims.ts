/**
 * Moments of work done once across replicas: a time boundary (a window opening at 18:00 Friday, a
 * timed freeze ending) is handled by the replica that first claims its key, inside the transaction
 * of what it changes; the others see the claim taken and do nothing.
 */
import { stmt, type Sql } from '../sql.js';

const WEEK = 7 * 86_400_000;

export const claimStatements = {
  claimOnce: stmt('claimOnce', 'INSERT INTO claims (key, claimed_by, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
  claimOf: stmt('claimOf', 'SELECT claimed_by, claimed_at FROM claims WHERE key = ?'),
  pruneClaims: stmt('pruneClaims', 'DELETE FROM claims WHERE claimed_at < ?'),
};
const s = claimStatements;

export function claimsRepo(sql: Sql) {
  return {
    /** true for the first claimer of this key, false for every later one */
    async claimOnce(key: string, owner: string, now: number): Promise<boolean> {
      return (await sql.run(s.claimOnce, [key, owner, now])) === 1;
    },
    async claimOf(key: string): Promise<{ by: string; at: number } | null> {
      const r = await sql.get(s.claimOf, [key]);
      return r ? { by: r.claimed_by as string, at: r.claimed_at as number } : null;
    },
    /** drops claims older than a week */
    async pruneClaims(now: number): Promise<number> {
      return sql.run(s.pruneClaims, [now - WEEK]);
    },
  };
}
