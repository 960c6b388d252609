/**
 * End-to-end harness: runs the real app (`npm start`, a child process) against a FakeGitHub and
 * sends it signed webhooks built from GitHub's real example payloads.
 *
 *   const fake = await FakeGitHub.start();
 *   fake.addInstallation({ id: 7, account: 'acme' });
 *   fake.addRepo('acme', 'api', { files: { '.github/moratorium.yml': 'enforcement: check\n' } });
 *   const app = await startApp({ fake });
 *   const pr = fake.addPull('acme', 'api', { title: 'Feature' });
 *   await app.send('pull_request', webhooks(fake).pullRequest('opened', 'acme', 'api', pr.number));
 *   await fake.waitFor((f) => f.latestCheck('acme', 'api', pr.head.sha));
 *
 * The child's environment is explicit: only a few variables of the test process are passed through
 * (PATH, HOME, temp dirs, locale; see PASS_THROUGH) plus the app's own (APP_ID, PRIVATE_KEY,
 * WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL, MORATORIUM_DB, MORATORIUM_API_TOKEN, LOG_LEVEL,
 * LOG_FORMAT) and `opts.env`. Probot's `run()` copies a `.env` from the working directory over the
 * environment, so a developer's `.env` in the repository root would silently replace the test's
 * credentials: `startApp` refuses to run while one exists (set MORATORIUM_E2E_ALLOW_DOTENV=1 to
 * override, at your own risk).
 *
 * Every child is started in its own process group and tracked: `stopAllApps()` runs in `afterAll` of
 * every test file that imports this module, and any child still alive when the test process exits is
 * killed (SIGKILL to its group).
 *
 * `firstRun: true` starts the app as a fresh clone would, without credentials (no APP_ID, PRIVATE_KEY
 * or WEBHOOK_SECRET): in setup mode (SPEC 11). It runs in a temporary working directory of its own
 * (a package.json whose `start` runs this repository's dist/main.js), so the `.env` it writes lands
 * there (`handle.cwd`), never in the repository; `webhookSecret` is then read from that `.env`.
 *
 * The store: SQLite (a file in the app's temporary directory) by default; with
 * MORATORIUM_E2E_STORE=postgres every app gets a fresh PostgreSQL database (DATABASE_URL) on the
 * server of MORATORIUM_TEST_DATABASE_URL, dropped by `stopAllApps()`. `jobs()` and `waitForJobs()`
 * read either. `npm test` runs the e2e folder on both when that server is there (vitest.config.ts).
 *
 * The fake GitHub is strict everywhere: every test file that imports this module fails a test
 * (afterEach) and the file (afterAll) when any FakeGitHub started in it recorded a request that
 * breaks GitHub's OpenAPI description or an endpoint the fake does not implement
 * (`checkStartedFakes`); no test has to remember to check.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, afterEach, expect as globalExpect, type ExpectStatic } from 'vitest';
import { FakeGitHub, startedFakes } from '../fake-github/index.js';
import { quiet } from '../support/engines.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Variables of the test process the child inherits; everything else is set explicitly. */
const PASS_THROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'TZ', 'SystemRoot', 'ComSpec', 'npm_config_cache'];
const MAX_LOG = 4 * 1024 * 1024;
const MAX_LINE = 64 * 1024;

/** the store the apps of this test process run on (MORATORIUM_E2E_STORE) */
export const E2E_STORE: 'sqlite' | 'postgres' = process.env.MORATORIUM_E2E_STORE === 'postgres' ? 'postgres' : 'sqlite';
const TEST_DATABASE_URL = process.env.MORATORIUM_TEST_DATABASE_URL?.trim() || undefined;
if (E2E_STORE === 'postgres' && !TEST_DATABASE_URL) throw new Error('e2e harness: MORATORIUM_E2E_STORE=postgres needs MORATORIUM_TEST_DATABASE_URL (eval "$(scripts/test-servers.sh start)")');

function databaseUrlFor(name: string): string {
  const u = new URL(TEST_DATABASE_URL!);
  u.pathname = `/${name}`;
  return u.toString();
}

/** fresh databases of this process's apps, dropped by stopAllApps */
const databases = new Set<string>();

async function onServer<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = quiet(new pg.Client({ connectionString: TEST_DATABASE_URL }));
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A fresh PostgreSQL database on the test server (MORATORIUM_TEST_DATABASE_URL) for apps started as
 * replicas of one another (`startApp({ databaseUrl })` each); dropped by `stopAllApps()`.
 */
export async function createDatabaseForReplicas(): Promise<string> {
  if (!TEST_DATABASE_URL) throw new Error('e2e harness: replicas need MORATORIUM_TEST_DATABASE_URL (eval "$(scripts/test-servers.sh start)")');
  return databaseUrlFor(await createDatabase());
}

async function createDatabase(): Promise<string> {
  const name = `moratorium_e2e_${process.pid}_${randomBytes(6).toString('hex')}`;
  await onServer((c) => c.query(`CREATE DATABASE ${name}`));
  databases.add(name);
  return name;
}

const JOBS_SQL = `SELECT id, kind, state, attempts, run_at, created_at, finished_at, last_error, payload FROM jobs ORDER BY id`;

