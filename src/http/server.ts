/**
 * The app's own `node:http` server, in front of Probot's webhook handlers and our routes (SPEC 8):
 *
 * - every request body is bounded before anything else looks at it: 25 MiB on the webhook path
 *   (GitHub's own cap), `MAX_BODY_BYTES` (64 KiB) everywhere else. A declared `Content-Length` over
 *   the limit is answered `413` before a byte of the body is read (before `100 Continue` when the
 *   client asks for one); a body without one as soon as the limit is passed. The `413` is written
 *   whole and the rest of the body drained (discarded, bounded in bytes and time) before the
 *   connection is closed, so the client reads the answer instead of a reset.
 * - a webhook is read with its HMAC computed as it arrives, and handed to Probot only once its
 *   `X-Hub-Signature-256` matches (constant-time compare): it is answered `2xx` only after that. A
 *   webhook that cannot be valid (no signature, wrong content type, missing GitHub headers) is never
 *   held in memory: its bytes are counted and discarded, then it is refused.
 * - unverified webhook bodies share a 40 MiB memory budget (each body's first MiB is free): past it, a
 *   body is only hashed, not held, so concurrent mis-signed bodies cannot exhaust memory; it still
 *   gets its 413 or 401, and only a genuine one (rare: large and signed, during such a flood) gets
 *   `503` (deliver it again).
 * - headers and whole requests are timed out (slow clients get `408` or are closed).
 * - one log line per request, without headers (tokens, cookies and signatures never reach the log).
 *
 * The API mirrors Probot's `Server` (`load`, `start`, `stop`), so the composition root barely changes.
 *
 * Setup mode (`AppServer.forSetup`, the first run without credentials: src/setup/): the same server,
 * with the same limits and timeouts, serves only the handlers given to `addSetupHandler` (and `/ping`);
 * webhooks are refused `503`. `activate` then gives it Probot and the webhook secret, and `start`
 * (the socket already listens) switches it to the app's handlers: the port is never closed between.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Probot } from 'probot';
import { MAX_BODY_BYTES, setReadBody } from './http-util.js';
import { loggablePath } from './redact.js';
import type { Clock } from '../clock.js';

/** GitHub caps a webhook payload at 25 MiB; bigger bodies are refused with 413 (SPEC 8). */
export const WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;
/** The first part of every unverified webhook body is held freely; only what is beyond it counts against the budget. */
const FREE_BYTES = 1024 * 1024;
/** How many bytes of unverified webhook bodies (beyond their first MiB) may be held at once, in all. */
export const UNVERIFIED_BUDGET_BYTES = 40 * 1024 * 1024;
/** After a refusal, at most this much more of the body is read (and discarded) before the connection is closed. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;
const DRAIN_IDLE_MS = 2_000;
/** Probot answers 202 when its handlers run longer than this (after the signature check) */
const WEBHOOK_HANDLER_TIMEOUT_MS = 9_000;

const JSON_TYPE = /^\s*application\/json\s*(?:;|$)/iu;
const SIGNATURE = /^sha256=([0-9a-f]{64})$/iu;

type AppFn = (app: Probot, opts: { addHandler: (handler: Handler) => void }) => Promise<void> | void;
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;
type ProbotClass = new (options: { log: Logger; webhookPath: string }) => Probot;

export interface AppServerOptions {
  host: string;
  port: number;
  webhookPath: string;
  log: Logger;
  /** what the request log's durations are measured with (the composition root's) */
  clock: Clock;
  /** `Probot.defaults({...})`: appId, privateKey, secret, baseUrl, Octokit */
  Probot: ProbotClass;
  /** the webhook secret (X-Hub-Signature-256) */
  secret: string;
  /** a whole request (headers and body) must arrive within this; default 30 s */
  requestTimeoutMs?: number;
  /** the headers must arrive within this; default the smaller of 20 s and requestTimeoutMs */
  headersTimeoutMs?: number;
}

/** Setup mode: everything but the GitHub App's credentials, which it does not have yet. */
export type SetupServerOptions = Omit<AppServerOptions, 'Probot' | 'secret'>;

export class AppServer {
  readonly http: HttpServer;
  private readonly handlers: Handler[] = [];
  private readonly log: Logger;
  private readonly webhookPath: string;
  private heldUnverified = 0;
  private app: Probot | null = null;
  private secret = '';
  /** setup mode until `start`: only these handlers answer, webhooks get 503 */
  private setupHandlers: Handler[] | null = null;

  /** A server in setup mode (no credentials yet): see the file's comment. */
  static forSetup(opts: SetupServerOptions): AppServer {
    return new AppServer(opts);
  }

