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

export function healthRoute(s: { store: Pick<AsyncStore, 'ping'> }): Route {
  return async (req, res, url) => {
    if (url.pathname !== '/moratorium/health' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    try {
      const ok = await s.store.ping().catch(() => false);
      return sendJson(res, ok ? 200 : 503, ok ? { ok } : { ok, error: 'the database does not answer' });
    } catch {
      return sendJson(res, 503, { ok: false });
    }
  };
}

export function createHttpHandler(s: { store: Pick<AsyncStore, 'ping'>; log: Logger }, extra: Route[] = []) {
  const routes: Route[] = [healthRoute(s), ...extra];
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