/** the stored jobs of a PostgreSQL database, read synchronously (a short child process) */
function pgJobsSync(url: string): StoredJob[] {
  const script = `import pg from 'pg'; const c = new pg.Client({ connectionString: process.argv[1] }); await c.connect();
    try { const r = await c.query(${JSON.stringify(JOBS_SQL)}).catch((e) => (e.code === '42P01' ? { rows: [] } : Promise.reject(e)));
    process.stdout.write(JSON.stringify(r.rows)); } finally { await c.end(); }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, url], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 15_000 });
  if (run.status !== 0) throw new Error(`e2e harness: could not read the jobs of ${url}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as Record<string, unknown>[]).map(pgJob);
}

async function pgJobs(url: string): Promise<StoredJob[]> {
  const c = quiet(new pg.Client({ connectionString: url }));
  await c.connect();
  try {
    const r = await c.query(JOBS_SQL).catch((e: { code?: string }) => (e.code === '42P01' ? { rows: [] } : Promise.reject(e)));
    return (r.rows as Record<string, unknown>[]).map(pgJob);
  } finally {
    await c.end();
  }
}

function pgJob(r: Record<string, unknown>): StoredJob {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { ...(r as unknown as StoredJob), id: Number(r.id), attempts: Number(r.attempts), run_at: Number(r.run_at), created_at: Number(r.created_at), finished_at: n(r.finished_at) };
}

export interface StartAppOptions {
  fake: FakeGitHub;
  /** extra environment (wins over the harness's) */
  env?: Record<string, string>;
  /** Probot's LOG_LEVEL. Default `info` */
  logLevel?: string;
  webhookSecret?: string;
  /** MORATORIUM_API_TOKEN. Default: a random one (see `apiToken`) */
  apiToken?: string;
  /** how long to wait for GET /moratorium/health. Default 30 s */
  healthTimeoutMs?: number;
  /** working directory (where `npm start` runs). Default: the repository root (a temporary one with `firstRun`) */
  cwd?: string;
  /**
   * SPEC 11: start without credentials (setup mode). The start counts as done once health answers
   * 503 with `setup: true` (or 200, when a `.env` in the working directory already holds credentials).
   */
  firstRun?: boolean;
  /**
   * DATABASE_URL of an existing database (whatever MORATORIUM_E2E_STORE says): several apps given
   * the same one run as replicas of one installation (see `createDatabaseForReplicas`)
   */
  databaseUrl?: string;
  /** the App's key pair: another app's (`{ privateKey, publicKey }` of its handle) for a replica of it. Default: a new one */
  appKey?: { privateKey: string; publicKey: string };
}

export interface SendResult {
  status: number;
  body: string;
  deliveryId: string;
}

