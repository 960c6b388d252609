/**
 * What the domain needs from GitHub, for one installation. Only src/github/ knows endpoints;
 * unit tests use a hand-written fake of this interface.
 */
export interface RepoRef {
  owner: string;
  repo: string;
}

export interface RepoInfo extends RepoRef {
  defaultBranch: string;
  archived: boolean;
  /**
   * GitHub's `pushed_at` (the last push to any branch), when the listing gave it: while it stays
   * the same, no file of the repository changed (the config cache keeps the repository's own file).
   */
  pushedAt?: string | null;
}

export interface PullInfo {
  number: number;
  state: 'open' | 'closed';
  draft: boolean;
  title: string;
  headSha: string;
  headRef: string;
  /** full name of the head repository (null when it was deleted) */
  headRepoFullName: string | null;
  baseRef: string;
  labels: string[];
  updatedAt: number;
  merged: boolean;
  mergeCommitSha: string | null;
  /** auto-merge is enabled (the REST list's `auto_merge` is not null); absent when not known */
  autoMerge?: boolean;
  /** the author's login, when the answer names one */
  author?: string | null;
  /** `changed_files`: in a single pull request's answer and in webhooks, not in lists */
  changedFiles?: number | null;
}

/** A pull request's changed files, as the pull request files endpoint lists them. */
export interface PullFiles {
  /** each file's path, and its path before a rename (`previous_filename`) */
  files: { path: string; previousPath: string | null }[];
  /** the list reached the endpoint's cap (3,000 files): there may be more */
  capped: boolean;
}

/** One review of a pull request, as the reviews endpoint lists it (oldest first). */
export interface ReviewInfo {
  /** null for a deleted account */
  reviewer: string | null;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING */
  state: string;
  /** submitted_at in ms; null when there is none (a pending review) */
  submittedAt: number | null;
}

export interface CheckOutput {
  conclusion: 'success' | 'failure';
  title: string;
  summary: string;
}

export type ConfigFetch =
  /** `own`: the repository's own file, with no `_extends` (it changes only with a push to the repository) */
  | { kind: 'found'; data: unknown; own?: boolean }
  | { kind: 'missing' }
  /** the file exists but is not YAML or not a mapping */
  | { kind: 'unparsable'; message: string }
  /** GitHub could not be asked (network, 5xx, auth) */
  | { kind: 'error'; message: string };

/**
 * Where the port keeps what a listing last answered and its ETag (the store, shared by every
 * replica): the next read of that page sends `If-None-Match`, and a `304 Not Modified` (not counted
 * against GitHub's rate limit) is answered from the stored body.
 */
export interface ConditionalReads {
  get(key: string): Promise<{ etag: string; body: string } | null>;
  put(key: string, etag: string, body: string): Promise<void>;
  drop(key: string): Promise<void>;
}

/** role_name of the collaborator permission endpoint, or 'none' */
export type Role = 'read' | 'triage' | 'write' | 'maintain' | 'admin' | 'none';

export type DeploymentAnswer = 'approved' | 'rejected';

export interface GitHubPort {
  readonly installationId: number;
  listRepositories(): Promise<RepoInfo[]>;
  getRepository(ref: RepoRef): Promise<RepoInfo>;
  /** open PRs, most recently updated first, every page */
  listOpenPulls(ref: RepoRef): Promise<PullInfo[]>;
  getPull(ref: RepoRef, number: number): Promise<PullInfo | null>;
  /** every review of the pull request, oldest first, every page (a read: never behind the write throttle) */
  listReviews(ref: RepoRef, number: number): Promise<ReviewInfo[]>;
  pullsForCommit(ref: RepoRef, sha: string): Promise<PullInfo[]>;
  postCheck(ref: RepoRef, sha: string, output: CheckOutput): Promise<void>;
  postStatus(ref: RepoRef, sha: string, state: 'success' | 'failure', description: string): Promise<void>;
  /**
   * `.github/moratorium.yml` as Probot's config plugin reads it (with `_extends`). With
   * `fallback: false`, a repository without its own file answers `missing` instead of reading the
   * account's `.github` repository (the caller caches that once per account).
   */
  fetchConfig(ref: RepoRef, opts?: { fallback?: boolean }): Promise<ConfigFetch>;
  /** a file's text at a commit; null when it does not exist there */
  fileAt(ref: RepoRef, path: string, sha: string): Promise<string | null>;
  /** exact role via role_name (custom roles mapped through the permission booleans) */
  getRole(ref: RepoRef, login: string): Promise<Role>;
  /** true only for an `active` membership */
  isActiveTeamMember(org: string, teamSlug: string, login: string): Promise<boolean>;
  /** the files a PR changes at its current head, every page up to the endpoint's cap of 3,000 */
  listPullFiles(ref: RepoRef, number: number): Promise<PullFiles>;
  /** who last added this label to the issue/PR, from its events; null when none is found */
  labelAddedBy(ref: RepoRef, number: number, label: string): Promise<string | null>;
  createComment(ref: RepoRef, issueNumber: number, body: string): Promise<number>;
  /**
   * The id of a comment on the issue written by this app's bot, newer than `afterCommentId`, whose
   * body ends with `marker`; null when there is none. Newest comments are looked at first.
   */
  findMarkedComment(ref: RepoRef, issueNumber: number, marker: string, afterCommentId: number): Promise<number | null>;
  addReaction(ref: RepoRef, commentId: number, content: '+1' | '-1' | 'confused' | 'eyes'): Promise<void>;
  answerDeployment(callbackUrl: string, environment: string, state: DeploymentAnswer, comment: string): Promise<void>;
  /** does any branch rule or protection of this branch require a check named `name`? null when unknown */
  requiresCheck(ref: RepoRef, branch: string, name: string): Promise<boolean | null>;
}
