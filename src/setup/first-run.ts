/**
 * The first run (SPEC 11): without `APP_ID`, `npm start` serves a page at `/` that registers the
 * GitHub App from `app.yml` through GitHub's manifest flow, as Probot's own setup does, and then
 * the app runs with the new credentials in the same process, on the same port:
 *
 * 1. `GET /`: the form that posts the manifest (`manifest.ts`: app.yml's permissions and events,
 *    every URL rebased onto this server's own URL) to GitHub's "new GitHub App" page, with a `state`
 *    that is also set in an HttpOnly cookie of this browser;
 * 2. GitHub creates the App and sends the browser to `/moratorium/setup/callback?code=...&state=...`;
 * 3. the code is exchanged for the credentials (`POST /app-manifests/{code}/conversions`, in
 *    src/github/), which are checked, written to `.env` (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
 *    GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET) and set in the process's environment;
 * 4. the browser goes on to the App's installation page, and `firstRun` resolves with the server,
 *    which src/main.ts activates with the credentials.
 *
 * Unlike Probot: it works whatever NODE_ENV is, never contacts a webhook proxy (smee), needs no
 * restart, and takes app.yml from the package (not from the working directory). The server keeps
 * its limits and timeouts (src/http/server.ts, setup mode) and serves nothing but these routes,
 * `/moratorium/health` (503 until registered) and `/ping`. A bad or replayed callback, or a failed
 * conversion, shows a page saying what went wrong and writes nothing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { pino, type Logger } from 'pino';
import { readSetupEnv, type SetupEnv } from '../env.js';
import { ConversionError, convertManifestCode, type AppCredentials } from '../github/manifest-conversion.js';
import { cookies } from '../http/http-util.js';
import { LOG_REDACT } from '../http/redact.js';
import { AppServer, type Handler } from '../http/server.js';
import { dotEnvPath, writeDotEnv } from './dotenv.js';
import { buildManifest, createAppUrl, publicBaseUrl, SETUP_CALLBACK_PATH, type Manifest } from './manifest.js';
import type { Clock } from '../clock.js';

/** The manifest file: the package's own (dist/setup/ or src/setup/ -> the package root). */
export const APP_YML = new URL('../../app.yml', import.meta.url);
const STATE_COOKIE = 'moratorium_setup_state';
/** states handed out and not yet used (bounded: the oldest are forgotten first) */
const MAX_STATES = 1000;
const CODE = /^[A-Za-z0-9_-]{1,128}$/;
const STATE = /^[0-9a-f]{48}$/;

export interface SetupOptions {
  env: SetupEnv;
  log: Logger;
  /** the text of app.yml */
  appYml: string;
  /** where the credentials are written */
  envFile: string;
  /** where they are set once written (process.env) */
  target: NodeJS.ProcessEnv;
}

/**
 * Serves the setup until the App is registered; resolves with the (still listening) server once
 * `.env` holds the credentials and `target` has them. Signals during the setup stop it (exit 0).
 */
export async function firstRun(source: NodeJS.ProcessEnv, clock: Clock): Promise<AppServer> {
  let env: SetupEnv;
  let appYml: string;
  try {
    env = readSetupEnv(source);
    appYml = readFileSync(APP_YML, 'utf8');
    buildManifest(appYml, 'http://localhost', { webhookPath: env.WEBHOOK_PATH });
  } catch (error) {
    console.error(error instanceof Error ? `moratorium: ${error.message}` : error);
    process.exit(1);
  }
  const log = pino({ level: env.LOG_LEVEL, name: 'moratorium', redact: LOG_REDACT });
  const server = AppServer.forSetup({ host: env.HOST ?? 'localhost', port: env.PORT, webhookPath: env.WEBHOOK_PATH, log, clock, requestTimeoutMs: env.MORATORIUM_REQUEST_TIMEOUT });
  const setup = createSetupHandler({ env, log: log.child({ name: 'setup' }), appYml, envFile: dotEnvPath(source), target: source });
  server.addSetupHandler(setup.handler);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down (setup mode)');
    void server.stop().finally(() => process.exit(0));
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    await server.start();
  } catch {
    process.exit(1);
  }
  const where = env.MORATORIUM_PUBLIC_URL ?? `http://${env.HOST && env.HOST !== '0.0.0.0' && env.HOST !== '::' ? env.HOST : 'localhost'}:${server.port}`;
  log.info({ event: 'setup', url: where }, `setup mode: APP_ID is not set. Open ${where}/ in a browser to register the GitHub App from app.yml; the app starts as soon as GitHub returns its credentials (no restart)`);
  await setup.registered;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  return server;
}

