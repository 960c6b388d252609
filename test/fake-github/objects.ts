/**
 * GitHub-shaped JSON objects (users, repositories, pull requests, check runs...) as the REST API and
 * webhooks render them, with every field the OpenAPI description marks as required. URLs point at the
 * fake server (GitHub Enterprise layout: `<origin>/api/v3/...` for the API, `<origin>/...` for the web).
 */

export interface Urls {
  /** e.g. http://127.0.0.1:1234/api/v3 */
  api: string;
  /** e.g. http://127.0.0.1:1234 */
  web: string;
}

export type AccountType = 'User' | 'Organization' | 'Bot';

export interface AccountRecord {
  login: string;
  id: number;
  type: AccountType;
}

export const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const nodeId = (kind: string, id: number): string => Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64');

export function simpleUser(u: Urls, a: AccountRecord): Record<string, unknown> {
  const enc = encodeURIComponent(a.login);
  const url = `${u.api}/users/${enc}`;
  return {
    login: a.login,
    id: a.id,
    node_id: nodeId(a.type === 'Organization' ? 'Organization' : a.type === 'Bot' ? 'Bot' : 'User', a.id),
    avatar_url: `${u.web}/avatars/u/${a.id}?v=4`,
    gravatar_id: '',
    url,
    html_url: a.type === 'Bot' ? `${u.web}/apps/${enc.replace(/%5Bbot%5D$/i, '')}` : `${u.web}/${enc}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: a.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

export interface RepoRecord {
  id: number;
  owner: AccountRecord;
  name: string;
  defaultBranch: string;
  private: boolean;
  archived: boolean;
  createdAt: number;
  pushedAt: number;
  /** null: not a fork */
  fork: boolean;
}

export function repository(u: Urls, r: RepoRecord, extra: { full?: boolean } = {}): Record<string, unknown> {
  const fullName = `${r.owner.login}/${r.name}`;
  const url = `${u.api}/repos/${fullName}`;
  const base: Record<string, unknown> = {
    id: r.id,
    node_id: nodeId('Repository', r.id),
    name: r.name,
    full_name: fullName,
    private: r.private,
    owner: simpleUser(u, r.owner),
    html_url: `${u.web}/${fullName}`,
    description: null,
    fork: r.fork,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://${new URL(u.web).host}/${fullName}.git`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@${new URL(u.web).hostname}:${fullName}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${u.web}/${fullName}.git`,
    mirror_url: null,
    hooks_url: `${url}/hooks`,
    svn_url: `${u.web}/${fullName}`,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: r.defaultBranch,
    open_issues_count: 0,
    open_issues: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: r.archived,
    disabled: false,
    visibility: r.private ? 'private' : 'public',
    pushed_at: iso(r.pushedAt),
    created_at: iso(r.createdAt),
    updated_at: iso(r.pushedAt),
    license: null,
    allow_forking: true,
    web_commit_signoff_required: false,
  };
  if (extra.full) {
    Object.assign(base, {
      network_count: 0,
      subscribers_count: 0,
      allow_rebase_merge: true,
      allow_squash_merge: true,
      allow_merge_commit: true,
      allow_auto_merge: false,
      delete_branch_on_merge: false,
      ...(r.owner.type === 'Organization' ? { organization: simpleUser(u, r.owner) } : {}),
    });
  }
  return base;
}

export interface PullRecord {
  /** `changed_files` (exempt.paths): set with the PR's file list; 1 when none is set */
  changedFiles?: number;
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: AccountRecord;
  state: 'open' | 'closed';
  draft: boolean;
  locked: boolean;
  labels: string[];
  headRef: string;
  headSha: string;
  /** the repository the head branch lives in: the base repository itself, or a fork */
  headRepo: RepoRecord | null;
  baseRef: string;
  baseSha: string;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  mergedBy: AccountRecord | null;
  authorAssociation: string;
  /** auto-merge enabled (merge-first: `auto_merge` of the REST objects); absent or null when not */
  autoMerge?: { enabledBy: AccountRecord; mergeMethod: 'merge' | 'squash' | 'rebase' } | null;
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export function label(u: Urls, repo: RepoRecord, l: LabelRecord): Record<string, unknown> {
  return {
    id: l.id,
    node_id: nodeId('Label', l.id),
    url: `${u.api}/repos/${repo.owner.login}/${repo.name}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    description: l.description ?? '',
    color: l.color,
    default: false,
  };
}

const link = (href: string) => ({ href });

