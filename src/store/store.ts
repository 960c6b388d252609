/**
 * The only module that knows SQL. Every statement is prepared once; every hot query is served by an
 * index (test/unit/store.test.ts reads EXPLAIN QUERY PLAN). Transactions are short and synchronous:
 * never await inside `tx`.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import type { Mode, Severity } from '../config/schema.js';
import type { FreezeState, IncidentState, OverrideState, Phase, Scope, WindowSuppression } from '../gate/types.js';

export type AuditSource = 'command' | 'api' | 'schedule' | 'webhook';
/** incident tools whose incidents are linked to ours (migrations 2 and 4) */
export type ExternalSource = 'pagerduty' | 'statuspage' | 'incident-io' | 'rootly' | 'generic';

export interface AuditEntry {
  id: number;
  at: number;
  account: string;
  repo: string | null;
  actor: string;
  source: AuditSource;
  action: string;
  target: string;
  reason: string;
  deliveryId: string | null;
  incidentId: number | null;
  details: Record<string, unknown> | null;
}

export interface NewAudit {
  at: number;
  account: string;
  repo?: string | null;
  actor: string;
  source: AuditSource;
  action: string;
  target?: string;
  reason?: string;
  deliveryId?: string | null;
  incidentId?: number | null;
  details?: Record<string, unknown> | null;
}

export interface PullRecord {
  account: string;
  repo: string;
  number: number;
  installationId: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  headInRepo: boolean;
  draft: boolean;
  labels: string[];
  title: string;
  state: 'open' | 'closed';
  updatedAt: number;
}

export interface PostedRecord {
  account: string;
  repo: string;
  sha: string;
  decisionKey: string;
  conclusion: string;
  title: string;
  blockedUntil: number | null;
  nextChangeAt: number | null;
  postedAt: number;
}

export interface RepoRecord {
  account: string;
  repo: string;
  installationId: number;
  fullName: string;
  defaultBranch: string | null;
  lastValidConfig: string | null;
  requiredCheckedAt: number | null;
  requiredState: string | null;
}

export interface JobRecord {
  id: number;
  kind: string;
  payload: unknown;
  attempts: number;
  runAt: number;
}

export interface DeployRecord {
  id: number;
  account: string;
  repo: string;
  kind: 'merge' | 'deployment';
  environment: string;
  sha: string | null;
  prNumber: number | null;
  title: string | null;
  actor: string | null;
  at: number;
  exemption: string | null;
}

export interface HeldDeployment {
  id: number;
  account: string;
  repo: string;
  installationId: number;
  environment: string;
  callbackUrl: string;
  deploymentId: number | null;
  sha: string;
  ref: string | null;
  prNumbers: number[];
  requestedAt: number;
  state: 'waiting' | 'approved' | 'rejected';
}

export const key = (name: string): string => name.toLowerCase();
const repoKey = (repo: string | null | undefined): string => (repo ? repo.toLowerCase() : '');
const scopeOf = (account: string, repo: string): Scope => ({ account, repo: repo === '' ? null : repo });

type Row = Record<string, unknown>;

function incidentFrom(row: Row): IncidentState & { closedAt: number | null; source: string } {
  return {
    id: row.id as number,
    severity: row.severity as Severity,
    title: row.title as string,
    phase: row.phase as Phase,
    scope: scopeOf(row.account as string, row.repo as string),
    openedAt: row.opened_at as number,
    openedBy: row.opened_by as string,
    resolvedAt: (row.resolved_at as number | null) ?? null,
    closedAt: (row.closed_at as number | null) ?? null,
    source: row.source as string,
  };
}

function freezeFrom(row: Row): FreezeState & { endedAt: number | null; endedBy: string | null; source: string } {
  return {
    id: row.id as number,
    scope: scopeOf(row.account as string, row.repo as string),
    mode: row.mode as Mode,
    reason: row.reason as string,
    createdBy: row.created_by as string,
    createdAt: row.created_at as number,
    until: (row.until as number | null) ?? null,
    endedAt: (row.ended_at as number | null) ?? null,
    endedBy: (row.ended_by as string | null) ?? null,
    source: row.source as string,
  };
}

export type StoredIncident = ReturnType<typeof incidentFrom>;
export type StoredFreeze = ReturnType<typeof freezeFrom>;

function pullFrom(row: Row): PullRecord {
  return {
    account: row.account as string,
    repo: row.repo as string,
    number: row.number as number,
    installationId: row.installation_id as number,
    headSha: row.head_sha as string,
    headRef: row.head_ref as string,
    baseRef: row.base_ref as string,
    headInRepo: row.head_in_repo === 1,
    draft: row.draft === 1,
    labels: JSON.parse(row.labels as string) as string[],
    title: row.title as string,
    state: row.state as 'open' | 'closed',
    updatedAt: row.updated_at as number,
  };
}

