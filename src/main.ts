/**
 * The composition root: reads the environment (and `.env`; without APP_ID it first runs the setup
 * of src/setup/ until the App is registered, then goes on on the same server), opens the database, builds the app's parts
 * (src/compose.ts), starts the HTTP server (src/http/server.ts: Probot's webhooks, bounded and
 * verified, and our routes), the job runner, the boundary timer and the reconcile, and closes all of
 * them on SIGTERM and SIGINT. The only place that reads the system clock, and the only module that
 * sees every part.
 */
import { pino } from 'pino';
import { Probot } from 'probot';
import { composeApp } from './compose.js';
import { wireEvents } from './app.js';
import { systemClock } from './clock.js';
import { needsSetup, readEnv } from './env.js';
import { createOctokitClass } from './github/client.js';
import { createSharedThrottle } from './github/shared-throttle.js';
import { OctokitPort, listConditionally, type Octokit } from './github/octokit-port.js';
import type { ConditionalReads } from './github/port.js';
import { createHttpHandler } from './http/router.js';
import { Metrics } from './http/metrics.js';
import { createSlackNotifier, slackWindowNotices } from './http/notify.js';
import { LOG_REDACT } from './http/redact.js';
import { AppServer } from './http/server.js';
import { extraRoutes } from './http/routes.js';
import { Reconciler } from './schedule/reconcile.js';
import { dotEnvPath, loadDotEnv } from './setup/dotenv.js';
import { firstRun } from './setup/first-run.js';
import type { AsyncStore } from './store/contract.js';
import { openStore } from './store/open.js';
import { describeUrl } from './store/postgres/engine.js';

async function main(): Promise<void> {
  let env;
  try {
    // .env (or MORATORIUM_ENV_FILE) over the environment, as Probot does
    loadDotEnv(dotEnvPath(process.env), process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  // SPEC 11: without APP_ID, the first run registers the App (src/setup/), then the app runs on its server
  const registered = needsSetup(process.env) ? await firstRun(process.env, systemClock) : null;
  try {
    env = readEnv(process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const log = pino({ level: env.LOG_LEVEL, name: 'moratorium', redact: LOG_REDACT });
  let store: AsyncStore;
  const postgres = Boolean(env.DATABASE_URL);
  try {
    // PostgreSQL (DATABASE_URL) or the SQLite file (MORATORIUM_DB), migrated before anything runs
    store = await openStore({ databaseUrl: env.DATABASE_URL, sqlitePath: env.MORATORIUM_DB });
  } catch (error) {
    const where = postgres ? `PostgreSQL at ${describeUrl(env.DATABASE_URL!)} (DATABASE_URL)` : `the SQLite file ${env.MORATORIUM_DB} (MORATORIUM_DB)`;
    log.fatal({ err: error }, `the database could not be opened: ${where}: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`moratorium: the database could not be opened: ${where}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  log.info(postgres ? { db: 'postgres', at: describeUrl(env.DATABASE_URL!), schema: await store.schemaVersion() } : { db: env.MORATORIUM_DB }, 'database ready');

  const metrics = new Metrics({ defaultMetrics: true });
  const slack = env.MORATORIUM_SLACK_WEBHOOK_URL ? createSlackNotifier(env.MORATORIUM_SLACK_WEBHOOK_URL, log) : null;
  // SPEC 9: with REDIS_URL every replica shares each installation's write budget
  const shared = env.REDIS_URL ? createSharedThrottle(env.REDIS_URL, log) : undefined;
  if (shared) {
    try {
      await shared.ready();
    } catch (error) {
      log.fatal({ err: error }, 'Redis (REDIS_URL) does not answer');
      process.exit(1);
    }
    log.info('write throttle shared through Redis');
  }
  const Octokit = createOctokitClass({
    throttle: env.MORATORIUM_GITHUB_THROTTLE === 'on',
    onRequest: (method, status) => metrics.recordRequest(method, status),
    ...(shared ? { shared } : {}),
  });
  const serverOptions = {
    host: env.HOST ?? 'localhost',
    port: env.PORT,
    webhookPath: env.WEBHOOK_PATH,
    log,
    clock: systemClock,
    secret: env.WEBHOOK_SECRET,
    requestTimeoutMs: env.MORATORIUM_REQUEST_TIMEOUT,
    Probot: Probot.defaults({ appId: env.APP_ID, privateKey: env.privateKey, secret: env.WEBHOOK_SECRET, baseUrl: env.baseUrl, log, Octokit }),
  };
  const server = registered ? registered.activate(serverOptions) : new AppServer(serverOptions);

  // the Probot app exists once the server loads it: the parts reach it only through these two functions
  let probot: Probot | null = null;
  const appOf = (): Probot => {
    if (!probot) throw new Error('the Probot app is not loaded yet');
    return probot;
  };
  // the listings' ETags and answers, in the store: shared by every replica
  const reads: ConditionalReads = {
    get: (k) => store.getConditionalRead(k),
    put: (k, etag, body) => store.putConditionalRead(k, etag, body, systemClock.now()),
    drop: (k) => store.dropConditionalRead(k),
  };
  const s = composeApp({
    store,
    clock: systemClock,
    log,
    ports: async (installationId) => metrics.instrumentPort(new OctokitPort(installationId, (await appOf().auth(installationId)) as Octokit, undefined, reads)),
    onStateEvents: (events) => {
      metrics.recordStateEvents(events);
      slack?.(events);
    },
    ...(env.MORATORIUM_SLACK_WEBHOOK_URL ? { windowNotices: slackWindowNotices(env.MORATORIUM_SLACK_WEBHOOK_URL) } : {}),
  });
  const r = new Reconciler(s, env.MORATORIUM_RECONCILE_INTERVAL, async () => {
    const octokit = (await appOf().auth()) as Octokit;
    type RawInstallation = { id: number; account: { login?: string; type?: string } | null; suspended_at?: string | null };
    const list = await listConditionally(octokit, reads, 'app', 'GET /app/installations', {}, (data) =>
      (data as RawInstallation[]).map((i) => ({
        id: i.id,
        account: i.account?.login ?? '',
        accountType: i.account?.type ?? 'Organization',
        suspended: Boolean(i.suspended_at),
      })),
    );
    return list.filter((i) => i.account !== '');
  });
  await server.load(async (app, { addHandler }) => {
    probot = app;
    wireEvents(metrics.instrumentApp(app), s);
    addHandler(createHttpHandler(s, extraRoutes(s, env, { metrics }), { redis: shared }));
  });
  // the signals are handled from before the server listens: a SIGTERM during start-up waits for the
  // start to finish, then stops everything in order (instead of the default: dying mid-start)
  let stopping = false;
  let starting: Promise<void> = Promise.resolve();
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await starting.catch(() => {});
      await r.stop();
      await server.stop();
      await s.stop();
      // announcements already queued get a moment to go out
      if (slack) await Promise.race([slack.idle(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    } catch (error) {
      log.error({ err: error }, 'error while shutting down');
    } finally {
      await store.close().catch(() => {});
      await shared?.close().catch(() => {});
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  starting = (async () => {
    await server.start();
    await s.start();
    r.start();
  })();
  await starting;
  // downtime must never leave a stale green check: reconcile once at start
  if (!stopping) void r.run('start-up').catch((error: unknown) => log.error({ err: error }, 'start-up reconcile failed'));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