/** A pull request: `full` renders the `pull-request` schema (GET one), otherwise `pull-request-simple` (lists). */
export function pullRequest(u: Urls, repo: RepoRecord, p: PullRecord, labels: LabelRecord[], full: boolean): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const url = `${u.api}/repos/${fullName}/pulls/${p.number}`;
  const issueUrl = `${u.api}/repos/${fullName}/issues/${p.number}`;
  const html = `${u.web}/${fullName}/pull/${p.number}`;
  const headRepo = p.headRepo ? repository(u, p.headRepo) : null;
  const out: Record<string, unknown> = {
    url,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${u.api}/repos/${fullName}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${u.api}/repos/${fullName}/statuses/${p.headSha}`,
    number: p.number,
    state: p.state,
    locked: p.locked,
    title: p.title,
    user: simpleUser(u, p.user),
    body: p.body,
    labels: labels.map((l) => label(u, repo, l)),
    milestone: null,
    active_lock_reason: null,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    closed_at: p.closedAt === null ? null : iso(p.closedAt),
    merged_at: p.mergedAt === null ? null : iso(p.mergedAt),
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${(p.headRepo ?? repo).owner.login}:${p.headRef}`,
      ref: p.headRef,
      sha: p.headSha,
      user: simpleUser(u, (p.headRepo ?? repo).owner),
      repo: headRepo,
    },
    base: {
      label: `${repo.owner.login}:${p.baseRef}`,
      ref: p.baseRef,
      sha: p.baseSha,
      user: simpleUser(u, repo.owner),
      repo: repository(u, repo),
    },
    _links: {
      self: link(url),
      html: link(html),
      issue: link(issueUrl),
      comments: link(`${issueUrl}/comments`),
      review_comments: link(`${url}/comments`),
      review_comment: link(`${u.api}/repos/${fullName}/pulls/comments{/number}`),
      commits: link(`${url}/commits`),
      statuses: link(`${u.api}/repos/${fullName}/statuses/${p.headSha}`),
    },
    author_association: p.authorAssociation,
    auto_merge: p.autoMerge
      ? { enabled_by: simpleUser(u, p.autoMerge.enabledBy), merge_method: p.autoMerge.mergeMethod, commit_title: `${p.title} (#${p.number})`, commit_message: '' }
      : null,
    draft: p.draft,
  };
  if (full) {
    Object.assign(out, {
      merged: p.mergedAt !== null,
      mergeable: p.state === 'open' ? true : null,
      rebaseable: p.state === 'open' ? true : null,
      mergeable_state: p.state === 'open' ? (p.draft ? 'draft' : 'clean') : 'unknown',
      merged_by: p.mergedBy ? simpleUser(u, p.mergedBy) : null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: p.changedFiles ?? 1,
    });
  }
  return out;
}

/** The `pull-request-minimal` shape check runs and check suites carry. */
export function pullRequestMinimal(u: Urls, repo: RepoRecord, p: PullRecord): Record<string, unknown> {
  const mini = (r: RepoRecord) => ({ id: r.id, url: `${u.api}/repos/${r.owner.login}/${r.name}`, name: r.name });
  return {
    id: p.id,
    number: p.number,
    url: `${u.api}/repos/${repo.owner.login}/${repo.name}/pulls/${p.number}`,
    head: { ref: p.headRef, sha: p.headSha, repo: mini(p.headRepo ?? repo) },
    base: { ref: p.baseRef, sha: p.baseSha, repo: mini(repo) },
  };
}

export interface AppRecord {
  id: number;
  slug: string;
  name: string;
  owner: AccountRecord;
}

export const APP_PERMISSIONS: Record<string, string> = {
  checks: 'write',
  statuses: 'write',
  contents: 'read',
  pull_requests: 'read',
  issues: 'write',
  metadata: 'read',
  members: 'read',
  deployments: 'write',
  actions: 'read',
  merge_queues: 'read',
  administration: 'read',
};

export const APP_EVENTS = [
  'pull_request',
  'issue_comment',
  'merge_group',
  'check_run',
  'check_suite',
  'deployment_protection_rule',
  'deployment_status',
  'push',
];

export function integration(u: Urls, app: AppRecord): Record<string, unknown> {
  const t = iso(Date.UTC(2024, 0, 1));
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId('Integration', app.id),
    client_id: `Iv1.fake${app.id}`,
    owner: simpleUser(u, app.owner),
    name: app.name,
    description: 'Moratorium (fake GitHub)',
    external_url: `${u.web}/apps/${app.slug}`,
    html_url: `${u.web}/apps/${app.slug}`,
    created_at: t,
    updated_at: t,
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    installations_count: 1,
  };
}

export interface InstallationRecord {
  id: number;
  account: AccountRecord;
  /** null: all repositories of the account */
  repositoryIds: Set<number> | null;
  suspended: boolean;
  createdAt: number;
}

