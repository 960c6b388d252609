/**
 * The inputs and output of the gate: a pure function of (config, state, change, now).
 * Everything that needs GitHub (who added a label, whether they may) is resolved before the call
 * and arrives here as plain data.
 */
import type { Config, ConfigProblem, Mode, Severity } from '../config/schema.js';

export type Phase = 'open' | 'resolved' | 'closed';

export interface Scope {
  account: string;
  /** null for the whole account */
  repo: string | null;
}

export interface IncidentState {
  id: number;
  severity: Severity;
  title: string;
  phase: Phase;
  scope: Scope;
  openedAt: number;
  openedBy: string;
  resolvedAt: number | null;
}

export interface FreezeState {
  id: number;
  scope: Scope;
  mode: Mode;
  reason: string;
  createdBy: string;
  createdAt: number;
  /** null: until lifted */
  until: number | null;
}

/** An `/unfreeze` that ended the current occurrence of a scheduled window. */
export interface WindowSuppression {
  scope: Scope;
  window: string;
  /** start of the occurrence that was ended */
  occurrenceStart: number;
}

export interface OverrideState {
  sha: string;
  /** who started it (`/override reason`) */
  by: string;
  reason: string;
  createdAt: number;
  /**
   * how many different people it needs, the starter included (`overrides.approvals` when it was
   * started); absent: 1, in force at once
   */
  approvalsNeeded?: number;
  /** who approved it (`/override approve`), in order */
  approvedBy?: string[];
}

/** Everything the store knows that bears on one repository's gate at one moment. */
export interface GateState {
  /** active manual freezes of the account or of this repository */
  freezes: FreezeState[];
  /** incidents of the account or of this repository that are open or resolved (not closed) */
  incidents: IncidentState[];
  windowSuppressions: WindowSuppression[];
  /** the override of this PR, if any (the gate checks it is for the head SHA) */
  override: OverrideState | null;
  /**
   * times of the deploys counted for this repository (and environment, with counts: deployments),
   * ascending, at least as far back as the longest `per` in force
   */
  deploys: number[];
  /** problems of the repository's config file; the gate then runs on `config` (last valid or default) */
  configProblems: ConfigProblem[];
  /**
   * with configProblems: which config the gate runs on instead, for the summary's wording
   * (omitted: "the last valid configuration, or the defaults when there is none")
   */
  configFallback?: 'last-valid' | 'defaults';
}

export interface LabelState {
  name: string;
  /**
   * whether the person who added the label holds `exempt.labeled_by`
   * (true/false when known; null when it could not be established, which does not count)
   */
  addedByAuthorized: boolean | null;
  addedBy: string | null;
}

/** The change being gated: a PR (or merge group member) or a deployment. */
export type Change = PullRequestChange | DeploymentChange;

export interface PullRequestChange {
  kind: 'pull_request';
  account: string;
  repo: string;
  defaultBranch: string;
  number: number;
  baseRef: string;
  headRef: string;
  headSha: string;
  /** true when the head branch lives in this repository (not a fork) */
  headInRepo: boolean;
  labels: LabelState[];
  /** the PR's author, when known (never counts towards an override that needs approvals) */
  author?: string | null;
  /**
   * the files the PR changes at `headSha`, loaded only when `exempt.paths` is set; absent or null:
   * not known (then it is never exempt by paths)
   */
  files?: ChangedFiles | null;
}

/** What the pull request files endpoint said for one head commit. */
export interface ChangedFiles {
  /** each changed file's path, and its path before a rename */
  files: { path: string; previousPath: string | null }[];
  /** the PR's `changed_files`, when known */
  count: number | null;
  /** the list stopped at the endpoint's cap (FILES_CAP entries), or was not read because `count` is above it */
  capped: boolean;
}

export interface DeploymentChange {
  kind: 'deployment';
  account: string;
  repo: string;
  environment: string;
  sha: string;
  /** the deploy is a hotfix (SPEC 2): resolved by the caller from the merged PRs */
  hotfix: { is: boolean; why: string };
  /** the commit is the merge commit of an overridden PR */
  overridden: boolean;
}

export type ReasonKind = 'incident' | 'freeze' | 'window' | 'cadence';

export interface ReasonBase {
  /** stable identity, part of the posted-decision key (e.g. "incident:3", "window:weekend") */
  key: string;
  kind: ReasonKind;
  /** does it block this change (false: active but not applicable, e.g. a hotfix in a features freeze) */
  blocks: boolean;
  /** when it ends on its own; null when only a person can end it */
  until: number | null;
  /** one line for titles, e.g. `sev1 incident INC-3 "API latency"` */
  label: string;
  /** how it ends: who can lift it or when */
  ends: string;
}

export interface IncidentReason extends ReasonBase {
  kind: 'incident';
  incident: IncidentState;
  mode: Mode;
}

export interface FreezeReason extends ReasonBase {
  kind: 'freeze';
  freeze: FreezeState;
  mode: Mode;
}

export interface WindowReason extends ReasonBase {
  kind: 'window';
  window: string;
  mode: Mode;
  start: number;
  end: number;
  timezone: string;
}

export interface CadenceReason extends ReasonBase {
  kind: 'cadence';
  which: 'normal' | 'recovery';
  used: number;
  max: number;
  per: number;
  /** the moment the next deploy is allowed (null when not blocked) */
  nextSlot: number | null;
  /** `per` as configured, e.g. "24h" */
  perText: string;
  /** `min_interval` in ms and as configured; null when not set */
  minInterval: number | null;
  minIntervalText: string | null;
  /** the latest counted deploy, null when none */
  lastDeploy: number | null;
  /** what blocks (when both would, the one with the later slot); null when not at the limit */
  blockedBy: 'count' | 'interval' | null;
}

export type Reason = IncidentReason | FreezeReason | WindowReason | CadenceReason;

export interface Decision {
  conclusion: 'success' | 'failure';
  /** false for PRs into branches that are not gated */
  gated: boolean;
  /** one line */
  title: string;
  /** markdown, config problems first */
  summary: string;
  /** every active constraint, blocking or not */
  reasons: Reason[];
  /** the decisive blocking reason (null when open) */
  decisive: Reason | null;
  /** when the block ends on its own (null when open, or when a person must act) */
  blockedUntil: number | null;
  /** the next moment the decision can change on its own (window edge, timed freeze, cadence slot) */
  nextChangeAt: number | null;
  hotfix: { is: boolean; why: string };
  overridden: boolean;
  /** what decides whether a posted check must be re-posted: conclusion, decisive reason, blocked-until */
  key: string;
}

export interface GateInput {
  config: Config;
  state: GateState;
  change: Change;
  now: number;
}
