/**
 * HTTP routes next to Probot's webhook middleware (Probot 14 has no Express: routes are node
 * handlers added with `addHandler`). A handler returns true when it answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AsyncStore } from '../store/contract.js';
import { loggablePath } from './redact.js';

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
  return true;
}

/** what the health check asks besides the database: Redis, when REDIS_URL is set */
export interface HealthChecks {
  redis?: { ping(): Promise<boolean> } | undefined;
}

const HEALTH_TIMEOUT_MS = 3000;

/** true when `ping` answers true within the health check's time; false when it fails, says no or is silent */
async function answers(ping: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
    timer.unref?.();
  });
  try {
    return await Promise.race([ping().catch(() => false), silent]);
  } finally {
    clearTimeout(timer);
  }
}

/** SPEC 9: 200 {"ok": true}, or 503 {"ok": false, "error": ...} when the database (or Redis) does not answer */
export function healthRoute(s: { store: Pick<AsyncStore, 'ping'> }, checks: HealthChecks = {}): Route {
  return async (req, res, url) => {
    if (url.pathname !== '/moratorium/health' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const [db, redis] = await Promise.all([answers(() => s.store.ping()), checks.redis ? answers(() => checks.redis!.ping()) : Promise.resolve(true)]);
    if (db && redis) return sendJson(res, 200, { ok: true });
    const error = [db ? null : 'the database does not answer', redis ? null : 'Redis (REDIS_URL) does not answer'].filter(Boolean).join('; ');
    return sendJson(res, 503, { ok: false, error });
  };
}

export function createHttpHandler(s: { store: Pick<AsyncStore, 'ping'>; log: Logger }, extra: Route[] = [], checks: HealthChecks = {}) {
  const routes: Route[] = [healthRoute(s, checks), ...extra];
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const route of routes) {
      try {
        if (await route(req, res, url)) return true;
      } catch (error) {
        s.log.error({ event: 'http', path: loggablePath(url.pathname), err: error }, 'route failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
        return true;
      }
    }
    return false;
  };
}