export function installation(u: Urls, app: AppRecord, i: InstallationRecord): Record<string, unknown> {
  return {
    id: i.id,
    account: simpleUser(u, i.account),
    repository_selection: i.repositoryIds ? 'selected' : 'all',
    access_tokens_url: `${u.api}/app/installations/${i.id}/access_tokens`,
    repositories_url: `${u.api}/installation/repositories`,
    html_url: `${u.web}/${i.account.type === 'Organization' ? `organizations/${i.account.login}/` : ''}settings/installations/${i.id}`,
    app_id: app.id,
    app_slug: app.slug,
    client_id: `Iv1.fake${app.id}`,
    target_id: i.account.id,
    target_type: i.account.type,
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    created_at: iso(i.createdAt),
    updated_at: iso(i.createdAt),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export interface CheckRunRecord {
  id: number;
  repoKey: string;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  startedAt: number;
  completedAt: number | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  actions: unknown[];
  appId: number;
  installationId: number | null;
  checkSuiteId: number;
  createdAt: number;
  /** every write to this check run, oldest first (the create body, then each update body) */
  history: Array<Record<string, unknown>>;
}

export function checkRun(u: Urls, repo: RepoRecord, c: CheckRunRecord, app: AppRecord, pulls: PullRecord[]): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  return {
    id: c.id,
    head_sha: c.headSha,
    node_id: nodeId('CheckRun', c.id),
    external_id: c.externalId ?? '',
    url: `${u.api}/repos/${fullName}/check-runs/${c.id}`,
    html_url: `${u.web}/${fullName}/runs/${c.id}`,
    details_url: c.detailsUrl ?? `${u.web}/apps/${app.slug}`,
    status: c.status,
    conclusion: c.conclusion,
    started_at: iso(c.startedAt),
    completed_at: c.completedAt === null ? null : iso(c.completedAt),
    output: {
      title: c.output.title,
      summary: c.output.summary,
      text: c.output.text,
      annotations_count: 0,
      annotations_url: `${u.api}/repos/${fullName}/check-runs/${c.id}/annotations`,
    },
    name: c.name,
    check_suite: { id: c.checkSuiteId },
    app: integration(u, app),
    pull_requests: pulls.map((p) => pullRequestMinimal(u, repo, p)),
  };
}

export interface StatusRecord {
  id: number;
  repoKey: string;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: AccountRecord;
  installationId: number | null;
  createdAt: number;
}

export function status(u: Urls, repo: RepoRecord, s: StatusRecord): Record<string, unknown> {
  return {
    url: `${u.api}/repos/${repo.owner.login}/${repo.name}/statuses/${s.sha}`,
    avatar_url: `${u.web}/avatars/u/${s.creator.id}?v=4`,
    id: s.id,
    node_id: nodeId('StatusContext', s.id),
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: iso(s.createdAt),
    updated_at: iso(s.createdAt),
    creator: simpleUser(u, s.creator),
  };
}

export interface CommentRecord {
  id: number;
  repoKey: string;
  issueNumber: number;
  body: string;
  user: AccountRecord;
  createdAt: number;
  updatedAt: number;
  installationId: number | null;
  authorAssociation: string;
}

export function issueComment(u: Urls, repo: RepoRecord, c: CommentRecord, app: AppRecord | null): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: `${u.api}/repos/${fullName}/issues/comments/${c.id}`,
    html_url: `${u.web}/${fullName}/issues/${c.issueNumber}#issuecomment-${c.id}`,
    body: c.body,
    user: simpleUser(u, c.user),
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    issue_url: `${u.api}/repos/${fullName}/issues/${c.issueNumber}`,
    author_association: c.authorAssociation,
    performed_via_github_app: app ? integration(u, app) : null,
    reactions: {
      url: `${u.api}/repos/${fullName}/issues/comments/${c.id}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
  };
}

export interface IssueEventRecord {
  id: number;
  repoKey: string;
  issueNumber: number;
  event: 'labeled' | 'unlabeled';
  label: string;
  actor: AccountRecord;
  createdAt: number;
}

export function issueEvent(u: Urls, repo: RepoRecord, e: IssueEventRecord, color: string): Record<string, unknown> {
  return {
    id: e.id,
    node_id: nodeId(e.event === 'labeled' ? 'LabeledEvent' : 'UnlabeledEvent', e.id),
    url: `${u.api}/repos/${repo.owner.login}/${repo.name}/issues/events/${e.id}`,
    actor: simpleUser(u, e.actor),
    event: e.event,
    commit_id: null,
    commit_url: null,
    created_at: iso(e.createdAt),
    performed_via_github_app: null,
    label: { name: e.label, color },
  };
}
