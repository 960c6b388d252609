/**
 * The records the store hands out and takes, shared by both engines (SQLite and PostgreSQL).
 * Account and repository names are stored lower-cased; an account-wide scope has repo ''.
 */
import type { Mode, Severity } from '../config/schema.js';
import type { FreezeState, IncidentState, OverrideState, Phase, Scope } from '../gate/types.js';

export type { Phase, Scope };
export type AuditSource = 'command' | 'api' | 'schedule' | 'webhook' | 'dashboard';
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

export interface InstallationRecord {
  id: number;
  account: string;
  accountType: string;
  suspended: boolean;
}

export interface JobRecord {
  id: number;
  kind: string;
  payload: unknown;
  attempts: number;
  runAt: number;
}

/** a job taken by one replica until `lockedUntil` (its lease); another replica may take it after */
export interface ClaimedJob extends JobRecord {
  lockedBy: string;
  lockedUntil: number;
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

export interface NewDeploy {
  dedupeKey: string;
  account: string;
  repo: string;
  kind: 'merge' | 'deployment';
  environment?: string;
  sha?: string | null;
  prNumber?: number | null;
  title?: string | null;
  actor?: string | null;
  at: number;
  exemption?: string | null;
  provisional?: boolean;
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

export type StoredIncident = IncidentState & { closedAt: number | null; source: string };
export type StoredFreeze = FreezeState & { endedAt: number | null; endedBy: string | null; source: string };
export type StoredOverride = OverrideState & { endedAt: number | null };

export interface LabelGrant {
  actor: string | null;
  authorized: boolean | null;
  checkedAt: number;
}

export type { Mode, Severity };

export const key = (name: string): string => name.toLowerCase();
export const repoKey = (repo: string | null | undefined): string => (repo ? repo.toLowerCase() : '');
export const scopeOf = (account: string, repo: string): Scope => ({ account, repo: repo === '' ? null : repo });
