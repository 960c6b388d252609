/**
 * The dashboard's sessions and the OAuth states of sign-ins under way (migration 7). Both are kept
 * by a hash of their secret (the caller hashes; the secret itself is never stored), so a copy of
 * the database opens no session. A session row is deleted when its person signs out: every copy of
 * its cookie, on every replica, is then worthless. An OAuth state is taken (deleted) on first use.
 */
import { num, stmt, strOrNull, type Sql } from '../sql.js';

export type SessionKind = 'github' | 'token';

export interface NewDashboardSession {
  idHash: string;
  kind: SessionKind;
  /** the GitHub login (kind `github`); `api-token` for a session opened with the API token */
  login: string;
  /** the session's cross-site request token, carried by every form */
  csrf: string;
  /** token sessions: a tag of the API token they were opened with (changing the token ends them) */
  tokenTag: string | null;
  now: number;
  expiresAt: number;
}

export interface DashboardSession {
  kind: SessionKind;
  login: string;
  csrf: string;
  tokenTag: string | null;
  createdAt: number;
  expiresAt: number;
}

export const sessionStatements = {
  createDashboardSession: stmt(
    'createDashboardSession',
    'INSERT INTO dashboard_sessions (id_hash, kind, login, csrf, token_tag, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  getDashboardSession: stmt('getDashboardSession', 'SELECT kind, login, csrf, token_tag, created_at, expires_at FROM dashboard_sessions WHERE id_hash = ? AND expires_at > ?'),
  endDashboardSession: stmt('endDashboardSession', 'DELETE FROM dashboard_sessions WHERE id_hash = ?'),
  pruneDashboardSessions: stmt('pruneDashboardSessions', 'DELETE FROM dashboard_sessions WHERE expires_at <= ?'),
  createOAuthState: stmt('createOAuthState', 'INSERT INTO dashboard_oauth_states (state_hash, browser_hash, created_at, expires_at) VALUES (?, ?, ?, ?)'),
  takeOAuthState: stmt('takeOAuthState', 'DELETE FROM dashboard_oauth_states WHERE state_hash = ? RETURNING browser_hash, expires_at'),
  pruneOAuthStates: stmt('pruneOAuthStates', 'DELETE FROM dashboard_oauth_states WHERE expires_at <= ?'),
};
const s = sessionStatements;

export function sessionsRepo(sql: Sql) {
  return {
    async createDashboardSession(n: NewDashboardSession): Promise<void> {
      await sql.run(s.createDashboardSession, [n.idHash, n.kind, n.login, n.csrf, n.tokenTag, n.now, n.expiresAt]);
    },
    /** the live session with this hash at `now`, or null (unknown, signed out or expired) */
    async getDashboardSession(idHash: string, now: number): Promise<DashboardSession | null> {
      const r = await sql.get(s.getDashboardSession, [idHash, now]);
      if (!r) return null;
      return { kind: r.kind as SessionKind, login: r.login as string, csrf: r.csrf as string, tokenTag: strOrNull(r.token_tag), createdAt: num(r.created_at), expiresAt: num(r.expires_at) };
    },
    /** signs a session out; true when it existed */
    async endDashboardSession(idHash: string): Promise<boolean> {
      return (await sql.run(s.endDashboardSession, [idHash])) === 1;
    },
    async createOAuthState(stateHash: string, browserHash: string, now: number, expiresAt: number): Promise<void> {
      await sql.run(s.createOAuthState, [stateHash, browserHash, now, expiresAt]);
    },
    /**
     * Takes a state once: the first call gets its browser and expiry (and the state is gone, whether
     * or not the caller then accepts it), every later one null.
     */
    async takeOAuthState(stateHash: string): Promise<{ browserHash: string; expiresAt: number } | null> {
      const r = await sql.get(s.takeOAuthState, [stateHash]);
      return r ? { browserHash: r.browser_hash as string, expiresAt: num(r.expires_at) } : null;
    },
    /** drops expired sessions and states */
    async pruneDashboard(now: number): Promise<void> {
      await sql.run(s.pruneDashboardSessions, [now]);
      await sql.run(s.pruneOAuthStates, [now]);
    },
  };
}
