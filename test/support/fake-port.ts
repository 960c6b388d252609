/** A small hand-written fake of the GitHub port for unit tests of the domain. */
import type { CheckOutput, ConfigFetch, DeploymentAnswer, GitHubPort, PullFiles, PullInfo, RepoInfo, RepoRef, ReviewInfo, Role } from '../../src/github/port.js';
import { pino } from 'pino';
import { openSqliteStore } from '../../src/store/sqlite/engine.js';
import { composeApp } from '../../src/compose.js';

export interface Posted {
  repo: string;
  sha: string;
  conclusion: string;
  title: string;
  summary: string;
}

export class FakePort implements GitHubPort {
  repos: RepoInfo[] = [];
  pulls = new Map<string, PullInfo[]>();
  roles = new Map<string, Role>();
  config: ConfigFetch = { kind: 'missing' };
  posted: Posted[] = [];
  answers: { url: string; environment: string; state: DeploymentAnswer; comment: string }[] = [];
  comments: { number: number; body: string }[] = [];
  reactions: { commentId: number; content: string }[] = [];
  failRepos = new Set<string>();
  requests = 0;
  log: string[] = [];
  /** team memberships: `org/slug` (lower case) -> login (lower case) -> state */
  teams = new Map<string, Map<string, 'active' | 'pending'>>();
  /** a repository's own config file (by repository name, `.github` for the account's); `config` for the others */
  configs = new Map<string, ConfigFetch>();
  /** every authority lookup (role, team membership) fails, as when GitHub answers 502 */
  failAuthority = false;
  /** reviews by `repo#number`, oldest first */
  reviews = new Map<string, ReviewInfo[]>();
  /** awaited before a reviews read answers (a test holds reads back with it); may throw to fail the read */
  reviewsGate: ((repo: string, number: number) => Promise<void>) | null = null;

  constructor(readonly installationId = 1) {}

  addRepo(owner: string, repo: string): void {
    this.repos.push({ owner, repo, defaultBranch: 'main', archived: false });
    this.pulls.set(repo, []);
  }
  addPull(repo: string, p: Partial<PullInfo> & { number: number }): PullInfo {
    const pull: PullInfo = { state: 'open', draft: false, title: `PR ${p.number}`, headSha: `sha-${repo}-${p.number}`, headRef: `feature-${p.number}`, headRepoFullName: `acme/${repo}`, baseRef: 'main', labels: [], updatedAt: 1000 + p.number, merged: false, mergeCommitSha: null, ...p };
    this.pulls.get(repo)!.push(pull);
    return pull;
  }

  async listRepositories() {
    this.requests++;
    this.log.push('listRepositories');
    return this.repos;
  }
  async getRepository(ref: RepoRef) {
    this.requests++;
    this.log.push('getRepository');
    const r = this.repos.find((x) => x.repo === ref.repo);
    if (!r) throw Object.assign(new Error('Not Found'), { status: 404 });
    return r;
  }
  async listOpenPulls(ref: RepoRef) {
    this.requests++;
    this.log.push('listOpenPulls');
    if (this.failRepos.has(ref.repo)) throw Object.assign(new Error('Server Error'), { status: 502 });
    return (this.pulls.get(ref.repo) ?? []).filter((p) => p.state === 'open');
  }
  async getPull(ref: RepoRef, number: number) {
    this.requests++;
    this.log.push('getPull');
    return (this.pulls.get(ref.repo) ?? []).find((p) => p.number === number) ?? null;
  }
  async listReviews(ref: RepoRef, number: number) {
    this.requests++;
    this.log.push(`listReviews ${ref.repo}#${number}`);
    await this.reviewsGate?.(ref.repo, number);
    return this.reviews.get(`${ref.repo}#${number}`) ?? [];
  }
  async pullsForCommit(ref: RepoRef, sha: string) {
    this.requests++;
    this.log.push('pullsForCommit');
    return (this.pulls.get(ref.repo) ?? []).filter((p) => p.mergeCommitSha === sha || p.headSha === sha);
  }
  async postCheck(ref: RepoRef, sha: string, o: CheckOutput) {
    this.requests++;
    this.log.push('postCheck');
    if (this.failRepos.has(ref.repo)) throw Object.assign(new Error('Server Error'), { status: 502 });
    this.posted.push({ repo: ref.repo, sha, conclusion: o.conclusion, title: o.title, summary: o.summary });
  }
  async postStatus(ref: RepoRef, sha: string, state: 'success' | 'failure', description: string) {
    this.requests++;
    this.log.push('postStatus');
    this.posted.push({ repo: ref.repo, sha, conclusion: state, title: description, summary: '' });
  }
  async fetchConfig(ref?: RepoRef) {
    this.requests++;
    this.log.push('fetchConfig');
    return (ref && this.configs.get(ref.repo)) ?? this.config;
  }
  async fileAt() {
    return null;
  }
  async getRole(_ref: RepoRef, login: string) {
    this.requests++;
    this.log.push('getRole');
    if (this.failAuthority) throw Object.assign(new Error('Server Error'), { status: 502 });
    return this.roles.get(login) ?? 'none';
  }
  async isActiveTeamMember(org: string, teamSlug: string, login: string) {
    this.requests++;
    this.log.push('isActiveTeamMember');
    if (this.failAuthority) throw Object.assign(new Error('Server Error'), { status: 502 });
    return this.teams.get(`${org}/${teamSlug}`.toLowerCase())?.get(login.toLowerCase()) === 'active';
  }
  setTeamMember(org: string, teamSlug: string, login: string, state: 'active' | 'pending'): void {
    const key = `${org}/${teamSlug}`.toLowerCase();
    const members = this.teams.get(key) ?? new Map<string, 'active' | 'pending'>();
    members.set(login.toLowerCase(), state);
    this.teams.set(key, members);
  }
  async labelAddedBy() {
    return null;
  }
  /** each PR's changed files, by `repo#number` (exempt.paths) */
  files = new Map<string, PullFiles>();
  async listPullFiles(ref: RepoRef, number: number): Promise<PullFiles> {
    this.requests++;
    this.log.push('listPullFiles');
    return this.files.get(`${ref.repo}#${number}`) ?? { files: [], capped: false };
  }
  async createComment(_ref: RepoRef, number: number, body: string) {
    this.comments.push({ number, body });
    return this.comments.length;
  }
  async findMarkedComment(_ref: RepoRef, number: number, marker: string) {
    this.log.push('findMarkedComment');
    const i = this.comments.findIndex((c) => c.number === number && c.body.includes(marker));
    return i < 0 ? null : i + 1;
  }
  async addReaction(_ref: RepoRef, commentId: number, content: string) {
    this.reactions.push({ commentId, content });
  }
  async answerDeployment(url: string, environment: string, state: DeploymentAnswer, comment: string) {
    this.answers.push({ url, environment, state, comment });
  }
  async requiresCheck() {
    return true;
  }

  /** the last posted decision per sha */
  last(sha: string): Posted | undefined {
    return [...this.posted].reverse().find((p) => p.sha === sha);
  }
}

export async function testServices(port: FakePort, t0: number) {
  const store = openSqliteStore(':memory:');
  const clock = { t: t0, now() { return this.t; } };
  const services = composeApp({ store, clock, log: pino({ level: 'silent' }), ports: async () => port });
  await store.upsertInstallation(port.installationId, 'acme', 'Organization', false, t0);
  return { store, clock, services };
}