/** The setup routes, and a promise that resolves once the credentials are written and set. */
export function createSetupHandler(opts: SetupOptions): { handler: Handler; registered: Promise<AppCredentials> } {
  const { env, log } = opts;
  const states = new Set<string>();
  let phase: 'waiting' | 'converting' | 'registered' = 'waiting';
  let done!: (c: AppCredentials) => void;
  const registered = new Promise<AppCredentials>((resolve) => (done = resolve));

  const handler: Handler = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (url.pathname === '/moratorium/health' && get) {
      const body = phase === 'registered' ? { ok: false, setup: true, error: 'the GitHub App is registered: the app is starting' } : { ok: false, setup: true, error: 'the GitHub App is not registered yet: open / in a browser to register it' };
      sendJson(res, 503, body);
      return true;
    }
    if (url.pathname !== '/' && url.pathname !== SETUP_CALLBACK_PATH) return false;
    // the callback uses its code: GET only (a HEAD must not spend it)
    if (url.pathname === SETUP_CALLBACK_PATH ? req.method !== 'GET' : !get) {
      page(res, 405, 'Method not allowed', '<p>This page only answers GET.</p>', { allow: url.pathname === SETUP_CALLBACK_PATH ? 'GET' : 'GET, HEAD' });
      return true;
    }
    if (phase === 'registered') {
      page(res, 503, 'Starting', '<p>The GitHub App is registered and Moratorium is starting with its credentials. Reload in a moment.</p>', { 'retry-after': '5' });
      return true;
    }
    const base = publicBaseUrl(req.headers, { encrypted: Boolean((req.socket as TLSSocket).encrypted), publicUrl: env.MORATORIUM_PUBLIC_URL });
    if (!base) {
      page(res, 400, 'No host', '<p>The request names no usable host (<code>Host</code> or <code>X-Forwarded-Host</code>). Set <code>MORATORIUM_PUBLIC_URL</code> to this server’s URL.</p>');
      return true;
    }
    if (url.pathname === '/') return setupPage(req, res, base);
    return callback(req, res, url, base);
  };

  const setupPage = (req: IncomingMessage, res: ServerResponse, base: string): boolean => {
    const manifest = buildManifest(opts.appYml, base, { webhookPath: env.WEBHOOK_PATH, webhookProxyUrl: env.WEBHOOK_PROXY_URL });
    // one state per browser: the one its cookie holds when still known, else a new one
    const held = cookies(req).get(STATE_COOKIE);
    const state = held && states.has(held) ? held : randomBytes(24).toString('hex');
    if (!states.has(state)) {
      states.add(state);
      if (states.size > MAX_STATES) states.delete(states.values().next().value!);
    }
    const action = createAppUrl({ gheHost: env.GHE_HOST, gheProtocol: env.GHE_PROTOCOL, org: env.GH_ORG, state });
    const secure = base.startsWith('https:') ? '; Secure' : '';
    // opened elsewhere than where GitHub will send the browser back: the state's cookie would not be there
    const opened = publicBaseUrl(req.headers, { encrypted: Boolean((req.socket as TLSSocket).encrypted) });
    const elsewhere =
      opened && opened !== base
        ? `<p><strong>Open this page at <a href="${html(base)}/">${html(base)}/</a> instead</strong>: GitHub will send the browser back there (<code>MORATORIUM_PUBLIC_URL</code>), and the registration can only be completed in the browser, at the address, that started it.</p>`
        : '';
    page(res, 200, `Register ${manifest.name}`, elsewhere + setupBody(manifest, action, base, env), { 'set-cookie': `${STATE_COOKIE}=${state}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600${secure}` }, req.method === 'HEAD');
    return true;
  };

  const callback = async (req: IncomingMessage, res: ServerResponse, url: URL, base: string): Promise<boolean> => {
    const again = `<p><a href="/">Back to the registration page</a>: register again from there.</p>`;
    const code = url.searchParams.get('code');
    if (!code || !CODE.test(code)) {
      log.warn({ event: 'setup', outcome: 'refused', reason: 'code' }, 'setup callback refused: missing or invalid code');
      page(res, 400, 'No valid code', `<p>GitHub sends the browser here with a <code>code</code> once it has created the App. This request carries ${code ? 'an invalid' : 'no'} <code>code</code>, so nothing was registered or saved.</p>${again}`);
      return true;
    }
    const state = url.searchParams.get('state') ?? '';
    const held = cookies(req).get(STATE_COOKIE) ?? '';
    if (!STATE.test(state) || !states.has(state) || !equal(state, held)) {
      log.warn({ event: 'setup', outcome: 'refused', reason: 'state' }, 'setup callback refused: its state was not handed to this browser');
      page(res, 400, 'Not started here', `<p>This registration was not started from this browser at ${html(base)} (its <code>state</code> ${state ? 'does not match' : 'is missing'}), so its code was not used and nothing was saved. Open the registration page at the address GitHub sends you back to${env.MORATORIUM_PUBLIC_URL ? ` (<code>MORATORIUM_PUBLIC_URL</code>: ${html(env.MORATORIUM_PUBLIC_URL)})` : ''} and register from there.</p>${again}`);
      return true;
    }
    if (phase !== 'waiting') {
      page(res, 409, 'Already in progress', '<p>Another registration is being completed right now. Reload in a moment.</p>');
      return true;
    }
    phase = 'converting';
    let credentials: AppCredentials;
    try {
      credentials = await convertManifestCode(code, { baseUrl: env.baseUrl });
    } catch (error) {
      phase = 'waiting';
      const message = error instanceof Error ? error.message : String(error);
      const status = error instanceof ConversionError && error.status === 404 ? 400 : 502;
      log.warn({ event: 'setup', outcome: 'failed', status: error instanceof ConversionError ? error.status : 0 }, `setup: the code could not be exchanged for credentials: ${message}`);
      page(res, status, 'Registration not completed', `<p>The code GitHub sent could not be exchanged for the App’s credentials, so nothing was saved:</p><pre>${html(message)}</pre>${again}`);
      return true;
    }
    const values = {
      APP_ID: credentials.appId,
      PRIVATE_KEY: credentials.privateKey,
      WEBHOOK_SECRET: credentials.webhookSecret,
      GITHUB_CLIENT_ID: credentials.clientId,
      GITHUB_CLIENT_SECRET: credentials.clientSecret,
    };
    try {
      writeDotEnv(opts.envFile, values);
    } catch (error) {
      phase = 'waiting';
      const message = error instanceof Error ? error.message : String(error);
      log.error({ event: 'setup', outcome: 'failed' }, `setup: ${opts.envFile} could not be written: ${message}`);
      page(res, 500, 'Credentials not saved', `<p>GitHub created the App${credentials.htmlUrl ? ` (<a href="${html(credentials.htmlUrl)}">${html(credentials.htmlUrl)}</a>)` : ''}, but its credentials could not be written to <code>${html(opts.envFile)}</code>:</p><pre>${html(message)}</pre><p>Make that file writable (or set <code>MORATORIUM_ENV_FILE</code> to a writable path), delete the App on GitHub and register again; or generate a private key for it on GitHub and start with <code>APP_ID</code>, <code>PRIVATE_KEY</code> and <code>WEBHOOK_SECRET</code>.</p>`);
      return true;
    }
    states.clear();
    phase = 'registered';
    Object.assign(opts.target, values);
    log.info({ event: 'setup', outcome: 'registered', app_id: credentials.appId, slug: credentials.slug, env_file: opts.envFile }, `setup: the GitHub App ${credentials.slug ?? credentials.appId} is registered; its credentials are in ${opts.envFile}. Starting with them (no restart needed)`);
    const install = credentials.htmlUrl ? `${credentials.htmlUrl}/installations/new` : null;
    if (install) {
      res.writeHead(302, { location: install, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`Found. Redirecting to ${install}\n`);
    } else {
      page(res, 200, 'Registered', `<p>The GitHub App is registered and its credentials are in <code>${html(opts.envFile)}</code>. Moratorium is starting with them. Install the App on GitHub (its settings page, “Install App”).</p>`);
    }
    done(credentials);
    return true;
  };

  return { handler, registered };
}

