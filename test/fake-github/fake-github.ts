/**
 * FakeGitHub: an in-process GitHub REST API (node:http on 127.0.0.1, random port) for tests.
 *
 * - Serves the API under `/api/v3`, as GitHub Enterprise Server does, so an app started with
 *   `GHE_HOST=127.0.0.1:<port> GHE_PROTOCOL=http` talks to it unchanged.
 * - Every request is matched against GitHub's OpenAPI description: an endpoint GitHub does not have
 *   (404), a body missing a required field, with a value outside an enum or with a property the
 *   description does not define (request bodies are closed unless it says `additionalProperties`),
 *   a body on an endpoint that takes none, a bad query enum or a query parameter the endpoint does
 *   not define (422) is answered as GitHub would (or stricter) and recorded in `violations`. A real
 *   endpoint the fake does not implement answers 404 and is recorded in `unknown`.
 * - Strict everywhere: every started fake is listed in `startedFakes()`, and the e2e harness fails
 *   the test and the test file on anything recorded in `violations` or `unknown` (`recordOnly`
 *   opts a fake out, for tests of the fake itself).
 * - Authentication as GitHub Apps do it: a JWT (`iss` = app id; the RS256 signature is verified when
 *   the app's public key is known) for `/app/...` and `.../installation`, an installation token
 *   (`ghs_fake_<installation>_<n>`, valid 1 h) for everything else; each request records the
 *   installation that made it, and repositories outside the installation answer 404.
 * - State is plain data that tests set up and inspect directly (addRepo, addPull, latestCheck...).
 * - Faults (status codes, GitHub's rate-limit answers, delays, dropped connections) are injected per
 *   request with `inject()`; primary rate-limit headers come with every response.
 */
import { EventEmitter } from 'node:events';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  checkRun,
  installation as installationJson,
  integration,
  issueComment,
  issueEvent,
  iso,
  label,
  nodeId,
  pullRequest,
  repository,
  simpleUser,
  status as statusJson,
  type AccountRecord,
  type AccountType,
  type AppRecord,
  type CheckRunRecord,
  type CommentRecord,
  type InstallationRecord,
  type IssueEventRecord,
  type LabelRecord,
  type PullRecord,
  type RepoRecord,
  type StatusRecord,
  type Urls,
} from './objects.js';
import { loadRouteIndex, matchRoute, validateQueryValue, validateSchema, type RouteIndex } from './openapi.js';

/** One entry of GET /pulls/{n}/files (exempt.paths, protect-first). */
interface PullFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previous_filename?: string;
}

export const API_PREFIX = '/api/v3';
const DOCS = 'https://docs.github.com/rest';

// ---------------------------------------------------------------------------------------------
// public types

export type Role = 'read' | 'triage' | 'write' | 'maintain' | 'admin' | 'none';
/** A custom repository role: its exact name and the base role it inherits. */
export interface CustomRole {
  roleName: string;
  base: Exclude<Role, 'none'>;
}

export interface FakeGitHubOptions {
  /** the GitHub App's id (JWT `iss`). Default 1 */
  appId?: number;
  /** the app's slug; its bot user is `<slug>[bot]`. Default `moratorium` */
  appSlug?: string;
  /** PEM or KeyObject: when set, JWT signatures are verified (RS256) */
  appPublicKey?: string | KeyObject;
  /** what the collaborator-permission endpoint answers for a login never given a role. Default `none` */
  unknownCollaborators?: 'none' | 'not-found';
  /** check runs and statuses on a SHA the repository does not know answer 422, as GitHub does. Default true */
  strictShas?: boolean;
  /** primary rate limit per installation and hour. Default 5000 */
  rateLimit?: number;
  /**
   * Only record violations and unknown endpoints, for tests of the fake itself that provoke them on
   * purpose. By default every started fake is listed in `startedFakes()`, and the e2e harness fails
   * the test (afterEach) and the file (afterAll) on anything it recorded.
   */
  recordOnly?: boolean;
}

/** Every FakeGitHub started in this process (this test file) without `recordOnly`, oldest first. */
const started: FakeGitHub[] = [];

/** The fakes whose violations and unknown endpoints fail the test file (see `FakeGitHubOptions.recordOnly`). */
export function startedFakes(): readonly FakeGitHub[] {
  return started;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  /** decoded path below /api/v3, e.g. `/repos/acme/api/check-runs` */
  path: string;
  /** the OpenAPI operation, e.g. `POST /repos/{owner}/{repo}/check-runs`; null when none matched */
  route: string | null;
  params: Record<string, string>;
  query: Record<string, string>;
  body: any;
  installationId: number | null;
  auth: 'jwt' | 'installation' | 'user' | 'none' | 'invalid';
  status: number;
  /** Date.now() when the request arrived */
  at: number;
  /** set when an injected fault answered (or delayed) the request */
  fault?: 'status' | 'delay' | 'drop';
}

export interface Violation {
  method: string;
  path: string;
  route: string | null;
  status: number;
  message: string;
  at: number;
}

export interface FaultRequest {
  method: string;
  path: string;
  route: string | null;
  params: Record<string, string>;
  query: Record<string, string>;
  body: any;
  installationId: number | null;
  headers: IncomingMessage['headers'];
}

export type Fault =
  | {
      status: number;
      headers?: Record<string, string>;
      body?: unknown;
      /** for 403/429 without a body: GitHub's secondary (default) or primary rate-limit answer */
      rateLimit?: 'secondary' | 'primary';
    }
  | { delayMs: number }
  /** the request is held until the test settles this promise, then answered as usual */
  | { holdUntil: Promise<unknown> }
  | { drop: true }
  /**
   * The endpoint runs (what it changes stays changed) but its answer is lost: the connection is
   * dropped after `holdMs` (default 0), as when GitHub did the work and the network or the caller died.
   */
  | { dropAnswer: true; holdMs?: number };

export interface InjectSpec {
  /** which requests; default: all (also narrowed by `route`) */
  match?: (req: FaultRequest) => boolean;
  /** an OpenAPI operation such as `POST /repos/{owner}/{repo}/check-runs` */
  route?: string;
  /** how many matching requests get the fault. Default 1; Infinity for all */
  times?: number;
  fault: Fault;
}

export interface Injection {
  readonly spec: InjectSpec;
  hits: number;
  remaining: number;
  cancel(): void;
}

export interface PullInput {
  number?: number;
  title?: string;
  body?: string | null;
  /** author login (or a user object) */
  user?: string | { login: string };
  state?: 'open' | 'closed';
  draft?: boolean;
  labels?: Array<string | { name: string }>;
  headRef?: string;
  headSha?: string;
  baseRef?: string;
  baseSha?: string;
  /** GitHub-style alternatives to headRef/headSha/baseRef/baseSha; `head.repo.full_name` of another repository makes a fork PR */
  head?: { ref?: string; sha?: string; repo?: { full_name: string } | null };
  base?: { ref?: string; sha?: string };
  /** the head branch lives in a fork owned by this login (true: the author's fork) */
  fork?: string | boolean;
  createdAt?: number | string | Date;
  updatedAt?: number | string | Date;
  merged?: boolean;
  mergeCommitSha?: string;
  mergedBy?: string;
  authorAssociation?: string;
  /** auto-merge enabled (true: by the author, squash) */
  autoMerge?: boolean | { enabledBy?: string; mergeMethod?: 'merge' | 'squash' | 'rebase' };
}

/** merge-first: a pull request review, as `addReview` takes it */
export interface ReviewInput {
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING';
  body?: string;
  /** the commit reviewed; default the PR's head */
  commitId?: string;
  at?: number | string | Date;
}

export interface DeploymentReview {
  owner: string;
  repo: string;
  runId: number;
  environment_name: string;
  state: 'approved' | 'rejected' | undefined;
  comment: string | undefined;
  installationId: number | null;
  at: number;
}

export interface ReactionRecord {
  id: number;
  owner: string;
  repo: string;
  commentId: number;
  content: string;
  user: string;
  installationId: number | null;
  at: number;
}

export interface BranchRule {
  type: string;
  parameters?: Record<string, unknown>;
  ruleset_source_type?: 'Repository' | 'Organization';
  ruleset_source?: string;
  ruleset_id?: number;
}

export interface RequiredStatusChecks {
  contexts?: string[];
  checks?: Array<{ context: string; app_id?: number | null }>;
  strict?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface RepoState {
  record: RepoRecord;
  /** ref (branch name or sha) -> path -> content */
  files: Map<string, Map<string, string>>;
  branches: Map<string, string>;
  shas: Set<string>;
  pulls: Map<number, PullRecord>;
  issues: Map<number, { number: number; id: number; title: string; user: AccountRecord; state: 'open' | 'closed'; labels: string[]; createdAt: number; updatedAt: number }>;
  nextNumber: number;
  labels: Map<string, LabelRecord>;
  roles: Map<string, Role | CustomRole | null>;
  rules: Map<string, BranchRule[]>;
  protection: Map<string, RequiredStatusChecks | 403>;
}

interface Ctx {
  req: IncomingMessage;
  method: string;
  rawPath: string;
  path: string;
  url: URL;
  route: string | null;
  params: Record<string, string>;
  query: Record<string, string>;
  body: any;
  installationId: number | null;
  auth: RecordedRequest['auth'];
  accept: string;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: string;
}

type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

const ROLE_ORDER: Array<Exclude<Role, 'none'>> = ['read', 'triage', 'write', 'maintain', 'admin'];
const LEGACY_PERMISSION: Record<Role, string> = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read', none: 'none' };

const lc = (s: string): string => s.toLowerCase();
const toMs = (v: number | string | Date | undefined): number | undefined =>
  v === undefined ? undefined : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : v.getTime();

export class FakeGitHub extends EventEmitter {
  readonly appId: number;
  readonly appSlug: string;
  readonly options: Required<Omit<FakeGitHubOptions, 'appPublicKey' | 'appId' | 'appSlug'>>;
  /** how many violations and unknown endpoints `unreported()` has returned already */
  private reported = { violations: 0, unknown: 0 };

  /** every request, oldest first */
  requests: RecordedRequest[] = [];
  /** requests GitHub would refuse: unknown endpoints, bodies or queries that break the OpenAPI description, bad credentials */
  violations: Violation[] = [];
  /** real GitHub endpoints this fake does not implement (answered 404) */
  unknown: Violation[] = [];
  /** answers to deployment protection rules, oldest first */
  deploymentReviews: DeploymentReview[] = [];
  reactions: ReactionRecord[] = [];
  /** the most requests in flight at once (GitHub's secondary limit is 100) */
  maxInFlight = 0;
  // first run (branch first-run): the manifest flow's codes and what their conversions returned
  private manifestCodes = new Map<string, { webhookSecret: string | null }>();
  /** every successful `POST /app-manifests/{code}/conversions`, with the credentials it returned */
  manifestConversions: Array<{ code: string; id: number; pem: string; webhook_secret: string | null; client_id: string; client_secret: string }> = [];

  private server: Server | null = null;
  private urls: Urls = { api: 'http://127.0.0.1:0/api/v3', web: 'http://127.0.0.1:0' };
  private publicKey: KeyObject | null = null;
  private readonly index: RouteIndex;
  private readonly handlers = new Map<string, Handler>();
  private inFlight = 0;
  private seq = 0;
  private ids = 1000;
  private shaCounter = 0;
  private clock = 0;
  private tokenCounter = 0;