  constructor(opts: AppServerOptions);
  constructor(opts: SetupServerOptions);
  constructor(private readonly opts: SetupServerOptions & Partial<Pick<AppServerOptions, 'Probot' | 'secret'>>) {
    this.log = opts.log.child({ name: 'http' });
    this.webhookPath = normalizePath(opts.webhookPath);
    if (opts.Probot && opts.secret !== undefined) this.activate({ Probot: opts.Probot, secret: opts.secret });
    else this.setupHandlers = [];
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    const headersTimeout = opts.headersTimeoutMs ?? Math.min(20_000, requestTimeout);
    this.http = createServer({
      requestTimeout,
      headersTimeout,
      // how often Node looks for requests past those timeouts
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 5_000,
    });
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    // a client that asks before sending its body learns about a 413 before it sends a byte
    this.http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const limit = this.limitFor(req);
      if (declaredLength(req) > limit) {
        this.logLine(req, res);
        // no 100 Continue: the client sends no body
        refuse(req, res, 413, tooLarge(limit), { bodyComing: false });
        return;
      }
      res.writeContinue();
      void this.onRequest(req, res);
    });
    this.http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // a malformed or timed-out request: answer if the socket still can, never throw
      const answered = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
      if (error.code === 'ECONNRESET' || !socket.writable || answered) {
        socket.destroy();
        return;
      }
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_HEADERS_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      this.log.info({ event: 'http', status, code: error.code }, `client error: ${error.code ?? error.message}`);
      socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
  }

  get probot(): Probot {
    if (!this.app) throw new Error('the server is in setup mode: the GitHub App has no credentials yet');
    return this.app;
  }

  /** Setup mode: a handler that answers while the server has no credentials (until `start`). */
  addSetupHandler(handler: Handler): void {
    if (!this.setupHandlers) throw new Error('the server is not in setup mode');
    this.setupHandlers.push(handler);
  }

  /** Ends setup mode's wait: Probot (`Probot.defaults({...})`) and the webhook secret. The app's handlers answer from `start`. */
  activate(credentials: Pick<AppServerOptions, 'Probot' | 'secret'>): this {
    if (this.app) throw new Error('the server already has its GitHub App');
    this.app = new credentials.Probot({ log: this.opts.log, webhookPath: this.opts.webhookPath });
    this.secret = credentials.secret;
    return this;
  }

  /** Probot's `Server.load`: runs the app function with `addHandler` for routes next to the webhooks. */
  async load(appFn: AppFn): Promise<void> {
    await this.probot.ready();
    await appFn(this.probot, { addHandler: (handler) => this.handlers.push(handler) });
  }

  async start(): Promise<HttpServer> {
    if (this.app) await this.app.ready();
    if (this.app && this.http.listening) {
      // the end of setup mode: the socket listens already, the app's handlers take over
      this.setupHandlers = null;
      this.opts.log.info('the GitHub App is registered: serving webhooks and the app on the same port');
      return this.http;
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') error.message = `Port ${this.opts.port} is already in use. You can define the PORT environment variable to use a different port.`;
        this.opts.log.error(error);
        reject(error);
      };
      this.http.once('error', onError);
      this.http.listen({ port: this.opts.port, host: this.opts.host }, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    const address = this.http.address();
    const port = typeof address === 'object' && address ? address.port : this.opts.port;
    this.opts.log.info(`Listening on http://${this.opts.host}:${port}`);
    return this.http;
  }

  get port(): number {
    const address = this.http.address();
    return typeof address === 'object' && address ? address.port : this.opts.port;
  }

  /** Stops accepting connections and waits for the open requests; idle keep-alive connections are closed. */
  async stop(): Promise<void> {
    if (!this.http.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.http.close((error) => (error ? reject(error) : resolve()));
      this.http.closeIdleConnections();
    });
  }

  private limitFor(req: IncomingMessage): number {
    return this.isWebhook(req) ? WEBHOOK_MAX_BYTES : MAX_BODY_BYTES;
  }

  private isWebhook(req: IncomingMessage): boolean {
    return normalizePath(pathOf(req)) === this.webhookPath;
  }

  /** One line per request, written when it is answered or abandoned: no headers (they carry tokens and signatures). */
  private logLine(req: IncomingMessage, res: ServerResponse): void {
    const started = this.opts.clock.now();
    let done = false;
    const write = (aborted: boolean) => {
      if (done) return;
      done = true;
      const ms = this.opts.clock.now() - started;
      const delivery = req.headers['x-github-delivery'];
      const status = aborted && !res.headersSent ? 0 : res.statusCode;
      const path = loggablePath(pathOf(req));
      const line = {
        event: 'http',
        method: req.method,
        path,
        status,
        duration_ms: ms,
        ...(typeof delivery === 'string' ? { delivery } : {}),
        ...(aborted ? { aborted: true } : {}),
      };
      this.log.info(line, `${req.method} ${path} ${aborted && !res.headersSent ? 'aborted' : res.statusCode} - ${ms}ms`);
    };
    res.once('finish', () => write(false));
    res.once('close', () => write(!res.writableFinished));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.logLine(req, res);
    try {
      const limit = this.limitFor(req);
      if (declaredLength(req) > limit) {
        refuse(req, res, 413, tooLarge(limit));
        return;
      }
      if (this.setupHandlers && this.isWebhook(req)) {
        refuse(req, res, 503, 'the GitHub App is not registered yet (setup mode): open / in a browser to register it', { headers: { 'retry-after': '30' } });
        return;
      }
      if (this.isWebhook(req)) {
        await this.webhook(req, res);
        return;
      }
      const body = await readBounded(req, limit, () => true);
      if (body.kind === 'too-large') {
        refuse(req, res, 413, tooLarge(limit));
        return;
      }
      if (body.kind !== 'ok') return;
      setReadBody(req, Buffer.concat(body.chunks));
      for (const handler of [pingHandler, ...(this.setupHandlers ?? this.handlers)]) {
        if (await handler(req, res)) return;
      }
      if (!res.headersSent) res.writeHead(404).end();
    } catch (error) {
      this.log.error({ event: 'http', path: loggablePath(pathOf(req)), err: error }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    }
  }

  private async webhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const event = header(req, 'x-github-event');
    const id = header(req, 'x-github-delivery');
    const signature = header(req, 'x-hub-signature-256');
    // what is wrong before the body matters; the body is still read (and counted) first, so an oversized one gets its 413
    let problem: [number, string] | null = null;
    if (req.method !== 'POST') problem = [404, `Unknown route: ${req.method} ${pathOf(req)}`];
    else if (!JSON_TYPE.test(header(req, 'content-type') ?? '')) problem = [415, 'Unsupported "Content-Type" header value. Must be "application/json"'];
    else {
      const missing = (['x-github-event', 'x-hub-signature-256', 'x-github-delivery'] as const).filter((h) => header(req, h) === undefined);
      if (missing.length) problem = [400, `Required headers missing: ${missing.join(', ')}`];
      else if (!SIGNATURE.test(signature!)) problem = [401, 'X-Hub-Signature-256 must be "sha256=" and 64 hex digits: the webhook is refused'];
    }
    const hmac = problem ? null : createHmac('sha256', this.secret);
    // bytes held beyond the first MiB count against the budget shared by every unverified body;
    // past it this body is no longer held, only hashed (so its signature can still be judged)
    let budgeted = 0;
    let dropped = false;
    const release = () => {
      this.heldUnverified -= budgeted;
      budgeted = 0;
    };
    const body = await readBounded(req, WEBHOOK_MAX_BYTES, (chunk, total) => {
      if (!hmac) return false; // cannot be valid: count and discard
      hmac.update(chunk);
      if (dropped) return false;
      const beyondFree = Math.max(0, total - FREE_BYTES) - budgeted;
      if (beyondFree > 0) {
        if (this.heldUnverified + beyondFree > UNVERIFIED_BUDGET_BYTES) {
          dropped = true;
          release();
          return false;
        }
        this.heldUnverified += beyondFree;
        budgeted += beyondFree;
      }
      return true;
    });
    try {
      if (body.kind === 'aborted') return;
      if (body.kind === 'too-large') {
        refuse(req, res, 413, tooLarge(WEBHOOK_MAX_BYTES));
        return;
      }
      if (problem) {
        send(res, problem[0], { error: problem[1] });
        return;
      }
      const expected = hmac!.digest();
      const given = Buffer.from(SIGNATURE.exec(signature!)![1]!, 'hex');
      if (!timingSafeEqual(expected, given)) {
        this.log.warn({ event: 'webhook', delivery: id, webhook: event }, 'webhook signature does not match: refused (is WEBHOOK_SECRET the secret of the GitHub App?)');
        send(res, 401, { error: 'X-Hub-Signature-256 does not match the body and the webhook secret: the webhook is refused' });
        return;
      }
      if (dropped) {
        // genuine, but it arrived while other large bodies filled the budget and was not kept
        this.log.warn({ event: 'webhook', delivery: id, webhook: event }, 'a large signed webhook arrived while too many large unverified bodies were held: answered 503, redeliver it');
        send(res, 503, { error: 'too many large webhook bodies were being received at once: deliver it again' }, { 'retry-after': '10' });
        return;
      }
      let payload: unknown;
      try {
        // verified: only now is the body copied into one buffer and parsed
        const raw = body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks);
        body.chunks.length = 0;
        payload = JSON.parse(raw.toString('utf8'));
      } catch {
        send(res, 400, { error: 'Invalid JSON' });
        return;
      } finally {
        release();
      }
      await this.receive(res, { id: id!, name: event!, payload });
    } finally {
      release();
    }
  }

  /** Hands a verified webhook to Probot; `200` when handled, `202` when its handlers run past 9 s (as Probot does). */
  private async receive(res: ServerResponse, event: { id: string; name: string; payload: unknown }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), WEBHOOK_HANDLER_TIMEOUT_MS);
    });
    // (receive can throw synchronously, e.g. for a payload that is JSON `null`)
    const handled = Promise.resolve()
      .then(() => this.probot.webhooks.receive(event as Parameters<Probot['webhooks']['receive']>[0]))
      .then(() => 'ok' as const)
      .catch((error: unknown) => error);
    const outcome = await Promise.race([handled, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      sendText(res, 202, 'still processing\n');
      return;
    }
    if (outcome === 'ok') {
      sendText(res, 200, 'ok\n');
      return;
    }
    // Probot's onError handler has logged each error with the delivery id
    const first = (outcome instanceof AggregateError ? [...outcome.errors][0] : outcome) as { name?: string; message?: string; status?: unknown } | undefined;
    const status = typeof first?.status === 'number' && first.status >= 400 && first.status < 600 ? first.status : 500;
    send(res, status, { error: first?.message ? `${first.name ?? 'Error'}: ${first.message}` : 'Error: An Unspecified error occurred' });
  }
}

