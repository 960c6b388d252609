/**
 * The GitHub port over an installation-authenticated ProbotOctokit. The only code that knows
 * endpoints. Retries of 5xx and rate limits are Octokit's plugins' job (configured in client.ts);
 * a request GitHub does not answer in time is given up here (REQUEST_TIMEOUT_MS) and retried by them.
 */
import type { ProbotOctokit } from 'probot';
import { parse as parseYaml } from 'yaml';
import type { CheckOutput, ConditionalReads, ConfigFetch, DeploymentAnswer, GitHubPort, PullFiles, PullInfo, RepoInfo, RepoRef, ReviewInfo, Role } from './port.js';

export type Octokit = InstanceType<typeof ProbotOctokit>;

export const CHECK_NAME = 'moratorium';
const CONFIG_PATH = '.github/moratorium.yml';

interface RawPull {
  number: number;
  state: string;
  draft?: boolean | null;
  title: string;
  head: { sha: string; ref: string; repo: { full_name: string } | null };
  base: { ref: string };
  labels: Array<{ name?: string } | string>;
  updated_at: string;
  merged_at?: string | null;
  merged?: boolean | null;
  merge_commit_sha?: string | null;
  user?: { login?: string } | null;
  changed_files?: number | null;
  auto_merge?: object | null;
}

/** The pull request files endpoint lists at most this many files, however many pages are asked for. */
export const PULL_FILES_CAP = 3000;

export function pullFromApi(p: RawPull): PullInfo {
  return {
    number: p.number,
    state: p.state === 'open' ? 'open' : 'closed',
    draft: Boolean(p.draft),
    title: p.title,
    headSha: p.head.sha,
    headRef: p.head.ref,
    headRepoFullName: p.head.repo?.full_name ?? null,
    baseRef: p.base.ref,
    labels: p.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
    updatedAt: Date.parse(p.updated_at),
    merged: Boolean(p.merged ?? p.merged_at),
    mergeCommitSha: p.merge_commit_sha ?? null,
    ...(p.user?.login ? { author: p.user.login } : {}),
    ...(typeof p.changed_files === 'number' ? { changedFiles: p.changed_files } : {}),
    autoMerge: p.auto_merge !== undefined && p.auto_merge !== null,
  };
}

interface RawRepo {
  owner: { login: string };
  name: string;
  default_branch: string;
  archived?: boolean;
  pushed_at?: string | null;
}

function repoFromApi(data: RawRepo): RepoInfo {
  return { owner: data.owner.login, repo: data.name, defaultBranch: data.default_branch, archived: Boolean(data.archived), pushedAt: data.pushed_at ?? null };
}

const r = (ref: RepoRef): { owner: string; repo: string } => ({ owner: ref.owner, repo: ref.repo });

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : undefined;
}

/**
 * How long one request to GitHub may take, answer included, from the moment it is sent (time spent
 * waiting in the write throttle does not count). GitHub itself ends a request that runs longer than
 * 10 seconds with an error (the limit leaves room for that answer to arrive); a connection silent
 * longer is hung, and without a limit Node's fetch would wait five minutes, stalling a whole fan-out
 * behind it. A timed-out request fails like a network error (a RequestError with status 500), so
 * Octokit's retry plugin retries it with backoff.
 */
export const REQUEST_TIMEOUT_MS = 12_000;

type FetchFn = typeof globalThis.fetch;
const TIMED = Symbol('moratorium.timedFetch');
const withTimeout = new WeakSet<object>();