  private accounts = new Map<string, AccountRecord>();
  private repos = new Map<string, RepoState>();
  private installations = new Map<number, InstallationRecord>();
  private tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private checkRunsById = new Map<number, CheckRunRecord>();
  private checkSuites = new Map<string, number>();
  private statuses: StatusRecord[] = [];
  private comments = new Map<number, CommentRecord>();
  private issueEvents: IssueEventRecord[] = [];
  private teams = new Map<string, Map<string, { state: 'active' | 'pending'; role: 'member' | 'maintainer' }>>();
  private injections: Injection[] = [];
  private rate = new Map<string, { used: number; limit: number; resetAt: number }>();
  /** merge-first: reviews by `owner/repo#number` (lower case), oldest first */
  private reviews = new Map<string, Array<{ id: number; user: AccountRecord; state: string; body: string; commitId: string; submittedAt: number | null }>>();

  constructor(options: FakeGitHubOptions = {}) {
    super();
    this.appId = options.appId ?? 1;
    this.appSlug = options.appSlug ?? 'moratorium';
    this.options = {
      unknownCollaborators: options.unknownCollaborators ?? 'none',
      strictShas: options.strictShas ?? true,
      rateLimit: options.rateLimit ?? 5000,
      recordOnly: options.recordOnly ?? false,
    };
    if (options.appPublicKey) this.setAppKey(options.appPublicKey);
    this.index = loadRouteIndex();
    this.registerHandlers();
    this.resetClock();
  }

