/** Freezes (manual, timed, scheduled) and the window occurrences someone lifted early. */
import type { WindowSuppression } from '../../gate/types.js';
import { key, repoKey, scopeOf, type AuditSource, type Mode, type StoredFreeze } from '../records.js';
import { numOrNull, stmt, strOrNull, type Row, type Sql } from '../sql.js';

export const freezeStatements = {
  insertFreeze: stmt(
    'insertFreeze',
    `INSERT INTO freezes (account, repo, mode, reason, created_by, created_at, until, source)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  ),
  getFreeze: stmt('getFreeze', 'SELECT * FROM freezes WHERE id = ?'),
  activeFreezes: stmt('activeFreezes', 'SELECT * FROM freezes WHERE account = ? AND ended_at IS NULL AND (until IS NULL OR until > ?) ORDER BY id'),
  activeFreezesOfScope: stmt(
    'activeFreezesOfScope',
    'SELECT * FROM freezes WHERE account = ? AND ended_at IS NULL AND repo = ? AND (until IS NULL OR until > ?) ORDER BY id',
  ),
  endFreeze: stmt('endFreeze', 'UPDATE freezes SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL'),
  expiredFreezes: stmt('expiredFreezes', 'SELECT * FROM freezes WHERE ended_at IS NULL AND until IS NOT NULL AND until <= ? ORDER BY id'),
  nextFreezeExpiry: stmt('nextFreezeExpiry', 'SELECT MIN(until) AS t FROM freezes WHERE ended_at IS NULL AND until IS NOT NULL AND until > ?'),
  countActiveFreezes: stmt(
    'countActiveFreezes',
    'SELECT mode, COUNT(*) AS n FROM freezes WHERE ended_at IS NULL AND (until IS NULL OR until > ?) GROUP BY mode',
  ),
  // "window" is a reserved word in PostgreSQL: quoted on both engines
  insertSuppression: stmt(
    'insertSuppression',
    `INSERT INTO window_suppressions (account, repo, "window", occurrence_start, occurrence_end, created_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  ),
  liveSuppressions: stmt('liveSuppressions', 'SELECT * FROM window_suppressions WHERE account = ? AND occurrence_end > ?'),
};
const s = freezeStatements;

export function freezeFrom(row: Row): StoredFreeze {
  return {
    id: row.id as number,
    scope: scopeOf(row.account as string, row.repo as string),
    mode: row.mode as Mode,
    reason: row.reason as string,
    createdBy: row.created_by as string,
    createdAt: row.created_at as number,
    until: numOrNull(row.until),
    endedAt: numOrNull(row.ended_at),
    endedBy: strOrNull(row.ended_by),
    source: row.source as string,
  };
}

export interface NewFreeze {
  account: string;
  repo: string | null;
  mode: Mode;
  reason: string;
  by: string;
  until: number | null;
  source: AuditSource;
  now: number;
}

export function freezesRepo(sql: Sql) {
  return {
    async createFreeze(f: NewFreeze): Promise<StoredFreeze> {
      return freezeFrom((await sql.get(s.insertFreeze, [key(f.account), repoKey(f.repo), f.mode, f.reason, f.by, f.now, f.until, f.source]))!);
    },
    async getFreeze(id: number): Promise<StoredFreeze | null> {
      const row = await sql.get(s.getFreeze, [id]);
      return row ? freezeFrom(row) : null;
    },
    async activeFreezes(account: string, now: number): Promise<StoredFreeze[]> {
      return (await sql.all(s.activeFreezes, [key(account), now])).map(freezeFrom);
    },
    async activeFreezesOfScope(account: string, repo: string | null, now: number): Promise<StoredFreeze[]> {
      return (await sql.all(s.activeFreezesOfScope, [key(account), repoKey(repo), now])).map(freezeFrom);
    },
    /** false when it had already ended */
    async endFreeze(id: number, by: string, now: number): Promise<boolean> {
      return (await sql.run(s.endFreeze, [now, by, id])) === 1;
    },
    /** timed freezes whose time is up but that are not marked ended yet */
    async expiredFreezes(now: number): Promise<StoredFreeze[]> {
      return (await sql.all(s.expiredFreezes, [now])).map(freezeFrom);
    },
    async nextFreezeExpiry(now: number): Promise<number | null> {
      return numOrNull((await sql.get(s.nextFreezeExpiry, [now]))?.t);
    },
    async countActiveFreezes(now: number): Promise<{ mode: Mode; count: number }[]> {
      return (await sql.all(s.countActiveFreezes, [now])).map((r) => ({ mode: r.mode as Mode, count: r.n as number }));
    },

    // window occurrences lifted early
    async suppressWindow(w: { account: string; repo: string | null; window: string; start: number; end: number; by: string; now: number }): Promise<boolean> {
      return (await sql.run(s.insertSuppression, [key(w.account), repoKey(w.repo), w.window, w.start, w.end, w.by, w.now])) === 1;
    },
    async liveSuppressions(account: string, now: number): Promise<WindowSuppression[]> {
      return (await sql.all(s.liveSuppressions, [key(account), now])).map((r) => ({
        scope: scopeOf(r.account as string, r.repo as string),
        window: r.window as string,
        occurrenceStart: r.occurrence_start as number,
      }));
    },
  };
}