/**
 * Reads a body up to `limit` bytes, as chunks. `keep(chunk, total)` sees every chunk and says
 * whether to hold it (`false` once: what was held is dropped and the rest only counted). Reading
 * stops as soon as `limit` is passed (the caller answers 413, then the rest is drained).
 */
type Bounded = { kind: 'ok'; chunks: Buffer[] } | { kind: 'too-large' } | { kind: 'aborted' };
function readBounded(req: IncomingMessage, limit: number, keep: (chunk: Buffer, total: number) => boolean): Promise<Bounded> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let total = 0;
    let discarding = false;
    const finish = (result: Bounded) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
      req.off('close', onClose);
      if (result.kind !== 'ok') chunks = [];
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        finish({ kind: 'too-large' });
        return;
      }
      const hold = keep(chunk, total);
      if (discarding) return;
      if (!hold) {
        discarding = true;
        chunks = [];
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'ok', chunks });
    const onAborted = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) finish({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('aborted', onAborted);
    req.once('error', onAborted);
    req.once('close', onClose);
  });
}

/**
 * Answers `status` at once, whole, with `Connection: close`; then reads and discards what the
 * client still sends (at most DRAIN_MAX_BYTES, DRAIN_MAX_MS, or until it pauses for DRAIN_IDLE_MS)
 * before ending the response and closing the connection: a client still sending its body reads the
 * answer instead of a reset. `bodyComing: false` (no `100 Continue` was sent): ends at once.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, opts: { headers?: Record<string, string>; bodyComing?: boolean } = {}): void {
  const text = `${JSON.stringify({ error: message })}\n`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close', ...opts.headers });
  if (req.complete || opts.bodyComing === false) {
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  res.write(req.method === 'HEAD' ? '' : text);
  let drained = 0;
  const close = () => {
    done();
    req.socket.destroySoon();
  };
  // a client that stops sending (it read the answer) is not waited for long
  let idle = setTimeout(close, DRAIN_IDLE_MS);
  const total = setTimeout(close, DRAIN_MAX_MS);
  function done() {
    clearTimeout(idle);
    clearTimeout(total);
    req.off('data', onData);
    req.off('end', done);
    req.off('close', done);
    if (!res.writableEnded) res.end();
  }
  function onData(chunk: Buffer) {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) return close();
    clearTimeout(idle);
    idle = setTimeout(close, DRAIN_IDLE_MS);
  }
  req.on('data', onData);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Probot's `GET /ping` (kept: the same path answers as under Probot's own server). */
const pingHandler: Handler = (req, res) => {
  if (req.method !== 'GET' || pathOf(req) !== '/ping') return false;
  sendText(res, 200, 'PONG');
  return true;
};

function tooLarge(limit: number): string {
  return limit >= 1024 * 1024 ? `the body is larger than ${limit / 1024 / 1024} MiB` : `the body is larger than ${limit / 1024} KiB`;
}

/** The declared Content-Length; 0 when none, Infinity when it is not a number. */
function declaredLength(req: IncomingMessage): number {
  const raw = req.headers['content-length'];
  if (raw === undefined) return 0;
  return /^\d+$/.test(raw) ? Number(raw) : Infinity;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function normalizePath(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}