function setupBody(m: Manifest, action: string, base: string, env: SetupEnv): string {
  const permissions = Object.entries(m.default_permissions)
    .map(([k, v]) => `<li><code>${html(k)}</code>: ${html(v)}</li>`)
    .join('');
  const events = m.default_events.map((e) => `<code>${html(e)}</code>`).join(', ');
  const where = env.GHE_HOST ? `${env.GHE_PROTOCOL}://${env.GHE_HOST}` : 'github.com';
  return `<p>Moratorium has no GitHub App credentials yet (<code>APP_ID</code> is not set). The button below registers a new GitHub App ${env.GH_ORG ? `in the organisation <b>${html(env.GH_ORG)}</b>` : 'in your account'} on ${html(where)} from <code>app.yml</code>; GitHub then sends you back here, the credentials are written to <code>.env</code>, and Moratorium starts with them at once.</p>
<form action="${html(action)}" method="post">
<input type="hidden" name="manifest" value="${html(JSON.stringify(m))}">
<button type="submit">Register the GitHub App on ${html(where)}</button>
</form>
<h2>What it asks for</h2>
<ul>
<li>Webhooks to <code>${html(m.hook_attributes.url)}</code></li>
<li>GitHub returns you to <code>${html(m.redirect_url)}</code></li>
<li>Sign-in callback (the dashboard): <code>${html(m.callback_urls.join(', '))}</code></li>
</ul>
<p>Permissions:</p><ul>${permissions}</ul>
<p>Events: ${events}</p>
<p>These URLs use <code>${html(base)}</code>${env.MORATORIUM_PUBLIC_URL ? ' (<code>MORATORIUM_PUBLIC_URL</code>)' : ', the address this page was opened at: if GitHub reaches this server elsewhere, set <code>MORATORIUM_PUBLIC_URL</code>'}.</p>`;
}

function page(res: ServerResponse, status: number, title: string, body: string, headers: Record<string, string> = {}, head = false): void {
  const text = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(title)} · Moratorium setup</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:0 .2em}pre{padding:.5em;white-space:pre-wrap}button{font-size:1.1em;padding:.5em 1em}</style>
</head><body><h1>${html(title)}</h1>
${body}
</body></html>
`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  res.end(head ? undefined : text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