/** `fetch`, giving up after `ms` (its own signal, if any, still aborts it). */
function timedFetch(inner: FetchFn, ms: number): FetchFn {
  const fn = ((input: Parameters<FetchFn>[0], init?: Parameters<FetchFn>[1]) => {
    const timeout = AbortSignal.timeout(ms);
    return inner(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  }) as FetchFn & { [TIMED]?: true };
  fn[TIMED] = true;
  return fn;
}

/** Puts a per-request timeout on every request of this client (rest methods, pagination, the config plugin). */
function addRequestTimeout(octokit: Octokit, ms: number): void {
  if (withTimeout.has(octokit)) return;
  withTimeout.add(octokit);
  octokit.hook.before('request', (options) => {
    const request = ((options as { request?: Record<string, unknown> }).request ??= {});
    const inner = (request.fetch as (FetchFn & { [TIMED]?: true }) | undefined) ?? globalThis.fetch;
    if (!(inner as { [TIMED]?: true })[TIMED]) request.fetch = timedFetch(inner, ms);
  });
}

/** a stored answer's format; a change of it makes every stored answer a miss */
const READS_FORMAT = 'v1';
const PER_PAGE = 100;

/**
 * GET `route` with `If-None-Match` when `reads` holds an answer for `key`: a `304 Not Modified` is
 * answered with the stored value (`fromStore`), a 200 is stored with its ETag (`toStore`), a 404
 * forgets it. The store failing never fails the read: it is then an ordinary request.
 */
async function conditionalGet<T>(
  octokit: Octokit,
  reads: ConditionalReads | null,
  key: string,
  route: string,
  params: Record<string, unknown>,
  fromResponse: (data: unknown, headers: Record<string, string | number | undefined>) => T,
  usable: (stored: T) => boolean = () => true,
): Promise<T> {
  const k = `${READS_FORMAT} ${key}`;
  let stored: { etag: string; value: T } | null = null;
  if (reads) {
    try {
      const row = await reads.get(k);
      if (row) stored = { etag: row.etag, value: JSON.parse(row.body) as T };
    } catch {
      stored = null;
    }
  }
  if (stored && !usable(stored.value)) stored = null;
  try {
    const res = await octokit.request(route, { ...params, ...(stored ? { headers: { 'if-none-match': stored.etag } } : {}) });
    const value = fromResponse(res.data, res.headers as Record<string, string | number | undefined>);
    const etag = res.headers.etag;
    if (reads && typeof etag === 'string' && etag) await reads.put(k, etag, JSON.stringify(value)).catch(() => {});
    return value;
  } catch (error) {
    if (status(error) === 304 && stored) return stored.value;
    if (status(error) === 404 && reads) await reads.drop(k).catch(() => {});
    throw error;
  }
}

interface Page<T> {
  items: T[];
  more: boolean;
}

/**
 * Every page of a listing, each page read conditionally (its own ETag). `scope` keeps apart what
 * different credentials see at the same URL (an installation id, or `app`). A stored last page that
 * was full is asked again unconditionally: a page that grew would keep its ETag while a next page
 * appeared behind it.
 */
export async function listConditionally<T>(
  octokit: Octokit,
  reads: ConditionalReads | null,
  scope: string,
  route: string,
  params: Record<string, string | number>,
  items: (data: unknown) => T[],
): Promise<T[]> {
  const query = Object.entries(params)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v).toLowerCase())}`)
    .join('&');
  const out: T[] = [];
  for (let page = 1; page <= 1000; page++) {
    const got = await conditionalGet<Page<T>>(
      octokit,
      reads,
      `${scope} ${route}?${query}&per_page=${PER_PAGE}&page=${page}`,
      route,
      { ...params, per_page: PER_PAGE, page },
      (data, headers) => ({ items: items(data), more: /\brel="next"/.test(String(headers.link ?? '')) }),
      (p) => Array.isArray(p.items) && (p.more || p.items.length < PER_PAGE),
    );
    out.push(...got.items);
    if (!got.more || got.items.length === 0) break;
  }
  return out;
}

export class OctokitPort implements GitHubPort {
  constructor(
    readonly installationId: number,
    private readonly octokit: Octokit,
    timeoutMs: number = REQUEST_TIMEOUT_MS,
    /** where the listings keep their ETags (the store); null: plain requests */
    private readonly reads: ConditionalReads | null = null,
  ) {
    addRequestTimeout(octokit, timeoutMs);
  }

  async listRepositories(): Promise<RepoInfo[]> {
    return listConditionally(this.octokit, this.reads, String(this.installationId), 'GET /installation/repositories', {}, (data) =>
      ((data as { repositories?: RawRepo[] }).repositories ?? []).map(repoFromApi),
    );
  }

  async getRepository(ref: RepoRef): Promise<RepoInfo> {
    const { data } = await this.octokit.rest.repos.get(r(ref));
    return repoFromApi(data);
  }

  async listOpenPulls(ref: RepoRef): Promise<PullInfo[]> {
    return listConditionally(this.octokit, this.reads, String(this.installationId), 'GET /repos/{owner}/{repo}/pulls', { ...r(ref), state: 'open', sort: 'updated', direction: 'desc' }, (data) =>
      (data as RawPull[]).map(pullFromApi),
    );
  }

  async getPull(ref: RepoRef, number: number): Promise<PullInfo | null> {
    try {
      const { data } = await this.octokit.rest.pulls.get({ ...r(ref), pull_number: number });
      return pullFromApi(data as unknown as RawPull);
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }

  async listPullFiles(ref: RepoRef, number: number): Promise<PullFiles> {
    const files: PullFiles['files'] = [];
    await this.octokit.paginate(this.octokit.rest.pulls.listFiles, { ...r(ref), pull_number: number, per_page: 100 }, (response, done) => {
      for (const f of response.data) files.push({ path: f.filename, previousPath: f.previous_filename ?? null });
      if (files.length >= PULL_FILES_CAP) done();
      return [];
    });
    return { files, capped: files.length >= PULL_FILES_CAP };
  }

  async listReviews(ref: RepoRef, number: number): Promise<ReviewInfo[]> {
    const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, { ...r(ref), pull_number: number, per_page: 100 });
    return reviews.map((v) => ({
      reviewer: v.user?.login ?? null,
      state: v.state,
      submittedAt: v.submitted_at ? Date.parse(v.submitted_at) : null,
    }));
  }

  async pullsForCommit(ref: RepoRef, sha: string): Promise<PullInfo[]> {
    const { data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...r(ref), commit_sha: sha, per_page: 100 });
    return data.map((p) => pullFromApi(p as unknown as RawPull));
  }

  async postCheck(ref: RepoRef, sha: string, output: CheckOutput): Promise<void> {
    await this.octokit.rest.checks.create({
      ...r(ref),
      name: CHECK_NAME,
      head_sha: sha,
      status: 'completed',
      conclusion: output.conclusion,
      output: { title: output.title.slice(0, 1000), summary: output.summary.slice(0, 65_535) },
    });
  }

  async postStatus(ref: RepoRef, sha: string, state: 'success' | 'failure', description: string): Promise<void> {
    await this.octokit.rest.repos.createCommitStatus({
      ...r(ref),
      sha,
      state,
      context: CHECK_NAME,
      description: description.length > 140 ? `${description.slice(0, 139)}…` : description,
    });
  }

  async fetchConfig(ref: RepoRef, opts: { fallback?: boolean } = {}): Promise<ConfigFetch> {
    try {
      if (opts.fallback === false) {
        // only the repository's own file: the account's `.github` fallback is fetched (and cached) once
        // per account by the caller. A file that `_extends` another is resolved by the plugin below.
        const own = await this.ownConfigFile(ref);
        if (own === null) return { kind: 'missing' };
        if (typeof own !== 'object' || own === null || !('_extends' in own)) return { kind: 'found', data: own, own: true };
      }
      // Probot's config plugin: the repository's file, else the account's `.github` repository, with _extends
      const { config, files } = await this.octokit.config.get({ ...r(ref), path: CONFIG_PATH });
      if (files.every((f) => f.config === null)) return { kind: 'missing' };
      return { kind: 'found', data: config };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (status(error) === undefined && /could not be parsed|not an object|directory or a submodule/i.test(message)) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message.split('\n')[0]}` : '';
        return { kind: 'unparsable', message: `${message.replace(/^\[@probot\/octokit-plugin-config\]\s*/, '')}${cause}` };
      }
      return { kind: 'error', message };
    }
  }

  /** The repository's own config file, parsed as the config plugin parses it; null when there is none. */
  private async ownConfigFile(ref: RepoRef): Promise<unknown> {
    let data: unknown;
    try {
      // conditional: an unchanged file answers 304 (not counted against the rate limit)
      ({ data } = await conditionalGet(
        this.octokit,
        this.reads,
        `${this.installationId} GET /repos/${ref.owner.toLowerCase()}/${ref.repo.toLowerCase()}/contents/${CONFIG_PATH}`,
        'GET /repos/{owner}/{repo}/contents/{path}',
        { ...r(ref), path: CONFIG_PATH, mediaType: { format: 'raw' } },
        (d) => ({ data: d }),
      ));
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
    if (typeof data !== 'string') throw new Error(`Configuration could not be parsed from ${CONFIG_PATH} (it is a directory or a submodule)`);
    let parsed: unknown;
    try {
      parsed = parseYaml(data) ?? {};
    } catch (error) {
      throw new Error(`Configuration could not be parsed from ${CONFIG_PATH} (invalid YAML)`, { cause: error });
    }
    if (typeof parsed !== 'object') throw new Error(`Configuration could not be parsed from ${CONFIG_PATH} (YAML is not an object)`);
    return parsed;
  }

  async fileAt(ref: RepoRef, path: string, sha: string): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ ...r(ref), path, ref: sha });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
      return Buffer.from(data.content, 'base64').toString('utf8');
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }

  async getRole(ref: RepoRef, login: string): Promise<Role> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...r(ref), username: login });
      const role = (data as { role_name?: string }).role_name;
      if (role === 'admin' || role === 'maintain' || role === 'write' || role === 'triage' || role === 'read') return role;
      // custom roles: map through the permission booleans of the user object
      const p = (data.user as { permissions?: Record<string, boolean> } | null)?.permissions;
      if (p?.admin) return 'admin';
      if (p?.maintain) return 'maintain';
      if (p?.push) return 'write';
      if (p?.triage) return 'triage';
      if (p?.pull) return 'read';
      const legacy = data.permission;
      if (legacy === 'admin' || legacy === 'write' || legacy === 'read') return legacy;
      return 'none';
    } catch (error) {
      if (status(error) === 404) return 'none';
      throw error;
    }
  }

  async isActiveTeamMember(org: string, teamSlug: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: teamSlug, username: login });
      return data.state === 'active';
    } catch (error) {
      if (status(error) === 404) return false;
      throw error;
    }
  }

  async labelAddedBy(ref: RepoRef, number: number, label: string): Promise<string | null> {
    const events = await this.octokit.paginate(this.octokit.rest.issues.listEvents, { ...r(ref), issue_number: number, per_page: 100 });
    let actor: string | null = null;
    for (const e of events) {
      const name = (e as { label?: { name?: string } }).label?.name;
      if (name?.toLowerCase() !== label.toLowerCase()) continue;
      if (e.event === 'labeled') actor = e.actor?.login ?? null;
      if (e.event === 'unlabeled') actor = null;
    }
    return actor;
  }

  async createComment(ref: RepoRef, issueNumber: number, body: string): Promise<number> {
    // not retried here: a POST whose answer was lost may have created the comment, so a retry is
    // the reply job's (which first looks for the comment, see sendReply)
    const { data } = await this.octokit.rest.issues.createComment({ ...r(ref), issue_number: issueNumber, body, request: { retries: 0 } });
    return data.id;
  }

  private self: string | null = null;

  /**
   * The app's own bot login (`<slug>[bot]`), from `GET /app` (signed with the app's JWT by the auth
   * strategy); asked once, and only when a reply job is retried. null when it cannot be asked.
   */
  private async botLogin(): Promise<string | null> {
    if (this.self !== null) return this.self;
    try {
      const { data } = await this.octokit.rest.apps.getAuthenticated();
      this.self = data?.slug ? `${data.slug}[bot]` : null;
    } catch {
      return null;
    }
    return this.self;
  }

  async findMarkedComment(ref: RepoRef, issueNumber: number, marker: string, afterCommentId: number): Promise<number | null> {
    // by this app: its bot login when GitHub tells it, else any bot (a person's comment never counts);
    // the marker ends the reply (another reply quoting a command line that holds it does not count)
    const self = (await this.botLogin())?.toLowerCase() ?? null;
    const ours = (user: { login: string; type: string } | null | undefined) => user?.type === 'Bot' && (self === null || user.login.toLowerCase() === self);
    // comments are listed oldest first: read the last page first and walk back until a page starts
    // before the command comment (ids grow with time)
    const list = (page: number) => this.octokit.rest.issues.listComments({ ...r(ref), issue_number: issueNumber, per_page: 100, page });
    const first = await list(1);
    const last = Number(/[?&]page=(\d+)[^>]*>;\s*rel="last"/.exec(first.headers.link ?? '')?.[1] ?? 1);
    for (let page = last; page >= 1; page--) {
      const { data } = page === 1 ? first : await list(page);
      for (const c of data) {
        if (c.id > afterCommentId && ours(c.user) && c.body?.trimEnd().endsWith(marker)) return c.id;
      }
      if (data.length === 0 || data[0]!.id <= afterCommentId) break;
    }
    return null;
  }

  async addReaction(ref: RepoRef, commentId: number, content: '+1' | '-1' | 'confused' | 'eyes'): Promise<void> {
    await this.octokit.rest.reactions.createForIssueComment({ ...r(ref), comment_id: commentId, content });
  }

  async answerDeployment(callbackUrl: string, environment: string, state: DeploymentAnswer, comment: string): Promise<void> {
    // the payload carries no run id: it is taken from the callback URL
    const match = /\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule\/?$/.exec(new URL(callbackUrl).pathname);
    if (!match) {
      await this.octokit.request(`POST ${callbackUrl}`, { environment_name: environment, state, comment: comment.slice(0, 1024) });
      return;
    }
    const [, owner, repo, runId] = match as unknown as [string, string, string, string];
    await this.octokit.rest.actions.reviewCustomGatesForRun({
      owner: decodeURIComponent(owner),
      repo: decodeURIComponent(repo),
      run_id: Number(runId),
      environment_name: environment,
      state,
      comment: comment.slice(0, 1024),
    });
  }

  async requiresCheck(ref: RepoRef, branch: string, name: string): Promise<boolean | null> {
    let known = false;
    try {
      const { data } = await this.octokit.rest.repos.getBranchRules({ ...r(ref), branch, per_page: 100 });
      known = true;
      for (const rule of data) {
        if (rule.type !== 'required_status_checks') continue;
        const checks = (rule as { parameters?: { required_status_checks?: { context: string }[] } }).parameters?.required_status_checks ?? [];
        if (checks.some((c) => c.context === name)) return true;
      }
    } catch (error) {
      if (status(error) !== 404 && status(error) !== 403) throw error;
    }
    try {
      const { data } = await this.octokit.rest.repos.getBranch({ ...r(ref), branch });
      known = true;
      const rsc = data.protection?.required_status_checks;
      if (rsc?.contexts?.includes(name) || rsc?.checks?.some((c) => c.context === name)) return true;
    } catch (error) {
      if (status(error) !== 404 && status(error) !== 403) throw error;
    }
    return known ? false : null;
  }
}