  /** Create and start a fake. */
  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    return new FakeGitHub(options).start();
  }

  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    if (!this.options.recordOnly && !started.includes(this)) started.push(this);
    const { port } = server.address() as AddressInfo;
    this.urls = { api: `http://127.0.0.1:${port}${API_PREFIX}`, web: `http://127.0.0.1:${port}` };
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  get port(): number {
    return Number(new URL(this.urls.web).port);
  }
  /** `127.0.0.1:<port>`: the app's GHE_HOST */
  get host(): string {
    return new URL(this.urls.web).host;
  }
  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.urls.web;
  }
  /** `http://127.0.0.1:<port>/api/v3`: Octokit's baseUrl */
  get apiUrl(): string {
    return this.urls.api;
  }

  /** Verify JWT signatures with this public key from now on. */
  setAppKey(publicKey: string | KeyObject): void {
    this.publicKey = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  }

  /**
   * First run: a code GitHub would hand the browser after creating the App from a manifest. Its
   * conversion (once: GitHub's codes are single-use) returns this fake's app id, a new private key
   * (whose public key the fake then verifies JWTs with), a webhook secret (`webhookSecret: null`:
   * GitHub's answer without one) and OAuth client credentials.
   */
  addManifestCode(code: string, opts: { webhookSecret?: string | null } = {}): void {
    this.manifestCodes.set(code, { webhookSecret: opts.webhookSecret === undefined ? `whsec-${randomBytes(12).toString('hex')}` : opts.webhookSecret });
  }

  /** The app's bot account, `<slug>[bot]`. */
  get botLogin(): string {
    return `${this.appSlug}[bot]`;
  }

  // -------------------------------------------------------------------------------------------
  // dashboard sign-in (branch dashboard): the GitHub App's user authorization, the OAuth web flow.
  // `/login/oauth/authorize` answers as GitHub does once a person has authorized the app: straight
  // back to `redirect_uri` with a code and the state, for the login `signInAs` chose (null: the
  // person cancels, `error=access_denied`). The code is single-use (10 minutes) and bound to the
  // client and redirect_uri; `/login/oauth/access_token` exchanges it for a user token (`ghu_...`),
  // valid for `GET /user` (and only that here: elsewhere it is a violation).

  /** the App's OAuth client, as the manifest flow hands it out: the app's GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET */
  readonly oauthClient = { clientId: 'Iv1.fakeclient0001', clientSecret: 'fake-client-secret-0123456789' };
  private oauthAs: string | null = null;
  private oauthCodes = new Map<string, { login: string; clientId: string; redirectUri: string; expiresAt: number }>();
  private userTokens = new Map<string, string>();

  /** Who authorizes at `/login/oauth/authorize` from now on (null: the person cancels). */
  signInAs(login: string | null): void {
    if (login !== null) this.account(login, 'User');
    this.oauthAs = login;
  }

  private oauthWeb(method: string, url: URL, bodyText: string, contentType: string): Reply {
    const fail = (status: number, message: string): Reply => {
      this.violations.push({ method, path: url.pathname, route: `${method} ${url.pathname}`, status, message, at: Date.now() });
      return { status, body: { error: message } };
    };
    if (url.pathname === '/login/oauth/authorize' && method === 'GET') {
      const q = url.searchParams;
      if (q.get('client_id') !== this.oauthClient.clientId) return fail(404, `unknown client_id ${q.get('client_id')}`);
      const redirectUri = q.get('redirect_uri');
      if (!redirectUri || !/^https?:\/\//.test(redirectUri)) return fail(400, 'redirect_uri is required (an http(s) URL)');
      const back = new URL(redirectUri);
      const state = q.get('state');
      if (this.oauthAs === null) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'The user has denied your application access.');
      } else {
        const code = createHash('sha256').update(`code:${this.seq}:${Math.random()}`).digest('hex').slice(0, 20);
        this.oauthCodes.set(code, { login: this.oauthAs, clientId: this.oauthClient.clientId, redirectUri, expiresAt: Date.now() + 600_000 });
        back.searchParams.set('code', code);
      }
      if (state !== null) back.searchParams.set('state', state);
      return { status: 302, headers: { location: back.toString() } };
    }
    if (url.pathname === '/login/oauth/access_token' && method === 'POST') {
      let p: Record<string, string> = {};
      try {
        p = /json/.test(contentType) ? (JSON.parse(bodyText || '{}') as Record<string, string>) : Object.fromEntries(new URLSearchParams(bodyText));
      } catch {
        return fail(400, 'the body is not JSON');
      }
      const e = (error: string, description: string): Reply => ({ status: 200, body: { error, error_description: description, error_uri: `${DOCS}/apps/oauth` } });
      if (p.client_id !== this.oauthClient.clientId || p.client_secret !== this.oauthClient.clientSecret) return e('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
      const grant = this.oauthCodes.get(String(p.code ?? ''));
      this.oauthCodes.delete(String(p.code ?? ''));
      if (!grant || grant.expiresAt <= Date.now()) return e('bad_verification_code', 'The code passed is incorrect or expired.');
      if (p.redirect_uri !== undefined && p.redirect_uri !== grant.redirectUri) return e('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
      const token = `ghu_fake${createHash('sha256').update(`token:${this.seq}:${Math.random()}`).digest('hex').slice(0, 28)}`;
      this.userTokens.set(token, grant.login);
      return { status: 200, body: { access_token: token, token_type: 'bearer', scope: '', expires_in: 28800 } };
    }
    return fail(404, `Not Found: ${method} ${url.pathname}`);
  }

  // -------------------------------------------------------------------------------------------
  // setup

  /** Forget all state, recordings and faults (the server keeps running, the app key is kept). */
  reset(): void {
    this.clearRequests();
    this.accounts.clear();
    this.repos.clear();
    this.installations.clear();
    this.tokens.clear();
    this.checkRunsById.clear();
    this.checkSuites.clear();
    this.statuses = [];
    this.comments.clear();
    this.issueEvents = [];
    this.teams.clear();
    this.injections = [];
    this.rate.clear();
    this.oauthAs = null;
    this.oauthCodes.clear();
    this.userTokens.clear();
    this.reviews.clear();
    this.resetClock();
  }

  /** Forget requests, violations, unknown endpoints, deployment reviews and reactions; keep state. */
  clearRequests(): void {
    this.requests = [];
    this.violations = [];
    this.unknown = [];
    this.reported = { violations: 0, unknown: 0 };
    this.deploymentReviews = [];
    this.reactions = [];
    this.maxInFlight = 0;
  }

  /**
   * The violations and unknown endpoints recorded since the last call (each is returned once), as
   * lines for a test failure. The e2e harness calls it after each test and after the file.
   */
  unreported(): string[] {
    const v = this.violations.slice(this.reported.violations).map((x) => `violation: ${x.status} ${x.method} ${x.path}${x.route ? ` (${x.route})` : ''}: ${x.message}`);
    const u = this.unknown.slice(this.reported.unknown).map((x) => `not implemented by the fake: ${x.method} ${x.path} (${x.route})`);
    this.reported = { violations: this.violations.length, unknown: this.unknown.length };
    return [...v, ...u];
  }

  /** A user, organisation or bot account (created on first use; ids are stable per login). */
  account(login: string, type?: AccountType): AccountRecord {
    const key = lc(login);
    let a = this.accounts.get(key);
    if (!a) {
      const botType = /\[bot\]$/i.test(login) ? 'Bot' : 'User';
      a = { login, id: this.nextId(), type: type ?? botType };
      this.accounts.set(key, a);
    } else if (type && a.type !== type) {
      a.type = type;
    }
    return a;
  }

  addInstallation(opts: { id?: number; account: string; accountType?: 'Organization' | 'User'; repositories?: string[] | null; suspended?: boolean }): InstallationRecord {
    const account = this.account(opts.account, opts.accountType ?? 'Organization');
    const id = opts.id ?? this.nextId();
    const inst: InstallationRecord = { id, account, repositoryIds: null, suspended: Boolean(opts.suspended), createdAt: this.stamp() };
    this.installations.set(id, inst);
    if (opts.repositories) this.setInstallationRepositories(id, opts.repositories);
    return inst;
  }

  /** Restrict an installation to some repositories of its account (`null`: all of them). Unknown names are created. */
  setInstallationRepositories(installationId: number, names: string[] | null): void {
    const inst = this.mustInstallation(installationId);
    inst.repositoryIds = names === null ? null : new Set(names.map((n) => (this.repos.get(lc(`${inst.account.login}/${n}`)) ?? this.addRepoState(inst.account.login, n, {})).record.id));
  }

  suspendInstallation(installationId: number, suspended = true): void {
    this.mustInstallation(installationId).suspended = suspended;
  }

  removeInstallation(installationId: number): void {
    this.installations.delete(installationId);
    for (const [t, v] of this.tokens) if (v.installationId === installationId) this.tokens.delete(t);
  }

  addRepo(
    account: string,
    name: string,
    opts: { defaultBranch?: string; files?: Record<string, string>; private?: boolean; archived?: boolean; accountType?: AccountType; id?: number } = {},
  ): RepoRecord {
    return this.addRepoState(account, name, opts).record;
  }

  /** Write (or with `null`, delete) a file on a branch (default: the default branch). */
  setFile(owner: string, repo: string, path: string, content: string | null, opts: { ref?: string } = {}): void {
    const r = this.mustRepo(owner, repo);
    const ref = opts.ref ?? r.record.defaultBranch;
    if (!r.branches.has(ref) && !/^[0-9a-f]{40}$/.test(ref)) this.addBranch(owner, repo, ref);
    const files = r.files.get(ref) ?? new Map<string, string>();
    r.files.set(ref, files);
    const clean = path.replace(/^\/+/, '');
    if (content === null) files.delete(clean);
    else files.set(clean, content);
    // a file changes with a push (the repository's pushed_at moves, as GitHub's listing shows)
    r.record.pushedAt = this.stamp(true);
  }

  /** Create a branch (or move it) to a SHA; returns the SHA. */
  addBranch(owner: string, repo: string, branch: string, sha?: string): string {
    const r = this.mustRepo(owner, repo);
    const s = sha ?? this.newSha(`${owner}/${repo}:${branch}`);
    r.branches.set(branch, s);
    r.shas.add(s);
    return s;
  }

  /** Make a commit SHA known to the repository (check runs and statuses need a known SHA); returns it. */
  addCommit(owner: string, repo: string, sha?: string): string {
    const r = this.mustRepo(owner, repo);
    const s = sha ?? this.newSha(`${owner}/${repo}:commit`);
    r.shas.add(s);
    return s;
  }

  /** Open a pull request (numbers, SHAs and increasing timestamps are generated). Returns it as GET /pulls/{n} renders it. */
  addPull(owner: string, repo: string, input: PullInput = {}): Record<string, any> {
    const r = this.mustRepo(owner, repo);
    const number = input.number ?? r.nextNumber;
    if (r.pulls.has(number) || r.issues.has(number)) throw new Error(`fake-github: #${number} already exists in ${owner}/${repo}`);
    r.nextNumber = Math.max(r.nextNumber, number + 1);
    const user = this.account(typeof input.user === 'object' ? input.user.login : (input.user ?? 'octocat'));
    const baseRef = input.baseRef ?? input.base?.ref ?? r.record.defaultBranch;
    const baseSha = input.baseSha ?? input.base?.sha ?? r.branches.get(baseRef) ?? this.addBranch(owner, repo, baseRef);
    const headRef = input.headRef ?? input.head?.ref ?? `feature/${number}`;
    const headSha = input.headSha ?? input.head?.sha ?? this.newSha(`${owner}/${repo}#${number}`);
    let headRepo: RepoRecord | null = r.record;
    const forkName = input.head?.repo?.full_name;
    if (input.head && input.head.repo === null) headRepo = null;
    else if (forkName && lc(forkName) !== lc(`${r.record.owner.login}/${r.record.name}`)) {
      const [fo, fr] = forkName.split('/') as [string, string];
      headRepo = (this.repos.get(lc(forkName)) ?? this.addRepoState(fo, fr, { fork: true, accountType: 'User' })).record;
    } else if (input.fork) {
      const forkOwner = typeof input.fork === 'string' ? input.fork : user.login;
      headRepo = (this.repos.get(lc(`${forkOwner}/${r.record.name}`)) ?? this.addRepoState(forkOwner, r.record.name, { fork: true, accountType: 'User' })).record;
    }
    const createdAt = toMs(input.createdAt) ?? this.stamp();
    const merged = Boolean(input.merged || input.mergeCommitSha);
    const pr: PullRecord = {
      number,
      id: this.nextId(),
      title: input.title ?? `Change #${number}`,
      body: input.body ?? null,
      user,
      state: merged ? 'closed' : (input.state ?? 'open'),
      draft: Boolean(input.draft),
      locked: false,
      labels: [],
      headRef,
      headSha,
      headRepo,
      baseRef,
      baseSha,
      createdAt,
      updatedAt: toMs(input.updatedAt) ?? createdAt,
      closedAt: null,
      mergedAt: null,
      mergeCommitSha: input.mergeCommitSha ?? null,
      mergedBy: null,
      authorAssociation: input.authorAssociation ?? 'MEMBER',
      autoMerge: this.autoMergeOf(input.autoMerge, user.login),
    };
    r.shas.add(headSha);
    r.shas.add(baseSha);
    if (pr.state === 'closed') pr.closedAt = pr.updatedAt;
    if (merged) {
      pr.mergedAt = pr.updatedAt;
      pr.mergeCommitSha ??= this.newSha(`${owner}/${repo}#${number}:merge`);
      pr.mergedBy = this.account(input.mergedBy ?? user.login);
      r.shas.add(pr.mergeCommitSha);
    }
    for (const l of input.labels ?? []) {
      const name = typeof l === 'string' ? l : l.name;
      this.ensureLabel(r, name);
      pr.labels.push(name);
    }
    r.pulls.set(number, pr);
    return this.pull(owner, repo, number)!;
  }

  /**
   * exempt.paths (protect-first): the files the PR changes at its current head, as GET
   * /pulls/{n}/files lists them (`previous_filename` with a rename); also its `changed_files`.
   * Set it again after a push. The list is served up to the endpoint's cap of 3,000 entries.
   */
  setPullFiles(owner: string, repo: string, number: number, files: Array<string | { filename: string; status?: PullFile['status']; previous_filename?: string }>): void {
    const r = this.mustRepo(owner, repo);
    const p = this.mustPull(r, number);
    const list: PullFile[] = files.map((f) => (typeof f === 'string' ? { filename: f, status: 'modified' } : { status: f.previous_filename ? 'renamed' : 'modified', ...f }));
    this.pullFiles.set(`${lc(owner)}/${lc(repo)}#${number}`, list);
    p.changedFiles = list.length;
  }
  private readonly pullFiles = new Map<string, PullFile[]>();

  /** The pull request as GET /pulls/{n} renders it, or undefined. */
  pull(owner: string, repo: string, number: number): Record<string, any> | undefined {
    const r = this.repoState(owner, repo);
    const p = r?.pulls.get(number);
    return r && p ? pullRequest(this.urls, r.record, p, this.labelsOf(r, p.labels), true) : undefined;
  }

  /** Pull requests (as GET /pulls/{n} renders them), by number; `state` default `all`. */
  pulls(owner: string, repo: string, opts: { state?: 'open' | 'closed' | 'all' } = {}): Array<Record<string, any>> {
    const r = this.repoState(owner, repo);
    if (!r) return [];
    const state = opts.state ?? 'all';
    return [...r.pulls.values()]
      .filter((p) => state === 'all' || p.state === state)
      .sort((a, b) => a.number - b.number)
      .map((p) => pullRequest(this.urls, r.record, p, this.labelsOf(r, p.labels), true));
  }

  /** A repository label as the API renders it (created on first use). */
  labelJson(owner: string, repo: string, name: string): Record<string, any> {
    const r = this.mustRepo(owner, repo);
    return label(this.urls, r.record, this.ensureLabel(r, name));
  }

  /** Change a pull request (same fields as addPull); `updated_at` moves forward unless given. */
  updatePull(owner: string, repo: string, number: number, patch: Omit<PullInput, 'number' | 'fork'>): Record<string, any> {
    const r = this.mustRepo(owner, repo);
    const p = this.mustPull(r, number);
    if (patch.title !== undefined) p.title = patch.title;
    if (patch.body !== undefined) p.body = patch.body;
    if (patch.user !== undefined) p.user = this.account(typeof patch.user === 'object' ? patch.user.login : patch.user);
    if (patch.draft !== undefined) p.draft = patch.draft;
    if (patch.labels !== undefined) {
      p.labels = patch.labels.map((l) => (typeof l === 'string' ? l : l.name));
      for (const l of p.labels) this.ensureLabel(r, l);
    }
    const headRef = patch.headRef ?? patch.head?.ref;
    const headSha = patch.headSha ?? patch.head?.sha;
    const baseRef = patch.baseRef ?? patch.base?.ref;
    const baseSha = patch.baseSha ?? patch.base?.sha;
    if (headRef !== undefined) p.headRef = headRef;
    if (headSha !== undefined) (p.headSha = headSha), r.shas.add(headSha);
    if (baseRef !== undefined) {
      p.baseRef = baseRef;
      p.baseSha = baseSha ?? r.branches.get(baseRef) ?? this.addBranch(owner, repo, baseRef);
    } else if (baseSha !== undefined) p.baseSha = baseSha;
    r.shas.add(p.baseSha);
    if (patch.authorAssociation !== undefined) p.authorAssociation = patch.authorAssociation;
    if (patch.autoMerge !== undefined) p.autoMerge = this.autoMergeOf(patch.autoMerge, p.user.login);
    if (patch.createdAt !== undefined) p.createdAt = toMs(patch.createdAt)!;
    p.updatedAt = toMs(patch.updatedAt) ?? this.stamp(true);
    if (patch.state !== undefined && patch.state !== p.state) {
      p.state = patch.state;
      p.closedAt = patch.state === 'closed' ? p.updatedAt : null;
    }
    if (patch.merged || patch.mergeCommitSha) {
      p.state = 'closed';
      p.closedAt ??= p.updatedAt;
      p.mergedAt = p.updatedAt;
      p.mergeCommitSha = patch.mergeCommitSha ?? p.mergeCommitSha ?? this.newSha(`${owner}/${repo}#${number}:merge`);
      p.mergedBy = this.account(patch.mergedBy ?? p.user.login);
      r.shas.add(p.mergeCommitSha);
    }
    return this.pull(owner, repo, number)!;
  }

  /** A new head commit on the pull request (a `synchronize`); returns the new SHA. */
  pushToPull(owner: string, repo: string, number: number, sha?: string): string {
    const s = sha ?? this.newSha(`${owner}/${repo}#${number}:push`);
    this.updatePull(owner, repo, number, { headSha: s });
    return s;
  }

  // ---- merge-first (fan-out order): auto-merge and pull request reviews
  private autoMergeOf(v: PullInput['autoMerge'], author: string): PullRecord['autoMerge'] {
    if (!v) return null;
    const o = v === true ? {} : v;
    return { enabledBy: this.account(o.enabledBy ?? author), mergeMethod: o.mergeMethod ?? 'squash' };
  }

  /** A review on the pull request (submitted, unless PENDING); moves the PR's `updated_at` as GitHub does. Returns its id. */
  addReview(owner: string, repo: string, number: number, input: ReviewInput): number {
    const r = this.mustRepo(owner, repo);
    const p = this.mustPull(r, number);
    const at = input.state === 'PENDING' ? null : (toMs(input.at) ?? this.stamp(true));
    const id = this.nextId();
    const k = `${this.key(owner, repo)}#${number}`;
    this.reviews.set(k, [...(this.reviews.get(k) ?? []), { id, user: this.account(input.user), state: input.state, body: input.body ?? '', commitId: input.commitId ?? p.headSha, submittedAt: at }]);
    if (at !== null) p.updatedAt = Math.max(p.updatedAt, at);
    return id;
  }

  /** Dismiss a review (its state becomes DISMISSED, as GitHub does); moves the PR's `updated_at`. */
  dismissReview(owner: string, repo: string, number: number, reviewId: number): void {
    const r = this.mustRepo(owner, repo);
    const p = this.mustPull(r, number);
    const review = this.reviews.get(`${this.key(owner, repo)}#${number}`)?.find((v) => v.id === reviewId);
    if (!review) throw new Error(`fake-github: no review ${reviewId} on ${owner}/${repo}#${number}`);
    review.state = 'DISMISSED';
    p.updatedAt = Math.max(p.updatedAt, this.stamp(true));
  }

  /** Merge the pull request: closed, merged, a merge commit on the base branch. Returns the merge commit SHA. */
  mergePull(owner: string, repo: string, number: number, opts: { mergeCommitSha?: string; mergedBy?: string; at?: number | string | Date } = {}): string {
    const r = this.mustRepo(owner, repo);
    const p = this.mustPull(r, number);
    const sha = opts.mergeCommitSha ?? this.newSha(`${owner}/${repo}#${number}:merge`);
    this.updatePull(owner, repo, number, { merged: true, mergeCommitSha: sha, ...(opts.mergedBy ? { mergedBy: opts.mergedBy } : {}), ...(opts.at !== undefined ? { updatedAt: opts.at } : {}) });
    r.branches.set(p.baseRef, sha);
    return sha;
  }

  /** An issue (not a pull request); returns its number. */
  addIssue(owner: string, repo: string, input: { number?: number; title?: string; user?: string; labels?: string[] } = {}): number {
    const r = this.mustRepo(owner, repo);
    const number = input.number ?? r.nextNumber;
    if (r.pulls.has(number) || r.issues.has(number)) throw new Error(`fake-github: #${number} already exists in ${owner}/${repo}`);
    r.nextNumber = Math.max(r.nextNumber, number + 1);
    const t = this.stamp();
    r.issues.set(number, { number, id: this.nextId(), title: input.title ?? `Issue #${number}`, user: this.account(input.user ?? 'octocat'), state: 'open', labels: input.labels ?? [], createdAt: t, updatedAt: t });
    for (const l of input.labels ?? []) this.ensureLabel(r, l);
    return number;
  }

  /** A comment written by a person on an issue or pull request (what an `issue_comment` webhook carries). Returns it as the API renders it. */
  addComment(owner: string, repo: string, number: number, input: { body: string; user?: string; id?: number; authorAssociation?: string }): Record<string, any> {
    const r = this.mustRepo(owner, repo);
    if (!r.pulls.has(number) && !r.issues.has(number)) throw new Error(`fake-github: no issue or pull request #${number} in ${owner}/${repo}`);
    const t = this.stamp(true);
    const c: CommentRecord = {
      id: input.id ?? this.nextId(),
      repoKey: this.key(owner, repo),
      issueNumber: number,
      body: input.body,
      user: this.account(input.user ?? 'octocat'),
      createdAt: t,
      updatedAt: t,
      installationId: null,
      authorAssociation: input.authorAssociation ?? 'MEMBER',
    };
    this.comments.set(c.id, c);
    return issueComment(this.urls, r.record, c, null);
  }

  /** A person's repository role: one of GitHub's five (or `none`), or a custom role built on one. `null` forgets the login. */
  setPermission(owner: string, repo: string, login: string, role: Role | CustomRole | null): void {
    this.account(login);
    this.mustRepo(owner, repo).roles.set(lc(login), role);
  }

  /** Team membership: `active`, `pending`, or `null` for none (404). */
  setTeamMember(org: string, team: string, login: string, state: 'active' | 'pending' | null = 'active', role: 'member' | 'maintainer' = 'member'): void {
    this.account(login);
    const key = lc(`${org}/${team}`);
    const members = this.teams.get(key) ?? new Map();
    this.teams.set(key, members);
    if (state === null) members.delete(lc(login));
    else members.set(lc(login), { state, role });
  }

  /**
   * A `labeled` (or `unlabeled`) issue event by `actor`; by default also adds (removes) the label on
   * the pull request or issue. Returns the event as the API renders it.
   */
  addLabelEvent(owner: string, repo: string, number: number, label: string, actor: string, opts: { event?: 'labeled' | 'unlabeled'; apply?: boolean; at?: number | string | Date } = {}): Record<string, any> {
    const r = this.mustRepo(owner, repo);
    const target = r.pulls.get(number) ?? r.issues.get(number);
    if (!target) throw new Error(`fake-github: no issue or pull request #${number} in ${owner}/${repo}`);
    const event = opts.event ?? 'labeled';
    const l = this.ensureLabel(r, label);
    const at = toMs(opts.at) ?? this.stamp(true);
    if (opts.apply !== false) {
      const has = target.labels.some((x) => lc(x) === lc(label));
      if (event === 'labeled' && !has) target.labels.push(l.name);
      if (event === 'unlabeled') target.labels = target.labels.filter((x) => lc(x) !== lc(label));
      target.updatedAt = Math.max(target.updatedAt, at);
    }
    const e: IssueEventRecord = { id: this.nextId(), repoKey: this.key(owner, repo), issueNumber: number, event, label: l.name, actor: this.account(actor), createdAt: at };
    this.issueEvents.push(e);
    return issueEvent(this.urls, r.record, e, l.color);
  }

  /** The rules GET /repos/{o}/{r}/rules/branches/{branch} returns (e.g. `{type: 'required_status_checks', parameters: {...}}`). */
  setBranchRules(owner: string, repo: string, branch: string, rules: BranchRule[]): void {
    this.mustRepo(owner, repo).rules.set(branch, rules);
  }

  /** Classic branch protection's required status checks; `null`: not protected (404), `403`: the app may not read it. */
  setBranchProtection(owner: string, repo: string, branch: string, checks: RequiredStatusChecks | null | 403): void {
    const r = this.mustRepo(owner, repo);
    if (!r.branches.has(branch)) this.addBranch(owner, repo, branch);
    if (checks === null) r.protection.delete(branch);
    else r.protection.set(branch, checks);
  }

  /** Set an installation's remaining primary rate limit (0: its requests answer 403 "API rate limit exceeded"). */
  setRateLimit(installationId: number, remaining: number, resetInSeconds = 3600): void {
    const limit = this.options.rateLimit;
    this.rate.set(`installation:${installationId}`, { limit, used: Math.max(0, limit - remaining), resetAt: Date.now() + resetInSeconds * 1000 });
  }

  /** Expire every installation token issued so far (the next use answers 401 Bad credentials). */
  expireTokens(): void {
    for (const v of this.tokens.values()) v.expiresAt = 0;
  }

  // -------------------------------------------------------------------------------------------
  // inspection

  /** Check runs (as the API renders them) on a repository, oldest first; optionally of one SHA and name. */
  checkRuns(owner: string, repo: string, sha?: string, name?: string): Array<Record<string, any>> {
    const r = this.repoState(owner, repo);
    if (!r) return [];
    return [...this.checkRunsById.values()]
      .filter((c) => c.repoKey === this.key(owner, repo) && (sha === undefined || c.headSha === sha) && (name === undefined || c.name === name))
      .sort((a, b) => a.id - b.id)
      .map((c) => this.renderCheck(r, c));
  }

  /** The newest check run with this name on the SHA (created last; updates included), or undefined. */
  latestCheck(owner: string, repo: string, sha: string, name = 'moratorium'): Record<string, any> | undefined {
    return this.checkRuns(owner, repo, sha, name).at(-1);
  }

  /** Commit statuses (as the API renders them) on a repository, oldest first; optionally of one SHA and context. */
  statusesFor(owner: string, repo: string, sha?: string, context?: string): Array<Record<string, any>> {
    const r = this.repoState(owner, repo);
    if (!r) return [];
    return this.statuses
      .filter((s) => s.repoKey === this.key(owner, repo) && (sha === undefined || s.sha === sha) && (context === undefined || lc(s.context) === lc(context)))
      .map((s) => statusJson(this.urls, r.record, s));
  }

  /** The newest commit status with this context on the SHA, or undefined. */
  latestStatus(owner: string, repo: string, sha: string, context = 'moratorium'): Record<string, any> | undefined {
    return this.statusesFor(owner, repo, sha, context).at(-1);
  }

  /** Comments on an issue or pull request (people's and the app's), oldest first, as the API renders them. */
  commentsOn(owner: string, repo: string, number: number): Array<Record<string, any>> {
    const r = this.repoState(owner, repo);
    if (!r) return [];
    return [...this.comments.values()]
      .filter((c) => c.repoKey === this.key(owner, repo) && c.issueNumber === number)
      .sort((a, b) => a.id - b.id)
      .map((c) => issueComment(this.urls, r.record, c, c.installationId === null ? null : this.app()));
  }

  /** Comments the app wrote (through an installation token), oldest first. */
  appComments(owner: string, repo: string, number?: number): Array<Record<string, any>> {
    const r = this.repoState(owner, repo);
    if (!r) return [];
    return [...this.comments.values()]
      .filter((c) => c.repoKey === this.key(owner, repo) && c.installationId !== null && (number === undefined || c.issueNumber === number))
      .sort((a, b) => a.id - b.id)
      .map((c) => issueComment(this.urls, r.record, c, this.app()));
  }

  /** Reactions on a comment, oldest first. */
  reactionsFor(owner: string, repo: string, commentId: number): ReactionRecord[] {
    return this.reactions.filter((x) => lc(x.owner) === lc(owner) && lc(x.repo) === lc(repo) && x.commentId === commentId);
  }

  /** Non-GET requests other than token creation (what the app changed, or tried to). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.route !== 'POST /app/installations/{installation_id}/access_tokens');
  }

  /** Requests to one OpenAPI operation, e.g. `POST /repos/{owner}/{repo}/check-runs`. */
  requestsTo(route: string): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  /**
   * Poll until `predicate(fake)` returns something truthy, and return it. On timeout the error lists
   * the last requests and any violations.
   */
  async waitFor<T>(predicate: (fake: this) => T | undefined | null | false, timeoutMs = 10_000, message = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate(this);
      if (value) return value;
      if (Date.now() > deadline) {
        const recent = this.requests
          .slice(-15)
          .map((r) => `  ${r.status} ${r.method} ${r.path}${r.fault ? ` (fault: ${r.fault})` : ''}`)
          .join('\n');
        const v = this.violations.map((x) => `  ${x.status} ${x.method} ${x.path}: ${x.message}`).join('\n');
        throw new Error(`fake-github: timed out after ${timeoutMs} ms waiting for ${message}\nlast requests:\n${recent || '  (none)'}${v ? `\nviolations:\n${v}` : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Answer matching requests with a fault (a status, a delay or a hold, a dropped connection) `times` times. */
  inject(spec: InjectSpec): Injection {
    const injection: Injection = {
      spec,
      hits: 0,
      remaining: spec.times ?? 1,
      cancel: () => {
        this.injections = this.injections.filter((i) => i !== injection);
      },
    };
    this.injections.push(injection);
    return injection;
  }

  clearInjections(): void {
    this.injections = [];
  }

  /** The installation id that owns an account (case-insensitive), or undefined. */
  installationFor(account: string): number | undefined {
    for (const i of this.installations.values()) if (lc(i.account.login) === lc(account)) return i.id;
    return undefined;
  }

  /** An issue or pull request as GET /repos/{o}/{r}/issues/{n} renders it, or undefined. */
  issueJson(owner: string, repo: string, n: number): Record<string, any> | undefined {
    const r = this.repoState(owner, repo);
    if (!r) return undefined;
    const p = r.pulls.get(n);
    const i = r.issues.get(n);
    if (!p && !i) return undefined;
    const fullName = `${r.record.owner.login}/${r.record.name}`;
    const url = `${this.urls.api}/repos/${fullName}/issues/${n}`;
    const src = p ?? i!;
    return {
      id: src.id,
      node_id: nodeId('Issue', src.id),
      url,
      repository_url: `${this.urls.api}/repos/${fullName}`,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.urls.web}/${fullName}/${p ? 'pull' : 'issues'}/${n}`,
      number: n,
      state: src.state,
      state_reason: null,
      title: src.title,
      body: p?.body ?? null,
      user: simpleUser(this.urls, src.user),
      labels: this.labelsOf(r, src.labels).map((l) => label(this.urls, r.record, l)),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: [...this.comments.values()].filter((c) => c.repoKey === this.key(owner, repo) && c.issueNumber === n).length,
      ...(p
        ? {
            pull_request: {
              url: `${this.urls.api}/repos/${fullName}/pulls/${n}`,
              html_url: `${this.urls.web}/${fullName}/pull/${n}`,
              diff_url: `${this.urls.web}/${fullName}/pull/${n}.diff`,
              patch_url: `${this.urls.web}/${fullName}/pull/${n}.patch`,
              merged_at: p.mergedAt === null ? null : iso(p.mergedAt),
            },
            draft: p.draft,
          }
        : {}),
      closed_at: p?.closedAt ? iso(p.closedAt) : null,
      created_at: iso(src.createdAt),
      updated_at: iso(src.updatedAt),
      closed_by: null,
      author_association: 'MEMBER',
      reactions: { url: `${url}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 },
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
    };
  }

  /** The repository as GET /repos/{o}/{r} renders it (webhook payloads use the same shape). */
  repoJson(owner: string, repo: string): Record<string, any> {
    return repository(this.urls, this.mustRepo(owner, repo).record, { full: true });
  }

  /** An account as the API renders a user. */
  userJson(login: string): Record<string, any> {
    return simpleUser(this.urls, this.account(login));
  }

  /** The installation as the API renders it. */
  installationJson(installationId: number): Record<string, any> {
    return installationJson(this.urls, this.app(), this.mustInstallation(installationId));
  }

  /** A check run record as the API renders it, by id. */
  checkRunById(id: number): Record<string, any> | undefined {
    const c = this.checkRunsById.get(id);
    const r = c ? this.repos.get(c.repoKey) : undefined;
    return c && r ? this.renderCheck(r, c) : undefined;
  }

  /** Every write to a check run, oldest first (the create body, then each update body). */
  checkRunHistory(id: number): Array<Record<string, unknown>> {
    return this.checkRunsById.get(id)?.history ?? [];
  }

  /** The default branch's head SHA, or a branch's. */
  branchSha(owner: string, repo: string, branch?: string): string | undefined {
    const r = this.mustRepo(owner, repo);
    return r.branches.get(branch ?? r.record.defaultBranch);
  }

  /** A fresh 40-hex SHA (not registered anywhere). */
  newSha(seed = ''): string {
    return createHash('sha1').update(`fake-github:${this.shaCounter++}:${seed}`).digest('hex');
  }

  // -------------------------------------------------------------------------------------------
  // internals: state

  private resetClock(): void {
    this.clock = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  }

  /**
   * A strictly increasing timestamp (ms, whole seconds like GitHub's). Set-up (repositories, new PRs
   * and issues) is stamped from an hour ago onwards, one second apart; changes that happen "now"
   * (`now`: updates, pushes, merges, labels, comments) get the current time (or one second after
   * the previous stamp, if that is later).
   */
  private stamp(now = false): number {
    const wall = Math.floor(Date.now() / 1000) * 1000;
    this.clock = Math.max(this.clock + 1000, now ? wall : wall - 3_600_000);
    return this.clock;
  }

  private nextId(): number {
    return ++this.ids;
  }

  private key(owner: string, repo: string): string {
    return lc(`${owner}/${repo}`);
  }

  private app(): AppRecord {
    return { id: this.appId, slug: this.appSlug, name: this.appSlug, owner: this.account('moratorium-dev', 'Organization') };
  }

  private bot(): AccountRecord {
    return this.account(this.botLogin, 'Bot');
  }

  private addRepoState(
    account: string,
    name: string,
    opts: { defaultBranch?: string; files?: Record<string, string>; private?: boolean; archived?: boolean; accountType?: AccountType; id?: number; fork?: boolean },
  ): RepoState {
    const key = this.key(account, name);
    if (this.repos.has(key)) throw new Error(`fake-github: repository ${account}/${name} already exists`);
    const inst = [...this.installations.values()].find((i) => lc(i.account.login) === lc(account));
    const owner = this.account(account, opts.accountType ?? inst?.account.type ?? (this.accounts.get(lc(account))?.type === 'User' ? 'User' : 'Organization'));
    const t = this.stamp();
    const state: RepoState = {
      record: {
        id: opts.id ?? this.nextId(),
        owner,
        name,
        defaultBranch: opts.defaultBranch ?? 'main',
        private: opts.private ?? true,
        archived: Boolean(opts.archived),
        createdAt: t,
        pushedAt: t,
        fork: Boolean(opts.fork),
      },
      files: new Map(),
      branches: new Map(),
      shas: new Set(),
      pulls: new Map(),
      issues: new Map(),
      nextNumber: 1,
      labels: new Map(),
      roles: new Map(),
      rules: new Map(),
      protection: new Map(),
    };
    this.repos.set(key, state);
    this.addBranch(account, name, state.record.defaultBranch);
    for (const [path, content] of Object.entries(opts.files ?? {})) this.setFile(account, name, path, content);
    return state;
  }

  private repoState(owner: string, repo: string): RepoState | undefined {
    return this.repos.get(this.key(owner, repo));
  }

  private mustRepo(owner: string, repo: string): RepoState {
    const r = this.repoState(owner, repo);
    if (!r) throw new Error(`fake-github: no repository ${owner}/${repo} (addRepo first)`);
    return r;
  }

  private mustPull(r: RepoState, number: number): PullRecord {
    const p = r.pulls.get(number);
    if (!p) throw new Error(`fake-github: no pull request #${number} in ${r.record.owner.login}/${r.record.name}`);
    return p;
  }

  private mustInstallation(id: number): InstallationRecord {
    const i = this.installations.get(id);
    if (!i) throw new Error(`fake-github: no installation ${id}`);
    return i;
  }

  private ensureLabel(r: RepoState, name: string): LabelRecord {
    let l = r.labels.get(lc(name));
    if (!l) {
      l = { id: this.nextId(), name, color: createHash('md5').update(name).digest('hex').slice(0, 6), description: null };
      r.labels.set(lc(name), l);
    }
    return l;
  }

  private labelsOf(r: RepoState, names: string[]): LabelRecord[] {
    return names.map((n) => this.ensureLabel(r, n));
  }

  private renderCheck(r: RepoState, c: CheckRunRecord): Record<string, any> {
    const pulls = [...r.pulls.values()].filter((p) => p.state === 'open' && p.headSha === c.headSha && p.headRepo?.id === r.record.id);
    return checkRun(this.urls, r.record, c, this.app(), pulls);
  }

  private accessible(installationId: number | null, r: RepoState): boolean {
    if (installationId === null) return false;
    const inst = this.installations.get(installationId);
    if (!inst || lc(inst.account.login) !== lc(r.record.owner.login)) return false;
    return inst.repositoryIds === null || inst.repositoryIds.has(r.record.id);
  }

  private reposOf(inst: InstallationRecord): RepoState[] {
    return [...this.repos.values()]
      .filter((r) => !r.record.fork && this.accessible(inst.id, r))
      .sort((a, b) => a.record.id - b.record.id);
  }

  // -------------------------------------------------------------------------------------------
  // internals: HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const at = Date.now();
    const url = new URL(req.url ?? '/', this.urls.web);
    const method = (req.method ?? 'GET').toUpperCase();
    const rec: RecordedRequest = {
      seq: ++this.seq,
      method,
      path: url.pathname,
      route: null,
      params: {},
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      installationId: null,
      auth: 'none',
      status: 0,
      at,
    };
    this.requests.push(rec);
    const reply = (r: Reply, rateKey: string | null = null): void => {
      rec.status = r.status;
      this.send(res, r, rateKey);
      this.emit('request', rec);
    };
    const violation = (status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void => {
      this.violations.push({ method, path: rec.path, route: rec.route, status, message, at });
      reply({ status, body: { message, documentation_url: DOCS, status: String(status), ...extra }, headers });
    };

    let bodyText = '';
    try {
      bodyText = await readBody(req);
    } catch {
      return;
    }
    // dashboard sign-in (branch dashboard): the OAuth web flow lives on the web host, not under /api/v3
    if (url.pathname.startsWith('/login/oauth/')) {
      rec.route = `${method} ${url.pathname}`;
      return reply(this.oauthWeb(method, url, bodyText, String(req.headers['content-type'] ?? '')));
    }
    if (bodyText) {
      try {
        rec.body = JSON.parse(bodyText);
      } catch {
        rec.body = bodyText;
        return violation(400, 'Problems parsing JSON');
      }
    }
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) return violation(404, `Not Found (the API lives under ${API_PREFIX})`);
    const rawPath = url.pathname.slice(API_PREFIX.length);
    rec.path = safeDecode(rawPath);
    const match = matchRoute(this.index, method, rawPath);
    if (!match) return violation(404, `Not Found: ${method} ${rec.path} is not an endpoint of GitHub's REST API`);
    rec.route = `${method} ${match.route.template}`;
    rec.params = match.params;

    // authentication
    const auth = this.authenticate(req.headers.authorization, match.route.template);
    rec.auth = auth.kind;
    rec.installationId = auth.installationId;
    if (auth.error) {
      if (auth.violation) return violation(401, auth.error);
      return reply({ status: 401, body: { message: auth.error, documentation_url: DOCS, status: '401' } });
    }
    const rateKey = auth.kind === 'jwt' ? 'app' : `installation:${auth.installationId}`;

    // OpenAPI validation
    const problems: string[] = [];
    // GitHub ignores a query parameter it does not define; for the app it is a misspelt option
    for (const name of url.searchParams.keys()) {
      if (!match.route.query[name]) problems.push(`For '${name}', ${method} ${match.route.template} has no such query parameter`);
    }
    for (const [name, q] of Object.entries(match.route.query)) {
      const value = url.searchParams.get(name);
      if (value === null) {
        if (q.required) problems.push(`For '${name}', the query parameter is required`);
        continue;
      }
      const p = validateQueryValue(name, q.schema, value, { schemas: this.index.schemas });
      if (p) problems.push(p);
    }
    if (!match.route.body && rec.body !== undefined && !(typeof rec.body === 'object' && rec.body !== null && Object.keys(rec.body).length === 0)) {
      problems.push(`${method} ${match.route.template} takes no request body`);
    }
    if (match.route.body) {
      if (rec.body === undefined) {
        if (match.route.body.required) problems.push('A request body is required');
      } else problems.push(...validateSchema(match.route.body.schema, rec.body, { schemas: this.index.schemas, closed: true }));
    }
    if (problems.length) return violation(422, `Invalid request.\n\n${problems.join('\n')}`, { errors: problems });

    // primary rate limit
    if (auth.kind === 'installation' && this.rateRemaining(rateKey) <= 0) {
      return reply({ status: 403, body: { message: `API rate limit exceeded for installation ID ${auth.installationId}.`, documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api` } }, rateKey);
    }

    // injected faults
    const faultReq: FaultRequest = { method, path: rec.path, route: rec.route, params: rec.params, query: rec.query, body: rec.body, installationId: rec.installationId, headers: req.headers };
    let answerLost: number | null = null;
    const injection = this.injections.find((i) => i.remaining > 0 && (!i.spec.route || i.spec.route === rec.route) && (!i.spec.match || i.spec.match(faultReq)));
    if (injection) {
      injection.hits++;
      injection.remaining--;
      if (injection.remaining <= 0) injection.cancel();
      const f = injection.spec.fault;
      if ('drop' in f) {
        rec.fault = 'drop';
        rec.status = 0;
        this.emit('request', rec);
        req.socket.destroy();
        return;
      }
      if ('dropAnswer' in f) {
        rec.fault = 'drop';
        answerLost = f.holdMs ?? 0;
      } else if ('delayMs' in f) {
        rec.fault = 'delay';
        await new Promise((resolve) => setTimeout(resolve, f.delayMs));
      } else if ('holdUntil' in f) {
        rec.fault = 'delay';
        await f.holdUntil.catch(() => undefined);
      } else {
        rec.fault = 'status';
        return reply(this.faultReply(f, auth.installationId), rateKey);
      }
    }

    // the endpoint
    const handler = this.handlers.get(rec.route);
    if (!handler) {
      this.unknown.push({ method, path: rec.path, route: rec.route, status: 404, message: 'not implemented by the fake', at });
      return reply({ status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } }, rateKey);
    }
    const ctx: Ctx = {
      req,
      method,
      rawPath,
      path: rec.path,
      url,
      route: rec.route,
      params: match.params,
      query: rec.query,
      body: rec.body ?? {},
      installationId: auth.installationId,
      auth: auth.kind,
      accept: String(req.headers.accept ?? ''),
    };
    try {
      const answer = await handler(ctx);
      if (answerLost !== null) {
        // the effect happened; the answer never arrives
        await new Promise((resolve) => setTimeout(resolve, answerLost!));
        rec.status = 0;
        this.emit('request', rec);
        req.socket.destroy();
        return;
      }
      reply(this.conditional(req, rec.route, answer), rateKey);
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 422) this.violations.push({ method, path: rec.path, route: rec.route, status: 422, message: error.message, at });
        reply({ status: error.status, body: { message: error.message, documentation_url: DOCS, status: String(error.status), ...error.extra }, headers: error.headers }, rateKey);
      } else {
        reply({ status: 500, body: { message: `fake-github internal error: ${error instanceof Error ? error.stack : String(error)}` } }, rateKey);
      }
    }
  }

  private faultReply(f: { status: number; headers?: Record<string, string>; body?: unknown; rateLimit?: 'secondary' | 'primary' }, installationId: number | null): Reply {
    const headers: Record<string, string> = {};
    let body = f.body;
    if (body === undefined) {
      if (f.status === 403 || f.status === 429) {
        if (f.rateLimit === 'primary') {
          body = { message: `API rate limit exceeded for installation ID ${installationId}.`, documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api` };
          headers['x-ratelimit-remaining'] = '0';
          headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000) + 1);
        } else {
          body = {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE:0000.',
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          };
          headers['retry-after'] = '1';
        }
      } else if (f.status >= 500) {
        body = { message: f.status === 502 ? 'Server Error' : 'Internal Server Error', documentation_url: DOCS, status: String(f.status) };
      } else {
        body = { message: 'Injected fault', documentation_url: DOCS, status: String(f.status) };
      }
    }
    return { status: f.status, body, headers: { ...headers, ...f.headers } };
  }

  private rateRemaining(key: string): number {
    const r = this.rateEntry(key);
    return r.limit - r.used;
  }

  private rateEntry(key: string): { used: number; limit: number; resetAt: number } {
    let r = this.rate.get(key);
    if (!r || r.resetAt <= Date.now()) {
      r = { used: 0, limit: this.options.rateLimit, resetAt: Date.now() + 3_600_000 };
      this.rate.set(key, r);
    }
    return r;
  }

  private send(res: ServerResponse, r: Reply, rateKey: string | null): void {
    const headers: Record<string, string> = {
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `FAKE:${this.seq}`,
      'x-github-api-version-selected': '2022-11-28',
    };
    if (rateKey) {
      const rate = this.rateEntry(rateKey);
      if (r.status !== 304 && (r.status !== 403 || rate.used < rate.limit)) rate.used = Math.min(rate.limit, rate.used + 1);
      Object.assign(headers, {
        'x-ratelimit-limit': String(rate.limit),
        'x-ratelimit-remaining': String(rate.limit - rate.used),
        'x-ratelimit-used': String(rate.used),
        'x-ratelimit-reset': String(Math.ceil(rate.resetAt / 1000)),
        'x-ratelimit-resource': 'core',
      });
    }
    Object.assign(headers, r.headers);
    if (res.headersSent || res.destroyed) return;
    if (r.raw !== undefined) {
      res.writeHead(r.status, { 'content-type': 'application/vnd.github.raw; charset=utf-8', ...headers });
      res.end(r.raw);
      return;
    }
    if (r.status === 204 || r.body === undefined) {
      res.writeHead(r.status, headers);
      res.end();
      return;
    }
    res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(r.body));
  }

  // ---- conditional reads (branch replicas-ops, the reconcile's ETags). As GitHub answers its list
  // endpoints and file contents: an ETag per response body, and `304 Not Modified` with no body when
  // If-None-Match names the current one; a 304 does not count against the rate limit.
  private static readonly CONDITIONAL = new Set(['GET /app/installations', 'GET /installation/repositories', 'GET /repos/{owner}/{repo}/pulls', 'GET /repos/{owner}/{repo}/contents/{path}']);

  private conditional(req: IncomingMessage, route: string, answer: Reply): Reply {
    if (answer.status !== 200 || !FakeGitHub.CONDITIONAL.has(route)) return answer;
    const etag = `W/"${createHash('sha1').update(answer.raw ?? JSON.stringify(answer.body ?? null)).digest('hex')}"`;
    const sent = String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim());
    if (sent.includes(etag)) return { status: 304, headers: { etag } };
    return { ...answer, headers: { ...answer.headers, etag } };
  }

  /** The requests answered `304 Not Modified` (free for the app's rate limit). */
  notModified(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 304);
  }

  /** The requests GitHub counts against a rate limit: every answered one but the 304s. */
  counted(): RecordedRequest[] {
    return this.requests.filter((r) => r.status !== 304 && r.status !== 0);
  }

  private authenticate(
    header: string | undefined,
    template: string,
  ): { kind: RecordedRequest['auth']; installationId: number | null; error?: string; violation?: boolean } {
    // the manifest conversion takes no credentials: the code is the proof (first run)
    if (template === '/app-manifests/{code}/conversions') return { kind: 'none', installationId: null };
    const needsJwt = template.startsWith('/app') || /^\/(repos\/\{owner\}\/\{repo\}|orgs\/\{org\}|users\/\{username\})\/installation$/.test(template);
    const m = /^(bearer|token)\s+(\S+)$/i.exec(header ?? '');
    if (!m) return { kind: 'none', installationId: null, error: 'Requires authentication', violation: true };
    const credential = m[2]!;
    if (credential.split('.').length === 3) {
      const jwtError = this.checkJwt(credential);
      if (jwtError) return { kind: 'invalid', installationId: null, error: jwtError, violation: true };
      if (!needsJwt) return { kind: 'jwt', installationId: null, error: `${template} needs an installation access token, not the app's JWT`, violation: true };
      return { kind: 'jwt', installationId: null };
    }
    if (this.userTokens.has(credential)) {
      // a user token (dashboard sign-in): GET /user only
      if (template !== '/user') return { kind: 'user', installationId: null, error: `${template} is asked with a user token: the app asks GitHub only GET /user with one`, violation: true };
      return { kind: 'user', installationId: null };
    }
    const token = this.tokens.get(credential);
    if (!token) return { kind: 'invalid', installationId: null, error: 'Bad credentials', violation: true };
    if (token.expiresAt <= Date.now()) return { kind: 'invalid', installationId: token.installationId, error: 'Bad credentials' };
    if (needsJwt) return { kind: 'installation', installationId: token.installationId, error: `A JSON web token could not be decoded (${template} needs the app's JWT)`, violation: true };
    if (!this.installations.has(token.installationId)) return { kind: 'invalid', installationId: token.installationId, error: 'Bad credentials' };
    return { kind: 'installation', installationId: token.installationId };
  }

  private checkJwt(jwt: string): string | null {
    const [h, p, s] = jwt.split('.') as [string, string, string];
    let header: { alg?: string };
    let payload: { iss?: unknown; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return 'A JSON web token could not be decoded';
    }
    if (header.alg !== 'RS256') return `'alg' must be RS256 (got ${String(header.alg)})`;
    if (String(payload.iss) !== String(this.appId)) return `'Issuer' claim ('iss') must be the app id ${this.appId} (got ${String(payload.iss)})`;
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp < now) return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if (payload.exp > now + 660) return "'Expiration time' claim ('exp') is too far in the future";
    if (typeof payload.iat !== 'number' || payload.iat > now + 60) return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
    if (this.publicKey && !verifySignature('RSA-SHA256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'))) {
      return 'A JSON web token could not be decoded (bad signature)';
    }
    return null;
  }

  /** Slice a list for `page`/`per_page` and build GitHub's Link header. */
  private paginate<T>(ctx: Ctx, items: T[]): { page: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(ctx.query.per_page ?? 30) || 30));
    const page = Math.max(1, Number(ctx.query.page ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string): string => {
      const u = new URL(`${this.urls.api}${ctx.rawPath}`);
      for (const [k, v] of Object.entries(ctx.query)) u.searchParams.set(k, v);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(n));
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    return { page: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
  }

  /** The repository named in the path, visible to the caller's installation (else 404). */
  private repoFor(ctx: Ctx): RepoState {
    const r = this.repoState(ctx.params.owner ?? '', ctx.params.repo ?? '');
    if (!r || !this.accessible(ctx.installationId, r)) throw new HttpError(404, 'Not Found');
    return r;
  }

  private requireSha(r: RepoState, sha: string): void {
    if (this.options.strictShas && !r.shas.has(sha)) throw new HttpError(422, `No commit found for SHA: ${sha}`);
  }

  /** A ref (SHA, branch or `refs/heads/...`) to a SHA. */
  private resolveRef(r: RepoState, ref: string): string {
    const name = ref.replace(/^refs\/heads\//, '');
    return r.branches.get(name) ?? ref;
  }

  private on_(route: string, handler: Handler): void {
    if (!this.index.routes.some((r) => `${r.method} ${r.template}` === route)) throw new Error(`fake-github: ${route} is not in GitHub's OpenAPI description`);
    this.handlers.set(route, handler);
  }

  private registerHandlers(): void {
    const on = this.on_.bind(this);

    // ---- apps
    on('GET /app', () => ({ status: 200, body: integration(this.urls, this.app()) }));
    // dashboard sign-in (branch dashboard): who a user token belongs to
    on('GET /user', (ctx) => {
      const token = /^(?:bearer|token)\s+(\S+)$/i.exec(String(ctx.req.headers.authorization ?? ''))?.[1] ?? '';
      const login = this.userTokens.get(token);
      if (!login) throw new HttpError(401, 'Requires authentication');
      return { status: 200, body: this.userJson(login) };
    });

    // ---- first run (branch first-run): the manifest flow's conversion, GitHub's documented 201 shape
    on('POST /app-manifests/{code}/conversions', (ctx) => {
      const code = ctx.params.code ?? '';
      const entry = this.manifestCodes.get(code);
      if (!entry) throw new HttpError(404, 'Not Found');
      this.manifestCodes.delete(code);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
      this.setAppKey(publicKey);
      const app = integration(this.urls, this.app());
      const out = { code, id: this.appId, pem: privateKey, webhook_secret: entry.webhookSecret, client_id: String(app.client_id), client_secret: randomBytes(20).toString('hex') };
      this.manifestConversions.push(out);
      return { status: 201, body: { ...app, client_id: out.client_id, client_secret: out.client_secret, webhook_secret: out.webhook_secret, pem: out.pem } };
    });

    on('GET /app/installations', (ctx) => {
      const all = [...this.installations.values()].sort((a, b) => a.id - b.id).map((i) => installationJson(this.urls, this.app(), i));
      const { page, headers } = this.paginate(ctx, all);
      return { status: 200, body: page, headers };
    });

    on('GET /app/installations/{installation_id}', (ctx) => {
      const i = this.installations.get(Number(ctx.params.installation_id));
      if (!i) throw new HttpError(404, 'Not Found');
      return { status: 200, body: installationJson(this.urls, this.app(), i) };
    });

    on('POST /app/installations/{installation_id}/access_tokens', (ctx) => {
      const i = this.installations.get(Number(ctx.params.installation_id));
      if (!i) throw new HttpError(404, 'Not Found');
      if (i.suspended) throw new HttpError(403, 'This installation has been suspended');
      const token = `ghs_fake_${i.id}_${++this.tokenCounter}`;
      const expiresAt = Date.now() + 3_600_000;
      this.tokens.set(token, { installationId: i.id, expiresAt });
      return {
        status: 201,
        body: {
          token,
          expires_at: iso(expiresAt),
          permissions: (ctx.body as { permissions?: unknown }).permissions ?? installationJson(this.urls, this.app(), i).permissions,
          repository_selection: i.repositoryIds ? 'selected' : 'all',
        },
      };
    });

    const installationOf = (account: string, repo?: RepoState): Reply => {
      const i = [...this.installations.values()].find((x) => lc(x.account.login) === lc(account) && (!repo || x.repositoryIds === null || x.repositoryIds.has(repo.record.id)));
      if (!i) throw new HttpError(404, 'Not Found');
      return { status: 200, body: installationJson(this.urls, this.app(), i) };
    };
    on('GET /repos/{owner}/{repo}/installation', (ctx) => {
      const r = this.repoState(ctx.params.owner!, ctx.params.repo!);
      if (!r) throw new HttpError(404, 'Not Found');
      return installationOf(r.record.owner.login, r);
    });
    on('GET /orgs/{org}/installation', (ctx) => installationOf(ctx.params.org!));
    on('GET /users/{username}/installation', (ctx) => installationOf(ctx.params.username!));

    on('GET /installation/repositories', (ctx) => {
      const inst = this.mustInstallation(ctx.installationId!);
      const all = this.reposOf(inst).map((r) => repository(this.urls, r.record));
      const { page, headers } = this.paginate(ctx, all);
      return { status: 200, body: { total_count: all.length, repository_selection: inst.repositoryIds ? 'selected' : 'all', repositories: page }, headers };
    });

    // ---- repositories and files
    on('GET /repos/{owner}/{repo}', (ctx) => ({ status: 200, body: repository(this.urls, this.repoFor(ctx).record, { full: true }) }));

    on('GET /repos/{owner}/{repo}/contents/{path}', (ctx) => {
      const r = this.repoFor(ctx);
      const ref = ctx.query.ref ?? r.record.defaultBranch;
      const files = r.files.get(ref) ?? r.files.get(ref.replace(/^refs\/heads\//, ''));
      if (!files && !r.branches.has(ref.replace(/^refs\/heads\//, '')) && !r.shas.has(ref)) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const path = (ctx.params.path ?? '').replace(/^\/+|\/+$/g, '');
      const fullName = `${r.record.owner.login}/${r.record.name}`;
      const entry = (p: string, type: 'file' | 'dir', content?: string): Record<string, unknown> => {
        const sha = type === 'file' ? gitBlobSha(content ?? '') : createHash('sha1').update(`tree:${p}`).digest('hex');
        const url = `${this.urls.api}/repos/${fullName}/contents/${p}?ref=${encodeURIComponent(ref)}`;
        const git = `${this.urls.api}/repos/${fullName}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
        const html = `${this.urls.web}/${fullName}/${type === 'file' ? 'blob' : 'tree'}/${ref}/${p}`;
        return {
          type,
          size: type === 'file' ? Buffer.byteLength(content ?? '') : 0,
          name: p.split('/').pop(),
          path: p,
          sha,
          url,
          git_url: git,
          html_url: html,
          download_url: type === 'file' ? `${this.urls.web}/raw/${fullName}/${ref}/${p}` : null,
          _links: { self: url, git, html },
        };
      };
      const content = files?.get(path);
      if (content !== undefined) {
        if (/application\/vnd\.github(\.v3)?\.raw/.test(ctx.accept)) return { status: 200, raw: content };
        const b64 = Buffer.from(content).toString('base64').replace(/(.{60})/g, '$1\n');
        return { status: 200, body: { ...entry(path, 'file', content), content: b64.endsWith('\n') ? b64 : `${b64}\n`, encoding: 'base64' } };
      }
      const children = new Map<string, Record<string, unknown>>();
      for (const [p, c] of files ?? []) {
        if (path !== '' && !p.startsWith(`${path}/`)) continue;
        const rest = path === '' ? p : p.slice(path.length + 1);
        const [head, ...tail] = rest.split('/');
        const childPath = path === '' ? head! : `${path}/${head}`;
        if (!children.has(childPath)) children.set(childPath, tail.length ? entry(childPath, 'dir') : entry(childPath, 'file', c));
      }
      if (children.size) return { status: 200, body: [...children.values()] };
      throw new HttpError(404, 'Not Found');
    });

    on('GET /repos/{owner}/{repo}/branches/{branch}', (ctx) => {
      const r = this.repoFor(ctx);
      const branch = ctx.params.branch!;
      const sha = r.branches.get(branch);
      if (!sha) throw new HttpError(404, 'Branch not found');
      const fullName = `${r.record.owner.login}/${r.record.name}`;
      const prot = r.protection.get(branch);
      const checks = prot && prot !== 403 ? prot : null;
      const committer = { name: 'Fake', email: 'fake@example.com', date: iso(r.record.pushedAt) };
      return {
        status: 200,
        body: {
          name: branch,
          commit: {
            sha,
            node_id: nodeId('Commit', r.record.id),
            url: `${this.urls.api}/repos/${fullName}/commits/${sha}`,
            html_url: `${this.urls.web}/${fullName}/commit/${sha}`,
            comments_url: `${this.urls.api}/repos/${fullName}/commits/${sha}/comments`,
            commit: {
              url: `${this.urls.api}/repos/${fullName}/git/commits/${sha}`,
              author: committer,
              committer,
              message: 'commit',
              comment_count: 0,
              tree: { sha: createHash('sha1').update(`tree:${sha}`).digest('hex'), url: `${this.urls.api}/repos/${fullName}/git/trees/${sha}` },
            },
            author: null,
            committer: null,
            parents: [],
          },
          _links: { self: `${this.urls.api}/repos/${fullName}/branches/${branch}`, html: `${this.urls.web}/${fullName}/tree/${branch}` },
          protected: Boolean(prot),
          protection: prot
            ? {
                enabled: true,
                required_status_checks: {
                  enforcement_level: 'non_admins',
                  contexts: checks?.contexts ?? checks?.checks?.map((c) => c.context) ?? [],
                  checks: checks?.checks?.map((c) => ({ context: c.context, app_id: c.app_id ?? null })) ?? (checks?.contexts ?? []).map((c) => ({ context: c, app_id: null })),
                },
              }
            : { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
          protection_url: `${this.urls.api}/repos/${fullName}/branches/${branch}/protection`,
        },
      };
    });

    on('GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks', (ctx) => {
      const r = this.repoFor(ctx);
      const branch = ctx.params.branch!;
      if (!r.branches.has(branch)) throw new HttpError(404, 'Branch not found');
      const prot = r.protection.get(branch);
      if (prot === 403) throw new HttpError(403, 'Resource not accessible by integration');
      if (!prot) throw new HttpError(404, 'Branch not protected');
      const url = `${this.urls.api}/repos/${r.record.owner.login}/${r.record.name}/branches/${branch}/protection/required_status_checks`;
      const contexts = prot.contexts ?? prot.checks?.map((c) => c.context) ?? [];
      return {
        status: 200,
        body: {
          url,
          strict: Boolean(prot.strict),
          contexts,
          checks: prot.checks?.map((c) => ({ context: c.context, app_id: c.app_id ?? null })) ?? contexts.map((c) => ({ context: c, app_id: null })),
          contexts_url: `${url}/contexts`,
        },
      };
    });

    on('GET /repos/{owner}/{repo}/rules/branches/{branch}', (ctx) => {
      const r = this.repoFor(ctx);
      const rules = (r.rules.get(ctx.params.branch!) ?? []).map((rule, i) => ({
        ruleset_source_type: 'Repository',
        ruleset_source: `${r.record.owner.login}/${r.record.name}`,
        ruleset_id: 100 + i,
        ...rule,
      }));
      const { page, headers } = this.paginate(ctx, rules);
      return { status: 200, body: page, headers };
    });

    // ---- pull requests and issues
    const sortPulls = (ctx: Ctx, list: PullRecord[]): PullRecord[] => {
      const sort = ctx.query.sort ?? 'created';
      const direction = ctx.query.direction ?? (sort === 'created' ? 'desc' : 'asc');
      const keyOf = (p: PullRecord): number => (sort === 'updated' ? p.updatedAt : p.createdAt);
      return [...list].sort((a, b) => (keyOf(a) - keyOf(b) || a.number - b.number) * (direction === 'desc' ? -1 : 1));
    };

    on('GET /repos/{owner}/{repo}/pulls', (ctx) => {
      const r = this.repoFor(ctx);
      const state = ctx.query.state ?? 'open';
      let list = [...r.pulls.values()].filter((p) => state === 'all' || p.state === state);
      if (ctx.query.base) list = list.filter((p) => p.baseRef === ctx.query.base);
      if (ctx.query.head) {
        const [user, ref] = ctx.query.head.includes(':') ? ctx.query.head.split(':', 2) : [undefined, ctx.query.head];
        list = list.filter((p) => p.headRef === ref && (!user || lc((p.headRepo ?? r.record).owner.login) === lc(user)));
      }
      const { page, headers } = this.paginate(ctx, sortPulls(ctx, list));
      return { status: 200, body: page.map((p) => pullRequest(this.urls, r.record, p, this.labelsOf(r, p.labels), false)), headers };
    });

    on('GET /repos/{owner}/{repo}/pulls/{pull_number}', (ctx) => {
      const r = this.repoFor(ctx);
      const p = r.pulls.get(Number(ctx.params.pull_number));
      if (!p) throw new HttpError(404, 'Not Found');
      return { status: 200, body: pullRequest(this.urls, r.record, p, this.labelsOf(r, p.labels), true) };
    });

    // exempt.paths (protect-first): a PR's changed files, GitHub's diff-entry shape, at most 3,000
    on('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', (ctx) => {
      const r = this.repoFor(ctx);
      const p = r.pulls.get(Number(ctx.params.pull_number));
      if (!p) throw new HttpError(404, 'Not Found');
      const full = `${r.record.owner.login}/${r.record.name}`;
      const list = (this.pullFiles.get(`${lc(r.record.owner.login)}/${lc(r.record.name)}#${p.number}`) ?? []).slice(0, 3000);
      const { page, headers } = this.paginate(ctx, list);
      const body = page.map((f) => ({
        sha: createHash('sha1').update(`${p.headSha}:${f.filename}`).digest('hex'),
        filename: f.filename,
        status: f.status,
        additions: 1,
        deletions: f.status === 'renamed' ? 0 : 1,
        changes: f.status === 'renamed' ? 1 : 2,
        blob_url: `${this.urls.web}/${full}/blob/${p.headSha}/${encodeURI(f.filename)}`,
        raw_url: `${this.urls.web}/${full}/raw/${p.headSha}/${encodeURI(f.filename)}`,
        contents_url: `${this.urls.api}/repos/${full}/contents/${encodeURI(f.filename)}?ref=${p.headSha}`,
        patch: '@@ -1 +1 @@\n-a\n+b',
        ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
      }));
      return { status: 200, body, headers };
    });

    // merge-first: the reviews of a pull request, oldest first, as GET /repos/{o}/{r}/pulls/{n}/reviews lists them
    on('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', (ctx) => {
      const r = this.repoFor(ctx);
      const n = Number(ctx.params.pull_number);
      if (!r.pulls.has(n)) throw new HttpError(404, 'Not Found');
      const fullName = `${r.record.owner.login}/${r.record.name}`;
      const html = `${this.urls.web}/${fullName}/pull/${n}`;
      const pullUrl = `${this.urls.api}/repos/${fullName}/pulls/${n}`;
      const list = this.reviews.get(`${this.key(r.record.owner.login, r.record.name)}#${n}`) ?? [];
      const { page, headers } = this.paginate(ctx, list);
      const body = page.map((v) => ({
        id: v.id,
        node_id: nodeId('PullRequestReview', v.id),
        user: simpleUser(this.urls, v.user),
        body: v.body,
        state: v.state,
        html_url: `${html}#pullrequestreview-${v.id}`,
        pull_request_url: pullUrl,
        author_association: 'MEMBER',
        _links: { html: { href: `${html}#pullrequestreview-${v.id}` }, pull_request: { href: pullUrl } },
        ...(v.submittedAt === null ? {} : { submitted_at: iso(v.submittedAt) }),
        commit_id: v.commitId,
      }));
      return { status: 200, body, headers };
    });

    on('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', (ctx) => {
      const r = this.repoFor(ctx);
      const sha = this.resolveRef(r, ctx.params.commit_sha!);
      if (this.options.strictShas && !r.shas.has(sha)) throw new HttpError(422, `No commit found for SHA: ${ctx.params.commit_sha}`);
      const list = [...r.pulls.values()].filter((p) => p.headSha === sha || p.mergeCommitSha === sha).sort((a, b) => b.number - a.number);
      const { page, headers } = this.paginate(ctx, list);
      return { status: 200, body: page.map((p) => pullRequest(this.urls, r.record, p, this.labelsOf(r, p.labels), false)), headers };
    });

    on('GET /repos/{owner}/{repo}/issues/{issue_number}', (ctx) => {
      const r = this.repoFor(ctx);
      const body = this.issueJson(r.record.owner.login, r.record.name, Number(ctx.params.issue_number));
      if (!body) throw new HttpError(404, 'Not Found');
      return { status: 200, body };
    });

    on('GET /repos/{owner}/{repo}/issues/{issue_number}/events', (ctx) => {
      const r = this.repoFor(ctx);
      const n = Number(ctx.params.issue_number);
      if (!r.pulls.has(n) && !r.issues.has(n)) throw new HttpError(404, 'Not Found');
      const key = this.key(r.record.owner.login, r.record.name);
      const list = this.issueEvents.filter((e) => e.repoKey === key && e.issueNumber === n).sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
      const { page, headers } = this.paginate(ctx, list);
      return { status: 200, body: page.map((e) => issueEvent(this.urls, r.record, e, this.ensureLabel(r, e.label).color)), headers };
    });

    on('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
      const r = this.repoFor(ctx);
      const n = Number(ctx.params.issue_number);
      if (!r.pulls.has(n) && !r.issues.has(n)) throw new HttpError(404, 'Not Found');
      const key = this.key(r.record.owner.login, r.record.name);
      const list = [...this.comments.values()].filter((c) => c.repoKey === key && c.issueNumber === n).sort((a, b) => a.id - b.id);
      const { page, headers } = this.paginate(ctx, list);
      return { status: 200, body: page.map((c) => issueComment(this.urls, r.record, c, c.installationId === null ? null : this.app())), headers };
    });

    on('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
      const r = this.repoFor(ctx);
      const n = Number(ctx.params.issue_number);
      if (!r.pulls.has(n) && !r.issues.has(n)) throw new HttpError(404, 'Not Found');
      const body = String(ctx.body.body);
      if (body.length > 65536) throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }] });
      const t = this.stamp(true);
      const c: CommentRecord = {
        id: this.nextId(),
        repoKey: this.key(r.record.owner.login, r.record.name),
        issueNumber: n,
        body,
        user: this.bot(),
        createdAt: t,
        updatedAt: t,
        installationId: ctx.installationId,
        authorAssociation: 'NONE',
      };
      this.comments.set(c.id, c);
      const json = issueComment(this.urls, r.record, c, this.app());
      return { status: 201, body: json, headers: { location: String(json.url) } };
    });

    on('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', (ctx) => {
      const r = this.repoFor(ctx);
      const id = Number(ctx.params.comment_id);
      const c = this.comments.get(id);
      if (!c || c.repoKey !== this.key(r.record.owner.login, r.record.name)) throw new HttpError(404, 'Not Found');
      const content = String(ctx.body.content);
      const existing = this.reactions.find((x) => x.commentId === id && x.content === content && x.user === this.botLogin);
      const rec: ReactionRecord = existing ?? {
        id: this.nextId(),
        owner: r.record.owner.login,
        repo: r.record.name,
        commentId: id,
        content,
        user: this.botLogin,
        installationId: ctx.installationId,
        at: Date.now(),
      };
      if (!existing) this.reactions.push(rec);
      return {
        status: existing ? 200 : 201,
        body: { id: rec.id, node_id: nodeId('Reaction', rec.id), user: simpleUser(this.urls, this.bot()), content, created_at: iso(rec.at) },
      };
    });

    // ---- checks and statuses
    on('POST /repos/{owner}/{repo}/check-runs', (ctx) => {
      const r = this.repoFor(ctx);
      const b = ctx.body as Record<string, any>;
      this.requireSha(r, String(b.head_sha));
      const now = Date.now();
      const conclusion = (b.conclusion as string | undefined) ?? null;
      const status = conclusion ? 'completed' : ((b.status as string | undefined) ?? 'queued');
      checkRunSemantics(status, conclusion, b);
      const suiteKey = `${r.record.id}:${b.head_sha}`;
      let suite = this.checkSuites.get(suiteKey);
      if (suite === undefined) this.checkSuites.set(suiteKey, (suite = this.nextId()));
      const c: CheckRunRecord = {
        id: this.nextId(),
        repoKey: this.key(r.record.owner.login, r.record.name),
        name: String(b.name),
        headSha: String(b.head_sha),
        status,
        conclusion,
        startedAt: b.started_at ? Date.parse(b.started_at) : now,
        completedAt: status === 'completed' ? (b.completed_at ? Date.parse(b.completed_at) : now) : null,
        detailsUrl: b.details_url ?? null,
        externalId: b.external_id ?? null,
        output: { title: b.output?.title ?? null, summary: b.output?.summary ?? null, text: b.output?.text ?? null },
        actions: b.actions ?? [],
        appId: this.appId,
        installationId: ctx.installationId,
        checkSuiteId: suite,
        createdAt: now,
        history: [b],
      };
      this.checkRunsById.set(c.id, c);
      return { status: 201, body: this.renderCheck(r, c) };
    });

    const checkRunOf = (ctx: Ctx): [RepoState, CheckRunRecord] => {
      const r = this.repoFor(ctx);
      const c = this.checkRunsById.get(Number(ctx.params.check_run_id));
      if (!c || c.repoKey !== this.key(r.record.owner.login, r.record.name)) throw new HttpError(404, 'Not Found');
      return [r, c];
    };
    on('GET /repos/{owner}/{repo}/check-runs/{check_run_id}', (ctx) => {
      const [r, c] = checkRunOf(ctx);
      return { status: 200, body: this.renderCheck(r, c) };
    });
    on('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', (ctx) => {
      const [r, c] = checkRunOf(ctx);
      if (c.appId !== this.appId) throw new HttpError(403, 'Invalid app_id `' + this.appId + '` - check run can only be modified by the GitHub App that created it.');
      const b = ctx.body as Record<string, any>;
      const status = b.conclusion ? 'completed' : ((b.status as string | undefined) ?? c.status);
      const conclusion = (b.conclusion as string | undefined) ?? (status === 'completed' ? c.conclusion : null);
      checkRunSemantics(status, conclusion, b);
      if (b.name !== undefined) c.name = String(b.name);
      if (b.details_url !== undefined) c.detailsUrl = b.details_url;
      if (b.external_id !== undefined) c.externalId = b.external_id;
      if (b.started_at !== undefined) c.startedAt = Date.parse(b.started_at);
      if (b.output) c.output = { title: b.output.title ?? c.output.title, summary: b.output.summary ?? c.output.summary, text: b.output.text ?? c.output.text };
      if (b.actions !== undefined) c.actions = b.actions;
      c.status = status;
      c.conclusion = status === 'completed' ? conclusion : null;
      c.completedAt = status === 'completed' ? (b.completed_at ? Date.parse(b.completed_at) : (c.completedAt ?? Date.now())) : null;
      c.history.push(b);
      return { status: 200, body: this.renderCheck(r, c) };
    });

    on('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', (ctx) => {
      const r = this.repoFor(ctx);
      const sha = this.resolveRef(r, ctx.params.ref!);
      const key = this.key(r.record.owner.login, r.record.name);
      let list = [...this.checkRunsById.values()].filter((c) => c.repoKey === key && c.headSha === sha).sort((a, b) => b.id - a.id);
      if (ctx.query.check_name) list = list.filter((c) => c.name === ctx.query.check_name);
      if (ctx.query.status) list = list.filter((c) => c.status === ctx.query.status);
      if (ctx.query.app_id) list = list.filter((c) => String(c.appId) === ctx.query.app_id);
      if ((ctx.query.filter ?? 'latest') === 'latest') {
        const seen = new Set<string>();
        list = list.filter((c) => (seen.has(`${c.appId}:${c.name}`) ? false : (seen.add(`${c.appId}:${c.name}`), true)));
      }
      const { page, headers } = this.paginate(ctx, list);
      return { status: 200, body: { total_count: list.length, check_runs: page.map((c) => this.renderCheck(r, c)) }, headers };
    });

    on('POST /repos/{owner}/{repo}/statuses/{sha}', (ctx) => {
      const r = this.repoFor(ctx);
      const sha = ctx.params.sha!;
      this.requireSha(r, sha);
      const b = ctx.body as Record<string, any>;
      if (typeof b.description === 'string' && b.description.length > 140) {
        throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }] });
      }
      const s: StatusRecord = {
        id: this.nextId(),
        repoKey: this.key(r.record.owner.login, r.record.name),
        sha,
        state: String(b.state),
        context: b.context ?? 'default',
        description: b.description ?? null,
        targetUrl: b.target_url ?? null,
        creator: this.bot(),
        installationId: ctx.installationId,
        createdAt: Date.now(),
      };
      this.statuses.push(s);
      const json = statusJson(this.urls, r.record, s);
      return { status: 201, body: json, headers: { location: String(json.url) } };
    });

    on('GET /repos/{owner}/{repo}/commits/{ref}/statuses', (ctx) => {
      const r = this.repoFor(ctx);
      const sha = this.resolveRef(r, ctx.params.ref!);
      const key = this.key(r.record.owner.login, r.record.name);
      const list = this.statuses.filter((s) => s.repoKey === key && s.sha === sha).reverse();
      const { page, headers } = this.paginate(ctx, list);
      return { status: 200, body: page.map((s) => statusJson(this.urls, r.record, s)), headers };
    });

    // ---- authority
    on('GET /repos/{owner}/{repo}/collaborators/{username}/permission', (ctx) => {
      const r = this.repoFor(ctx);
      const login = ctx.params.username!;
      const role = r.roles.get(lc(login));
      if (role === null || (role === undefined && this.options.unknownCollaborators === 'not-found')) throw new HttpError(404, 'Not Found');
      const spec = role ?? 'none';
      const base: Role = typeof spec === 'string' ? spec : spec.base;
      const roleName = typeof spec === 'string' ? spec : spec.roleName;
      const rank = base === 'none' ? -1 : ROLE_ORDER.indexOf(base);
      const permissions = { pull: rank >= 0, triage: rank >= 1, push: rank >= 2, maintain: rank >= 3, admin: rank >= 4 };
      return {
        status: 200,
        body: {
          permission: LEGACY_PERMISSION[base],
          role_name: roleName,
          user: { ...simpleUser(this.urls, this.account(login)), permissions, role_name: roleName },
        },
      };
    });

    on('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', (ctx) => {
      const org = ctx.params.org!;
      const inst = this.installations.get(ctx.installationId!);
      if (!inst || lc(inst.account.login) !== lc(org)) throw new HttpError(404, 'Not Found');
      const m = this.teams.get(lc(`${org}/${ctx.params.team_slug}`))?.get(lc(ctx.params.username!));
      if (!m) throw new HttpError(404, 'Not Found');
      return {
        status: 200,
        body: { url: `${this.urls.api}/organizations/${inst.account.id}/team/${encodeURIComponent(ctx.params.team_slug!)}/memberships/${encodeURIComponent(ctx.params.username!)}`, role: m.role, state: m.state },
      };
    });

    // ---- deployments
    on('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', (ctx) => {
      const r = this.repoFor(ctx);
      const b = ctx.body as Record<string, any>;
      this.deploymentReviews.push({
        owner: r.record.owner.login,
        repo: r.record.name,
        runId: Number(ctx.params.run_id),
        environment_name: String(b.environment_name),
        state: b.state,
        comment: b.comment,
        installationId: ctx.installationId,
        at: Date.now(),
      });
      return { status: 204 };
    });
  }
}

function checkRunSemantics(status: string, conclusion: string | null, b: Record<string, any>): void {
  if (status === 'completed' && !conclusion) throw new HttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied: it is required when status is "completed".');
  if (b.completed_at && !conclusion) throw new HttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied: it is required with "completed_at".');
  if (conclusion === 'stale') throw new HttpError(422, 'Invalid request.\n\nA check run conclusion cannot be set to "stale"; only GitHub can set it.');
}

function gitBlobSha(content: string): string {
  const buf = Buffer.from(content);
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