export interface AppHandle {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** the temporary directory holding the database */
  readonly dir: string;
  /** the app's working directory (where a first run writes `.env`) */
  readonly cwd: string;
  /** the SQLite file (MORATORIUM_DB; unused on PostgreSQL) */
  readonly dbPath: string;
  /** the store the app runs on, and its DATABASE_URL on PostgreSQL (else null) */
  readonly store: 'sqlite' | 'postgres';
  readonly databaseUrl: string | null;
  readonly privateKey: string;
  readonly publicKey: string;
  readonly webhookSecret: string;
  readonly apiToken: string;
  /** the running child's pid (npm's), or null when stopped */
  readonly pid: number | null;
  /** the app's own process (npm's first descendant that is not a shell; Linux /proc), or null */
  readonly appPid: number | null;
  /** Deliver a webhook: the exact JSON body signed with X-Hub-Signature-256, X-GitHub-Event, X-GitHub-Delivery. */
  send(event: string, payload: unknown, opts?: { deliveryId?: string }): Promise<SendResult>;
  /** POST exactly these headers and body to the webhook path (for bad signatures, odd content types...). */
  sendRaw(headers: Record<string, string>, body: string | Buffer): Promise<{ status: number; body: string }>;
  /** Call the app's HTTP API (`/moratorium/...`) with its bearer token (pass `token: null` to send none). */
  api(method: string, path: string, body?: unknown, opts?: { token?: string | null }): Promise<{ status: number; body: any; headers: Headers }>;
  /** Send a signal (default SIGTERM) and wait for the exit; returns the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL the whole process group (a crash) and wait for it to be gone. */
  kill9(): Promise<void>;
  /** Start again with the same database, key, secret and port (stopping first if still running). */
  restart(): Promise<void>;
  /** Everything the child wrote to stdout and stderr, all starts included. */
  logs(): string;
  /** The JSON log lines (LOG_FORMAT=json), parsed; other lines are skipped. */
  logLines(): Array<Record<string, any>>;
  /** Wait until the logs match. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** Wait for a JSON log line matching `match` (lines before index `from` of logLines() skipped); returns it. */
  waitForLogLine(match: (line: Record<string, any>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, any>>;
  /** The stored jobs (replies, fan-outs, gate re-runs, held-deployment checks), read from the database read-only. */
  jobs(): StoredJob[];
  /**
   * Wait until no stored job is due: every job owed so far (a reply, a fan-out, a held-deployment
   * check...) has run to its end or was put off to a later time (a retry with backoff). What a
   * webhook owes is stored before the webhook is answered, so after an answered delivery this is the
   * moment to assert that something did not happen.
   */
  waitForJobs(timeoutMs?: number): Promise<void>;
  /**
   * Wait until the app reports no pending job of `kind` at all (`moratorium_jobs_pending{kind}` on
   * /metrics, retries put off to later included); a moment when the app does not answer (a restart)
   * counts as not yet.
   */
  waitForNoPendingJobs(kind: string, timeoutMs?: number): Promise<void>;
}

export interface StoredJob {
  id: number;
  kind: string;
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  run_at: number;
  created_at: number;
  finished_at: number | null;
  last_error: string | null;
  payload: string;
}

interface Running {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
/** temporary directories (databases) of this process's apps, removed by stopAllApps */
const dirs = new Set<string>();

/** Signal the child's whole process group (npm, sh, the app). `force`: even after npm itself exited (orphans). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals, force = false): void {
  if (child.pid === undefined) return;
  if (!force && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});
// 'exit' does not run when the test process dies of a signal: kill the apps, then die of it as before
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** Nothing the app sent broke GitHub's API description or used an endpoint the fake lacks. */
export function expectFakeClean(fake: FakeGitHub, expect: ExpectStatic = globalExpect): void {
  expect(fake.violations).toEqual([]);
  expect(fake.unknown).toEqual([]);
}

/**
 * Throws when any fake started in this test file (without `recordOnly`) recorded a violation of
 * GitHub's API description or an endpoint it does not implement since the last check. Registered
 * as afterEach (the test fails) and afterAll (the file fails: also what arrives after the last test).
 */
export function checkStartedFakes(): void {
  const problems = startedFakes().flatMap((fake) => fake.unreported().map((p) => `  fake GitHub ${fake.apiUrl}: ${p}`));
  if (problems.length) {
    throw new Error(`the app made requests GitHub's API description does not allow, or the fake does not implement:\n${problems.join('\n')}`);
  }
}

/**
 * Kill every app this process started (SIGTERM, then SIGKILL after 5 s) and remove their temporary
 * directories (keep them with MORATORIUM_E2E_KEEP=1). Registered in afterAll.
 */
export async function stopAllApps(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const gone = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      running.delete(child);
    }),
  );
  if (process.env.MORATORIUM_E2E_KEEP !== '1') {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs.clear();
    if (databases.size) {
      const names = [...databases];
      databases.clear();
      await onServer(async (c) => {
        for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    }
  }
}

try {
  afterEach(checkStartedFakes);
  // after stopAllApps (hooks of a level run in order): what the apps sent until they stopped counts
  afterAll(async () => {
    await stopAllApps();
    checkStartedFakes();
  });
} catch {
  // imported outside a vitest test file: the exit handler still kills children
}

/**
 * The app's own process under npm: the first descendant of `pid` that is not a shell (npm -> sh ->
 * node; the app may have children of its own, such as tsx's esbuild service). Read from /proc;
 * undefined elsewhere.
 */
function leafPid(pid: number): number | undefined {
  const children = new Map<number, Array<{ pid: number; comm: string }>>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push({ pid: Number(entry), comm });
      children.set(ppid, list);
    }
  } catch {
    return undefined;
  }
  let current = pid;
  for (let depth = 0; depth < 6; depth++) {
    const next = children.get(current)?.[0];
    if (!next) return undefined;
    if (!/^(sh|dash|bash|npm.*)$/.test(next.comm)) return next.pid;
    current = next.pid;
  }
  return undefined;
}

/**
 * A port for an app to listen on, below the kernel's ephemeral range: a port from that range can be
 * taken, between this check and the app's listen (or while a killed app restarts), by any outgoing
 * connection of this machine (seen as EADDRINUSE after a kill -9 and restart).
 */
export async function freePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the default range's start
  }
  const from = 10_000;
  const span = Math.max(1000, low - from);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * span);
    if (port >= low) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`e2e harness: no free port found between ${from} and ${low}`);
}

