/**
 * Notices before a window's occurrence starts (`windows[].notify_before`): one row per account,
 * window and occurrence, claimed by the first replica that inserts it, inside the transaction that
 * also stores the job sending the notice, so each occurrence is announced once across restarts and
 * replicas.
 */
import { stmt, type Sql } from '../sql.js';

/** kept 30 days after the occurrence started (far longer than any notice is due) */
const KEEP_MS = 30 * 86_400_000;

export interface WindowNoticeKey {
  account: string;
  /** the window's definition (name, timezone, schedule), so two different windows of one name differ */
  windowKey: string;
  occurrenceStart: number;
}

export const windowNoticeStatements = {
  claimWindowNotice: stmt(
    'claimWindowNotice',
    'INSERT INTO window_notices (account, window_key, occurrence_start, window_name, claimed_by, claimed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  ),
  windowNoticeOf: stmt(
    'windowNoticeOf',
    'SELECT window_name, claimed_by, claimed_at FROM window_notices WHERE account = ? AND window_key = ? AND occurrence_start = ?',
  ),
  pruneWindowNotices: stmt('pruneWindowNotices', 'DELETE FROM window_notices WHERE occurrence_start < ?'),
};
const s = windowNoticeStatements;

export function windowNoticesRepo(sql: Sql) {
  return {
    /** true for the first claimer of this occurrence's notice, false for every later one */
    async claimWindowNotice(k: WindowNoticeKey, windowName: string, owner: string, now: number): Promise<boolean> {
      return (await sql.run(s.claimWindowNotice, [k.account.toLowerCase(), k.windowKey, k.occurrenceStart, windowName, owner, now])) === 1;
    },
    /** who claimed this occurrence's notice, and when; null when nobody has */
    async windowNoticeOf(k: WindowNoticeKey): Promise<{ windowName: string; by: string; at: number } | null> {
      const r = await sql.get(s.windowNoticeOf, [k.account.toLowerCase(), k.windowKey, k.occurrenceStart]);
      return r ? { windowName: r.window_name as string, by: r.claimed_by as string, at: Number(r.claimed_at) } : null;
    },
    /** drops the notices of occurrences that started more than 30 days before `now` */
    async pruneWindowNotices(now: number): Promise<number> {
      return sql.run(s.pruneWindowNotices, [now - KEEP_MS]);
    },
  };
}