function auditFrom(row: Row): AuditEntry {
  return {
    id: row.id as number,
    at: row.at as number,
    account: row.account as string,
    repo: (row.repo as string) || null,
    actor: row.actor as string,
    source: row.source as AuditSource,
    action: row.action as string,
    target: row.target as string,
    reason: row.reason as string,
    deliveryId: (row.delivery_id as string | null) ?? null,
    incidentId: (row.incident_id as number | null) ?? null,
    details: row.details ? (JSON.parse(row.details as string) as Record<string, unknown>) : null,
  };
}

function deployFrom(row: Row): DeployRecord {
  return {
    id: row.id as number,
    account: row.account as string,
    repo: row.repo as string,
    kind: row.kind as 'merge' | 'deployment',
    environment: row.environment as string,
    sha: (row.sha as string | null) ?? null,
    prNumber: (row.pr_number as number | null) ?? null,
    title: (row.title as string | null) ?? null,
    actor: (row.actor as string | null) ?? null,
    at: row.at as number,
    exemption: (row.exemption as string | null) ?? null,
  };
}

function heldFrom(row: Row): HeldDeployment {
  return {
    id: row.id as number,
    account: row.account as string,
    repo: row.repo as string,
    installationId: row.installation_id as number,
    environment: row.environment as string,
    callbackUrl: row.callback_url as string,
    deploymentId: (row.deployment_id as number | null) ?? null,
    sha: row.sha as string,
    ref: (row.ref as string | null) ?? null,
    prNumbers: JSON.parse(row.pr_numbers as string) as number[],
    requestedAt: row.requested_at as number,
    state: row.state as HeldDeployment['state'],
  };
}