/** Resolves once no process of the group is left (bounded: a kill that never completes is reported by the next listen). */
async function groupGone(pgid: number | undefined, timeoutMs = 5000): Promise<void> {
  if (pgid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function sign(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function startApp(opts: StartAppOptions): Promise<AppHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'moratorium-e2e-'));
  dirs.add(dir);
  let cwd = opts.cwd ?? REPO_ROOT;
  if (opts.firstRun && !opts.cwd) {
    // a working directory of its own: the .env the first run writes stays out of the repository
    cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'moratorium-first-run-e2e', private: true, scripts: { start: `node ${JSON.stringify(join(REPO_ROOT, 'dist', 'main.js'))}` } }));
  }
  if (existsSync(join(cwd, '.env')) && process.env.MORATORIUM_E2E_ALLOW_DOTENV !== '1') {
    throw new Error(
      `e2e harness: ${join(cwd, '.env')} exists. Probot copies it over the environment, so it would replace the test's APP_ID, PRIVATE_KEY, WEBHOOK_SECRET and GHE_HOST. Move it away (or set MORATORIUM_E2E_ALLOW_DOTENV=1).`,
    );
  }
  const { fake } = opts;
  const { privateKey, publicKey } =
    opts.appKey ??
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
  fake.setAppKey(publicKey);
  const dbPath = join(dir, 'm.db');
  const databaseUrl = opts.databaseUrl ?? (E2E_STORE === 'postgres' ? databaseUrlFor(await createDatabase()) : null);
  const port = await freePort();
  const webhookSecret = opts.webhookSecret ?? `whsec-${randomBytes(8).toString('hex')}`;
  const apiToken = opts.apiToken ?? `api-${randomBytes(12).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;

  const env: Record<string, string> = {};
  for (const k of PASS_THROUGH) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  Object.assign(env, {
    ...(opts.firstRun ? {} : { APP_ID: String(fake.appId), PRIVATE_KEY: privateKey, WEBHOOK_SECRET: webhookSecret }),
    PORT: String(port),
    HOST: '127.0.0.1',
    GHE_HOST: fake.host,
    GHE_PROTOCOL: 'http',
    MORATORIUM_DB: dbPath,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    MORATORIUM_API_TOKEN: apiToken,
    LOG_LEVEL: opts.logLevel ?? 'info',
    LOG_FORMAT: 'json',
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_loglevel: 'warn',
    ...opts.env,
  });

  let log = '';
  // a line longer than MAX_LINE (e.g. a logged 26 MB request body) keeps its start only, so it cannot
  // push every other line out of the kept log
  let lineLength = 0;
  let cut = 0;
  const decoder = new StringDecoder('utf8');
  const append = (chunk: Buffer): void => {
    const parts = decoder.write(chunk).split('\n');
    let out = '';
    parts.forEach((part, i) => {
      const room = Math.max(0, MAX_LINE - lineLength);
      out += part.length <= room ? part : part.slice(0, room);
      cut += Math.max(0, part.length - room);
      lineLength += Math.min(part.length, room);
      if (i < parts.length - 1) {
        if (cut) out += ` …[${cut} characters cut by the e2e harness]`;
        out += '\n';
        lineLength = 0;
        cut = 0;
      }
    });
    log += out;
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG / 2);
  };
  let current: Running | null = null;

  const tail = (): string => log.split('\n').slice(-40).join('\n');

  const spawnChild = async (): Promise<void> => {
    const child = spawn('npm', ['start'], { cwd, env, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        // nothing of this run may outlive npm (an app orphaned by a killed `sh` would hold the port)
        killGroup(child, 'SIGKILL', true);
        // and the port is free once exit resolves: the app itself may die after npm
        void groupGone(child.pid).then(() => resolve({ code, signal }));
      });
      child.once('error', (error) => {
        append(Buffer.from(`\n[harness] spawn error: ${error.message}\n`));
        running.delete(child);
        resolve({ code: null, signal: null });
      });
    });
    current = { child, exit };
    const deadline = Date.now() + (opts.healthTimeoutMs ?? 30_000);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    void exit.then((e) => (exited = e));
    let lastError = '';
    while (Date.now() < deadline) {
      if (exited) {
        const e = exited as { code: number | null; signal: NodeJS.Signals | null };
        throw new Error(`e2e harness: the app exited before it was healthy (code ${e.code}, signal ${e.signal})\n--- app output (tail) ---\n${tail()}`);
      }
      try {
        const res = await fetch(`${url}/moratorium/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        const text = await res.text();
        if (opts.firstRun && res.status === 503 && /"setup":true/.test(text)) return;
        lastError = `health answered ${res.status}: ${text.slice(0, 200)}`;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    killGroup(child, 'SIGKILL');
    await exit;
    throw new Error(`e2e harness: GET ${url}/moratorium/health did not answer 200 within ${opts.healthTimeoutMs ?? 30_000} ms (last: ${lastError})\n--- app output (tail) ---\n${tail()}`);
  };

  // a first run's secret is the one GitHub (the fake) returned, as written to its .env
  const currentSecret = (): string => {
    if (!opts.firstRun) return webhookSecret;
    const file = join(cwd, '.env');
    return existsSync(file) ? ((parseEnv(readFileSync(file, 'utf8')) as Record<string, string>).WEBHOOK_SECRET ?? '') : '';
  };

  const postWebhook = async (headers: Record<string, string>, body: string | Buffer): Promise<{ status: number; body: string }> => {
    // Probot answers at the latest ~9 s after a delivery arrives; anything much longer is a hung app
    const res = await fetch(`${url}${opts.env?.WEBHOOK_PATH ?? '/api/github/webhooks'}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text() };
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> => {
    const run = current;
    if (!run) return null;
    // npm runs the script through `sh -c`, and a signal to npm reaches sh, not the app (npm then
    // exits by that signal, losing the app's code). Signal the app process itself, once: npm then
    // exits with the app's exit code.
    if (run.child.exitCode === null && run.child.signalCode === null) {
      const leaf = run.child.pid === undefined ? undefined : leafPid(run.child.pid);
      try {
        if (leaf !== undefined) process.kill(leaf, signal);
        else run.child.kill(signal);
      } catch {
        run.child.kill(signal);
      }
    }
    const timer = setTimeout(() => {
      append(Buffer.from(`\n[harness] no exit ${timeoutMs} ms after ${signal}: SIGKILL\n`));
      killGroup(run.child, 'SIGKILL');
    }, timeoutMs);
    const { code } = await run.exit;
    clearTimeout(timer);
    current = null;
    return code;
  };

  const handle: AppHandle = {
    port,
    url,
    dir,
    cwd,
    dbPath,
    store: databaseUrl ? 'postgres' : 'sqlite',
    databaseUrl,
    privateKey,
    publicKey,
    get webhookSecret() {
      return currentSecret();
    },
    apiToken,
    get pid() {
      return current?.child.pid ?? null;
    },
    get appPid() {
      const pid = current?.child.pid;
      return pid === undefined ? null : (leafPid(pid) ?? null);
    },
    async send(event, payload, sendOpts = {}) {
      const body = JSON.stringify(payload);
      const deliveryId = sendOpts.deliveryId ?? randomUUID();
      const res = await postWebhook(
        {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': event,
          'x-github-delivery': deliveryId,
          'x-github-hook-id': '1',
          'x-github-hook-installation-target-type': 'integration',
          'x-github-hook-installation-target-id': String(fake.appId),
          'x-hub-signature-256': sign(currentSecret(), body),
        },
        body,
      );
      return { ...res, deliveryId };
    },
    sendRaw: postWebhook,
    async api(method, path, body, apiOpts = {}) {
      const token = apiOpts.token === undefined ? apiToken : apiOpts.token;
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, { method, headers, signal: AbortSignal.timeout(30_000), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    stop,
    async kill9() {
      const run = current;
      if (!run) return;
      killGroup(run.child, 'SIGKILL');
      await run.exit;
      current = null;
    },
    async restart() {
      if (current) await stop();
      append(Buffer.from('\n[harness] restart\n'));
      await spawnChild();
    },
    logs: () => log,
    logLines() {
      const out: Array<Record<string, any>> = [];
      for (const line of log.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          out.push(JSON.parse(line) as Record<string, any>);
        } catch {
          // a partial line
        }
      }
      return out;
    },
    async waitForLogLine(match, timeoutMs = 10_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = handle.logLines().slice(from).find(match);
        if (line) return line;
        if (Date.now() > deadline) throw new Error(`e2e harness: no log line matching ${match.toString()} within ${timeoutMs} ms\n--- app output (tail) ---\n${tail()}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    jobs() {
      if (databaseUrl) return pgJobsSync(databaseUrl);
      if (!existsSync(dbPath)) return [];
      const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 5_000 });
      try {
        return db.prepare('SELECT * FROM jobs ORDER BY id').all() as StoredJob[];
      } finally {
        db.close();
      }
    },
    async waitForJobs(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const jobs = databaseUrl ? await pgJobs(databaseUrl) : handle.jobs();
        const due = jobs.filter((j) => j.state === 'pending' && j.run_at <= Date.now());
        if (!due.length) return;
        if (Date.now() > deadline) {
          throw new Error(`e2e harness: jobs still due after ${timeoutMs} ms: ${due.map((j) => `#${j.id} ${j.kind} (attempts ${j.attempts}${j.last_error ? `, ${j.last_error}` : ''})`).join('; ')}\n--- app output (tail) ---\n${tail()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async waitForNoPendingJobs(kind, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const pending = async (): Promise<number> => {
        try {
          const text = await (await fetch(`${url}/metrics`)).text();
          const line = text.split('\n').find((l) => l.startsWith(`moratorium_jobs_pending{kind="${kind}"}`));
          return line ? Number(line.split(' ').at(-1)) : 0;
        } catch {
          return -1;
        }
      };
      let last: number;
      while ((last = await pending()) !== 0) {
        if (Date.now() > deadline) throw new Error(`e2e harness: ${kind} jobs still pending (${last}) after ${timeoutMs} ms\n--- app output (tail) ---\n${tail()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async waitForLog(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const test = (s: string): boolean => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
      while (!test(log)) {
        if (Date.now() > deadline) throw new Error(`e2e harness: no log matching ${String(pattern)} within ${timeoutMs} ms\n--- app output (tail) ---\n${tail()}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };

  try {
    await spawnChild();
  } catch (error) {
    dirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return handle;
}

// ---------------------------------------------------------------------------------------------
// webhook payloads

interface ExampleDefinition {
  name: string;
  examples: Array<Record<string, any>>;
}

let examplesCache: ExampleDefinition[] | null = null;

/** The real payloads of @octokit/webhooks-examples (api.github.com), loaded once. */
export function webhookExamples(): ExampleDefinition[] {
  if (!examplesCache) {
    const file = fileURLToPath(import.meta.resolve('@octokit/webhooks-examples'));
    examplesCache = JSON.parse(readFileSync(file, 'utf8')) as ExampleDefinition[];
  }
  return examplesCache;
}

/** A deep copy of the first example of `event` with this action, preferring ones that carry `installation`. */
export function examplePayload(event: string, action?: string): Record<string, any> {
  const def = webhookExamples().find((d) => d.name === event);
  if (!def) throw new Error(`no @octokit/webhooks-examples payloads for ${event}`);
  const matching = def.examples.filter((e) => action === undefined || e.action === action);
  const chosen = matching.find((e) => e.installation) ?? matching[0];
  if (!chosen) throw new Error(`no @octokit/webhooks-examples payload for ${event}.${action}`);
  return structuredClone(chosen);
}

export interface Sender {
  /** who did it (the webhook's `sender`). Default `octocat` */
  sender?: string;
}

/**
 * Payload builders bound to a fake: repository, owner, organization, installation and pull request
 * come from the fake's state, the rest from GitHub's example payloads. They never change the fake,
 * except `issueComment` (registers the comment so reactions to it work) and `mergeGroup` (registers
 * the merge group's head commit).
 */
export function webhooks(fake: FakeGitHub) {
  const common = (base: Record<string, any>, owner: string, repo: string, sender = 'octocat'): Record<string, any> => {
    const installationId = fake.installationFor(owner);
    if (installationId === undefined) throw new Error(`webhooks: no installation for ${owner} (fake.addInstallation first)`);
    const repository = { ...(base.repository ?? {}), ...fake.repoJson(owner, repo) };
    delete repository.organization;
    const out: Record<string, any> = { ...base, repository, sender: { ...(base.sender ?? {}), ...fake.userJson(sender) } };
    const owning = fake.repoJson(owner, repo).owner as { type: string; login: string; id: number; node_id: string; avatar_url: string };
    if (owning.type === 'Organization') {
      const api = `${fake.apiUrl}/orgs/${owning.login}`;
      out.organization = {
        login: owning.login,
        id: owning.id,
        node_id: owning.node_id,
        url: api,
        repos_url: `${api}/repos`,
        events_url: `${api}/events`,
        hooks_url: `${api}/hooks`,
        issues_url: `${api}/issues`,
        members_url: `${api}/members{/member}`,
        public_members_url: `${api}/public_members{/member}`,
        avatar_url: owning.avatar_url,
        description: '',
      };
    } else {
      delete out.organization;
    }
    out.installation = { id: installationId, node_id: Buffer.from(`023:Integration${installationId}`).toString('base64') };
    return out;
  };

  const mustPull = (owner: string, repo: string, number: number): Record<string, any> => {
    const pr = fake.pull(owner, repo, number);
    if (!pr) throw new Error(`webhooks: no pull request #${number} in ${owner}/${repo}`);
    return pr;
  };

  return {
    /**
     * `pull_request` with any action; the PR is the fake's current state. `label` for labeled/unlabeled,
     * `changes` for edited.
     */
    pullRequest(action: string, owner: string, repo: string, number: number, opts: Sender & { label?: string; changes?: Record<string, unknown>; before?: string; after?: string } = {}) {
      const exampleAction = ['opened', 'labeled', 'synchronize', 'closed', 'reopened', 'unlabeled', 'ready_for_review', 'edited'].includes(action) ? action : 'opened';
      let base: Record<string, any>;
      try {
        base = examplePayload('pull_request', exampleAction);
      } catch {
        base = examplePayload('pull_request', 'opened');
      }
      const pr = mustPull(owner, repo, number);
      const out = common(base, owner, repo, opts.sender ?? (pr.user as { login: string }).login);
      out.action = action;
      out.number = number;
      out.pull_request = { ...base.pull_request, ...pr };
      if (action === 'labeled' || action === 'unlabeled') {
        if (!opts.label) throw new Error(`webhooks: pull_request.${action} needs opts.label`);
        out.label = (pr.labels as Array<Record<string, any>>).find((l) => String(l.name).toLowerCase() === opts.label!.toLowerCase()) ?? fake.labelJson(owner, repo, opts.label);
      } else delete out.label;
      if (action === 'edited') out.changes = opts.changes ?? { title: { from: 'Old title' } };
      else delete out.changes;
      if (action === 'synchronize') {
        out.before = opts.before ?? fake.newSha('before');
        out.after = opts.after ?? pr.head.sha;
      } else {
        delete out.before;
        delete out.after;
      }
      return out;
    },

    /** `issue_comment.created` on an issue or PR; the comment is registered in the fake (so the app can react to it). */
    issueComment(owner: string, repo: string, number: number, opts: { body: string; user?: string; action?: 'created' | 'edited' | 'deleted'; authorAssociation?: string; commentId?: number }) {
      const base = examplePayload('issue_comment', 'created');
      const user = opts.user ?? 'octocat';
      const issue = fake.issueJson(owner, repo, number);
      if (!issue) throw new Error(`webhooks: no issue or pull request #${number} in ${owner}/${repo}`);
      const comment = fake.addComment(owner, repo, number, { body: opts.body, user, ...(opts.commentId !== undefined ? { id: opts.commentId } : {}), ...(opts.authorAssociation ? { authorAssociation: opts.authorAssociation } : {}) });
      const out = common(base, owner, repo, user);
      out.action = opts.action ?? 'created';
      out.issue = { ...base.issue, ...issue };
      if (!issue.pull_request) delete out.issue.pull_request;
      out.comment = { ...base.comment, ...comment };
      if (out.action === 'edited') out.changes = { body: { from: '' } };
      return out;
    },

    /**
     * `merge_group.checks_requested` for a queue entry holding these PRs (the last one named in the
     * head ref, `refs/heads/gh-readonly-queue/<base>/pr-<n>-<base sha>`). The head SHA is registered.
     */
    mergeGroup(owner: string, repo: string, opts: Sender & { pulls: number[]; baseRef?: string; headSha?: string; baseSha?: string; action?: 'checks_requested' | 'destroyed' }) {
      const base = examplePayload('merge_group', 'checks_requested');
      const baseBranch = opts.baseRef ?? String(fake.repoJson(owner, repo).default_branch);
      const baseSha = opts.baseSha ?? fake.branchSha(owner, repo, baseBranch) ?? fake.addBranch(owner, repo, baseBranch);
      const headSha = fake.addCommit(owner, repo, opts.headSha);
      const last = opts.pulls.at(-1);
      if (last === undefined) throw new Error('webhooks: a merge group needs at least one PR');
      const out = common(base, owner, repo, opts.sender);
      out.action = opts.action ?? 'checks_requested';
      out.merge_group = {
        ...base.merge_group,
        head_sha: headSha,
        head_ref: `refs/heads/gh-readonly-queue/${baseBranch}/pr-${last}-${baseSha}`,
        base_sha: baseSha,
        base_ref: `refs/heads/${baseBranch}`,
        head_commit: { ...base.merge_group.head_commit, id: headSha, tree_id: fake.newSha('tree'), message: `Merge pull request #${last}`, timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      };
      if (out.action === 'destroyed') out.reason = 'merged';
      return out;
    },

    /** `check_run.rerequested` (or `requested_action` with `identifier`) for a check run the app created in the fake. */
    checkRun(action: 'rerequested' | 'requested_action', owner: string, repo: string, checkRunId: number, opts: Sender & { identifier?: string } = {}) {
      const base = examplePayload('check_run', action);
      const run = fake.checkRunById(checkRunId);
      if (!run) throw new Error(`webhooks: no check run ${checkRunId}`);
      const out = common(base, owner, repo, opts.sender);
      out.action = action;
      const prs = run.pull_requests as Array<{ head: { ref: string } }>;
      out.check_run = {
        ...base.check_run,
        ...run,
        check_suite: {
          ...base.check_run.check_suite,
          id: run.check_suite.id,
          head_sha: run.head_sha,
          head_branch: prs[0]?.head.ref ?? null,
          status: 'completed',
          conclusion: run.conclusion,
          url: `${fake.apiUrl}/repos/${owner}/${repo}/check-suites/${run.check_suite.id}`,
          pull_requests: prs,
          app: run.app,
        },
      };
      if (action === 'requested_action') out.requested_action = { identifier: opts.identifier ?? 'rerun' };
      else delete out.requested_action;
      return out;
    },

    /** `check_suite.rerequested` (or `requested`) for a head SHA; the open PRs with that head are listed. */
    checkSuite(action: 'rerequested' | 'requested', owner: string, repo: string, headSha: string, opts: Sender & { headBranch?: string } = {}) {
      const base = examplePayload('check_suite', action);
      const out = common(base, owner, repo, opts.sender);
      const pulls = fake.pulls(owner, repo, { state: 'open' }).filter((pr) => pr.head.sha === headSha);
      const mini = (pr: Record<string, any>) => ({
        url: pr.url,
        id: pr.id,
        number: pr.number,
        head: { ref: pr.head.ref, sha: pr.head.sha, repo: { id: pr.head.repo?.id, url: pr.head.repo?.url, name: pr.head.repo?.name } },
        base: { ref: pr.base.ref, sha: pr.base.sha, repo: { id: pr.base.repo.id, url: pr.base.repo.url, name: pr.base.repo.name } },
      });
      out.action = action;
      out.check_suite = {
        ...base.check_suite,
        id: Number.parseInt(headSha.slice(0, 8), 16),
        head_sha: headSha,
        head_branch: opts.headBranch ?? pulls[0]?.head.ref ?? null,
        after: headSha,
        url: `${fake.apiUrl}/repos/${owner}/${repo}/check-suites/${Number.parseInt(headSha.slice(0, 8), 16)}`,
        pull_requests: pulls.map(mini),
      };
      return out;
    },

    /**
     * `deployment_protection_rule.requested` (no example exists; GitHub's documented shape). The run
     * id is only in `deployment_callback_url`, as on GitHub. `pulls` are PR numbers in the fake.
     */
    deploymentProtectionRule(
      owner: string,
      repo: string,
      opts: Sender & { environment?: string; runId?: number; sha?: string; ref?: string; deploymentId?: number; pulls?: number[]; event?: string } = {},
    ) {
      const environment = opts.environment ?? 'production';
      const runId = opts.runId ?? 1_000_000 + Math.floor(Math.random() * 1_000_000);
      const ref = opts.ref ?? String(fake.repoJson(owner, repo).default_branch);
      const sha = opts.sha ?? fake.branchSha(owner, repo, ref) ?? fake.addCommit(owner, repo);
      const deploymentId = opts.deploymentId ?? 2_000_000 + Math.floor(Math.random() * 1_000_000);
      const out = common({}, owner, repo, opts.sender ?? 'github-actions[bot]');
      const { repository, organization, installation, sender } = out;
      return {
        action: 'requested',
        environment,
        event: opts.event ?? 'push',
        sha,
        ref,
        deployment_callback_url: `${fake.apiUrl}/repos/${owner}/${repo}/actions/runs/${runId}/deployment_protection_rule`,
        deployment: deploymentJson(fake, owner, repo, { id: deploymentId, sha, ref, environment, creator: opts.sender ?? 'github-actions[bot]' }),
        pull_requests: (opts.pulls ?? []).map((n) => mustPull(owner, repo, n)),
        repository,
        ...(organization ? { organization } : {}),
        installation,
        sender,
      };
    },

    /** `deployment_status.created` for a deployment (state `success` by default). */
    deploymentStatus(
      owner: string,
      repo: string,
      opts: Sender & { state?: 'success' | 'failure' | 'error' | 'pending' | 'in_progress' | 'queued' | 'inactive'; environment?: string; deploymentId?: number; statusId?: number; sha?: string; ref?: string } = {},
    ) {
      const base = examplePayload('deployment_status', 'created');
      const environment = opts.environment ?? 'production';
      const ref = opts.ref ?? String(fake.repoJson(owner, repo).default_branch);
      const sha = opts.sha ?? fake.branchSha(owner, repo, ref) ?? fake.addCommit(owner, repo);
      const deploymentId = opts.deploymentId ?? 2_000_000 + Math.floor(Math.random() * 1_000_000);
      const statusId = opts.statusId ?? 3_000_000 + Math.floor(Math.random() * 1_000_000);
      const creator = opts.sender ?? 'github-actions[bot]';
      const out = common(base, owner, repo, creator);
      delete out.check_run;
      delete out.workflow_run;
      out.action = 'created';
      const deployment = deploymentJson(fake, owner, repo, { id: deploymentId, sha, ref, environment, creator });
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      out.deployment = deployment;
      out.deployment_status = {
        ...base.deployment_status,
        url: `${deployment.url}/statuses/${statusId}`,
        id: statusId,
        node_id: Buffer.from(`DeploymentStatus${statusId}`).toString('base64'),
        state: opts.state ?? 'success',
        creator: fake.userJson(creator),
        description: '',
        environment,
        target_url: '',
        log_url: '',
        environment_url: '',
        created_at: now,
        updated_at: now,
        deployment_url: deployment.url,
        repository_url: `${fake.apiUrl}/repos/${owner}/${repo}`,
        performed_via_github_app: null,
      };
      return out;
    },

    /** `push` to a branch (default: the default branch, its current head as `after`). */
    push(owner: string, repo: string, opts: Sender & { ref?: string; before?: string; after?: string } = {}) {
      const base = examplePayload('push');
      const branch = (opts.ref ?? String(fake.repoJson(owner, repo).default_branch)).replace(/^refs\/heads\//, '');
      const after = opts.after ?? fake.branchSha(owner, repo, branch) ?? fake.addBranch(owner, repo, branch);
      const out = common(base, owner, repo, opts.sender);
      const repoJson = out.repository as Record<string, any>;
      // push payloads carry epoch seconds here
      repoJson.created_at = Math.floor(Date.parse(repoJson.created_at) / 1000);
      repoJson.pushed_at = Math.floor(Date.parse(repoJson.pushed_at) / 1000);
      repoJson.master_branch = repoJson.default_branch;
      repoJson.stargazers = 0;
      out.ref = `refs/heads/${branch}`;
      out.before = opts.before ?? fake.newSha('before');
      out.after = after;
      out.created = false;
      out.deleted = false;
      out.forced = false;
      out.base_ref = null;
      out.compare = `${fake.url}/${owner}/${repo}/compare/${out.before.slice(0, 12)}...${after.slice(0, 12)}`;
      out.commits = [];
      out.head_commit = null;
      out.pusher = { name: opts.sender ?? 'octocat', email: `${opts.sender ?? 'octocat'}@example.com` };
      return out;
    },

    /** `installation_repositories.added` / `removed` for repositories of the fake (changes nothing in the fake). */
    installationRepositories(action: 'added' | 'removed', account: string, repos: string[], opts: Sender = {}) {
      const base = examplePayload('installation_repositories', action);
      const installationId = fake.installationFor(account);
      if (installationId === undefined) throw new Error(`webhooks: no installation for ${account}`);
      const list = repos.map((name) => {
        const r = fake.repoJson(account, name);
        return { id: r.id, node_id: r.node_id, name: r.name, full_name: r.full_name, private: r.private };
      });
      return {
        ...base,
        action,
        installation: fake.installationJson(installationId),
        repository_selection: 'selected',
        repositories_added: action === 'added' ? list : [],
        repositories_removed: action === 'removed' ? list : [],
        requester: null,
        sender: { ...base.sender, ...fake.userJson(opts.sender ?? 'octocat') },
      };
    },
  };
}

export type Webhooks = ReturnType<typeof webhooks>;

function deploymentJson(fake: FakeGitHub, owner: string, repo: string, d: { id: number; sha: string; ref: string; environment: string; creator: string }): Record<string, any> {
  const url = `${fake.apiUrl}/repos/${owner}/${repo}/deployments/${d.id}`;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    url,
    id: d.id,
    node_id: Buffer.from(`Deployment${d.id}`).toString('base64'),
    sha: d.sha,
    ref: d.ref,
    task: 'deploy',
    payload: {},
    original_environment: d.environment,
    environment: d.environment,
    description: null,
    creator: fake.userJson(d.creator),
    created_at: now,
    updated_at: now,
    statuses_url: `${url}/statuses`,
    repository_url: `${fake.apiUrl}/repos/${owner}/${repo}`,
    transient_environment: false,
    production_environment: d.environment === 'production',
    performed_via_github_app: null,
  };
}