export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL can roll back a committed transaction on power loss; state must survive it.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.id <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.id}`);
    }).immediate();
  }
  return db.pragma('user_version', { simple: true }) as number;
}

export class Store {
  readonly db: Database.Database;
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      ping: p('SELECT 1 AS ok'),
      insertDelivery: p('INSERT OR IGNORE INTO deliveries (id, event, received_at) VALUES (?, ?, ?)'),
      upsertInstallation: p(`INSERT INTO installations (id, account, account_type, suspended, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET account = excluded.account, account_type = excluded.account_type,
        suspended = excluded.suspended, updated_at = excluded.updated_at`),
      deleteInstallation: p('DELETE FROM installations WHERE id = ?'),
      listInstallations: p('SELECT id, account, account_type, suspended FROM installations ORDER BY id'),
      installationsByAccount: p('SELECT id FROM installations WHERE account = ?'),
      upsertRepo: p(`INSERT INTO repos (account, repo, installation_id, full_name, default_branch) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(account, repo) DO UPDATE SET installation_id = excluded.installation_id, full_name = excluded.full_name,
        default_branch = COALESCE(excluded.default_branch, repos.default_branch)`),
      getRepo: p('SELECT * FROM repos WHERE account = ? AND repo = ?'),
      deleteRepo: p('DELETE FROM repos WHERE account = ? AND repo = ?'),
      setLastValidConfig: p('UPDATE repos SET last_valid_config = ? WHERE account = ? AND repo = ?'),
      setRequired: p('UPDATE repos SET required_checked_at = ?, required_state = ? WHERE account = ? AND repo = ?'),

      insertIncident: p(`INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source)
        VALUES (?, ?, ?, ?, 'open', ?, ?, ?)`),
      getIncident: p('SELECT * FROM incidents WHERE id = ?'),
      activeIncidents: p(`SELECT * FROM incidents WHERE account = ? AND phase IN ('open', 'resolved') ORDER BY id`),
      incidentsForCandidates: p(`SELECT * FROM incidents WHERE account = ? AND repo IN ('', ?) ORDER BY id DESC LIMIT ?`),
      resolveIncident: p(`UPDATE incidents SET phase = 'resolved', resolved_at = ? WHERE id = ? AND phase = 'open'`),
      closeIncident: p(`UPDATE incidents SET phase = 'closed', closed_at = ? WHERE id = ? AND phase IN ('open', 'resolved')`),

      insertFreeze: p(`INSERT INTO freezes (account, repo, mode, reason, created_by, created_at, until, source)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      getFreeze: p('SELECT * FROM freezes WHERE id = ?'),
      activeFreezes: p(`SELECT * FROM freezes WHERE account = ? AND ended_at IS NULL AND (until IS NULL OR until > ?) ORDER BY id`),
      activeFreezesOfScope: p(`SELECT * FROM freezes WHERE account = ? AND ended_at IS NULL AND repo = ? AND (until IS NULL OR until > ?) ORDER BY id`),
      endFreeze: p('UPDATE freezes SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL'),
      expiredFreezes: p('SELECT * FROM freezes WHERE ended_at IS NULL AND until IS NOT NULL AND until <= ?'),
      nextFreezeExpiry: p('SELECT MIN(until) AS t FROM freezes WHERE ended_at IS NULL AND until IS NOT NULL AND until > ?'),

      insertSuppression: p(`INSERT OR IGNORE INTO window_suppressions (account, repo, window, occurrence_start, occurrence_end, created_by, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      liveSuppressions: p('SELECT * FROM window_suppressions WHERE account = ? AND occurrence_end > ?'),

      endOverrides: p('UPDATE overrides SET ended_at = ? WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL'),
      insertOverride: p(`INSERT INTO overrides (account, repo, number, sha, created_by, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      activeOverride: p('SELECT * FROM overrides WHERE account = ? AND repo = ? AND number = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1'),
      overrideForSha: p('SELECT * FROM overrides WHERE account = ? AND repo = ? AND sha = ? ORDER BY id DESC LIMIT 1'),

      insertDeploy: p(`INSERT OR IGNORE INTO deploys (dedupe_key, account, repo, kind, environment, sha, pr_number, title, actor, at, exemption, provisional)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      settleDeploy: p('UPDATE deploys SET provisional = 0, actor = COALESCE(?, actor) WHERE dedupe_key = ? AND provisional = 1'),
      dropProvisional: p('DELETE FROM deploys WHERE dedupe_key = ? AND provisional = 1'),
      deployTimes: p('SELECT at FROM deploys WHERE account = ? AND repo = ? AND kind = ? AND environment = ? AND at > ? ORDER BY at'),
      deploysOfAccount: p('SELECT * FROM deploys WHERE account = ? AND at >= ? AND at <= ? AND provisional = 0 ORDER BY at'),

      getPosted: p('SELECT * FROM posted WHERE account = ? AND repo = ? AND sha = ?'),
      upsertPosted: p(`INSERT INTO posted (account, repo, sha, decision_key, conclusion, title, blocked_until, next_change_at, posted_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(account, repo, sha) DO UPDATE SET decision_key = excluded.decision_key, conclusion = excluded.conclusion,
        title = excluded.title, blocked_until = excluded.blocked_until, next_change_at = excluded.next_change_at, posted_at = excluded.posted_at`),
      postedDue: p('SELECT * FROM posted WHERE next_change_at IS NOT NULL AND next_change_at <= ? ORDER BY next_change_at LIMIT 2000'),
      setPostedNextChange: p('UPDATE posted SET next_change_at = ? WHERE account = ? AND repo = ? AND sha = ?'),
      nextPostedChange: p('SELECT MIN(next_change_at) AS t FROM posted WHERE next_change_at IS NOT NULL AND next_change_at > ?'),

      upsertPull: p(`INSERT INTO pulls (account, repo, number, installation_id, head_sha, head_ref, base_ref, head_in_repo, draft, labels, title, state, updated_at)
        VALUES (@account, @repo, @number, @installationId, @headSha, @headRef, @baseRef, @headInRepo, @draft, @labels, @title, @state, @updatedAt)
        ON CONFLICT(account, repo, number) DO UPDATE SET installation_id = excluded.installation_id, head_sha = excluded.head_sha,
        head_ref = excluded.head_ref, base_ref = excluded.base_ref, head_in_repo = excluded.head_in_repo, draft = excluded.draft,
        labels = excluded.labels, title = excluded.title, state = excluded.state, updated_at = excluded.updated_at
        WHERE excluded.updated_at >= pulls.updated_at`),
      getPull: p('SELECT * FROM pulls WHERE account = ? AND repo = ? AND number = ?'),
      // INDEXED BY: without ANALYZE the planner prefers the primary key's (account, repo) prefix, which
      // scans every PR ever stored for the repository (1.3 ms with 20k of them) on every gate
      pullsBySha: p(`SELECT * FROM pulls INDEXED BY pulls_by_sha WHERE account = ? AND repo = ? AND head_sha = ? AND state = 'open'`),
      closeMissingPulls: p(`UPDATE pulls SET state = 'closed' WHERE account = ? AND repo = ? AND state = 'open' AND number NOT IN (SELECT value FROM json_each(?))`),

      getLabelGrant: p('SELECT * FROM label_grants WHERE account = ? AND repo = ? AND number = ? AND label = ?'),
      setLabelGrant: p(`INSERT INTO label_grants (account, repo, number, label, actor, authorized, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(account, repo, number, label) DO UPDATE SET actor = excluded.actor, authorized = excluded.authorized, checked_at = excluded.checked_at`),
      deleteLabelGrant: p('DELETE FROM label_grants WHERE account = ? AND repo = ? AND number = ? AND label = ?'),

      insertAudit: p(`INSERT INTO audit (at, account, repo, actor, source, action, target, reason, delivery_id, incident_id, details)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      auditOfAccount: p('SELECT * FROM audit WHERE account = ? ORDER BY id DESC LIMIT ?'),
      auditOfIncident: p('SELECT * FROM audit WHERE incident_id = ? ORDER BY id'),
      auditOfAccountBetween: p('SELECT * FROM audit WHERE account = ? AND at >= ? AND at <= ? ORDER BY at, id LIMIT 5000'),

      commentSeen: p('SELECT 1 AS seen FROM command_comments WHERE comment_id = ?'),
      deliverySeen: p('SELECT 1 AS seen FROM deliveries WHERE id = ?'),
      claimComment: p('INSERT OR IGNORE INTO command_comments (comment_id, account, received_at) VALUES (?, ?, ?)'),

      insertJob: p('INSERT INTO jobs (kind, payload, run_at, created_at) VALUES (?, ?, ?, ?)'),
      dueJobs: p(`SELECT * FROM jobs WHERE state = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?`),
      nextJobAt: p(`SELECT MIN(run_at) AS t FROM jobs WHERE state = 'pending'`),
      pendingJobCount: p(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending'`),
      jobDone: p(`UPDATE jobs SET state = 'done', finished_at = ?, attempts = attempts + 1 WHERE id = ?`),
      jobRetry: p('UPDATE jobs SET attempts = attempts + 1, run_at = ?, last_error = ? WHERE id = ?'),
      jobFailed: p(`UPDATE jobs SET state = 'failed', attempts = attempts + 1, finished_at = ?, last_error = ? WHERE id = ?`),
      jobPayload: p('UPDATE jobs SET payload = ? WHERE id = ?'),
      pruneJobs: p(`DELETE FROM jobs WHERE state != 'pending' AND finished_at < ?`),
      pruneDeliveries: p('DELETE FROM deliveries WHERE received_at < ?'),

      insertHeld: p(`INSERT OR IGNORE INTO held_deployments (account, repo, installation_id, environment, callback_url, deployment_id, sha, ref, pr_numbers, requested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      waitingHeld: p(`SELECT * FROM held_deployments WHERE state = 'waiting' ORDER BY requested_at, id`),
      waitingHeldOfRepo: p(`SELECT * FROM held_deployments WHERE state = 'waiting' AND account = ? AND repo = ? ORDER BY requested_at, id`),
      decideHeld: p(`UPDATE held_deployments SET state = ?, decided_at = ?, comment = ? WHERE id = ? AND state = 'waiting'`),

      // incident tools, dashboard and metrics (migration 2)
      getExternalIncident: p('SELECT incident_id FROM external_incidents WHERE source = ? AND external_id = ?'),
      insertExternalIncident: p('INSERT OR IGNORE INTO external_incidents (source, external_id, incident_id, created_at) VALUES (?, ?, ?, ?)'),
      externalOfIncident: p('SELECT source, external_id FROM external_incidents WHERE incident_id = ? ORDER BY source, external_id'),
      recentAudit: p('SELECT * FROM audit ORDER BY id DESC LIMIT ?'),
      reposOfAccount: p('SELECT * FROM repos WHERE account = ? ORDER BY repo'),
      allRepos: p('SELECT * FROM repos ORDER BY account, repo'),
      countActiveIncidents: p(`SELECT phase, severity, COUNT(*) AS n FROM incidents WHERE phase IN ('open', 'resolved') GROUP BY phase, severity`),
      countActiveFreezes: p('SELECT mode, COUNT(*) AS n FROM freezes WHERE ended_at IS NULL AND (until IS NULL OR until > ?) GROUP BY mode'),
      pendingJobsByKind: p(`SELECT kind, COUNT(*) AS n FROM jobs WHERE state = 'pending' GROUP BY kind`),

      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  /** A short synchronous transaction that takes the write lock at once (read-then-write safe). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  ping(): boolean {
    return (this.s.ping.get() as { ok: number }).ok === 1;
  }

  /** true when this delivery id is new (and is now recorded) */
  claimDelivery(id: string, event: string, now: number): boolean {
    return this.s.insertDelivery.run(id, event, now).changes === 1;
  }

  commentSeen(commentId: number): boolean {
    return this.s.commentSeen.get(commentId) !== undefined;
  }
  deliverySeen(id: string): boolean {
    return this.s.deliverySeen.get(id) !== undefined;
  }

  /** true when this comment has not been run before */
  claimComment(commentId: number, account: string, now: number): boolean {
    return this.s.claimComment.run(commentId, key(account), now).changes === 1;
  }

  // installations and repositories

  upsertInstallation(id: number, account: string, accountType: string, suspended: boolean, now: number): void {
    this.s.upsertInstallation.run(id, key(account), accountType, suspended ? 1 : 0, now);
  }
  deleteInstallation(id: number): void {
    this.s.deleteInstallation.run(id);
  }
  listInstallations(): { id: number; account: string; accountType: string; suspended: boolean }[] {
    return (this.s.listInstallations.all() as Row[]).map((r) => ({
      id: r.id as number,
      account: r.account as string,
      accountType: r.account_type as string,
      suspended: r.suspended === 1,
    }));
  }
  installationOfAccount(account: string): number | null {
    const row = this.s.installationsByAccount.get(key(account)) as Row | undefined;
    return row ? (row.id as number) : null;
  }
  upsertRepo(account: string, repo: string, installationId: number, fullName: string, defaultBranch: string | null): void {
    this.s.upsertRepo.run(key(account), key(repo), installationId, fullName, defaultBranch);
  }
  getRepo(account: string, repo: string): RepoRecord | null {
    const row = this.s.getRepo.get(key(account), key(repo)) as Row | undefined;
    return row ? repoFrom(row) : null;
  }
  deleteRepo(account: string, repo: string): void {
    this.s.deleteRepo.run(key(account), key(repo));
  }
  setLastValidConfig(account: string, repo: string, json: string): void {
    this.s.setLastValidConfig.run(json, key(account), key(repo));
  }
  setRequiredState(account: string, repo: string, state: string, now: number): void {
    this.s.setRequired.run(now, state, key(account), key(repo));
  }

  // incidents

  createIncident(i: { account: string; repo: string | null; severity: Severity; title: string; by: string; source: AuditSource; now: number }): StoredIncident {
    const id = Number(
      this.s.insertIncident.run(key(i.account), repoKey(i.repo), i.severity, i.title, i.now, i.by, i.source).lastInsertRowid,
    );
    return this.getIncident(id)!;
  }
  getIncident(id: number): StoredIncident | null {
    const row = this.s.getIncident.get(id) as Row | undefined;
    return row ? incidentFrom(row) : null;
  }
  activeIncidents(account: string): StoredIncident[] {
    return (this.s.activeIncidents.all(key(account)) as Row[]).map(incidentFrom);
  }
  /** the account's incidents and this repository's own, newest first */
  incidentCandidates(account: string, repo: string | null, limit = 200): StoredIncident[] {
    return (this.s.incidentsForCandidates.all(key(account), repoKey(repo), limit) as Row[]).map(incidentFrom);
  }
  /** false when the phase does not allow it */
  resolveIncident(id: number, now: number): boolean {
    return this.s.resolveIncident.run(now, id).changes === 1;
  }
  closeIncident(id: number, now: number): boolean {
    return this.s.closeIncident.run(now, id).changes === 1;
  }

  // freezes

  createFreeze(f: { account: string; repo: string | null; mode: Mode; reason: string; by: string; until: number | null; source: AuditSource; now: number }): StoredFreeze {
    const id = Number(
      this.s.insertFreeze.run(key(f.account), repoKey(f.repo), f.mode, f.reason, f.by, f.now, f.until, f.source).lastInsertRowid,
    );
    return this.getFreeze(id)!;
  }
  getFreeze(id: number): StoredFreeze | null {
    const row = this.s.getFreeze.get(id) as Row | undefined;
    return row ? freezeFrom(row) : null;
  }
  activeFreezes(account: string, now: number): StoredFreeze[] {
    return (this.s.activeFreezes.all(key(account), now) as Row[]).map(freezeFrom);
  }
  activeFreezesOfScope(account: string, repo: string | null, now: number): StoredFreeze[] {
    return (this.s.activeFreezesOfScope.all(key(account), repoKey(repo), now) as Row[]).map(freezeFrom);
  }
  /** false when it had already ended */
  endFreeze(id: number, by: string, now: number): boolean {
    return this.s.endFreeze.run(now, by, id).changes === 1;
  }
  /** timed freezes whose time is up but that are not marked ended yet */
  expiredFreezes(now: number): StoredFreeze[] {
    return (this.s.expiredFreezes.all(now) as Row[]).map(freezeFrom);
  }
  nextFreezeExpiry(now: number): number | null {
    return ((this.s.nextFreezeExpiry.get(now) as Row).t as number | null) ?? null;
  }

  // windows

  suppressWindow(s: { account: string; repo: string | null; window: string; start: number; end: number; by: string; now: number }): boolean {
    return this.s.insertSuppression.run(key(s.account), repoKey(s.repo), s.window, s.start, s.end, s.by, s.now).changes === 1;
  }
  liveSuppressions(account: string, now: number): WindowSuppression[] {
    return (this.s.liveSuppressions.all(key(account), now) as Row[]).map((r) => ({
      scope: scopeOf(r.account as string, r.repo as string),
      window: r.window as string,
      occurrenceStart: r.occurrence_start as number,
    }));
  }

  // overrides

  createOverride(o: { account: string; repo: string; number: number; sha: string; by: string; reason: string; now: number }): void {
    this.s.endOverrides.run(o.now, key(o.account), key(o.repo), o.number);
    this.s.insertOverride.run(key(o.account), key(o.repo), o.number, o.sha, o.by, o.reason, o.now);
  }
  /** ends the PR's override; false when it had none */
  cancelOverride(account: string, repo: string, number: number, now: number): boolean {
    return this.s.endOverrides.run(now, key(account), key(repo), number).changes > 0;
  }
  activeOverride(account: string, repo: string, number: number): OverrideState | null {
    const row = this.s.activeOverride.get(key(account), key(repo), number) as Row | undefined;
    return row ? overrideFrom(row) : null;
  }
  overrideForSha(account: string, repo: string, sha: string): OverrideState | null {
    const row = this.s.overrideForSha.get(key(account), key(repo), sha) as Row | undefined;
    return row ? overrideFrom(row) : null;
  }

  // deploys (what cadence counts)

  /** true when it was not counted before (dedupe by key) */
  recordDeploy(d: { dedupeKey: string; account: string; repo: string; kind: 'merge' | 'deployment'; environment?: string; sha?: string | null; prNumber?: number | null; title?: string | null; actor?: string | null; at: number; exemption?: string | null; provisional?: boolean }): boolean {
    return (
      this.s.insertDeploy.run(d.dedupeKey, key(d.account), key(d.repo), d.kind, d.environment ?? '', d.sha ?? null, d.prNumber ?? null, d.title ?? null, d.actor ?? null, d.at, d.exemption ?? null, d.provisional ? 1 : 0)
        .changes === 1
    );
  }
  /** a provisional deploy (an approval) whose deployment succeeded: now a plain one; false when there was none */
  settleDeploy(dedupeKey: string, actor: string | null): boolean {
    return this.s.settleDeploy.run(actor, dedupeKey).changes === 1;
  }
  /** an approval whose deployment failed: it no longer counts */
  dropProvisionalDeploy(dedupeKey: string): boolean {
    return this.s.dropProvisional.run(dedupeKey).changes === 1;
  }
  deployTimes(account: string, repo: string, kind: 'merge' | 'deployment', environment: string, since: number): number[] {
    return (this.s.deployTimes.all(key(account), key(repo), kind, environment, since) as Row[]).map((r) => r.at as number);
  }
  deploysOfAccount(account: string, from: number, to: number): DeployRecord[] {
    return (this.s.deploysOfAccount.all(key(account), from, to) as Row[]).map(deployFrom);
  }

  // posted decisions

  getPosted(account: string, repo: string, sha: string): PostedRecord | null {
    const row = this.s.getPosted.get(key(account), key(repo), sha) as Row | undefined;
    if (!row) return null;
    return {
      account: row.account as string,
      repo: row.repo as string,
      sha: row.sha as string,
      decisionKey: row.decision_key as string,
      conclusion: row.conclusion as string,
      title: row.title as string,
      blockedUntil: (row.blocked_until as number | null) ?? null,
      nextChangeAt: (row.next_change_at as number | null) ?? null,
      postedAt: row.posted_at as number,
    };
  }
  setPosted(p: Omit<PostedRecord, 'account' | 'repo'> & { account: string; repo: string }): void {
    this.s.upsertPosted.run(key(p.account), key(p.repo), p.sha, p.decisionKey, p.conclusion, p.title, p.blockedUntil, p.nextChangeAt, p.postedAt);
  }
  /** posted decisions whose next change is due */
  postedDue(now: number): { account: string; repo: string; sha: string }[] {
    return (this.s.postedDue.all(now) as Row[]).map((r) => ({ account: r.account as string, repo: r.repo as string, sha: r.sha as string }));
  }
  setPostedNextChange(account: string, repo: string, sha: string, next: number | null): void {
    this.s.setPostedNextChange.run(next, key(account), key(repo), sha);
  }
  nextPostedChange(now: number): number | null {
    return ((this.s.nextPostedChange.get(now) as Row).t as number | null) ?? null;
  }

  // pull requests as last seen

  upsertPull(p: PullRecord): void {
    this.s.upsertPull.run({
      ...p,
      account: key(p.account),
      repo: key(p.repo),
      headInRepo: p.headInRepo ? 1 : 0,
      draft: p.draft ? 1 : 0,
      labels: JSON.stringify(p.labels),
    });
  }
  getPull(account: string, repo: string, number: number): PullRecord | null {
    const row = this.s.getPull.get(key(account), key(repo), number) as Row | undefined;
    return row ? pullFrom(row) : null;
  }
  openPullsBySha(account: string, repo: string, sha: string): PullRecord[] {
    return (this.s.pullsBySha.all(key(account), key(repo), sha) as Row[]).map(pullFrom);
  }
  /** marks the repository's stored open PRs that a full listing no longer shows as closed */
  closeMissingPulls(account: string, repo: string, openNumbers: number[]): void {
    this.s.closeMissingPulls.run(key(account), key(repo), JSON.stringify(openNumbers));
  }

  // label grants

  getLabelGrant(account: string, repo: string, number: number, label: string): { actor: string | null; authorized: boolean | null; checkedAt: number } | null {
    const row = this.s.getLabelGrant.get(key(account), key(repo), number, label.toLowerCase()) as Row | undefined;
    if (!row) return null;
    return {
      actor: (row.actor as string | null) ?? null,
      authorized: row.authorized === null ? null : row.authorized === 1,
      checkedAt: row.checked_at as number,
    };
  }
  setLabelGrant(account: string, repo: string, number: number, label: string, actor: string | null, authorized: boolean | null, now: number): void {
    this.s.setLabelGrant.run(key(account), key(repo), number, label.toLowerCase(), actor, authorized === null ? null : authorized ? 1 : 0, now);
  }
  deleteLabelGrant(account: string, repo: string, number: number, label: string): void {
    this.s.deleteLabelGrant.run(key(account), key(repo), number, label.toLowerCase());
  }

  // audit

  audit(e: NewAudit): number {
    return Number(
      this.s.insertAudit.run(
        e.at,
        key(e.account),
        repoKey(e.repo),
        e.actor,
        e.source,
        e.action,
        e.target ?? '',
        e.reason ?? '',
        e.deliveryId ?? null,
        e.incidentId ?? null,
        e.details ? JSON.stringify(e.details) : null,
      ).lastInsertRowid,
    );
  }
  auditOfAccount(account: string, limit: number): AuditEntry[] {
    return (this.s.auditOfAccount.all(key(account), limit) as Row[]).map(auditFrom);
  }
  auditBetween(account: string, from: number, to: number): AuditEntry[] {
    return (this.s.auditOfAccountBetween.all(key(account), from, to) as Row[]).map(auditFrom);
  }
  auditOfIncident(incidentId: number): AuditEntry[] {
    return (this.s.auditOfIncident.all(incidentId) as Row[]).map(auditFrom);
  }

  // jobs

  enqueueJob(kind: string, payload: unknown, runAt: number, now: number): number {
    return Number(this.s.insertJob.run(kind, JSON.stringify(payload), runAt, now).lastInsertRowid);
  }
  dueJobs(now: number, limit: number): JobRecord[] {
    return (this.s.dueJobs.all(now, limit) as Row[]).map((r) => ({
      id: r.id as number,
      kind: r.kind as string,
      payload: JSON.parse(r.payload as string) as unknown,
      attempts: r.attempts as number,
      runAt: r.run_at as number,
    }));
  }
  nextJobAt(): number | null {
    return ((this.s.nextJobAt.get() as Row).t as number | null) ?? null;
  }
  pendingJobCount(): number {
    return (this.s.pendingJobCount.get() as Row).n as number;
  }
  jobDone(id: number, now: number): void {
    this.s.jobDone.run(now, id);
  }
  jobRetry(id: number, error: string, runAt: number): void {
    this.s.jobRetry.run(runAt, error.slice(0, 2000), id);
  }
  jobFailed(id: number, error: string, now: number): void {
    this.s.jobFailed.run(now, error.slice(0, 2000), id);
  }
  updateJobPayload(id: number, payload: unknown): void {
    this.s.jobPayload.run(JSON.stringify(payload), id);
  }
  /** drops finished jobs and old delivery ids (kept a week: GitHub redeliveries come sooner) */
  prune(now: number): void {
    this.s.pruneJobs.run(now - 7 * 86_400_000);
    this.s.pruneDeliveries.run(now - 7 * 86_400_000);
  }

  // held deployment protection requests

  holdDeployment(h: Omit<HeldDeployment, 'id' | 'state'>): boolean {
    return (
      this.s.insertHeld.run(key(h.account), key(h.repo), h.installationId, h.environment, h.callbackUrl, h.deploymentId, h.sha, h.ref, JSON.stringify(h.prNumbers), h.requestedAt)
        .changes === 1
    );
  }
  waitingDeployments(): HeldDeployment[] {
    return (this.s.waitingHeld.all() as Row[]).map(heldFrom);
  }
  waitingDeploymentsOfRepo(account: string, repo: string): HeldDeployment[] {
    return (this.s.waitingHeldOfRepo.all(key(account), key(repo)) as Row[]).map(heldFrom);
  }
  decideHeld(id: number, state: 'approved' | 'rejected', comment: string, now: number): boolean {
    return this.s.decideHeld.run(state, now, comment, id).changes === 1;
  }

  // incident tools (PagerDuty, Statuspage): their incident id -> ours

  externalIncident(source: ExternalSource, externalId: string): number | null {
    const row = this.s.getExternalIncident.get(source, externalId) as Row | undefined;
    return row ? (row.incident_id as number) : null;
  }
  /** false when that external incident was already linked */
  linkExternalIncident(source: ExternalSource, externalId: string, incidentId: number, now: number): boolean {
    return this.s.insertExternalIncident.run(source, externalId, incidentId, now).changes === 1;
  }
  externalOfIncident(incidentId: number): { source: ExternalSource; externalId: string }[] {
    return (this.s.externalOfIncident.all(incidentId) as Row[]).map((r) => ({ source: r.source as ExternalSource, externalId: r.external_id as string }));
  }

  // reads across accounts (dashboard, metrics)

  /** the newest audit entries of every account */
  recentAudit(limit: number): AuditEntry[] {
    return (this.s.recentAudit.all(limit) as Row[]).map(auditFrom);
  }
  reposOfAccount(account: string): RepoRecord[] {
    return (this.s.reposOfAccount.all(key(account)) as Row[]).map(repoFrom);
  }
  allRepos(): RepoRecord[] {
    return (this.s.allRepos.all() as Row[]).map(repoFrom);
  }
  countActiveIncidents(): { phase: Phase; severity: Severity; count: number }[] {
    return (this.s.countActiveIncidents.all() as Row[]).map((r) => ({ phase: r.phase as Phase, severity: r.severity as Severity, count: r.n as number }));
  }
  countActiveFreezes(now: number): { mode: Mode; count: number }[] {
    return (this.s.countActiveFreezes.all(now) as Row[]).map((r) => ({ mode: r.mode as Mode, count: r.n as number }));
  }
  pendingJobsByKind(): { kind: string; count: number }[] {
    return (this.s.pendingJobsByKind.all() as Row[]).map((r) => ({ kind: r.kind as string, count: r.n as number }));
  }

  getMeta(k: string): string | null {
    const row = this.s.getMeta.get(k) as Row | undefined;
    return row ? (row.value as string) : null;
  }
  setMeta(k: string, value: string): void {
    this.s.setMeta.run(k, value);
  }
}

function repoFrom(row: Row): RepoRecord {
  return {
    account: row.account as string,
    repo: row.repo as string,
    installationId: row.installation_id as number,
    fullName: row.full_name as string,
    defaultBranch: (row.default_branch as string | null) ?? null,
    lastValidConfig: (row.last_valid_config as string | null) ?? null,
    requiredCheckedAt: (row.required_checked_at as number | null) ?? null,
    requiredState: (row.required_state as string | null) ?? null,
  };
}

function overrideFrom(row: Row): OverrideState & { endedAt: number | null } {
  return {
    sha: row.sha as string,
    by: row.created_by as string,
    reason: row.reason as string,
    createdAt: row.created_at as number,
    endedAt: (row.ended_at as number | null) ?? null,
  };
}
